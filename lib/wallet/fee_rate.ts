/**
 * The suggested fee rate: what a payment should pay, in base units per byte, to be in the next block. The
 * miner fills a block with the mempool's highest fee rates first (up to `MAX_BLOCK_SIZE` bytes), so while the
 * waiting payments fit in one block the default rate gets in; once they do not, a payment must beat the rate
 * at the block's edge. Shown before a payment's confirmation; the explorer may show the same (call this).
 * @module
 */
import { MAX_BLOCK_SIZE } from "../primitives/block.ts";

/** The default fee rate, base units per byte: 1980 units (0.0000198 coins) for a one-input payment with change. */
export const DEFAULT_FEE_RATE = 10;
/** Room kept in a block for its header and coinbase, bytes. */
export const BLOCK_RESERVED_BYTES = 1_000;
if (BLOCK_RESERVED_BYTES >= MAX_BLOCK_SIZE) throw new Error("a block must have room for payments");

/**
 * The fee rate (whole base units per byte, at least `floor`) that puts a payment into the next block, given
 * the waiting payments' rates and sizes: `floor` while they all fit in `blockBytes`; else one more than the
 * rate of the last one that fits, rounded up.
 */
export function suggestFeeRate(
  waiting: Iterable<{ feeRate: number; size: number }>,
  blockBytes: number = MAX_BLOCK_SIZE,
  floor: number = DEFAULT_FEE_RATE,
): number {
  const room = blockBytes - BLOCK_RESERVED_BYTES;
  const sorted = [...waiting].sort((a, b) => b.feeRate - a.feeRate);
  let used = 0;
  for (const e of sorted) {
    if (used + e.size > room) return Math.max(floor, Math.floor(e.feeRate) + 1);
    used += e.size;
  }
  return floor;
}
