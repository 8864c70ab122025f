/**
 * Ed25519 through WebCrypto: key generation, import and export, signing and verification.
 * Verification keys are cached by public key, since importing costs a promise per call.
 * @module
 */
import { toHex } from "./hex.ts";

/** A signing key pair with its raw 32-byte public key. */
export interface KeyPair {
  /** The private key, for `sign` (WebCrypto, extractable). */
  privateKey: CryptoKey;
  /** The raw 32-byte public key, as it goes into transaction inputs. */
  publicKey: Uint8Array<ArrayBuffer>;
}

/**
 * A fresh, extractable Ed25519 key pair.
 * @example Sign and verify
 * ```ts
 * import { generateKeyPair, sign, verify } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const { privateKey, publicKey } = await generateKeyPair();
 * const message = new TextEncoder().encode("pay 1 coin");
 * const signature = await sign(privateKey, message);
 * assert.equal(await verify(publicKey, signature, message), true);
 * ```
 */
export async function generateKeyPair(): Promise<KeyPair> {
  const kp = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]) as CryptoKeyPair;
  return {
    privateKey: kp.privateKey,
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey)),
  };
}

/** The PKCS#8 bytes of a private key, for the wallet file. */
export async function exportPrivateKey(key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
}

/** A key pair back from its PKCS#8 bytes (throws if they are not an Ed25519 private key). */
export async function importPrivateKey(pkcs8: Uint8Array<ArrayBuffer>): Promise<KeyPair> {
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  // WebCrypto cannot derive the public key from a private CryptoKey directly; its JWK carries it.
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  if (!jwk.x) throw new Error("private key has no public part");
  return { privateKey, publicKey: Uint8Array.fromBase64(jwk.x, { alphabet: "base64url" }) };
}

/** Signs `message` (a txid, in our use) with `key`: a 64-byte signature. */
export async function sign(
  key: CryptoKey,
  message: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.sign("Ed25519", key, message));
}

const keyCache = new Map<string, CryptoKey>();
const KEY_CACHE_MAX = 4096;

/** True when `signature` is `publicKey`'s Ed25519 signature of `message`; false for any malformed input. */
export async function verify(
  publicKey: Uint8Array<ArrayBuffer>,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    // Importing costs a promise per call; senders repeat, so keys are cached once imported.
    const id = toHex(publicKey);
    let key = keyCache.get(id);
    if (!key) {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
      if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
      keyCache.set(id, key);
    }
    return await crypto.subtle.verify("Ed25519", key, signature, message);
  } catch {
    return false; // not a valid curve point
  }
}
