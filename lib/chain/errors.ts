/**
 * Why a block or transaction was refused: a stable machine-readable code (Bitcoin Core's vocabulary where
 * one exists), a reason a person can read, and a misbehaviour score for the network layer.
 * @module
 */

import { BAN } from "../consensus/policy.ts";

// Scores (100 bans the sender, 0 costs it nothing) are policy, shared with the network's ban list.
export { BAN, NO_BLAME } from "../consensus/policy.ts";

/** A refused block or transaction. */
export class ValidationError extends Error {
  /** The error's name, for logs. */
  override name = "ValidationError";
  /**
   * A refusal.
   * @param code Stable code, e.g. `high-hash`, `bad-sig`, `txn-mempool-conflict`.
   * @param reason Readable detail.
   * @param score Misbehaviour points for the peer that sent it (100 = ban).
   */
  constructor(readonly code: string, readonly reason: string, readonly score: number = BAN) {
    super(`${code}: ${reason}`);
  }
}

/**
 * Throws a `ValidationError` unless `ok`. A reason that needs formatting is passed as a function, so the
 * text is only built for a refusal, not on every check of a hot path.
 */
export function ensure(
  ok: boolean,
  code: string,
  reason: string | (() => string),
  score: number = BAN,
): asserts ok {
  if (!ok) throw new ValidationError(code, typeof reason === "string" ? reason : reason(), score);
}
