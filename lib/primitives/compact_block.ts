/**
 * Compact blocks (BIP-152's idea), the pure parts: a block travels as its header, a nonce, the coinbase and a
 * 6-byte short id per other transaction; the receiver rebuilds it from transactions it already holds.
 *
 * Short ids are SipHash-2-4 of each transaction's wtxid (which covers signatures, as the merkle root does),
 * keyed by the first two little-endian 64-bit words of SHA-256(header ‖ nonce as u64 LE), cut to the low 48
 * bits: a sender cannot aim collisions at a receiver without knowing the nonce-dependent key in advance, and
 * a collision only costs a fallback to the full block, never a wrong block (the merkle root is checked).
 * @module
 */
import siphash from "./vendor/siphash.ts";
import { fromHexReversed } from "../crypto/hex.ts";
import { sha256Sync } from "../crypto/sha256.ts";
import { type Block, MAX_BLOCK_SIZE } from "./block.ts";
import { merkleRootSync } from "./merkle.ts";
import { Reader, Writer } from "./bytes.ts";
import { type BlockHeader, encodeHeader, readHeader } from "./header.ts";
import {
  INPUT_SIZE,
  OUTPUT_SIZE,
  readTransaction,
  type Transaction,
  writeTransaction,
  wtxid,
} from "./transaction.ts";

/** A short id's bits: 6 bytes. */
export const SHORT_ID_BITS = 48;
/** Short ids a compact block may carry at most: the most non-coinbase transactions a block can hold. */
export const MAX_SHORT_IDS = Math.floor(MAX_BLOCK_SIZE / (4 + 1 + INPUT_SIZE + 1 + OUTPUT_SIZE + 4));
/** 48 bits fit a JavaScript number exactly. */
if (SHORT_ID_BITS > 53) throw new Error("a short id must fit a safe integer");

/** A SipHash-2-4 key: four 32-bit words, little-endian (the library's form). */
export type ShortIdKey = readonly [number, number, number, number];

/** The wire form of a compact block: what a receiver needs to rebuild it from its mempool. */
export interface CompactBlock {
  /** The block's header. */
  header: BlockHeader;
  /** The sender's random nonce (u64), keying the short ids together with the header. */
  nonce: bigint;
  /** The coinbase, always sent in full (no one else has it). */
  coinbase: Transaction;
  /** One short id per transaction after the coinbase, in block order. */
  shortIds: number[];
}

/**
 * The short-id key of a block: the first 16 bytes of SHA-256(header ‖ nonce u64 LE), as four LE words.
 * @example shortIdKey(block.header, 7n)
 */
export function shortIdKey(header: BlockHeader, nonce: bigint): ShortIdKey {
  if (nonce < 0n || nonce >= 1n << 64n) throw new RangeError("the nonce is a u64");
  const bytes = new Uint8Array(88);
  bytes.set(encodeHeader(header));
  new DataView(bytes.buffer).setBigUint64(80, nonce, true);
  const view = new DataView(sha256Sync(bytes).buffer);
  return [
    view.getUint32(0, true),
    view.getUint32(4, true),
    view.getUint32(8, true),
    view.getUint32(12, true),
  ];
}

/** The `siphash` library (SipHash-2-4, vendored): a 64-bit hash as its high and low 32-bit words. */
const sip = siphash;

