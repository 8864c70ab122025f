/**
 * Merkle roots by Bitcoin's rule: pairwise SHA-256d, duplicating the last node of an odd level.
 * @module
 */
import { fromHexReversed, toHexReversed } from "../crypto/hex.ts";
import { sha256d, sha256dSync } from "../crypto/sha256.ts";

const ZERO = "0".repeat(64);

/** The 64-byte concatenations one level up hashes: pairs, the last node paired with itself when odd. */
function pairs(level: Uint8Array[]): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (let i = 0; i < level.length; i += 2) {
    const pair = new Uint8Array(64);
    pair.set(level[i]);
    pair.set(level[i + 1] ?? level[i], 32);
    out.push(pair);
  }
  return out;
}

/**
 * The merkle root of display-order ids, in display order (all zeros for no ids), hashed synchronously.
 * @example merkleRootSync([coinbaseTxid]) // === coinbaseTxid
 */
export function merkleRootSync(ids: string[]): string {
  if (ids.length === 0) return ZERO;
  let level = ids.map(fromHexReversed);
  while (level.length > 1) level = pairs(level).map(sha256dSync);
  return toHexReversed(level[0]);
}

/** The merkle root of display-order txids through WebCrypto, in display order. */
export async function merkleRoot(txids: string[]): Promise<string> {
  if (txids.length === 0) return ZERO;
  let level = txids.map(fromHexReversed);
  while (level.length > 1) level = await Promise.all(pairs(level).map(sha256d));
  return toHexReversed(level[0]);
}
