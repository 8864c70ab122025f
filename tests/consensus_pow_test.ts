/**
 * Compact targets, block work, the proof-of-work comparison and the retarget clamps, against Bitcoin Core's
 * `arith_uint256` SetCompact/GetCompact vectors and hand-checked edge cases.
 * @module
 */
import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import {
  bitsToTarget,
  blockWork,
  checkProofOfWork,
  hashToBigInt,
  retargetBits,
  targetToBits,
} from "../lib/consensus/pow.ts";
import { decodeHeader } from "../lib/primitives/header.ts";
import { loadCheckpoints, loadHeaderFile, loadRetargetBoundaries } from "./support/testdata.ts";

const POW_LIMIT = bitsToTarget(0x1d00ffff);
const T = 1_209_600;

/** Hex of a target as the display-order hash with that value. */
function hashOf(target: bigint): string {
  return target.toString(16).padStart(64, "0");
}

Deno.test("bitsToTarget: Bitcoin Core's SetCompact vectors (negative and overflow read as 0)", () => {
  const cases: [number, bigint][] = [
    [0x00000000, 0n],
    [0x00123456, 0n],
    [0x01003456, 0n],
    [0x02000056, 0n],
    [0x03000000, 0n],
    [0x04000000, 0n],
    [0x00923456, 0n],
    [0x01803456, 0n],
    [0x02800056, 0n],
    [0x03800000, 0n],
    [0x04800000, 0n],
    [0x01123456, 0x12n],
    [0x01fedcba, 0n], // Core: -0x7e, negative
    [0x02123456, 0x1234n],
    [0x03123456, 0x123456n],
    [0x04123456, 0x12345600n],
    [0x04923456, 0n], // Core: -0x12345600, negative
    [0x05009234, 0x92340000n],
    [0x20123456, 0x123456n << 232n],
    [0xff123456, 0n], // Core: overflow
    [0x1d00ffff, 0xffffn << 208n],
  ];
  for (const [bits, target] of cases) {
    assert.equal(bitsToTarget(bits), target, `0x${bits.toString(16).padStart(8, "0")}`);
  }
});

Deno.test("bitsToTarget: the overflow boundary of Core's SetCompact", () => {
  // Largest mantissas that still fit in 256 bits at sizes 32, 33 and 34, and one byte past each.
  assert.equal(bitsToTarget(0x2000ffff), 0xffffn << 232n);
  assert.equal(bitsToTarget(0x207fffff), 0x7fffffn << 232n);
  assert.equal(bitsToTarget(0x2100ffff), 0xffffn << 240n);
  assert.equal(bitsToTarget(0x21010000), 0n);
  assert.equal(bitsToTarget(0x220000ff), 0xffn << 248n);
  assert.equal(bitsToTarget(0x22000100), 0n);
  assert.equal(bitsToTarget(0x23000001), 0n);
  // A zero mantissa is zero at any size, never an overflow.
  assert.equal(bitsToTarget(0xff000000), 0n);
  for (const bits of [0x2100ffff, 0x220000ff, 0x207fffff]) assert.ok(bitsToTarget(bits) < 1n << 256n);
});

Deno.test("targetToBits: Core's GetCompact vectors, never setting the sign bit", () => {
  const cases: [bigint, number][] = [
    [0n, 0],
    [0x12n, 0x01120000],
    [0x80n, 0x02008000], // 0x01800000 would read as negative
    [0x1234n, 0x02123400],
    [0x123456n, 0x03123456],
    [0x12345600n, 0x04123456],
    [0x92340000n, 0x05009234],
    [0x123456n << 232n, 0x20123456],
    [0xffffn << 208n, 0x1d00ffff],
    [(1n << 256n) - 1n, 0x2100ffff],
  ];
  for (const [target, bits] of cases) assert.equal(targetToBits(target), bits, `0x${target.toString(16)}`);
  assert.throws(() => targetToBits(-1n), RangeError);
});

Deno.test("targetToBits(bitsToTarget(bits)) = bits for every real header", () => {
  const seen = new Set<number>();
  for (const name of ["headers_0_438.txt", "headers_822528_824544.txt"] as const) {
    for (const raw of loadHeaderFile(name)) seen.add(decodeHeader(raw).bits);
  }
  for (const e of [...loadCheckpoints(), ...loadRetargetBoundaries()]) {
    seen.add(decodeHeader(Uint8Array.fromHex(e.header_hex)).bits);
  }
  assert.ok(seen.size > 300, `only ${seen.size} distinct bits`);
  for (const bits of seen) {
    const target = bitsToTarget(bits);
    assert.ok(target > 0n && target <= POW_LIMIT, bits.toString(16));
    assert.equal(targetToBits(target), bits, bits.toString(16));
  }
});

