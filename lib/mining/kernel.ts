/**
 * The proof-of-work search kernel in plain TypeScript, and the job description all kernels share.
 *
 * A header's first 64 bytes do not change while its nonce does, so their compression (the midstate) is done
 * once per job; per nonce only the second block (merkle tail, time, bits, nonce, padding) and the second
 * SHA-256 remain. The first three rounds of the second block and its schedule words 16 and 17 do not depend on
 * the nonce either and are hoisted out of the loop too. This is the fallback when wasm SIMD is unavailable.
 * @module
 */
import { compress, IV, rounds, schedule } from "../crypto/sha256.ts";

/** What a kernel needs to search one header: fixed per header except `w1` (the time) when time rolls. */
export interface KernelJob {
  /** State after compressing the header's first 64 bytes. */
  midstate: Uint32Array;
  /** Big-endian words of header bytes 64..75: merkle-root tail, time, bits. */
  w0: number;
  /** See `w0`: the time word (the header's little-endian time read big-endian). */
  w1: number;
  /** See `w0`: the bits word. */
  w2: number;
  /** The target as 32 little-endian bytes (byte 31 most significant), for the full comparison. */
  target: Uint8Array;
  /** The target's top 32 bits, for the kernels' quick test. */
  targetTop: number;
}

/** A nonce-search kernel bound to one job at a time. */
export interface Kernel {
  /** "wasm-simd" or "ts". */
  readonly name: string;
  /** Makes `job` the current job (call again after changing `job.w1`). */
  setJob(job: KernelJob): void;
  /**
   * Hashes nonces start, start+1, … (mod 2^32) and returns the offset of the first whose hash's top 32 bits
   * are at most the target's, or -1 if none of `count` is. Candidates still need the full comparison.
   */
  scan(start: number, count: number): number;
  /** The full SHA-256d digest (32 bytes, hash order) of the current job's header with `nonce`. */
  digest(nonce: number): Uint8Array;
}

/** Thrown when a header or target cannot form a job. */
export class KernelJobError extends Error {
  override name = "KernelJobError";
}

const bswap = (x: number): number =>
  ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/** The big-endian word of `b` at `off`. */
function be32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

/** A job for the 80 header bytes `header` (its nonce is ignored) and the 256-bit `target`. */
export function prepareJob(header: Uint8Array, target: bigint): KernelJob {
  if (header.length !== 80) throw new KernelJobError(`a header is 80 bytes, got ${header.length}`);
  if (target < 0n || target >= 1n << 256n) throw new KernelJobError("target must be in [0, 2^256)");
  const mid = new Int32Array(IV);
  const w = new Int32Array(64);
  for (let i = 0; i < 16; i++) w[i] = be32(header, i * 4);
  compress(mid, w);
  const t = new Uint8Array(32);
  let x = target;
  for (let i = 0; i < 32; i++, x >>= 8n) t[i] = Number(x & 0xffn);
  return {
    midstate: new Uint32Array(mid.buffer),
    w0: be32(header, 64),
    w1: be32(header, 68),
    w2: be32(header, 72),
    target: t,
    targetTop: ((t[31] << 24) | (t[30] << 16) | (t[29] << 8) | t[28]) >>> 0,
  };
}

/** Changes the job's time (the kernel needs `setJob` again). */
export function setJobTime(job: KernelJob, time: number): void {
  job.w1 = bswap(time >>> 0);
}

/** True when the digest (hash order, read as a little-endian number) is at most the little-endian target. */
export function meetsTarget(digest: Uint8Array, target: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (digest[i] !== target[i]) return digest[i] < target[i];
  }
  return true;
}

/** The plain TypeScript kernel. */
export function createTsKernel(): Kernel {
  const mid = new Int32Array(8); // midstate
  const pre = new Int32Array(8); // state after the nonce-independent rounds 0..2 of the second block
  const w1 = new Int32Array(64); // second block's schedule
  const w2 = new Int32Array(64); // second hash's schedule
  const s = new Int32Array(8);
  const iv = new Int32Array(IV);
  let top = 0;

  /** Both compressions for `nonce`; leaves the second hash's un-added rounds in `s`. */
  const hashInto = (nonce: number): void => {
    w1[3] = bswap(nonce) | 0;
    schedule(w1, 18);
    s.set(pre);
    rounds(s, w1, 3, 64);
    for (let i = 0; i < 8; i++) w2[i] = (s[i] + mid[i]) | 0;
    schedule(w2, 16);
    s.set(iv);
    rounds(s, w2, 0, 64);
  };

  return {
    name: "ts",
    setJob(job: KernelJob): void {
      mid.set(new Int32Array(job.midstate.buffer, job.midstate.byteOffset, 8));
      w1.fill(0);
      w1[0] = job.w0 | 0;
      w1[1] = job.w1 | 0;
      w1[2] = job.w2 | 0;
      w1[4] = 0x80000000 | 0;
      w1[15] = 640;
      schedule(w1, 16); // w[16], w[17] do not involve the nonce; later ones are redone per nonce
      pre.set(mid);
      rounds(pre, w1, 0, 3);
      w2.fill(0);
      w2[8] = 0x80000000 | 0;
      w2[15] = 256;
      top = job.targetTop >>> 0;
    },
    scan(start: number, count: number): number {
      for (let i = 0; i < count; i++) {
        hashInto((start + i) >>> 0);
        if (bswap((iv[7] + s[7]) | 0) <= top) return i;
      }
      return -1;
    },
    digest(nonce: number): Uint8Array {
      hashInto(nonce >>> 0);
      const out = new Uint8Array(32);
      const dv = new DataView(out.buffer);
      for (let i = 0; i < 8; i++) dv.setUint32(i * 4, (iv[i] + s[i]) >>> 0);
      return out;
    },
  };
}
