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
import { fromHexReversed, isHex, toHex, toHexReversed } from "../crypto/hex.ts";
import { sha256dSync } from "../crypto/sha256.ts";
import { DecodeError, Reader, Writer } from "./bytes.ts";

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

function write(w: Writer, tx: Transaction, withSignatures: boolean): Writer {
  w.u32(tx.version).compactSize(tx.inputs.length);
  for (const i of tx.inputs) {
    w.bytes(fromHexReversed(i.prevout.txid)).u32(i.prevout.index).bytes(i.publicKey);
    if (withSignatures) w.bytes(i.signature);
  }
  w.compactSize(tx.outputs.length);
  for (const o of tx.outputs) {
    if (!isHex(o.pubKeyHash, 20)) throw new TypeError(`pubKeyHash must be 40 hex digits: ${o.pubKeyHash}`);
    w.i64(o.amount).bytes(Uint8Array.fromHex(o.pubKeyHash));
  }
  return w.u32(tx.lockTime);
}

/** The canonical bytes of a transaction. */
export function encodeTransaction(tx: Transaction): Uint8Array<ArrayBuffer> {
  return write(new Writer(), tx, true).finish();
}

/** Appends a transaction's bytes to `w` (used by block encoding). */
export function writeTransaction(w: Writer, tx: Transaction): void {
  write(w, tx, true);
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

/** The txid: SHA-256d of the encoding without signatures, display order. */
export function txid(tx: Transaction): string {
  return toHexReversed(sha256dSync(write(new Writer(), tx, false).finish()));
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
