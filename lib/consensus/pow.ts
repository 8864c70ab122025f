/**
 * Proof of work: compact targets ("bits"), block work, the proof-of-work check and the retarget rule,
 * exactly as Bitcoin Core computes them.
 * @module
 */

const TWO_256 = 1n << 256n;

/**
 * The target encoded by compact `bits` (Bitcoin's `SetCompact`). A set sign bit or an overflow gives 0,
 * which no hash can meet.
 * @example bitsToTarget(0x1d00ffff) // 0xffff << 208
 */
export function bitsToTarget(bits: number): bigint {
  const size = bits >>> 24;
  let word = bits & 0x007fffff;
  if (size <= 3) {
    word >>>= 8 * (3 - size);
    return (bits & 0x00800000) && word !== 0 ? 0n : BigInt(word);
  }
  if (word === 0) return 0n;
  if (bits & 0x00800000) return 0n; // negative
  if (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)) return 0n; // overflow
  return BigInt(word) << BigInt(8 * (size - 3));
}

/**
 * The compact encoding of a non-negative `target` (Bitcoin's `GetCompact`).
 * @example targetToBits(0xffffn << 208n) // 0x1d00ffff
 */
export function targetToBits(target: bigint): number {
  if (target < 0n) throw new RangeError("target must not be negative");
  let size = (target.toString(16).length + 1) >> 1;
  if (target === 0n) size = 0;
  let compact = size <= 3
    ? Number(target << BigInt(8 * (3 - size)))
    : Number(target >> BigInt(8 * (size - 3)));
  // A mantissa with its top bit set would read as negative: shift it down a byte.
  if (compact & 0x00800000) {
    compact >>>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

/**
 * The expected number of hashes to meet `bits`: floor(2^256 / (target + 1)); 0 for an invalid target.
 * @example blockWork(0x1d00ffff) // 4295032833n
 */
export function blockWork(bits: number): bigint {
  const target = bitsToTarget(bits);
  return target <= 0n ? 0n : TWO_256 / (target + 1n);
}

/** The display-order hash read as the 256-bit little-endian integer Bitcoin compares. */
export function hashToBigInt(hashHex: string): bigint {
  return BigInt("0x" + hashHex);
}

/**
 * True when the display-order `hashHex` meets `bits` (and `bits` is a valid positive target at most `powLimit`,
 * when given).
 * @example Bitcoin's genesis block meets its target
 * ```ts
 * import { bitsToTarget, checkProofOfWork } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const genesis = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
 * assert.equal(bitsToTarget(0x1d00ffff), 0xffffn << 208n);
 * assert.equal(checkProofOfWork(genesis, 0x1d00ffff), true);
 * assert.equal(checkProofOfWork(genesis, 0x1b00ffff), false); // 65,536 times harder
 * ```
 */
export function checkProofOfWork(hashHex: string, bits: number, powLimit?: bigint): boolean {
  const target = bitsToTarget(bits);
  if (target <= 0n || (powLimit !== undefined && target > powLimit)) return false;
  return hashToBigInt(hashHex) <= target;
}

/**
 * Bitcoin's retarget: the timespan clamped to [T/4, 4T], the target scaled by it, never above `powLimit`,
 * compact-encoded.
 * @example retargetBits(0x1d00ffff, 1209600, 1209600, powLimit) // 0x1d00ffff
 */
export function retargetBits(
  lastBits: number,
  actualTimespan: number,
  targetTimespan: number,
  powLimit: bigint,
): number {
  const span = Math.min(Math.max(actualTimespan, Math.floor(targetTimespan / 4)), targetTimespan * 4);
  let target = bitsToTarget(lastBits) * BigInt(span) / BigInt(targetTimespan);
  if (target > powLimit) target = powLimit;
  return targetToBits(target);
}
