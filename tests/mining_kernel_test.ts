/**
 * The mining kernels (TypeScript and wasm SIMD) against WebCrypto's SHA-256d: on random headers, on every real
 * Bitcoin header in the test data, and by finding real nonces.
 * @module
 */
import assert from "node:assert/strict";
import { toHexReversed } from "../lib/crypto/hex.ts";
import { sha256d } from "../lib/crypto/sha256.ts";
import { bitsToTarget, checkProofOfWork } from "../lib/consensus/pow.ts";
import { blockHash, decodeHeader } from "../lib/primitives/header.ts";
import {
  createTsKernel,
  type Kernel,
  KernelJobError,
  meetsTarget,
  prepareJob,
  setJobTime,
} from "../lib/mining/kernel.ts";
import { loadWasmKernel } from "../lib/mining/wasm_kernel.ts";
import { seededBytes } from "./support/random.ts";
import { loadHeaderFile } from "./support/testdata.ts";

const wasm = await loadWasmKernel();

/** Both kernels; the wasm one must load on this machine (x86-64 with SIMD). */
function kernels(): Kernel[] {
  assert.ok(wasm, "the wasm SIMD kernel should load here");
  return [createTsKernel(), wasm];
}

const nonceOf = (h: Uint8Array) => new DataView(h.buffer, h.byteOffset).getUint32(76, true);

/**
 * Checks each kernel's digest for the header's own nonce against WebCrypto, in parallel batches. The wasm
 * kernel hashes four nonces at once, one per SIMD lane; header i is also checked in lane i mod 4 (its nonce
 * reached as start + lane), so every lane is compared on a quarter of the headers.
 */
async function checkAgainstWebCrypto(headers: Uint8Array<ArrayBuffer>[], target: (h: Uint8Array) => bigint) {
  const ks = kernels();
  const lanes = new Array(4).fill(0);
  for (let off = 0; off < headers.length; off += 500) {
    const batch = headers.slice(off, off + 500);
    const expected = await Promise.all(batch.map((h) => sha256d(h)));
    batch.forEach((h, i) => {
      const job = prepareJob(h, target(h));
      for (const k of ks) {
        k.setJob(job);
        assert.equal(k.digest(nonceOf(h)).toHex(), expected[i].toHex(), `${k.name} on header ${off + i}`);
      }
      const lane = (off + i) % 4;
      const got = wasm!.digestLanes((nonceOf(h) - lane) >>> 0)[lane];
      assert.equal(got.toHex(), expected[i].toHex(), `wasm-simd lane ${lane} on header ${off + i}`);
      lanes[lane]++;
    });
  }
  assert.ok(lanes.every((n) => n >= Math.floor(headers.length / 4)), `lanes compared: ${lanes}`);
}

Deno.test("kernels equal WebCrypto SHA-256d on 10,000 random headers and nonces, in every SIMD lane", async () => {
  const headers = Array.from({ length: 10_000 }, (_, i) => seededBytes(80, i + 1));
  await checkAgainstWebCrypto(headers, () => 1n << 255n);
});

Deno.test("kernels reproduce the hash of every real Bitcoin header in the test data", async () => {
  for (const file of ["headers_0_438.txt", "headers_822528_824544.txt"] as const) {
    const headers = loadHeaderFile(file);
    assert.ok(headers.length > 400, `${file} has headers`);
    await checkAgainstWebCrypto(headers, (h) => bitsToTarget(decodeHeader(h).bits));
    // Each real nonce passes the kernels' quick test and the full comparison.
    for (const k of kernels()) {
      for (const h of headers) {
        const job = prepareJob(h, bitsToTarget(decodeHeader(h).bits));
        k.setJob(job);
        assert.equal(k.scan(nonceOf(h), 1), 0, `${k.name}: real nonce is a candidate`);
        assert.ok(meetsTarget(k.digest(nonceOf(h)), job.target), `${k.name}: real nonce meets the target`);
      }
    }
  }
});

/** Scans [start, start + count) with full re-checks, as the worker does; returns the first full hit. */
function search(k: Kernel, target: Uint8Array, start: number, count: number): number | undefined {
  let n = start;
  const end = start + count;
  while (n < end) {
    const r = k.scan(n >>> 0, Math.min(4096, end - n));
    if (r < 0) {
      n += Math.min(4096, end - n);
      continue;
    }
    if (meetsTarget(k.digest((n + r) >>> 0), target)) return (n + r) >>> 0;
    n += r + 1;
  }
  return undefined;
}

