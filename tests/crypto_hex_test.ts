/** lib/crypto/hex.ts: `toHexReversed` (which reverses into a shared scratch buffer) against a plain reference. */
import assert from "node:assert/strict";
import { fromHexReversed, toHexReversed } from "../lib/crypto/hex.ts";

const reference = (b: Uint8Array) => [...b].reverse().map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("toHexReversed: every length up to past its scratch buffer, input untouched, results independent", () => {
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (const n of [...Array(70).keys(), 100, 1000]) {
    const bytes = Uint8Array.from({ length: n }, next);
    const copy = bytes.slice();
    const hex = toHexReversed(bytes);
    assert.equal(hex, reference(bytes), `length ${n}`);
    assert.deepEqual(bytes, copy, `length ${n}: the input is not reversed in place`);
    if (n === 32) assert.deepEqual(fromHexReversed(hex), bytes);
  }
  // A subarray in the middle of a larger buffer (as a header's previous-block hash is read).
  const header = Uint8Array.from({ length: 80 }, next);
  const a = toHexReversed(header.subarray(4, 36)), b = toHexReversed(header.subarray(36, 68));
  assert.equal(a, reference(header.subarray(4, 36)));
  assert.equal(b, reference(header.subarray(36, 68)));
});
