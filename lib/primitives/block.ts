/**
 * Blocks: a header followed by a CompactSize count and the transactions, the first being the coinbase.
 * @module
 */
import { Reader, Writer } from "./bytes.ts";
import { type BlockHeader, encodeHeader, HEADER_SIZE, readHeader } from "./header.ts";
import {
  compactSizeLength,
  readTransaction,
  type Transaction,
  txSize,
  writeTransaction,
  wtxid,
} from "./transaction.ts";
import { merkleRootSync } from "./merkle.ts";

/** A block. */
export interface Block {
  /** The 80-byte header. */
  header: BlockHeader;
  /** The transactions, the coinbase first. */
  txs: Transaction[];
}

/** Largest encoded block accepted. */
export const MAX_BLOCK_SIZE = 1_000_000;
/** Smallest encoded transaction (a coinbase with no outputs). */
const MIN_TX_SIZE = 10;

/** The canonical bytes of a block. */
export function encodeBlock(b: Block): Uint8Array<ArrayBuffer> {
  const w = new Writer().bytes(encodeHeader(b.header)).compactSize(b.txs.length);
  for (const tx of b.txs) writeTransaction(w, tx);
  return w.finish();
}

/**
 * A block from exactly its bytes; throws `DecodeError` on anything else. Size limits are consensus rules,
 * checked by the chain.
 * @example Bytes and back
 * ```ts
 * import { DecodeError, decodeBlock, encodeBlock, NETWORKS } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeBlock(NETWORKS.regtest.genesis);
 * assert.deepEqual(decodeBlock(bytes), NETWORKS.regtest.genesis);
 * assert.throws(() => decodeBlock(bytes.subarray(0, 100)), DecodeError);
 * ```
 */
export function decodeBlock(bytes: Uint8Array): Block {
  const r = new Reader(bytes);
  const header = readHeader(r);
  const n = r.compactSize(Math.floor(r.remaining / MIN_TX_SIZE), "transaction count");
  const txs: Transaction[] = [];
  for (let i = 0; i < n; i++) txs.push(readTransaction(r));
  r.end("block");
  return { header, txs };
}

/** Encoded size in bytes, without encoding. */
export function blockSize(b: Block): number {
  return HEADER_SIZE + compactSizeLength(b.txs.length) + b.txs.reduce((s, tx) => s + txSize(tx), 0);
}

/** The merkle root a header must carry for these transactions: over their wtxids (`wtxids`, when known). */
export function blockMerkleRoot(txs: Transaction[], wtxids: readonly string[] = txs.map(wtxid)): string {
  return merkleRootSync([...wtxids]);
}
