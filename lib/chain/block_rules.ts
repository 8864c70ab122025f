/**
 * Block rules: what a block must satisfy by itself (proof of work, size, coinbase placement, merkle root,
 * transactions), and what its header must satisfy given its ancestors (difficulty, median time past, future
 * limit, coinbase height).
 * @module
 */
import { MAX_FUTURE_BLOCK_TIME, MEDIAN_TIME_SPAN, type NetworkParams } from "../consensus/params.ts";
import { checkProofOfWork, retargetBits } from "../consensus/pow.ts";
import { type Block, blockMerkleRoot, blockSize, MAX_BLOCK_SIZE } from "../primitives/block.ts";
import type { BlockHeader } from "../primitives/header.ts";
import { isCoinbase, txid, wtxid } from "../primitives/transaction.ts";
import { ensure, NO_BLAME } from "./errors.ts";
import { checkTransaction } from "./tx_rules.ts";

/** A header placed in the tree of blocks. */
export interface IndexedHeader {
  /** Blocks before it (genesis: 0). */
  height: number;
  /** The block's header. */
  header: BlockHeader;
  /** Its parent's entry (none for genesis). */
  parent?: IndexedHeader;
}

/** A block's transaction ids and witness ids (its merkle leaves), in block order. */
export interface BlockIds {
  /** Each transaction's txid. */
  txids: string[];
  /** Each transaction's wtxid. */
  wtxids: string[];
}

/**
 * Checks that need only the block and its hash. Returns the transactions' ids and wtxids, which it hashed
 * anyway, so a caller need not hash them again. `known`: the ids of these very transaction objects, when the
 * caller hashed them already (a block rebuilt from its own mempool): then nothing is hashed, and the merkle
 * root and duplicate checks run over them.
 */
export function checkBlock(block: Block, hash: string, params: NetworkParams, known?: BlockIds): BlockIds {
  ensure(
    checkProofOfWork(hash, block.header.bits, params.powLimit),
    "high-hash",
    "proof of work does not meet bits",
  );
  ensure(block.txs.length > 0, "bad-blk-length", "a block needs at least a coinbase");
  const size = blockSize(block);
  ensure(size <= MAX_BLOCK_SIZE, "bad-blk-length", () => `block of ${size} bytes exceeds ${MAX_BLOCK_SIZE}`);
  ensure(isCoinbase(block.txs[0]), "bad-cb-missing", "the first transaction is not a coinbase");
  for (let i = 1; i < block.txs.length; i++) {
    ensure(!isCoinbase(block.txs[i]), "bad-cb-multiple", () => `transaction ${i} is a second coinbase`);
  }
  const ids = known?.txids ?? block.txs.map(txid);
  ensure(new Set(ids).size === block.txs.length, "bad-txns-duplicate", "a transaction appears twice");
  const wtxids = known?.wtxids ?? block.txs.map(wtxid);
  ensure(
    blockMerkleRoot(block.txs, wtxids) === block.header.merkleRoot,
    "bad-txnmrklroot",
    "merkle root mismatch",
  );
  for (const tx of block.txs) checkTransaction(tx);
  return { txids: ids, wtxids };
}

/** The ancestor of `entry` at `height` (which must not exceed `entry.height`). */
export function ancestorAt<T extends IndexedHeader>(entry: T, height: number): T {
  let e: IndexedHeader = entry;
  while (e.height > height) e = e.parent!;
  return e as T;
}

