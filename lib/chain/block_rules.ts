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
import { isCoinbase, txid } from "../primitives/transaction.ts";
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

/** Codes that mean the block's bytes were damaged in transit, not that its header is invalid. */
export const MUTATION_CODES: ReadonlySet<string> = new Set(["bad-txnmrklroot", "bad-txns-duplicate"]);

/** Checks that need only the block and its hash. */
export function checkBlock(block: Block, hash: string, params: NetworkParams): void {
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
  const ids = new Set(block.txs.map(txid));
  ensure(ids.size === block.txs.length, "bad-txns-duplicate", "a transaction appears twice");
  ensure(blockMerkleRoot(block.txs) === block.header.merkleRoot, "bad-txnmrklroot", "merkle root mismatch");
  for (const tx of block.txs) checkTransaction(tx);
}

/** The ancestor of `entry` at `height` (which must not exceed `entry.height`). */
export function ancestorAt<T extends IndexedHeader>(entry: T, height: number): T {
  let e: IndexedHeader = entry;
  while (e.height > height) e = e.parent!;
  return e as T;
}

/** Median time of `entry` and up to 10 of its ancestors. */
export function medianTimePast(entry: IndexedHeader): number {
  const times: number[] = [];
  for (let e: IndexedHeader | undefined = entry; e && times.length < MEDIAN_TIME_SPAN; e = e.parent) {
    times.push(e.header.time);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The bits a child of `parent` must carry: Bitcoin's retarget every `retargetInterval` blocks. */
export function nextBits(parent: IndexedHeader, params: NetworkParams): number {
  const height = parent.height + 1;
  if (params.noRetargeting || height % params.retargetInterval !== 0) return parent.header.bits;
  const first = ancestorAt(parent, height - params.retargetInterval);
  const actual = parent.header.time - first.header.time;
  return retargetBits(
    parent.header.bits,
    actual,
    params.retargetInterval * params.targetSpacing,
    params.powLimit,
  );
}

/** Checks a block against its parent: difficulty, time window, coinbase height and transaction finality. */
export function checkBlockContext(
  block: Block,
  parent: IndexedHeader,
  params: NetworkParams,
  now: number,
): void {
  const h = block.header, height = parent.height + 1;
  const bits = nextBits(parent, params);
  ensure(
    h.bits === bits,
    "bad-diffbits",
    () => `bits ${h.bits.toString(16)} but ${bits.toString(16)} is required`,
  );
  const mtp = medianTimePast(parent);
  ensure(h.time > mtp, "time-too-old", () => `time ${h.time} is not after the median time past ${mtp}`);
  ensure(
    h.time <= now + MAX_FUTURE_BLOCK_TIME,
    "time-too-new",
    () => `time ${h.time} is more than 2 hours ahead`,
    NO_BLAME,
  );
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
