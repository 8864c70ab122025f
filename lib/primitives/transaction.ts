/**
 * Transactions: the canonical binary encoding, ids and size.
 *
 * Layout: version u32 | inputs (CompactSize count; each: previous txid 32 bytes internal order, output index
 * u32, Ed25519 public key 32, signature 64) | outputs (count; each: amount i64, public key hash 20) |
 * lockTime u32. A coinbase has no inputs, and its lockTime is the height of its block, so coinbase ids are
 * unique. The txid hashes the encoding *without* signatures, and each signature signs the txid, so a txid
 * cannot be malleated; the wtxid hashes everything and is what block merkle roots commit to, so the header
 * also commits to the signatures.
 * @module
 */
import { fromHexReversed, toHex, toHexReversed } from "../crypto/hex.ts";
import { sha256dSync } from "../crypto/sha256.ts";
import { DecodeError, Reader, type Writer } from "./bytes.ts";

/** A reference to one output of an earlier transaction. */
export interface OutPoint {
  /** Display-order txid. */
  txid: string;
  /** Output index. */
  index: number;
}

/** A spend of an earlier output, signed by the key its address names. */
export interface TxInput {
  /** The output being spent. */
  prevout: OutPoint;
  /** 32-byte Ed25519 public key whose hash is the spent output's `pubKeyHash`. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** 64-byte Ed25519 signature of the txid. */
  signature: Uint8Array<ArrayBuffer>;
}

/** An amount paid to the holder of a key. */
export interface TxOutput {
  /** Base units (1 coin = 10^8), an integer. */
  amount: number;
  /** 40 hex digits: the first 20 bytes of SHA-256 of the recipient's public key. */
  pubKeyHash: string;
}

/** A transaction. */
export interface Transaction {
  /** Format version (1). */
  version: number;
  /** Spent outputs; none for a coinbase. */
  inputs: TxInput[];
  /** New outputs. */
  outputs: TxOutput[];
  /** Coinbase: the block height. Others: the first height whose block may include it (0: any). */
  lockTime: number;
}

/** Encoded size of one input and one output. */
export const INPUT_SIZE = 132, OUTPUT_SIZE = 28;
/** Upper bound on inputs or outputs in one transaction (a 1 MB block holds no more). */
export const MAX_TX_ITEMS = 40_000;

/** Encodes into a buffer of exactly the right size: txids are hashed on every check, so no growing writer. */
function serialize(tx: Transaction, withSignatures: boolean): Uint8Array<ArrayBuffer> {
  const nIn = tx.inputs.length, nOut = tx.outputs.length;
  const inSize = withSignatures ? INPUT_SIZE : INPUT_SIZE - 64;
  const buf = new Uint8Array(
    4 + compactSizeLength(nIn) + nIn * inSize + compactSizeLength(nOut) + nOut * OUTPUT_SIZE + 4,
  );
  const view = new DataView(buf.buffer);
  view.setUint32(0, tx.version, true);
  let at = 4 + putCompactSize(view, 4, nIn);
  for (const i of tx.inputs) {
    putHex(buf, at, i.prevout.txid, 32, "prevout txid");
    buf.subarray(at, at + 32).reverse();
    view.setUint32(at + 32, i.prevout.index, true);
    buf.set(i.publicKey, at + 36);
    if (withSignatures) buf.set(i.signature, at + 68);
    at += inSize;
  }
  at += putCompactSize(view, at, nOut);
  for (const o of tx.outputs) {
    view.setBigInt64(at, BigInt(o.amount), true);
    putHex(buf, at + 8, o.pubKeyHash, 20, "pubKeyHash");
    at += OUTPUT_SIZE;
  }
  view.setUint32(at, tx.lockTime, true);
  return buf;
}

function putHex(buf: Uint8Array, at: number, hex: string, bytes: number, what: string): void {
  let ok = typeof hex === "string" && hex.length === bytes * 2;
  try {
    ok &&= buf.subarray(at, at + bytes).setFromHex(hex).written === bytes;
  } catch {
    ok = false;
  }
  if (!ok) throw new TypeError(`${what} must be ${bytes * 2} hex digits: ${hex}`);
}

