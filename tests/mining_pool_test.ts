/**
 * The mining pool: finds valid blocks (checked again here through WebCrypto), stops promptly on abort, rolls
 * the time when the nonces run out, gives up at maxTime, and finds a real Bitcoin nonce.
 * @module
 */
import assert from "node:assert/strict";
import { sha256dSync } from "../lib/crypto/sha256.ts";
import { bitsToTarget, checkProofOfWork, hashToBigInt } from "../lib/consensus/pow.ts";
import { blockHash, type BlockHeader, decodeHeader, encodeHeader } from "../lib/primitives/header.ts";
import { MinerPool, MiningError } from "../lib/mining/pool.ts";
import { loadHeaderFile } from "./support/testdata.ts";

const BASE: BlockHeader = {
  version: 1,
  prevHash: "00".repeat(32),
  merkleRoot: "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
  time: 1_700_000_000,
  bits: 0x207fffff,
  nonce: 0,
};

async function assertValid(h: BlockHeader, hash: string): Promise<void> {
  assert.equal(await blockHash(h), hash);
  assert.ok(checkProofOfWork(hash, h.bits), `${hash} meets bits 0x${h.bits.toString(16)}`);
}

/**
 * Waits until no worker is scanning. The limit only keeps a stuck worker from hanging the suite: a worker that
 * ignored its stop would scan its whole range, which takes far longer at the bits these tests use.
 */
