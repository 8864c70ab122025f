/** The bound on signature checks in flight: its limit, its turns between transactions, and cancellation. */
import assert from "node:assert/strict";
import { type VerifyItem, VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { generateKeyPair, sign } from "../lib/crypto/ed25519.ts";

/**
 * A queue of `max` over a check that settles when the test says so; records which items started, in order.
 */
function manual(max: number) {
  const started: VerifyItem[] = [];
  const pending: ((ok: boolean) => void)[] = [];
  const check = (item: VerifyItem) => {
    started.push(item);
    return new Promise<boolean>((r) => pending.push(r));
  };
  /** Settles the oldest running check; lets the queue react. */
  const settle = async (ok = true) => {
    pending.shift()!(ok);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  /** Settles every check still running or queued as valid. */
  const drain = async () => {
    while (pending.length) await settle(true);
  };
  return { started, pending, settle, drain, queue: new VerifyQueue(max, check) };
}

const item = (tag: number): VerifyItem => ({
  publicKey: new Uint8Array([tag]),
  signature: new Uint8Array(0),
  message: new Uint8Array(0),
});
const items = (from: number, n: number) => Array.from({ length: n }, (_, i) => item(from + i));

Deno.test("no more than `max` checks run at once, however many are queued", async () => {
  const m = manual(3), q = m.queue;
  const done = q.verifyAll(items(0, 50));
  assert.equal(m.started.length, 3);
  assert.equal(q.inFlight, 3);
  assert.equal(q.waiting, 47);
  for (let i = 0; i < 50; i++) {
    assert.ok(q.inFlight <= 3);
    await m.settle(true);
  }
  assert.equal(await done, -1);
  assert.equal(q.started, 50);
});

Deno.test("transactions take turns: a one-input payment queued behind a 100-input transaction starts next", async () => {
  const m = manual(2), q = m.queue;
  const big = q.verifyAll(items(0, 100));
  const small = q.verifyAll([item(200)]);
  await m.settle(true);
  // The first free slot goes to the small one, not to the big one's third input.
  assert.equal(m.started[2].publicKey[0], 200);
  await m.drain();
  assert.equal(await small, -1);
  assert.equal(await big, -1);
});

Deno.test("urgent checks (a block, our own payment) start before queued network ones", async () => {
  const m = manual(1), q = m.queue;
  const net = q.verifyAll(items(0, 10));
  const urgent = q.verifyAll([item(100), item(101)], { urgent: true });
  await m.settle(true);
  await m.settle(true);
  assert.deepEqual(m.started.slice(1, 3).map((i) => i.publicKey[0]), [100, 101]);
  await m.drain();
  assert.equal(await urgent, -1);
  assert.equal(await net, -1);
});

Deno.test("a bad signature cancels its transaction's checks not yet started; the others go on", async () => {
  const m = manual(2), q = m.queue;
  const bad = q.verifyAll(items(0, 40));
  const other = q.verifyAll(items(100, 3));
  await m.settle(false); // item 0 fails
  await m.drain();
  assert.equal(await bad, 0);
  assert.equal(await other, -1);
  const ofBad = m.started.filter((i) => i.publicKey[0] < 100).length;
  assert.ok(ofBad <= 2, `${ofBad} checks of the refused transaction ran`);
  assert.equal(q.waiting, 0);
});

Deno.test("the real verifier through the queue: valid and invalid Ed25519 signatures", async () => {
  const kp = await generateKeyPair();
  const message = crypto.getRandomValues(new Uint8Array(32));
  const signature = await sign(kp.privateKey, message);
  const q = new VerifyQueue(4);
  const good = { publicKey: kp.publicKey, signature, message };
  const forged = { ...good, signature: signature.map((b, i) => i === 0 ? b ^ 1 : b) };
  assert.equal(await q.verifyAll([good, good, good]), -1);
  assert.equal(await q.verifyAll([good, forged, good]), 1);
  const malformed = { ...good, publicKey: new Uint8Array(5) };
  assert.equal(await q.verifyAll([malformed]), 0);
});

Deno.test("an aborted group starts no more checks and settles once its running ones have; others go on", async () => {
  const m = manual(2), q = m.queue;
  const stop = new AbortController();
  const group = q.verifyAll(items(0, 10), { urgent: true, signal: stop.signal });
  const other = q.verifyAll(items(100, 3));
  assert.equal(m.started.length, 2);
  stop.abort();
  let answer: number | undefined;
  group.then((bad) => answer = bad);
  await m.settle(true);
  assert.equal(answer, undefined, "one of its checks still runs");
  await m.settle(true);
  assert.ok(answer !== undefined && answer >= 2, "settled, naming no item it checked");
  await m.drain();
  assert.equal(await other, -1);
  assert.deepEqual(m.started.map((i) => i.publicKey[0]), [0, 1, 100, 101, 102]);
  assert.equal(q.waiting, 0);
  assert.equal(q.inFlight, 0);
  // Aborted while queued behind a full queue: it settles at once, having started nothing.
  const busy = q.verifyAll(items(200, 2));
  const queued = new AbortController();
  const late = q.verifyAll(items(300, 5), { signal: queued.signal });
  queued.abort();
  assert.equal(await late, 0);
  await m.drain();
  assert.equal(await busy, -1);
  assert.equal(m.started.filter((i) => i.publicKey[0] >= 300).length, 0);
  assert.equal(q.waiting, 0);
  // Aborted before it was queued: nothing starts.
  assert.equal(await q.verifyAll(items(400, 3), { signal: AbortSignal.abort() }), 0);
  assert.equal(m.started.filter((i) => i.publicKey[0] >= 400).length, 0);
});
