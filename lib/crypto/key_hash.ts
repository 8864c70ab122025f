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
  return sha256Sync(publicKey).subarray(0, 20).toHex();
}
