/**
 * The suggested fee rate: what a payment should pay, in base units per byte, to be in the next block. The
 * miner fills a block with the mempool's highest fee rates first (up to `MAX_BLOCK_SIZE` bytes), so while the
 * waiting payments fit in one block the default rate gets in; once they do not, a payment must beat the rate
 * at the block's edge. Recent blocks count too (`RecentFeeRates`): when they were full, a payment should pay
 * at least the lowest rate that still got into them. Shown before a payment's confirmation; the explorer may
 * show the same (`Node.suggestedFeeRate`).
 * @module
 */
import type { Block } from "../primitives/block.ts";
import { MAX_BLOCK_SIZE } from "../primitives/block.ts";
import { type Transaction, txSize } from "../primitives/transaction.ts";

/** The default fee rate, base units per byte: 1980 units (0.0000198 coins) for a one-input payment with change. */
export const DEFAULT_FEE_RATE = 10;
/** Room kept in a block for its header and coinbase, bytes. */
export const BLOCK_RESERVED_BYTES = 1_000;
if (BLOCK_RESERVED_BYTES >= MAX_BLOCK_SIZE) throw new Error("a block must have room for payments");
/** Recent blocks remembered: about an hour of blocks at Bitcoin's pace. */
export const RECENT_BLOCKS = 6;
/** A block counts as full from this share of `MAX_BLOCK_SIZE` on: payments below its lowest rate waited. */
export const FULL_BLOCK_SHARE = 0.9;

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

/**
 * The lowest fee rates of the last `RECENT_BLOCKS` full blocks, learnt as blocks connect: a bounded window
 * (one number per block). Rates are known for the transactions this node held in its mempool.
 */
export class RecentFeeRates {
  #lowest: number[] = [];

  /**
   * Records a block that joined the chain; `rateOf` gives a transaction's fee rate when known (the mempool's
   * entry before the block removed it). Blocks that were not full record nothing: they turned no payment away.
   */
  blockConnected(block: Block, rateOf: (tx: Transaction) => number | undefined): void {
    let bytes = 0;
    for (const tx of block.txs) bytes += txSize(tx);
    if (bytes < FULL_BLOCK_SHARE * MAX_BLOCK_SIZE) return;
    let lowest = Infinity;
    for (const tx of block.txs.slice(1)) {
      const r = rateOf(tx);
      if (r !== undefined && r < lowest) lowest = r;
    }
    if (lowest === Infinity) return;
    this.#lowest.push(lowest);
    if (this.#lowest.length > RECENT_BLOCKS) this.#lowest.shift();
  }

  /** The median of the recent full blocks' lowest rates, rounded up; 0 when none was full. */
  get floor(): number {
    if (this.#lowest.length === 0) return 0;
    const sorted = [...this.#lowest].sort((a, b) => a - b);
    return Math.ceil(sorted[Math.floor(sorted.length / 2)]);
  }
}