Deno.test("targetToBits truncates: the compact target is the largest representable one not above", () => {
  // Shifted so that every length from 1 to 256 bits is tried, not mostly 256.
  const targets = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }))
    .map(([shift, v]) => (v >> BigInt(shift)) || 1n);
  fc.assert(
    fc.property(targets, (target) => {
      const bits = targetToBits(target);
      const back = bitsToTarget(bits);
      assert.ok(back <= target && back > 0n);
      assert.equal(bits & 0x00800000, 0);
      // Dropping only the bytes below the 3-byte mantissa: what was lost is less than one mantissa step.
      const size = bits >>> 24;
      assert.ok(target - back < (size <= 3 ? 1n : 1n << BigInt(8 * (size - 3))));
    }),
    { numRuns: 300 },
  );
});

Deno.test("blockWork: floor(2^256 / (target + 1))", () => {
  assert.equal(blockWork(0x1d00ffff), 4295032833n);
  assert.equal(blockWork(0x1703e8b3), (1n << 256n) / (bitsToTarget(0x1703e8b3) + 1n));
  assert.equal(blockWork(0x207fffff), 2n); // regtest-like: half of all hashes qualify
  // The +1 only shows for small targets: target 1 is met by 2 of 2^256 hashes, target 0x12 by 19.
  assert.equal(blockWork(0x01010000), 1n << 255n);
  assert.equal(blockWork(0x01120000), (1n << 256n) / 19n);
  assert.equal(blockWork(0x04923456), 0n); // negative
  assert.equal(blockWork(0xff123456), 0n); // overflow
  assert.equal(blockWork(0), 0n);
  assert.ok(blockWork(0x1703d869) > blockWork(0x1703e8b3), "a smaller target is more work");
});

Deno.test("checkProofOfWork: compares at exactly the target, little-endian, and honours powLimit", () => {
  const target = bitsToTarget(0x1d00ffff);
  assert.ok(checkProofOfWork(hashOf(target), 0x1d00ffff));
  assert.ok(!checkProofOfWork(hashOf(target + 1n), 0x1d00ffff));
  assert.ok(checkProofOfWork(hashOf(0n), 0x1d00ffff));
  // The display-order hex is the big-endian form of the little-endian digest: the leading zeros come first.
  assert.equal(hashToBigInt("00".repeat(31) + "01"), 1n);
  assert.ok(!checkProofOfWork("01" + "00".repeat(31), 0x1d00ffff));
  // Invalid targets are met by nothing, not even a zero hash.
  for (const bits of [0, 0x04923456, 0xff123456, 0x01003456]) assert.ok(!checkProofOfWork(hashOf(0n), bits));
  // Easier than the pow limit: refused when the limit is given.
  assert.ok(checkProofOfWork(hashOf(0n), 0x1e00ffff));
  assert.ok(!checkProofOfWork(hashOf(0n), 0x1e00ffff, POW_LIMIT));
  assert.ok(checkProofOfWork(hashOf(0n), 0x1d00ffff, POW_LIMIT));
});

Deno.test("retargetBits: clamps the timespan to [T/4, 4T] and never exceeds the pow limit", () => {
  const bits = 0x1b0404cb; // far below the limit, so neither clamp meets it
  const target = bitsToTarget(bits);
  assert.equal(retargetBits(bits, T, T, POW_LIMIT), bits);
  assert.equal(retargetBits(bits, T / 2, T, POW_LIMIT), targetToBits(target / 2n));
  assert.equal(retargetBits(bits, 1, T, POW_LIMIT), targetToBits(target / 4n));
  assert.equal(retargetBits(bits, -1000, T, POW_LIMIT), targetToBits(target / 4n));
  assert.equal(retargetBits(bits, T / 4 - 1, T, POW_LIMIT), retargetBits(bits, T / 4, T, POW_LIMIT));
  assert.equal(retargetBits(bits, 100 * T, T, POW_LIMIT), targetToBits(target * 4n));
  assert.equal(retargetBits(bits, 4 * T + 1, T, POW_LIMIT), retargetBits(bits, 4 * T, T, POW_LIMIT));
  assert.notEqual(retargetBits(bits, 4 * T - 600, T, POW_LIMIT), retargetBits(bits, 4 * T, T, POW_LIMIT));
  // At the limit, slow blocks cannot make it easier.
  assert.equal(retargetBits(0x1d00ffff, 4 * T, T, POW_LIMIT), 0x1d00ffff);
  assert.equal(retargetBits(0x1d00ffff, T + 1, T, POW_LIMIT), 0x1d00ffff);
  // Bitcoin's first retarget, 32256: 1d00ffff over 1,022,578 s (time(32255) - time(30240)).
  assert.equal(retargetBits(0x1d00ffff, 1_022_578, T, POW_LIMIT), 0x1d00d86a);
  // Integer arithmetic: the product is divided once, after multiplying (Core's order).
  assert.equal(
    retargetBits(0x1b0404cb, T - 1, T, POW_LIMIT),
    targetToBits(target * BigInt(T - 1) / BigInt(T)),
  );
});
