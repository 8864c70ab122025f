/**
 * Signature checks on a pool of verifier workers: verdicts joined in order (the first bad signature of a
 * batch is the one named, whichever worker answers first), bounds on what the workers hold, shutdown with
 * checks in flight, and a block whose bad signature sits in the middle of a batch spread over the workers.
 */
import assert from "node:assert/strict";
import { BAN } from "../lib/chain/errors.ts";
import { generateKeyPair, sign } from "../lib/crypto/ed25519.ts";
import { MAX_BATCH, VerifyPool } from "../lib/crypto/verify_pool.ts";
import { packBatch, unpackBatch } from "../lib/crypto/verify_batch.ts";
import { type VerifyItem, VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { sigHash, type Transaction, txid } from "../lib/primitives/transaction.ts";
import { makeBlock, newKey, type TestKey } from "./support/ledger.ts";
import { seeded, seededBytes } from "./support/random.ts";
import { assertRefused, COIN_AMOUNT, fundedLedger, ledgerState, withTxs } from "./support/rules.ts";

/** `n` signed messages under `keys` keys, each message seeded. */
async function signedItems(n: number, keys: number, seed: number): Promise<VerifyItem[]> {
  const pairs = await Promise.all(Array.from({ length: keys }, () => generateKeyPair()));
  return await Promise.all(Array.from({ length: n }, async (_, i) => {
    const kp = pairs[i % keys];
    const message = seededBytes(32, seed + i);
    return { publicKey: kp.publicKey, signature: await sign(kp.privateKey, message), message };
  }));
}

/** `item` with one bit of its signature flipped. */
function forged(item: VerifyItem): VerifyItem {
  const signature = item.signature.slice();
  signature[7] ^= 0x10;
  return { ...item, signature };
}

Deno.test("a batch packs and unpacks to the same items, and a truncated one is refused", () => {
  const items: VerifyItem[] = [
    { publicKey: seededBytes(32, 1), signature: seededBytes(64, 2), message: seededBytes(32, 3) },
    { publicKey: seededBytes(32, 4), signature: seededBytes(64, 5), message: seededBytes(0, 6) },
    { publicKey: seededBytes(32, 7), signature: seededBytes(64, 8), message: seededBytes(300, 9) },
  ];
  const packed = packBatch(items);
  assert.deepEqual(
    unpackBatch(packed).map((i) => [i.publicKey, i.signature, i.message]),
    items.map((i) => [
      i.publicKey,
      i.signature,
      i.message,
    ]),
  );
  assert.throws(() => unpackBatch(packed.subarray(0, packed.length - 1)), RangeError);
});

Deno.test("the queue names the lowest bad index even when a later bad check settles first", async () => {
  const pending: { index: number; settle: (ok: boolean) => void }[] = [];
  const items = Array.from({ length: 8 }, (_, i) => ({
    publicKey: new Uint8Array([i]),
    signature: new Uint8Array(0),
    message: new Uint8Array(0),
  }));
  const q = new VerifyQueue(
    8,
    (item) => new Promise((settle) => pending.push({ index: item.publicKey[0], settle })),
  );
  const result = q.verifyAll(items);
  assert.equal(pending.length, 8);
  // A worker answers items 5.. before another answers 0..4: 5 is bad, then 3 is.
  for (const i of [5, 6, 7]) pending[i].settle(i !== 5);
  await Promise.resolve();
  for (const i of [4, 3, 2, 1, 0]) pending[i].settle(i !== 3);
  assert.equal(await result, 3);
});

Deno.test("the pool verifies on its workers: valid, forged, malformed, in order", async () => {
  const pool = new VerifyPool({ threads: 2, maxPerWorker: 8 });
  try {
    const rand = seeded(22);
    const items = await signedItems(120, 5, 100);
    const bad = new Set([rand(120), rand(120), rand(120)]);
    const checked = items.map((it, i) => bad.has(i) ? forged(it) : it);
    checked[11] = { ...checked[11], publicKey: new Uint8Array(31) }; // malformed: never valid
    bad.add(11);
    const verdicts = await Promise.all(checked.map((it) => pool.check(it)));
    assert.deepEqual(
      verdicts.flatMap((ok, i) => ok ? [] : [i]),
      [...bad].sort((a, b) => a - b),
    );
    // Through a queue: the lowest bad index of the whole batch.
    const queue = new VerifyQueue(pool.capacity, pool.check);
    assert.equal(await queue.verifyAll(checked), Math.min(...bad));
    assert.equal(await queue.verifyAll(items), -1);
  } finally {
    pool.close();
  }
});

Deno.test("the workers hold at most their bound; the rest waits in the pool, and each batch is bounded", async () => {
  const pool = new VerifyPool({ threads: 2, maxPerWorker: 3 });
  try {
    const items = await signedItems(200, 3, 300);
    assert.ok(await pool.check(items[0])); // a worker has started: checks no longer run here meanwhile
    let most = 0;
    const all = items.map((it) =>
      pool.check(it).then((ok) => {
        most = Math.max(most, pool.inFlight);
        return ok;
      })
    );
    await Promise.resolve(); // the first batches go out at the end of this task (answers come in later tasks)
    assert.ok(pool.inFlight <= pool.capacity, `${pool.inFlight} in flight`);
    assert.equal(pool.capacity, 6);
    assert.ok(pool.waiting >= 200 - pool.capacity, `${pool.waiting} waiting`);
    assert.ok((await Promise.all(all)).every((ok) => ok));
    assert.ok(most <= pool.capacity, `${most} checks were in flight at once`);
    assert.equal(pool.inFlight, 0);
    assert.equal(pool.waiting, 0);
    assert.ok(MAX_BATCH >= 1);
  } finally {
    pool.close();
  }
});

Deno.test("checks that arrive one at a time while the workers are busy travel together, not one per message", async () => {
  const pool = new VerifyPool({ threads: 2 });
  try {
    const items = await signedItems(400, 4, 700);
    assert.ok(await pool.check(items[0])); // a worker has started: checks no longer run here meanwhile
    const all: Promise<boolean>[] = [];
    for (const it of items) {
      all.push(pool.check(it));
      await Promise.resolve(); // each check at its own turn, as a burst of payments arrives
    }
    assert.ok((await Promise.all(all)).every((ok) => ok));
    assert.equal(pool.answered, 401);
    assert.equal(pool.startedInThread, 0);
    assert.ok(pool.batches <= 1 + 400 / 8, `${pool.batches} messages for 400 checks`);
  } finally {
    pool.close();
  }
});

Deno.test("while the workers start, each holds one batch and the other checks run here, verdicts the same", async () => {
  const pool = new VerifyPool({ threads: 1 });
  try {
    const items = await signedItems(100, 4, 900);
    const checked = items.map((it, i) => i % 9 === 4 ? forged(it) : it);
    // A syncing node's first block: its checks must not wait for a worker still loading its module.
    const verdicts = await Promise.all(checked.map((it) => pool.check(it)));
    assert.deepEqual(verdicts, checked.map((_, i) => i % 9 !== 4));
    assert.equal(pool.batches, 1, "one batch went to the starting worker");
    assert.equal(pool.answered, MAX_BATCH);
    assert.equal(pool.startedInThread, 100 - MAX_BATCH, "the rest were checked here meanwhile");
    // Once the worker answered, checks go to it again.
    const again = await Promise.all(checked.map((it) => pool.check(it)));
    assert.deepEqual(again, verdicts);
    assert.equal(pool.startedInThread, 100 - MAX_BATCH);
    assert.equal(pool.answered, MAX_BATCH + 100);
  } finally {
    pool.close();
  }
});

Deno.test("closing the pool with checks in flight: each still gets its real verdict, in this thread", async () => {
  const pool = new VerifyPool({ threads: 2, maxPerWorker: 4 });
  const items = await signedItems(60, 4, 500);
  const checked = items.map((it, i) => i % 7 === 3 ? forged(it) : it);
  const all = checked.map((it) => pool.check(it));
  await new Promise((r) => setTimeout(r, 0)); // batches are out, answers not yet back
  assert.ok(pool.inFlight > 0 || pool.waiting > 0);
  pool.close();
  assert.equal(pool.closed, true);
  assert.equal(pool.inFlight, 0);
  assert.equal(pool.waiting, 0);
  const verdicts = await Promise.all(all);
  assert.deepEqual(verdicts, checked.map((_, i) => i % 7 !== 3));
  // After closing, checks still run (in this thread) and still refuse a forgery.
  assert.equal(await pool.check(items[0]), true);
  assert.equal(await pool.check(forged(items[0])), false);
  pool.close(); // twice is fine
});

Deno.test("a pool that was never used starts no worker, and closes at once", () => {
  const pool = new VerifyPool({ threads: 3 });
  assert.equal(pool.threads, 3);
  pool.close();
  assert.throws(() => new VerifyPool({ threads: 0 }), RangeError);
  assert.throws(() => new VerifyPool({ maxPerWorker: 0 }), RangeError);
});

/** A transaction spending `outpoints`, input i signed by `keys[i]`, paying `to` all but a fee. */
async function signEach(
  outpoints: { txid: string; index: number }[],
  keys: TestKey[],
  amount: number,
  to: string,
): Promise<Transaction> {
  const tx: Transaction = {
    version: 1,
    inputs: outpoints.map((prevout, i) => ({
      prevout,
      publicKey: keys[i].publicKey,
      signature: new Uint8Array(64),
    })),
    outputs: [{ amount, pubKeyHash: to }],
    lockTime: 0,
  };
  const msg = sigHash(tx);
  for (let i = 0; i < keys.length; i++) tx.inputs[i].signature = await sign(keys[i].privateKey, msg);
  return tx;
}

Deno.test("a block connected through the pool: the first bad signature in block order is named, the block refused", async () => {
  const pool = new VerifyPool({ threads: 2, maxPerWorker: 4 });
  try {
    const verifier = new VerifyQueue(pool.capacity, pool.check);
    const l = await fundedLedger({ verifier });
    // A fan-out to 40 keys, then ten transactions of four inputs, each input signed by its own key: 41
    // distinct checks spread over both workers in batches of a few.
    const keys = await Promise.all(Array.from({ length: 40 }, () => newKey()));
    const each = Math.floor((COIN_AMOUNT - 10_000) / keys.length);
    const fan: Transaction = {
      version: 1,
      inputs: [{ prevout: l.coins[0], publicKey: l.key.publicKey, signature: new Uint8Array(64) }],
      outputs: keys.map((k) => ({ amount: each, pubKeyHash: k.pkh })),
      lockTime: 0,
    };
    fan.inputs[0].signature = await sign(l.key.privateKey, sigHash(fan));
    const fanId = txid(fan);
    const spends: Transaction[] = [];
    for (let t = 0; t < 10; t++) {
      const ks = keys.slice(4 * t, 4 * t + 4);
      spends.push(
        await signEach(ks.map((_, j) => ({ txid: fanId, index: 4 * t + j })), ks, 4 * each - 1000, l.key.pkh),
      );
    }
    const badAt = (tx: Transaction, input: number) => {
      const copy = structuredClone(tx);
      copy.inputs[input].signature[5] ^= 1;
      return copy;
    };
    const txs = [fan, ...spends];
    txs[5] = badAt(spends[4], 2); // the first bad one, in the middle
    txs[9] = badAt(spends[8], 0); // a later one: not the one to name
    const before = ledgerState(l.chain), answered = pool.answered;
    const block = makeBlock(l.chain, undefined, l.key.pkh, withTxs(...txs));
    const error = await assertRefused(l.chain.processBlock(block), "bad-sig", BAN);
    assert.equal(error.reason, `transaction ${txid(spends[4])} input 2 has an invalid signature`);
    assert.deepEqual(ledgerState(l.chain), before);
    assert.ok(pool.answered > answered, "the block's checks went to the workers");
    // The honest block connects through the same pool.
    const good = makeBlock(l.chain, undefined, l.key.pkh, withTxs(fan, ...spends));
    assert.equal((await l.chain.processBlock(good)).status, "connected");
    l.store.close();
  } finally {
    pool.close();
  }
});
