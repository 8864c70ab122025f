/**
 * SHA-256: WebCrypto (`sha256`, `sha256d`) for the public API, and a synchronous implementation
 * (`sha256Sync`, `sha256dSync`, `compress`) for hot paths. WebCrypto's digest costs a promise per call
 * (about 37 k/s here), as much as a signature check; txids, merkle trees and the miner use the synchronous
 * one, which the tests cross-check against WebCrypto.
 * @module
 */

/** SHA-256 of `data` through WebCrypto. */
export async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * SHA-256(SHA-256(data)) through WebCrypto: Bitcoin's hash for headers, transactions and merkle nodes.
 * @example Hash bytes twice
 * ```ts
 * import { sha256d } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const digest = await sha256d(new TextEncoder().encode("hello"));
 * assert.equal(digest.toHex(), "9595c9df90075148eb06860365df33584b75bff782a510c6cd4883a419833d50");
 * ```
 */
export async function sha256d(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return await sha256(await sha256(data));
}

/** The 64 round constants. */
export const K: Uint32Array = new Uint32Array([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

/** The initial hash state. */
export const IV: Uint32Array = new Uint32Array([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);

/** `K` as signed words: `rounds` works on Int32Array, whose loads V8 keeps as small integers. */
const KI = new Int32Array(K);

/** Fills schedule words `from`..63 of `w` from the words before them. */
export function schedule(w: Int32Array, from: number): void {
  for (let i = from; i < 64; i++) {
    const x = w[i - 15], y = w[i - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
}

/**
 * Runs rounds `from`..`to`-1 on the working state `s` (a..h, replaced, not added to any base) with the
 * schedule `w`. A compression is rounds 0..63 added to the state it started from; the miner's kernel
 * (lib/mining/kernel.ts) also runs them in parts, to hoist the rounds a nonce does not change.
 */
export function rounds(s: Int32Array, w: Int32Array, from: number, to: number): void {
  let a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  for (let i = from; i < to; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + (g ^ (e & (f ^ g))) + KI[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = a;
  s[1] = b;
  s[2] = c;
  s[3] = d;
  s[4] = e;
  s[5] = f;
  s[6] = g;
  s[7] = h;
}

const WORK = new Int32Array(8);

/**
 * One SHA-256 compression: updates `state` (8 words) with the 16 big-endian words `w[0..15]`.
 * `w` must have room for 64 words; its tail is used as the message schedule.
 */
export function compress(state: Int32Array, w: Int32Array): void {
  schedule(w, 16);
  WORK.set(state);
  rounds(WORK, w, 0, 64);
  for (let i = 0; i < 8; i++) state[i] = (state[i] + WORK[i]) | 0;
}

const W = new Int32Array(64);
const STATE = new Int32Array(8);
const TAIL = new Uint8Array(128);
const TAIL_VIEW = new DataView(TAIL.buffer);

/** SHA-256 of `data`, synchronously (cross-checked against WebCrypto in the tests). */
export function sha256Sync(data: Uint8Array): Uint8Array<ArrayBuffer> {
  STATE.set(IV);
  const len = data.length;
  const full = len - (len % 64);
  for (let off = 0; off < full; off += 64) {
    for (let i = 0; i < 16; i++) {
      const p = off + i * 4;
      W[i] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    }
    compress(STATE, W);
  }
  // Padding: the remaining bytes, 0x80, zeros, and the bit length in the last 8 bytes.
  const rest = len - full;
  const tailLen = rest < 56 ? 64 : 128;
  TAIL.fill(0);
  TAIL.set(data.subarray(full));
  TAIL[rest] = 0x80;
  const bits = len * 8;
  TAIL_VIEW.setUint32(tailLen - 8, Math.floor(bits / 0x100000000));
  TAIL_VIEW.setUint32(tailLen - 4, bits >>> 0);
  for (let off = 0; off < tailLen; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = TAIL_VIEW.getUint32(off + i * 4);
    compress(STATE, W);
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = STATE[i];
    out[i * 4] = v >>> 24;
    out[i * 4 + 1] = v >>> 16;
    out[i * 4 + 2] = v >>> 8;
    out[i * 4 + 3] = v;
  }
  return out;
}

/** SHA-256(SHA-256(data)), synchronously. */
export function sha256dSync(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return sha256Sync(sha256Sync(data));
}