Deno.test("a real header with its nonce zeroed: searching from nonce - 1000 finds the real nonce", async () => {
  const picks = [
    ...(loadHeaderFile("headers_0_438.txt")).slice(0, 3),
    ...(loadHeaderFile("headers_822528_824544.txt")).slice(0, 3),
  ];
  for (const k of kernels()) {
    for (const real of picks) {
      const h = real.slice();
      const nonce = nonceOf(h);
      new DataView(h.buffer).setUint32(76, 0, true);
      const job = prepareJob(h, bitsToTarget(decodeHeader(h).bits));
      k.setJob(job);
      const start = nonce >= 1000 ? nonce - 1000 : 0;
      assert.equal(search(k, job.target, start, 2000), nonce, `${k.name} finds ${nonce}`);
      // And the found header is the real one by WebCrypto's reckoning.
      new DataView(h.buffer).setUint32(76, nonce, true);
      const hash = await blockHash(decodeHeader(h));
      assert.equal(hash, toHexReversed(await sha256d(real)));
      assert.ok(checkProofOfWork(hash, decodeHeader(h).bits));
    }
  }
});

Deno.test("scan reports the first candidate offset, handles wrap-around and odd counts", () => {
  for (const k of kernels()) {
    const h = seededBytes(80, 77);
    const job = prepareJob(h, (1n << 256n) - 1n); // every hash is a candidate
    k.setJob(job);
    assert.equal(k.scan(0xfffffffe, 5), 0);
    const none = prepareJob(h, 0n);
    k.setJob(none);
    // A top word of 0 is a candidate once in 2^32: none among these few.
    assert.equal(k.scan(0xfffffffd, 7), -1, `${k.name}: no candidate`);
    assert.equal(k.scan(5, 0), -1);
  }
});

Deno.test("the kernels agree with each other on a scan with a moderate target", () => {
  const [ts, w] = kernels();
  const h = seededBytes(80, 5);
  const job = prepareJob(h, 1n << 248n); // top byte zero: about one candidate in 256
  ts.setJob(job);
  w.setJob(job);
  let start = 1000;
  for (let i = 0; i < 20; i++) {
    const a = ts.scan(start, 5000), b = w.scan(start, 5000);
    assert.equal(a, b);
    assert.ok(a >= 0);
    assert.equal(ts.digest(start + a)[31], 0);
    start += a + 1;
  }
});

Deno.test("a candidate whose top word ties the target's but is larger below is rejected by meetsTarget", () => {
  for (const k of kernels()) {
    const h = seededBytes(80, 9);
    const probe = prepareJob(h, 0n);
    k.setJob(probe);
    const d = k.digest(1234);
    // Target = the hash minus one: same top word (unless it borrows), so the kernel flags it, yet it fails.
    let hashNum = 0n;
    for (let i = 31; i >= 0; i--) hashNum = (hashNum << 8n) | BigInt(d[i]);
    const job = prepareJob(h, hashNum - 1n);
    k.setJob(job);
    if ((hashNum & ((1n << 224n) - 1n)) !== 0n) {
      assert.equal(k.scan(1234, 1), 0, `${k.name} flags the tie`);
    }
    assert.equal(meetsTarget(d, job.target), false);
    assert.equal(meetsTarget(d, prepareJob(h, hashNum).target), true);
  }
});

Deno.test("setJobTime changes the hashed time like a re-encoded header", async () => {
  for (const k of kernels()) {
    const h = seededBytes(80, 11);
    const job = prepareJob(h, 1n);
    setJobTime(job, 0x01020304);
    k.setJob(job);
    const h2 = h.slice();
    new DataView(h2.buffer).setUint32(68, 0x01020304, true);
    new DataView(h2.buffer).setUint32(76, 42, true);
    assert.equal(k.digest(42).toHex(), (await sha256d(h2)).toHex());
  }
});

Deno.test("prepareJob rejects a wrong header length or target range", () => {
  assert.throws(() => prepareJob(new Uint8Array(79), 1n), KernelJobError);
  assert.throws(() => prepareJob(new Uint8Array(80), -1n), KernelJobError);
  assert.throws(() => prepareJob(new Uint8Array(80), 1n << 256n), KernelJobError);
});
