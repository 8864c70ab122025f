/**
 * The synchronous SHA-256 against NIST vectors and against WebCrypto on inputs of every length around the
 * padding boundaries, and its constants against their definition.
 * @module
 */
import assert from "node:assert/strict";
import { toHex } from "../lib/crypto/hex.ts";
import { compress, IV, K, sha256, sha256d, sha256dSync, sha256Sync } from "../lib/crypto/sha256.ts";
import { seededBytes } from "./support/random.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** floor(n^(1/k)) for a non-negative bigint, by Newton's method. */
function iroot(n: bigint, k: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << (BigInt(n.toString(2).length) / k + 1n);
  for (;;) {
    const y = ((k - 1n) * x + n / x ** (k - 1n)) / k;
    if (y >= x) return x;
    x = y;
  }
}

const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);

Deno.test("NIST vectors, sync and WebCrypto", async () => {
  const vectors: [Uint8Array<ArrayBuffer>, string][] = [
    [enc(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    [enc("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      enc("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    [
      enc(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      ),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
    ],
    [enc("a".repeat(1_000_000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"],
  ];
  for (const [data, digest] of vectors) {
    assert.equal(toHex(sha256Sync(data)), digest, `length ${data.length}`);
    assert.equal(toHex(await sha256(data)), digest, `length ${data.length} (WebCrypto)`);
  }
  // SHA-256d of the empty string, a well-known Bitcoin constant.
  assert.equal(
    toHex(sha256dSync(new Uint8Array())),
    "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456",
  );
});

Deno.test("sha256Sync and sha256dSync equal WebCrypto for every length 0..300", async () => {
  for (let len = 0; len <= 300; len++) {
    const data = seededBytes(len, len);
    assert.equal(toHex(sha256Sync(data)), toHex(await sha256(data)), `sha256, length ${len}`);
    assert.equal(toHex(sha256dSync(data)), toHex(await sha256d(data)), `sha256d, length ${len}`);
  }
});

Deno.test("sha256Sync equals WebCrypto on large inputs and on views into larger buffers", async () => {
  for (const len of [1023, 4096, 65_537, 1_000_003]) {
    const data = seededBytes(len, len);
    assert.equal(toHex(sha256Sync(data)), toHex(await sha256(data)), `length ${len}`);
  }
  // A subarray with a non-zero offset must hash only its own bytes.
  const big = seededBytes(500, 7);
  const view = big.subarray(13, 13 + 200);
  assert.equal(toHex(sha256Sync(view)), toHex(await sha256(view.slice())));
  assert.equal(toHex(sha256dSync(view)), toHex(await sha256d(view.slice())));
});

Deno.test("results are fresh arrays, not views of shared state", () => {
  const a = sha256Sync(enc("abc"));
  const copy = a.slice();
  sha256Sync(enc("something else"));
  sha256dSync(enc("and more"));
  assert.deepEqual(a, copy);
  assert.notEqual(sha256Sync(enc("abc")).buffer, a.buffer);
});

Deno.test("K and IV are the fractional parts of the cube and square roots of the first primes", () => {
  assert.equal(K.length, 64);
  assert.equal(IV.length, 8);
  const mask = (1n << 32n) - 1n;
  for (let i = 0; i < 64; i++) {
    assert.equal(BigInt(K[i]), iroot(BigInt(PRIMES[i]) << 96n, 3n) & mask, `K[${i}]`);
  }
  for (let i = 0; i < 8; i++) {
    assert.equal(BigInt(IV[i]), iroot(BigInt(PRIMES[i]) << 64n, 2n) & mask, `IV[${i}]`);
  }
});

Deno.test("compress: one block from IV gives the digest of a one-block message", () => {
  // "abc" padded by hand: 0x80, zeros, then the bit length 24 in the last word.
  const w = new Int32Array(64);
  w[0] = 0x61626380;
  w[15] = 24;
  const state = new Int32Array(IV);
  compress(state, w);
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  state.forEach((word, i) => view.setUint32(i * 4, word));
  assert.equal(toHex(out), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // IV itself must be untouched by hashing.
  sha256Sync(enc("abc"));
  assert.equal(IV[0], 0x6a09e667);
});
