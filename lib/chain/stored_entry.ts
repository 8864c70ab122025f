/**
 * A block entry read from the store at start-up, whose header is decoded the first time it is read.
 *
 * Start-up reads every row of the block index; decoding each 80-byte header into numbers and hex strings cost
 * more than reading the rows (27 of about 130 ms with 10,000 blocks), while a running node reads the headers
 * of a few recent blocks (retargeting, median time) and those a page asks for. Linking an entry to its parent
 * needs only the previous block's hash, read from the bytes directly (`prevHashOf`).
 * @module
 */
import { toHexReversed } from "../crypto/hex.ts";
import { type BlockHeader, decodeHeader } from "../primitives/header.ts";
import type { BlockEntry } from "./chain.ts";

/** The previous block's hash (display order) in an encoded header. */
export function prevHashOf(header: Uint8Array): string {
  return toHexReversed(header.subarray(4, 36));
}

/** A `BlockEntry` over its stored header bytes. */
export class StoredEntry implements BlockEntry {
  #bytes: Uint8Array | undefined;
  #header: BlockHeader | undefined;

  /** An entry whose header is `bytes` (80, as the store keeps them; checked when decoded). */
  constructor(
    readonly hash: string,
    readonly height: number,
    bytes: Uint8Array,
    readonly parent: BlockEntry | undefined,
    readonly chainWork: bigint,
    public status: number,
    readonly seq: number,
  ) {
    this.#bytes = bytes;
  }

  /** The header, decoded at the first read (the bytes are then let go). */
  get header(): BlockHeader {
    if (!this.#header) {
      this.#header = decodeHeader(this.#bytes!);
      this.#bytes = undefined;
    }
    return this.#header;
  }
}