/** Median time of `entry` and up to 10 of its ancestors. */
function medianTimePast(entry: IndexedHeader): number {
  const times: number[] = [];
  for (let e: IndexedHeader | undefined = entry; e && times.length < MEDIAN_TIME_SPAN; e = e.parent) {
    times.push(e.header.time);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * The bits a child of `parent` must carry: Bitcoin's retarget every `retargetInterval` blocks.
 *
 * The first period is measured from block 1, not from genesis: the genesis time is fixed in the parameters,
 * long before anyone mined block 1, so a span from it counts the wait before the network started (on main a
 * 4x drop at block 60 although blocks came faster than aimed at). Block 1 to the period's last block has one
 * interval fewer than a normal period's first-to-last span, so it is scaled up by the ratio of the two.
 */
export function nextBits(parent: IndexedHeader, params: NetworkParams): number {
  const height = parent.height + 1;
  if (params.noRetargeting || height % params.retargetInterval !== 0) return parent.header.bits;
  const firstPeriod = height === params.retargetInterval;
  const first = ancestorAt(parent, firstPeriod ? 1 : height - params.retargetInterval);
  const span = parent.header.time - first.header.time;
  // Intervals a normal period measures (first to last of its blocks), and those from block 1 to the last.
  const intervals = params.retargetInterval - 1;
  const actual = firstPeriod && intervals > 1 ? Math.floor(span * intervals / (intervals - 1)) : span;
  return retargetBits(
    parent.header.bits,
    actual,
    params.retargetInterval * params.targetSpacing,
    params.powLimit,
  );
}

/**
 * Checks a header against its parent: difficulty, time window and the time-warp guard. Needs no transaction,
 * so it runs before anything reads the block's body.
 *
 * The time-warp guard (Bitcoin's BIP94, scaled to our 60-block, 10-second periods). A retarget measures a
 * period from its first block's time to its last's, and block times need only beat the median of the last 11.
 * So a miner could stamp every block at that median, except each period's last one, stamped at the real time:
 * every period then looks slow, difficulty falls by 4 each retarget whatever the hash rate, and the next
 * period starts far back in time again. A side chain from genesis reached the easiest difficulty after 240
 * blocks that way, and a majority miner could lower the difficulty at will. The guard: the first block of a
 * period may not be older than its parent by more than `maxTimewarp` (BIP94: 600 s, one of Bitcoin's block
 * spacings; here one of ours, 10 s). Periods then chain in time, so their measured spans add up to real
 * elapsed time (at most 2 h ahead of the clock), plus one spacing a period: a warp of at most 1/60, instead of
 * without bound. It applies only where difficulty retargets (not regtest); Bitcoin's own retarget function,
 * which the Bitcoin vector tests check, is unchanged.
 */
export function checkHeaderContext(
  header: BlockHeader,
  parent: IndexedHeader,
  params: NetworkParams,
  now: number,
): void {
  const h = header, height = parent.height + 1;
  const bits = nextBits(parent, params);
  ensure(
    h.bits === bits,
    "bad-diffbits",
    () => `bits ${h.bits.toString(16)} but ${bits.toString(16)} is required`,
  );
  const mtp = medianTimePast(parent);
  ensure(h.time > mtp, "time-too-old", () => `time ${h.time} is not after the median time past ${mtp}`);
  if (startsPeriod(height, params)) {
    const earliest = parent.header.time - params.maxTimewarp;
    ensure(
      h.time >= earliest,
      "time-timewarp-attack",
      () =>
        `the first block of a retarget period is at ${h.time}, before ${earliest} (its parent's time less ${params.maxTimewarp} s)`,
    );
  }
  ensure(
    h.time <= now + MAX_FUTURE_BLOCK_TIME,
    "time-too-new",
    () => `time ${h.time} is more than 2 hours ahead`,
    NO_BLAME,
  );
}

/** True when the block at `height` is the first of a retarget period (where the time-warp guard applies). */
function startsPeriod(height: number, params: NetworkParams): boolean {
  return !params.noRetargeting && height % params.retargetInterval === 0;
}

/** The earliest time a child of `parent` may carry: after the median time past, and the time-warp guard. */
export function minChildTime(parent: IndexedHeader, params: NetworkParams): number {
  const afterMedian = medianTimePast(parent) + 1;
  if (!startsPeriod(parent.height + 1, params)) return afterMedian;
  return Math.max(afterMedian, parent.header.time - params.maxTimewarp);
}

/** Checks a block's transactions against its height: the coinbase commits to it, every other is final. */
export function checkTxContext(block: Block, height: number): void {
  ensure(
    block.txs[0].lockTime === height,
    "bad-cb-height",
    () => `coinbase commits to ${block.txs[0].lockTime}, not ${height}`,
  );
  for (const tx of block.txs) {
    if (!isCoinbase(tx)) {
      ensure(
        tx.lockTime <= height,
        "bad-txns-nonfinal",
        () => `a transaction is locked until ${tx.lockTime}`,
      );
    }
  }
}