/** SipHash-2-4 of `data` under `key`, as a bigint (for the reference vectors). */
export function sipHash24(key: ShortIdKey, data: Uint8Array): bigint {
  const { h, l } = sip.hash(key, data);
  return (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
}

/** The short id of a transaction with this wtxid (display order): the low 48 bits of its SipHash. */
export function shortId(key: ShortIdKey, wtxidHex: string): number {
  const { h, l } = sip.hash(key, fromHexReversed(wtxidHex));
  return (h & 0xffff) * 0x1_0000_0000 + (l >>> 0);
}

/**
 * A block's compact form under `nonce` (the sender picks it at random per block and peer, so that nobody
 * can grind transactions whose short ids collide in advance). `wtxids`: its transactions' wtxids in block
 * order, when already known (hashed otherwise).
 */
export function compactBlock(
  block: Block,
  nonce: bigint,
  wtxids: readonly string[] = block.txs.map(wtxid),
): CompactBlock {
  const key = shortIdKey(block.header, nonce);
  return {
    header: block.header,
    nonce,
    coinbase: block.txs[0],
    shortIds: wtxids.slice(1).map((w) => shortId(key, w)),
  };
}

/**
 * What a receiver holds under a block's short ids: every transaction it offers (its mempool), indexed by
 * short id under `key`. Two of them with one short id map to null: neither can be told apart, so that slot is
 * asked for (BIP-152 does the same). `wtxidOf` may be a memo of `wtxid` (a mempool's transactions are indexed
 * again for every block).
 */
export function shortIdIndex(
  key: ShortIdKey,
  txs: Iterable<Transaction>,
  wtxidOf: (tx: Transaction) => string = wtxid,
): Map<number, Transaction | null> {
  const index = new Map<number, Transaction | null>();
  for (const tx of txs) {
    const id = shortId(key, wtxidOf(tx));
    index.set(id, index.has(id) ? null : tx);
  }
  return index;
}

/** The outcome of `rebuildBlock`. */
export type RebuildResult =
  /** Every transaction found, and the merkle root matches the header. */
  | { status: "rebuilt"; block: Block }
  /** These positions in the block (1 is the first after the coinbase) are not held, or are ambiguous. */
  | { status: "missing"; missing: number[] }
  /**
   * It cannot be rebuilt from short ids: two equal short ids in the compact block, too many of them, or a
   * rebuilt block whose merkle root differs from the header's (a short-id collision). Ask for the full block.
   */
  | { status: "failed"; reason: "duplicate-short-id" | "too-many-short-ids" | "merkle-mismatch" };

/**
 * Rebuilds a block from its compact form: the coinbase, then for each short id the transaction `lookup` gives
 * (null or undefined when it holds none, or several), or the one in `received` at that position (transactions
 * asked for after a first "missing" answer). Pure: the caller checks the block as any other; a block that
 * rebuilds has the header's merkle root, so its transactions are the ones the header commits to. `wtxidOf` may
 * be a memo of `wtxid` (the one `shortIdIndex` used: the mempool's transactions are then not hashed again).
 * @example
 * const key = shortIdKey(cb.header, cb.nonce), index = shortIdIndex(key, mempoolTxs);
 * const r = rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (id) => index.get(id));
 */
export function rebuildBlock(
  header: BlockHeader,
  coinbase: Transaction,
  shortIds: readonly number[],
  lookup: (shortId: number) => Transaction | null | undefined,
  received: ReadonlyMap<number, Transaction> = new Map(),
  wtxidOf: (tx: Transaction) => string = wtxid,
): RebuildResult {
  // Cheap checks first: a hostile sender's list is bounded before anything is looked up.
  if (shortIds.length > MAX_SHORT_IDS) return { status: "failed", reason: "too-many-short-ids" };
  if (new Set(shortIds).size !== shortIds.length) return { status: "failed", reason: "duplicate-short-id" };
  const txs: Transaction[] = [coinbase];
  const missing: number[] = [];
  shortIds.forEach((id, i) => {
    const tx = received.get(i + 1) ?? lookup(id);
    if (tx) txs.push(tx);
    else missing.push(i + 1);
  });
  if (missing.length) return { status: "missing", missing };
  if (merkleRootSync(txs.map(wtxidOf)) !== header.merkleRoot) {
    return { status: "failed", reason: "merkle-mismatch" };
  }
  return { status: "rebuilt", block: { header, txs } };
}

/** Bytes of one short id on the wire (little-endian). */
const SHORT_ID_BYTES = SHORT_ID_BITS / 8;

/**
 * The canonical bytes of a compact block: header (80) ‖ nonce (u64 LE) ‖ coinbase ‖ CompactSize count ‖ 6-byte
 * little-endian short ids.
 */
export function encodeCompactBlock(cb: CompactBlock): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setBigUint64(0, cb.nonce, true);
  const w = new Writer().bytes(encodeHeader(cb.header)).bytes(nonce);
  writeTransaction(w, cb.coinbase);
  w.compactSize(cb.shortIds.length);
  const ids = new Uint8Array(cb.shortIds.length * SHORT_ID_BYTES);
  cb.shortIds.forEach((id, i) => {
    for (let b = 0, v = id; b < SHORT_ID_BYTES; b++, v = Math.floor(v / 256)) {
      ids[i * SHORT_ID_BYTES + b] = v & 0xff;
    }
  });
  return w.bytes(ids).finish();
}

/** A compact block from exactly its bytes; throws `DecodeError` on anything else (at most `MAX_SHORT_IDS` ids). */
export function decodeCompactBlock(bytes: Uint8Array): CompactBlock {
  const r = new Reader(bytes);
  const header = readHeader(r);
  const nonce = new DataView(r.take(8, "nonce").buffer).getBigUint64(0, true);
  const coinbase = readTransaction(r);
  const n = r.compactSize(
    Math.min(MAX_SHORT_IDS, Math.floor(r.remaining / SHORT_ID_BYTES)),
    "short id count",
  );
  const raw = r.take(n * SHORT_ID_BYTES, "short ids");
  r.end("compact block");
  const shortIds: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = SHORT_ID_BYTES - 1; b >= 0; b--) v = v * 256 + raw[i * SHORT_ID_BYTES + b];
    shortIds.push(v);
  }
  return { header, nonce, coinbase, shortIds };
}
