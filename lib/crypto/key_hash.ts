/**
 * The key hash an output pays to.
 * @module
 */
import { sha256Sync } from "./sha256.ts";

/**
 * The first 20 bytes of SHA-256 of an Ed25519 public key, as 40 hex digits.
 * @example pubKeyHash(publicKey).length // 40
 */
export function pubKeyHash(publicKey: Uint8Array): string {
  // Every input of every transaction is checked against its key's hash; senders repeat, so keep a few.
  const id = publicKey.toHex();
  let hash = cache.get(id);
  if (hash === undefined) {
    hash = sha256Sync(publicKey).subarray(0, 20).toHex();
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(id, hash);
  }
  return hash;
}

const cache = new Map<string, string>();
const CACHE_MAX = 4096;
