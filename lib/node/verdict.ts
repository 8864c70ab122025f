/**
 * How the node turns the ledger's errors into the network's verdicts (`LedgerPort`'s `Verdict`): bytes that do
 * not decode are malformed, a refusal keeps its code, reason and score. It lives with the node, which knows
 * both sides, so that `lib/net` needs nothing of the ledger's error classes.
 * @module
 */
import { ValidationError } from "../chain/errors.ts";
import { DecodeError } from "../primitives/bytes.ts";
import { MALFORMED_SCORE } from "../net/ban.ts";
import type { Verdict } from "../net/ledger_port.ts";

/** Refusal codes that only mean the ledger has the item already: no blame, nothing to relay. */
const KNOWN_CODES: ReadonlySet<string> = new Set([
  "duplicate",
  "txn-already-in-mempool",
  "txn-already-known",
]);

/**
 * The verdict on bytes that do not decode (a `DecodeError`): rejected as malformed, scored `MALFORMED_SCORE`.
 * Any other error is thrown on: it is a bug, not a peer's fault.
 * @example try { decodeBlock(bytes) } catch (e) { return malformed(e); }
 */
export function malformed(e: unknown): Verdict {
  if (!(e instanceof DecodeError)) throw e;
  return { kind: "rejected", code: "malformed", reason: e.message, score: MALFORMED_SCORE };
}

/**
 * The verdict on the ledger's refusal of item `id` (a `ValidationError`): known when it only says the ledger
 * has it already, else rejected with the error's code, reason and score. Any other error is thrown on.
 * @example try { await chain.processBlock(block) } catch (e) { return refused(e, hash); }
 */
export function refused(e: unknown, id: string): Verdict {
  if (!(e instanceof ValidationError)) throw e;
  if (KNOWN_CODES.has(e.code)) return { kind: "known", id };
  return { kind: "rejected", id, code: e.code, reason: e.reason, score: e.score };
}
