/**
 * Loaders for the real Bitcoin mainnet vectors in `tests/testdata/bitcoin`. Each file opens with a `# source:`
 * line naming where it came from; byte orders and field meanings are described in that folder's PROVENANCE.md.
 * @module
 */
import { fromHex } from "../../lib/crypto/hex.ts";

const DIR = new URL("../testdata/bitcoin/", import.meta.url);

/** Bitcoin's genesis block hash, display order. */
export const GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";

/** An entry of `checkpoints.json` or `retarget_boundaries.json`. */
export interface ChainworkEntry {
  /** Block height. */
  height: number;
  /** Cumulative work up to and including this block, big-endian hex. */
  chainwork_hex: string;
  /** The 80-byte wire header, hex, not reversed. */
  header_hex: string;
}

/** An entry of `blocks.json`. */
export interface BlockVector {
  /** Block height. */
  height: number;
  /** Block hash, display order. */
  hash: string;
  /** The 80-byte wire header, hex, not reversed. */
  header_hex: string;
  /** Header version. */
  version: number;
  /** Previous block hash, display order. */
  prev_hash: string;
  /** Merkle root, display order. */
  merkle_root: string;
  /** Header time. */
  time: number;
  /** Compact target as 8 hex digits of the u32 (`"1d00ffff"`). */
  bits: string;
  /** Header nonce. */
  nonce: number;
  /** Number of transactions. */
  tx_count: number;
  /** Number of segwit transactions among them. */
  segwit_tx_count: number;
  /** Txids in block order, display order (non-witness ids). */
  txids: string[];
}

/** The text of one file of the vector folder, without its `#` lines (the source line). */
export function readVectorText(name: string): string {
  return Deno.readTextFileSync(new URL(name, DIR)).split("\n").filter((l) => !l.startsWith("#")).join("\n");
}

/** The raw 80-byte headers of a `headers_*.txt` file, in height order. */
export function loadHeaderFile(
  name: "headers_0_438.txt" | "headers_822528_824544.txt",
): Uint8Array<ArrayBuffer>[] {
  return readVectorText(name).split("\n").map((l) => l.trim()).filter((l) => l !== "").map(fromHex);
}

/** `checkpoints.json`: every 2016th block from 2016, with chainwork. */
export function loadCheckpoints(): ChainworkEntry[] {
  return JSON.parse(readVectorText("checkpoints.json"));
}

/** `retarget_boundaries.json`: heights 0, 2016k-1 and 2016k, with chainwork. */
export function loadRetargetBoundaries(): ChainworkEntry[] {
  return JSON.parse(readVectorText("retarget_boundaries.json"));
}

/** `blocks.json`: five real blocks with their txids. */
export function loadBlocks(): BlockVector[] {
  return JSON.parse(readVectorText("blocks.json"));
}
