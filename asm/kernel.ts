// deno-fmt-ignore-file
// deno-lint-ignore-file
// AssemblyScript, not TypeScript: deno fmt would drop the @inline decorators.
/**
 * SHA-256d proof-of-work kernel, AssemblyScript with wasm SIMD: four nonces at once in the four i32 lanes of a
 * v128. Build with `scripts/build_kernel.sh` (asc -O3 --runtime stub --noAssert --enable simd); the output is
 * committed as lib/mining/kernel.wasm and wrapped by lib/mining/wasm_kernel.ts.
 *
 * A job is the header's first-block midstate, the three constant words of the second block (merkle tail,
 * time, bits) and the top 32 bits of the target. `scan` hashes nonces and stops at the first whose hash has
 * its top word at or under the target's; the caller re-checks every such candidate in full.
 */

const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const IV: usize = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Job words, each splatted to a v128: midstate[8], w0, w1, w2, target top word.
const JOB: usize = memory.data(12 * 16, 16);
// Compression output: 8 v128 state words (lane j = nonce start + j).
const OUT: usize = memory.data(8 * 16, 16);
// Midstate-added first hash, input to the second compression.
const MID: usize = memory.data(8 * 16, 16);
// The IV, splatted.
const IVS: usize = memory.data(8 * 16, 16);

@inline function add(x: v128, y: v128): v128 {
  return i32x4.add(x, y);
}

@inline function rotr(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

@inline function s0(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 7), rotr(x, 18)), i32x4.shr_u(x, 3));
}

@inline function s1(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 17), rotr(x, 19)), i32x4.shr_u(x, 10));
}

/** h + Σ1(e) + ch(e, f, g) + K + w. */
@inline function t1(e: v128, f: v128, g: v128, h: v128, w: v128, k: usize): v128 {
  const S1 = v128.xor(v128.xor(rotr(e, 6), rotr(e, 11)), rotr(e, 25));
  return add(add(h, S1), add(add(v128.bitselect(f, g, e), v128.load32_splat(k)), w));
}

/** Σ0(a) + maj(a, b, c). */
@inline function t2(a: v128, b: v128, c: v128): v128 {
  const S0 = v128.xor(v128.xor(rotr(a, 2), rotr(a, 13)), rotr(a, 22));
  return add(S0, v128.bitselect(c, a, v128.xor(a, b)));
}

/** One compression of the 16 words w0..w15 onto the state at `sp`; the sum is written to `op`. */
@inline function compress(
  sp: usize, op: usize,
  w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128,
  w8: v128, w9: v128, w10: v128, w11: v128, w12: v128, w13: v128, w14: v128, w15: v128,
): void {
  let a = v128.load(sp, 0), b = v128.load(sp, 16), c = v128.load(sp, 32), d = v128.load(sp, 48);
  let e = v128.load(sp, 64), f = v128.load(sp, 80), g = v128.load(sp, 96), h = v128.load(sp, 112);
  let t: v128;
  for (let j = 0; j < 4; j++) {
    const k = K + j * 64;
    t = t1(e, f, g, h, w0, k + 0); d = add(d, t); h = add(t, t2(a, b, c));
    t = t1(d, e, f, g, w1, k + 4); c = add(c, t); g = add(t, t2(h, a, b));
    t = t1(c, d, e, f, w2, k + 8); b = add(b, t); f = add(t, t2(g, h, a));
    t = t1(b, c, d, e, w3, k + 12); a = add(a, t); e = add(t, t2(f, g, h));
    t = t1(a, b, c, d, w4, k + 16); h = add(h, t); d = add(t, t2(e, f, g));
    t = t1(h, a, b, c, w5, k + 20); g = add(g, t); c = add(t, t2(d, e, f));
    t = t1(g, h, a, b, w6, k + 24); f = add(f, t); b = add(t, t2(c, d, e));
    t = t1(f, g, h, a, w7, k + 28); e = add(e, t); a = add(t, t2(b, c, d));
    t = t1(e, f, g, h, w8, k + 32); d = add(d, t); h = add(t, t2(a, b, c));
    t = t1(d, e, f, g, w9, k + 36); c = add(c, t); g = add(t, t2(h, a, b));
    t = t1(c, d, e, f, w10, k + 40); b = add(b, t); f = add(t, t2(g, h, a));
    t = t1(b, c, d, e, w11, k + 44); a = add(a, t); e = add(t, t2(f, g, h));
    t = t1(a, b, c, d, w12, k + 48); h = add(h, t); d = add(t, t2(e, f, g));
    t = t1(h, a, b, c, w13, k + 52); g = add(g, t); c = add(t, t2(d, e, f));
    t = t1(g, h, a, b, w14, k + 56); f = add(f, t); b = add(t, t2(c, d, e));
    t = t1(f, g, h, a, w15, k + 60); e = add(e, t); a = add(t, t2(b, c, d));
    if (j == 3) break;
    w0 = add(add(s1(w14), w9), add(s0(w1), w0));
    w1 = add(add(s1(w15), w10), add(s0(w2), w1));
    w2 = add(add(s1(w0), w11), add(s0(w3), w2));
    w3 = add(add(s1(w1), w12), add(s0(w4), w3));
    w4 = add(add(s1(w2), w13), add(s0(w5), w4));
    w5 = add(add(s1(w3), w14), add(s0(w6), w5));
    w6 = add(add(s1(w4), w15), add(s0(w7), w6));
    w7 = add(add(s1(w5), w0), add(s0(w8), w7));
    w8 = add(add(s1(w6), w1), add(s0(w9), w8));
    w9 = add(add(s1(w7), w2), add(s0(w10), w9));
    w10 = add(add(s1(w8), w3), add(s0(w11), w10));
    w11 = add(add(s1(w9), w4), add(s0(w12), w11));
    w12 = add(add(s1(w10), w5), add(s0(w13), w12));
    w13 = add(add(s1(w11), w6), add(s0(w14), w13));
    w14 = add(add(s1(w12), w7), add(s0(w15), w14));
    w15 = add(add(s1(w13), w8), add(s0(w0), w15));
  }
  v128.store(op, add(a, v128.load(sp, 0)), 0);
  v128.store(op, add(b, v128.load(sp, 16)), 16);
  v128.store(op, add(c, v128.load(sp, 32)), 32);
  v128.store(op, add(d, v128.load(sp, 48)), 48);
  v128.store(op, add(e, v128.load(sp, 64)), 64);
  v128.store(op, add(f, v128.load(sp, 80)), 80);
  v128.store(op, add(g, v128.load(sp, 96)), 96);
  v128.store(op, add(h, v128.load(sp, 112)), 112);
}

