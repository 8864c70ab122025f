/**
 * The node's verdicts on what peers send (lib/verdict.ts): bytes that do not decode are malformed and scored,
 * a refusal keeps its code, reason and score, a refusal that only says "already have it" blames nobody, and any
 * other error is a bug and is thrown on, never taken for a peer's fault.
 */
import assert from "node:assert/strict";
import { BAN, NO_BLAME, ValidationError } from "../lib/chain/errors.ts";
import { MALFORMED_SCORE } from "../lib/net/ban.ts";
import { DecodeError } from "../lib/primitives/bytes.ts";
import { malformed, refused } from "../lib/node/verdict.ts";

Deno.test("verdict: bytes that do not decode are malformed, scored MALFORMED_SCORE; other errors are thrown", () => {
  assert.deepEqual(malformed(new DecodeError("truncated header")), {
    kind: "rejected",
    code: "malformed",
    reason: "truncated header",
    score: MALFORMED_SCORE,
  });
  const bug = new TypeError("x is undefined");
  assert.throws(() => malformed(bug), (e) => e === bug);
  assert.throws(() => malformed(new ValidationError("bad-sig", "no")), ValidationError);
});

Deno.test("verdict: a refusal keeps its code, reason and score; 'already have it' is known; others thrown", () => {
  assert.deepEqual(refused(new ValidationError("bad-sig", "signature does not verify"), "ab"), {
    kind: "rejected",
    id: "ab",
    code: "bad-sig",
    reason: "signature does not verify",
    score: BAN,
  });
  assert.equal(
    (refused(new ValidationError("txn-mempool-conflict", "spent", NO_BLAME), "cd") as { score: number })
      .score,
    NO_BLAME,
  );
  for (const code of ["duplicate", "txn-already-in-mempool", "txn-already-known"]) {
    assert.deepEqual(refused(new ValidationError(code, "have it", NO_BLAME), "ef"), {
      kind: "known",
      id: "ef",
    });
  }
  const bug = new RangeError("index");
  assert.throws(() => refused(bug, "ab"), (e) => e === bug);
  assert.throws(() => refused(new DecodeError("short"), "ab"), DecodeError);
});