async function untilIdle(pool: MinerPool, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (pool.busyWorkers > 0) {
    if (Date.now() > end) throw new Error(`workers still busy after ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Resolves with `p`, or rejects after `ms` so a search that never ends fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, rej) =>
    t = setTimeout(() => rej(new Error(`${what}: over ${ms} ms`)), ms)
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** Polls `cond` until true (bounded, so a broken pool fails instead of hanging). */
async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** True when some nonce in [from, 2^32) meets bits for this header (checked with the sync SHA-256). */
function anyHitFrom(h: BlockHeader, from: number): boolean {
  const target = bitsToTarget(h.bits);
  for (let n = from; n < 0x1_0000_0000; n++) {
    const bytes = encodeHeader({ ...h, nonce: n });
    if (hashToBigInt(sha256dSync(bytes).reverse().toHex()) <= target) return true;
  }
  return false;
}

/** Runs `fn` with a new pool of `options` and closes the pool afterwards, also when `fn` fails. */
async function withPool(
  options: ConstructorParameters<typeof MinerPool>[0],
  fn: (pool: MinerPool) => Promise<void>,
): Promise<void> {
  const pool = new MinerPool(options);
  try {
    await fn(pool);
  } finally {
    pool.close();
  }
}

Deno.test("pool finds valid blocks for easy and moderate bits, with both kernels", async () => {
  for (const kernel of ["auto", "ts"] as const) {
    await withPool({ threads: 2, kernel }, async (pool) => {
      assert.equal(await pool.ready(), kernel === "ts" ? "ts" : "wasm-simd");
      for (const bits of [0x207fffff, 0x1f00ffff]) {
        const r = await pool.search({ ...BASE, bits });
        assert.ok(r, "a result");
        assert.deepEqual({ ...r.header, nonce: 0 }, { ...BASE, bits });
        await assertValid(r.header, r.hash);
        assert.ok(r.hashes >= 1);
      }
      assert.equal(pool.hashrate, 0, "idle after a search");
      await untilIdle(pool);
    });
  }
});

Deno.test("abort stops all workers mid-search and resolves null; hashrate is reported while mining", async () => {
  await withPool({ threads: 2 }, async (pool) => {
    await pool.ready();
    const ac = new AbortController();
    const progress: number[] = [];
    // About 2^48 hashes a block: the workers would scan for hours; only the abort can end this search.
    const p = pool.search({ ...BASE, bits: 0x1b00ffff }, {
      signal: ac.signal,
      onProgress: (x) => progress.push(x.hashrate),
    });
    await until(
      () => pool.busyWorkers === 2 && progress.some((x) => x > 0),
      "both workers hashing, reported",
    );
    assert.ok(pool.hashrate > 0, `hashrate ${pool.hashrate}`);
    ac.abort();
    assert.equal(await within(p, 30_000, "the aborted search"), null);
    await untilIdle(pool);
    assert.equal(pool.hashrate, 0);
    // Workers survive an abort and serve the next search.
    const r = await pool.search({ ...BASE, bits: 0x1f00ffff });
    assert.ok(r);
    await assertValid(r.header, r.hash);
  });
});

Deno.test("a new search supersedes the running one, which resolves null", async () => {
  await withPool({ threads: 1 }, async (pool) => {
    await pool.ready();
    const first = pool.search({ ...BASE, bits: 0x1b00ffff });
    await new Promise((r) => setTimeout(r, 50));
    const second = pool.search({ ...BASE, bits: 0x207fffff });
    assert.equal(await first, null);
    const r = await second;
    assert.ok(r);
    await assertValid(r.header, r.hash);
  });
});

Deno.test("exhausting the nonces rolls the time by one second", async () => {
  const start = 0x1_0000_0000 - 16;
  // A header for which none of the last 16 nonces meets the bits, so the search must roll the time.
  let h: BlockHeader = { ...BASE, bits: 0x1f00ffff };
  while (anyHitFrom(h, start)) h = { ...h, time: h.time + 10 };
  await withPool({ threads: 2 }, async (pool) => {
    const r = await pool.search(h, { startNonce: start });
    assert.ok(r);
    assert.equal(r.header.time, h.time + 1);
    await assertValid(r.header, r.hash);
    assert.ok(r.hashes >= 16, `counted ${r.hashes} hashes`);
  });
});

Deno.test("reaching maxTime resolves null; a header already past it too", async () => {
  await withPool({ threads: 2 }, async (pool) => {
    // About 2^56 hashes per block: nothing is found here, so only maxTime (or the abort) can end a search.
    const h = { ...BASE, bits: 0x1a00ffff };
    const end = pool.search(h, { startNonce: 0x1_0000_0000 - 64, maxTime: h.time });
    assert.equal(await within(end, 30_000, "a search whose nonces run out at maxTime"), null);
    assert.equal(
      await within(pool.search(h, { maxTime: h.time - 1 }), 30_000, "a search past maxTime"),
      null,
    );
    const ac = new AbortController();
    ac.abort();
    assert.equal(await within(pool.search(h, { signal: ac.signal }), 30_000, "an aborted search"), null);
    await untilIdle(pool);
  });
});

Deno.test("the pool finds a real Bitcoin nonce from 1000 below it", async () => {
  const real = decodeHeader(loadHeaderFile("headers_822528_824544.txt")[7]);
  await withPool({ threads: 2 }, async (pool) => {
    const r = await pool.search({ ...real, nonce: 0 }, { startNonce: Math.max(0, real.nonce - 1000) });
    assert.ok(r);
    assert.deepEqual(r.header, real);
    await assertValid(r.header, r.hash);
  });
});

Deno.test("a closed pool refuses to search; invalid bits and options are errors", async () => {
  const pool = new MinerPool({ threads: 1 });
  try {
    await assert.rejects(pool.search({ ...BASE, bits: 0x04800001 }), MiningError);
    await assert.rejects(pool.search(BASE, { startNonce: -1 }), RangeError);
  } finally {
    pool.close();
  }
  await assert.rejects(pool.search(BASE), MiningError);
  assert.throws(() => new MinerPool({ threads: 0 }), RangeError);
});

Deno.test("a hold pauses the workers between batches until released; holds nest; closing while held ends the search", async () => {
  const pool = new MinerPool({ threads: 2 });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await pool.ready();
    const abort = new AbortController();
    // Difficulty 1: no find in the seconds this test runs.
    const search = pool.search({ ...BASE, bits: 0x1d00ffff }, { signal: abort.signal });
    await sleep(100);
    const first = pool.hold(), second = pool.hold();
    assert.equal(pool.holds, 2);
    await sleep(60); // every worker finishes the batch it was in (a few ms)
    const held = pool.totalHashes;
    await sleep(150);
    assert.equal(pool.totalHashes, held, "no hashing while held");
    first();
    first(); // a second release of one hold does nothing
    assert.equal(pool.holds, 1);
    await sleep(100);
    assert.equal(pool.totalHashes, held, "still held by the other");
    second();
    assert.equal(pool.holds, 0);
    await sleep(150);
    assert.ok(pool.totalHashes > held, "hashing again once released");
    const third = pool.hold();
    await sleep(60);
    abort.abort(); // a held search still ends when aborted
    assert.equal(await within(search, 5_000, "the held search"), null);
    await untilIdle(pool, 5_000);
    third();
  } finally {
    pool.close();
  }
});