function putCompactSize(view: DataView, at: number, n: number): number {
  if (n < 0xfd) {
    view.setUint8(at, n);
    return 1;
  }
  if (n <= 0xffff) {
    view.setUint8(at, 0xfd);
    view.setUint16(at + 1, n, true);
    return 3;
  }
  view.setUint8(at, 0xfe);
  view.setUint32(at + 1, n, true);
  return 5;
}

/** The canonical bytes of a transaction. */
export function encodeTransaction(tx: Transaction): Uint8Array<ArrayBuffer> {
  return serialize(tx, true);
}

/** Appends a transaction's bytes to `w` (used by block encoding). */
export function writeTransaction(w: Writer, tx: Transaction): void {
  w.bytes(serialize(tx, true));
}

/** Reads one transaction (used by block decoding). */
export function readTransaction(r: Reader): Transaction {
  const version = r.u32("tx version");
  const inputs: TxInput[] = [];
  const nIn = r.compactSize(Math.min(MAX_TX_ITEMS, Math.floor(r.remaining / INPUT_SIZE)), "input count");
  for (let i = 0; i < nIn; i++) {
    inputs.push({
      prevout: { txid: toHexReversed(r.take(32, "prevout txid")), index: r.u32("prevout index") },
      publicKey: r.take(32, "public key"),
      signature: r.take(64, "signature"),
    });
  }
  const outputs: TxOutput[] = [];
  const nOut = r.compactSize(Math.min(MAX_TX_ITEMS, Math.floor(r.remaining / OUTPUT_SIZE)), "output count");
  for (let i = 0; i < nOut; i++) {
    outputs.push({ amount: r.i64("amount"), pubKeyHash: toHex(r.take(20, "pubKeyHash")) });
  }
  return { version, inputs, outputs, lockTime: r.u32("lockTime") };
}

/** A transaction from exactly its bytes; throws `DecodeError` on anything else. */
export function decodeTransaction(bytes: Uint8Array): Transaction {
  const r = new Reader(bytes);
  const tx = readTransaction(r);
  r.end("transaction");
  return tx;
}

/**
 * The txid: SHA-256d of the encoding without signatures, display order.
 * @example A signature does not change the txid
 * ```ts
 * import { type Transaction, txid, wtxid } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const prevout = { txid: "11".repeat(32), index: 0 };
 * const tx: Transaction = {
 *   version: 1,
 *   inputs: [{ prevout, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }],
 *   outputs: [{ amount: 5_000, pubKeyHash: "22".repeat(20) }],
 *   lockTime: 0,
 * };
 * const signed = { ...tx, inputs: [{ ...tx.inputs[0], signature: new Uint8Array(64).fill(7) }] };
 * assert.equal(txid(signed), txid(tx));
 * assert.notEqual(wtxid(signed), wtxid(tx));
 * ```
 */
export function txid(tx: Transaction): string {
  return toHexReversed(sha256dSync(serialize(tx, false)));
}

/** The wtxid: SHA-256d of the full encoding, display order (equals the txid for a coinbase). */
export function wtxid(tx: Transaction): string {
  return tx.inputs.length === 0 ? txid(tx) : toHexReversed(sha256dSync(encodeTransaction(tx)));
}

/** The bytes a signature signs: the txid in internal byte order. */
export function sigHash(tx: Transaction): Uint8Array<ArrayBuffer> {
  return fromHexReversed(txid(tx));
}

/** Encoded size in bytes, without encoding. */
export function txSize(tx: Transaction): number {
  return 4 + compactSizeLength(tx.inputs.length) + tx.inputs.length * INPUT_SIZE +
    compactSizeLength(tx.outputs.length) + tx.outputs.length * OUTPUT_SIZE + 4;
}

/** Bytes of a CompactSize integer. */
export function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/** True for a coinbase (no inputs). */
export function isCoinbase(tx: Transaction): boolean {
  return tx.inputs.length === 0;
}

/** `"txid:index"`, the key of an outpoint in maps. */
export function outpointKey(o: OutPoint): string {
  return `${o.txid}:${o.index}`;
}

export { DecodeError };
