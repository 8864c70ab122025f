/**
 * The 80-byte block header, byte-identical to Bitcoin's, and its hash.
 * @module
 */
import { fromHexReversed, isHex, toHexReversed } from "../crypto/hex.ts";
import { sha256d, sha256dSync } from "../crypto/sha256.ts";
import { DecodeError, Reader, Writer } from "./bytes.ts";

/** A block header. Hashes are in display order (byte-reversed hex), as block explorers show them. */
export interface BlockHeader {
  /** u32 version. */
  version: number;
  /** Hash of the previous block, display order. */
  prevHash: string;
  /** Merkle root of the block's transactions, display order. */
  merkleRoot: string;
  /** u32 seconds since the Unix epoch. */
  time: number;
  /** u32 compact target. */
  bits: number;
  /** u32 nonce. */
  nonce: number;
}

/** Size of an encoded header. */
export const HEADER_SIZE = 80;

/**
 * The wire bytes of a header.
 * @example encodeHeader(decodeHeader(bytes)) // the same 80 bytes
 */
export function encodeHeader(h: BlockHeader): Uint8Array<ArrayBuffer> {
  if (!isHex(h.prevHash, 32) || !isHex(h.merkleRoot, 32)) {
    throw new TypeError("header hashes must be 64 hex digits");
  }
  return new Writer().u32(h.version).bytes(fromHexReversed(h.prevHash)).bytes(fromHexReversed(h.merkleRoot))
    .u32(h.time).u32(h.bits).u32(h.nonce).finish();
}

/** Reads a header from a reader positioned at one (used by block decoding). */
export function readHeader(r: Reader): BlockHeader {
  return {
    version: r.u32("version"),
    prevHash: toHexReversed(r.take(32, "prevHash")),
    merkleRoot: toHexReversed(r.take(32, "merkleRoot")),
    time: r.u32("time"),
    bits: r.u32("bits"),
    nonce: r.u32("nonce"),
  };
}

/** A header from exactly 80 bytes; throws `DecodeError` for any other length. */
export function decodeHeader(bytes: Uint8Array): BlockHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length !== HEADER_SIZE) {
    throw new DecodeError(`a block header is exactly ${HEADER_SIZE} bytes, got ${bytes?.length}`);
  }
  return readHeader(new Reader(bytes));
}

/**
 * The block hash: SHA-256d of the header through WebCrypto, in display order.
 * @example Bitcoin's genesis header
 * ```ts
 * import { blockHash, decodeHeader } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const header = decodeHeader(Uint8Array.fromHex(
 *   "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e" +
 *     "67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
 * ));
 * assert.equal(await blockHash(header), "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f");
 * ```
 */
export async function blockHash(h: BlockHeader): Promise<string> {
  return toHexReversed(await sha256d(encodeHeader(h)));
}

/** `blockHash` computed synchronously, for hot paths (cross-checked against WebCrypto in the tests). */
export function blockHashSync(h: BlockHeader): string {
  return toHexReversed(sha256dSync(encodeHeader(h)));
}