/** SHA-256d of the headers for nonces n..n+3 (lanes); the final state lands in OUT. */
@inline function hash4(n: u32): void {
  const nv = i32x4.add(i32x4.splat(n), i32x4(0, 1, 2, 3));
  // The nonce is little-endian in the header but SHA-256 reads big-endian words.
  const w3 = i8x16.shuffle(nv, nv, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  const z = i32x4.splat(0);
  compress(
    JOB, MID,
    v128.load(JOB, 128), v128.load(JOB, 144), v128.load(JOB, 160), w3,
    i32x4.splat(0x80000000), z, z, z, z, z, z, z, z, z, z, i32x4.splat(640),
  );
  compress(
    IVS, OUT,
    v128.load(MID, 0), v128.load(MID, 16), v128.load(MID, 32), v128.load(MID, 48),
    v128.load(MID, 64), v128.load(MID, 80), v128.load(MID, 96), v128.load(MID, 112),
    i32x4.splat(0x80000000), z, z, z, z, z, z, i32x4.splat(256),
  );
}

/** Sets the job: midstate m0..m7, second-block words w0..w2 (big-endian reads), target's top 32 bits. */
export function setJob(
  m0: u32, m1: u32, m2: u32, m3: u32, m4: u32, m5: u32, m6: u32, m7: u32,
  w0: u32, w1: u32, w2: u32, top: u32,
): void {
  v128.store(JOB, i32x4.splat(m0), 0);
  v128.store(JOB, i32x4.splat(m1), 16);
  v128.store(JOB, i32x4.splat(m2), 32);
  v128.store(JOB, i32x4.splat(m3), 48);
  v128.store(JOB, i32x4.splat(m4), 64);
  v128.store(JOB, i32x4.splat(m5), 80);
  v128.store(JOB, i32x4.splat(m6), 96);
  v128.store(JOB, i32x4.splat(m7), 112);
  v128.store(JOB, i32x4.splat(w0), 128);
  v128.store(JOB, i32x4.splat(w1), 144);
  v128.store(JOB, i32x4.splat(w2), 160);
  v128.store(JOB, i32x4.splat(top), 176);
  for (let i: usize = 0; i < 8; i++) v128.store(IVS + i * 16, v128.load32_splat(IV + i * 4));
}

/** Sets only the time word (w1), for rolling time without recomputing the midstate. */
export function setTime(w1: u32): void {
  v128.store(JOB, i32x4.splat(w1), 144);
}

/**
 * Hashes nonces start, start+1, … (mod 2^32) and returns the offset of the first whose hash's top word is at
 * most the target's top word, or -1 when none of the `count` nonces is. Up to three nonces past `count` may be
 * hashed but are never reported.
 */
export function scan(start: u32, count: u32): i32 {
  const top = v128.load(JOB, 176);
  for (let i: u32 = 0; i < count; i += 4) {
    hash4(start + i);
    // The hash read as a little-endian number has its top word in the byte-swapped last state word.
    const h7 = v128.load(OUT, 112);
    const hi = i8x16.shuffle(h7, h7, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    const mask = i32x4.bitmask(i32x4.le_u(hi, top));
    if (mask != 0) {
      for (let j: u32 = 0; j < 4; j++) {
        if ((mask & (1 << j)) != 0 && i + j < count) return <i32>(i + j);
      }
    }
  }
  return -1;
}

/** Computes the full SHA-256d state for `nonce` (lane 0 of OUT); returns OUT's address for the caller to read. */
export function digest(nonce: u32): usize {
  hash4(nonce);
  return OUT;
}
