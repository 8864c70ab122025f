/**
 * The mempool's resource rules: cheap checks before any signature check, transactions waiting for a parent
 * (bounded, expiring, evicted at random), and the unconfirmed-chain limits with their package counts.
 */
import assert from "node:assert/strict";
import { NO_BLAME } from "../lib/chain/errors.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { OrphanTxs } from "../lib/chain/orphan_txs.ts";
import { MAX_ANCESTORS, MAX_DESCENDANTS, MAX_STANDARD_TX_SIZE } from "../lib/consensus/policy.ts";
import { type VerifyItem, VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { verify } from "../lib/crypto/ed25519.ts";
import type { Chain } from "../lib/chain/chain.ts";
import { type Transaction, txid, type TxOutput, txSize } from "../lib/primitives/transaction.ts";
import { coinbaseOut, makeBlock, mine, spend } from "./support/ledger.ts";
import type { Block } from "../lib/primitives/block.ts";
import { assertRefused, COIN_AMOUNT, fundedLedger, unsigned } from "./support/rules.ts";
import { seededBytes } from "./support/random.ts";

/** `n` outputs to `pkh` sharing `total` less a fee of `fee`. */
function split(pkh: string, total: number, n: number, fee = 2_000): TxOutput[] {
  const each = Math.floor((total - fee) / n);
  return Array.from({ length: n }, () => ({ amount: each, pubKeyHash: pkh }));
}

/**
 * A pool whose signature checks go through a queue of its own that is busy: 9 of its 16 slots hold checks that
 * never end, so nothing is checked ahead of time (see `Mempool#acceptOne`), while real checks still have room.
 * `started` counts the checks it started.
 */
function busyPool(chain: Chain, maxBytes?: number) {
  const marker = new Uint8Array(1);
  const queue = new VerifyQueue(
    16,
    (i: VerifyItem) =>
      i.message === marker ? new Promise<boolean>(() => {}) : verify(i.publicKey, i.signature, i.message),
  );
  queue.verifyAll(
    Array.from({ length: 9 }, () => ({ publicKey: marker, signature: marker, message: marker })),
  );
  const pool = new Mempool(chain, { maxBytes, verifier: queue });
  return { pool, queue };
}

/** A chain of `n` one-input payments, each spending output 0 of the one before, from `coin`. */
async function chainOf(l: Awaited<ReturnType<typeof fundedLedger>>, coin: number, n: number) {
  const txs: Transaction[] = [];
  let prev = l.coins[coin], amount = COIN_AMOUNT;
  for (let i = 0; i < n; i++) {
    amount -= 1_000;
    const tx = await spend(l.key, [prev], [{ amount, pubKeyHash: l.key.pkh }]);
    txs.push(tx);
    prev = { txid: txid(tx), index: 0 };
  }
  return txs;
}

Deno.test("cheap checks first: a refusal for size, structure, inputs, fees, limits or room starts no signature check", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const { pool, queue } = busyPool(l.chain);
  const { pool: full } = busyPool(l.chain, 300);
  const rich = await spend(k, [l.coins[7]], split(k.pkh, COIN_AMOUNT, 1, 100_000));
  await full.accept(rich);
  const first = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 1));
  await pool.accept(first);
  const chain = await chainOf(l, 1, MAX_ANCESTORS + 1);
  for (const tx of chain.slice(0, -1)) await pool.accept(tx);
  // 15,150 inputs that spend nothing, as in the attack: 2 MB, refused on its size alone.
  const huge = unsigned(k, Array.from({ length: 15_150 }, (_, i) => ({ txid: "ab".repeat(32), index: i })), [
    { amount: 1, pubKeyHash: k.pkh },
  ]);
  const cases: [string, Transaction, Mempool][] = [
    ["tx-size", huge, pool],
    ["bad-txns-inputs-duplicate", unsigned(k, [l.coins[2], l.coins[2]], split(k.pkh, COIN_AMOUNT, 1)), pool],
    [
      "bad-txns-inputs-missingorspent",
      unsigned(k, [{ txid: "cd".repeat(32), index: 0 }], split(k.pkh, 5, 1, 0)),
      pool,
    ],
    ["txn-mempool-conflict", await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 2)), pool],
    ["min-fee-not-met", await spend(k, [l.coins[3]], split(k.pkh, COIN_AMOUNT, 1, 10)), pool],
    ["too-long-mempool-chain", chain.at(-1)!, pool],
    ["mempool-full", await spend(k, [l.coins[4]], split(k.pkh, COIN_AMOUNT, 1)), full],
  ];
  for (const [code, tx, p] of cases) {
    const started = queue.started;
    await assertRefused(p.accept(tx), code);
    assert.equal(queue.started, started, `${code}: refused without starting a signature check`);
  }
  assert.equal(pool.orphanCount, 0, "nothing refused was kept as an orphan");
  // The control: an acceptable transaction does get its signature checked.
  const started = queue.started;
  await pool.accept(await spend(k, [l.coins[5]], split(k.pkh, COIN_AMOUNT, 1)));
  assert.equal(queue.started, started + 1);
});

Deno.test("with room to spare, a payment's signature check runs alongside the other checks, and a refusal does not wait for it", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const pending: ((ok: boolean) => void)[] = [];
  const queue = new VerifyQueue(16, () => new Promise<boolean>((r) => pending.push(r)));
  const pool = new Mempool(l.chain, { verifier: queue });
  // Refused on its fee while its check is still running: refused at once, the check ignored.
  await assertRefused(
    pool.accept(await spend(k, [l.coins[3]], split(k.pkh, COIN_AMOUNT, 1, 10))),
    "min-fee-not-met",
  );
  assert.equal(queue.started, 1);
  assert.equal(pending.length, 1, "still running: the refusal did not wait for it");
  pending[0](true);
  // Accepted: it waits for its check, started before the inputs were looked at.
  const ok = pool.accept(await spend(k, [l.coins[4]], split(k.pkh, COIN_AMOUNT, 1)));
  assert.equal(queue.started, 2, "started at once");
  pending[1](true);
  assert.equal((await ok).length, 1);
});

Deno.test("orphans: a transaction with missing inputs waits unchecked, and comes in with its children when the parent does", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const parent = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 2));
  const child = await spend(k, [{ txid: txid(parent), index: 0 }], split(k.pkh, parent.outputs[0].amount, 1));
  const grandchild = await spend(
    k,
    [{ txid: txid(child), index: 0 }],
    split(k.pkh, child.outputs[0].amount, 1),
  );
  // A forged signature: checked only once the parent is there, then dropped.
  const forged = unsigned(k, [{ txid: txid(parent), index: 1 }], split(k.pkh, parent.outputs[1].amount, 1));

  const { pool, queue } = busyPool(l.chain);
  l.mempool = pool;
  const started = queue.started;
  assert.deepEqual(await l.mempool.accept(grandchild, { allowOrphan: true }), []);
  assert.deepEqual(await l.mempool.accept(child, { allowOrphan: true }), []);
  assert.deepEqual(await l.mempool.accept(forged, { allowOrphan: true }), []);
  assert.equal(queue.started, started, "waiting costs no signature check");
  assert.equal(l.mempool.orphanCount, 3);
  assert.ok(l.mempool.hasOrphan(txid(child)));
  await assertRefused(l.mempool.accept(child, { allowOrphan: true }), "txn-already-in-mempool", NO_BLAME);
  // Without allowOrphan (our own payments) missing inputs are an error, and nothing is kept.
  const lone = await spend(k, [{ txid: "ef".repeat(32), index: 0 }], split(k.pkh, 10_000, 1));
  await assertRefused(l.mempool.accept(lone), "bad-txns-inputs-missingorspent", NO_BLAME);
  assert.equal(l.mempool.orphanCount, 3);

  const accepted = await l.mempool.accept(parent);
  assert.deepEqual(accepted.map((e) => e.txid), [parent, child, grandchild].map(txid));
  assert.equal(l.mempool.orphanCount, 0, "the forged one was checked and dropped");
  assert.equal(l.mempool.has(txid(forged)), false);
  assert.equal(l.mempool.size, 3);
});

Deno.test("orphans whose parent a block confirms come in through chainUpdated", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const parent = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 1));
  const child = await spend(k, [{ txid: txid(parent), index: 0 }], split(k.pkh, parent.outputs[0].amount, 1));
  assert.deepEqual(await l.mempool.accept(child, { allowOrphan: true }), []);
  // The parent reaches us only inside a block (mined elsewhere, from another pool).
  const other = new Mempool(l.chain);
  await other.accept(parent);
  const [block] = await mine(l.chain, other, k.pkh, 1);
  assert.ok(block.txs.some((t) => txid(t) === txid(parent)));
  const r = await l.mempool.chainUpdated({
    disconnected: [],
    connected: [{ hash: "", height: 0, block, txids: block.txs.map(txid) }],
  });
  assert.deepEqual(r.unlocked.map((e) => e.txid), [txid(child)]);
  assert.ok(l.mempool.has(txid(child)));
});

Deno.test("a waiting spend of a coinbase whose block came but is not mature yet is kept, and comes in when it matures", async () => {
  const src = await fundedLedger(), dst = await fundedLedger();
  const k = src.key, maturity = src.chain.params.coinbaseMaturity;
  const feed = async (block: Block) => {
    const r = await dst.chain.processBlock(block);
    return await dst.mempool.chainUpdated(r.update);
  };
  // Block B pays k a coinbase; a spend of it reaches dst before B does (a node catching up meets this).
  const b = makeBlock(src.chain, undefined, k.pkh);
  await src.chain.processBlock(b);
  const tx = await spend(k, [coinbaseOut(b)], split(k.pkh, b.txs[0].outputs[0].amount, 1));
  assert.deepEqual(await dst.mempool.accept(tx, { allowOrphan: true }), []);
  assert.deepEqual((await feed(b)).unlocked, [], "B came, but its coinbase is not mature at this height");
  for (let i = 1; i < maturity - 1; i++) {
    const next = makeBlock(src.chain, undefined, k.pkh);
    await src.chain.processBlock(next);
    assert.deepEqual((await feed(next)).unlocked, [], `still immature ${i} blocks after B`);
  }
  const ripe = makeBlock(src.chain, undefined, k.pkh);
  await src.chain.processBlock(ripe);
  assert.deepEqual((await feed(ripe)).unlocked.map((e) => e.txid), [txid(tx)]);
  assert.ok(dst.mempool.has(txid(tx)));
});

Deno.test("the orphan pool is bounded in count and bytes, evicts at random (seeded), and expires", () => {
  const tx = (parent: string, outputs = 1): Transaction => ({
    version: 1,
    inputs: [{
      prevout: { txid: parent, index: 0 },
      publicKey: new Uint8Array(32),
      signature: new Uint8Array(64),
    }],
    outputs: Array.from({ length: outputs }, () => ({ amount: 1, pubKeyHash: "00".repeat(20) })),
    lockTime: 0,
  });
  const p = (n: number) => n.toString(16).padStart(64, "0");
  let now = 0;
  // A "random" source that always picks the second of the waiting transactions.
  const pool = new OrphanTxs({
    maxCount: 3,
    maxBytes: 900,
    expiryMs: 60_000,
    now: () => now,
    random: () => 0.4,
  });
  const add = (o: OrphanTxs, id: string, t: Transaction, size: number) => o.add(`${id}-copy`, id, t, size);
  for (const n of [1, 2, 3]) assert.ok(add(pool, `t${n}`, tx(p(n)), 100));
  assert.ok(add(pool, "t4", tx(p(4)), 100));
  assert.equal(pool.size, 3);
  assert.equal(pool.hasTxid("t2"), false, "the randomly chosen one made room");
  assert.deepEqual(["t1", "t3", "t4"].map((id) => pool.hasTxid(id)), [true, true, true]);
  // Bytes: a 750-byte one pushes out enough others to fit within 900.
  assert.ok(add(pool, "big", tx(p(5)), 750));
  assert.ok(
    pool.bytes <= 900 && pool.hasTxid("big") && (pool.size as number) === 2,
    `${pool.size}: ${pool.bytes} bytes`,
  );
  assert.equal(add(pool, "huge", tx(p(6)), 901), false, "larger than the whole pool: not kept");
  assert.equal(add(pool, "toobig", tx(p(7)), MAX_STANDARD_TX_SIZE + 1), false);
  // Expiry: after 60 s a waiting transaction is no longer handed over, and the next add purges it.
  assert.equal(pool.takeChildrenOf(p(5)).length, 1);
  assert.ok(add(pool, "late", tx(p(8)), 100));
  now += 60_001;
  assert.deepEqual(pool.takeChildrenOf(p(8)), []);
  assert.ok(add(pool, "fresh", tx(p(9)), 100));
  assert.deepEqual([...[1, 3, 4].map((n) => pool.hasChildrenOf(p(n)))], [false, false, false]);
  assert.equal(pool.size, 1);
  // The same seed, the same choice: eviction is reproducible in tests.
  const again = new OrphanTxs({ maxCount: 3, random: () => 0.4 });
  for (const n of [1, 2, 3, 4]) add(again, `t${n}`, tx(p(n)), 100);
  assert.equal(again.hasTxid("t2"), false);
  // A real seeded source spreads its choices.
  const bytes = seededBytes(64, 7);
  let i = 0;
  const spread = new OrphanTxs({ maxCount: 10, random: () => bytes[i++ % 64] / 256 });
  for (let n = 0; n < 40; n++) add(spread, `s${n}`, tx(p(100 + n)), 100);
  assert.equal(spread.size, 10);
  assert.ok(
    !["s30", "s31", "s32", "s33", "s34", "s35", "s36", "s37", "s38", "s39"].every((id) => spread.hasTxid(id)),
  );
});

Deno.test(`too-long-mempool-chain: ${MAX_ANCESTORS} unconfirmed in a row are accepted, one more is not, until a block confirms them`, async () => {
  const l = await fundedLedger();
  const chain = await chainOf(l, 0, MAX_ANCESTORS + 1);
  for (const tx of chain.slice(0, -1)) await l.mempool.accept(tx);
  const last = l.mempool.get(txid(chain.at(-2)!))!;
  assert.equal(last.ancestorCount, MAX_ANCESTORS);
  assert.equal(l.mempool.get(txid(chain[0]))!.descendantCount, MAX_DESCENDANTS);
  assert.equal(l.mempool.roomForChild(txid(chain.at(-2)!)), false);
  await assertRefused(l.mempool.accept(chain.at(-1)!), "too-long-mempool-chain", NO_BLAME);
  await mine(l.chain, l.mempool, l.key.pkh, 1);
  assert.equal(l.mempool.size, 0);
  await l.mempool.accept(chain.at(-1)!);
});

Deno.test(`too-long-mempool-chain: a transaction with ${MAX_DESCENDANTS} unconfirmed descendants takes no more`, async () => {
  const l = await fundedLedger();
  const k = l.key;
  const fan = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 30));
  await l.mempool.accept(fan);
  const kids: Transaction[] = [];
  for (let i = 0; i < 25; i++) {
    kids.push(await spend(k, [{ txid: txid(fan), index: i }], split(k.pkh, fan.outputs[i].amount, 1)));
  }
  for (const kid of kids.slice(0, MAX_DESCENDANTS - 1)) await l.mempool.accept(kid);
  assert.equal(l.mempool.get(txid(fan))!.descendantCount, MAX_DESCENDANTS);
  await assertRefused(l.mempool.accept(kids.at(-1)!), "too-long-mempool-chain", NO_BLAME);
  // Evicting a child gives the room back: the counts follow removals.
  l.mempool.removeWithDescendants(txid(kids[0]));
  assert.equal(l.mempool.get(txid(fan))!.descendantCount, MAX_DESCENDANTS - 1);
  await l.mempool.accept(kids.at(-1)!);
});

Deno.test(
  `too-long-mempool-chain: a transaction with ${MAX_ANCESTORS} unconfirmed ancestors in all (${
    MAX_ANCESTORS - 1
  } parents) is accepted, with one parent more it is not`,
  async () => {
    const l = await fundedLedger();
    const k = l.key;
    const fan = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, MAX_ANCESTORS));
    await l.mempool.accept(fan);
    await mine(l.chain, l.mempool, k.pkh, 1); // confirmed: the parents below are independent
    const parents: Transaction[] = [];
    for (let i = 0; i < MAX_ANCESTORS; i++) {
      parents.push(await spend(k, [{ txid: txid(fan), index: i }], split(k.pkh, fan.outputs[i].amount, 1)));
    }
    for (const p of parents) await l.mempool.accept(p);
    const ins = (ps: Transaction[]) => ps.map((p) => ({ txid: txid(p), index: 0 }));
    const total = (ps: Transaction[]) => ps.reduce((s, p) => s + p.outputs[0].amount, 0);
    const tooMany = await spend(k, ins(parents), split(k.pkh, total(parents), 1, 10_000));
    await assertRefused(l.mempool.accept(tooMany), "too-long-mempool-chain", NO_BLAME);
    const enough = parents.slice(1);
    const ok = await spend(k, ins(enough), split(k.pkh, total(enough), 1, 10_000));
    await l.mempool.accept(ok);
    assert.equal(l.mempool.get(txid(ok))!.ancestorCount, MAX_ANCESTORS);
    assert.ok(parents.every((p) => l.mempool.get(txid(p))!.descendantCount <= 2));
  },
);

Deno.test("too-long-mempool-chain: unconfirmed ancestors over 101 kB, and unconfirmed descendants over 101 kB", async () => {
  const l = await fundedLedger();
  const k = l.key;
  // Two independent parents of about 56 kB each.
  const [p, q] = [
    await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 2_000, 100_000)),
    await spend(k, [l.coins[1]], split(k.pkh, COIN_AMOUNT, 2_000, 100_000)),
  ];
  for (const tx of [p, q]) await l.mempool.accept(tx);
  const each = p.outputs[0].amount;
  const out = (tx: Transaction, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ txid: txid(tx), index: from + i }));
  // A small child of both: ancestors 112 kB, while each parent's descendants stay near 56 kB.
  const both = await spend(k, [...out(p, 0, 1), ...out(q, 0, 1)], split(k.pkh, 2 * each, 1));
  assert.ok(txSize(p) + txSize(q) > 101_000 && txSize(p) + txSize(both) < 101_000);
  await assertRefused(l.mempool.accept(both), "too-long-mempool-chain", NO_BLAME);
  // Two 24 kB children of one parent: each has 80 kB of ancestors, the parent 104 kB of descendants.
  const [c1, c2] = [
    await spend(k, out(p, 10, 180), split(k.pkh, 180 * each, 1, 30_000)),
    await spend(k, out(p, 200, 180), split(k.pkh, 180 * each, 1, 30_000)),
  ];
  assert.ok(txSize(p) + txSize(c1) < 101_000 && txSize(p) + txSize(c1) + txSize(c2) > 101_000);
  await l.mempool.accept(c1);
  await assertRefused(l.mempool.accept(c2), "too-long-mempool-chain", NO_BLAME);
  await l.mempool.accept(await spend(k, out(p, 400, 40), split(k.pkh, 40 * each, 1, 10_000)));
});

Deno.test("package counts follow confirmations: a confirmed parent no longer counts for its children", async () => {
  const l = await fundedLedger();
  const [a, b, c] = await chainOf(l, 0, 3);
  for (const tx of [a, b, c]) await l.mempool.accept(tx);
  assert.equal(l.mempool.get(txid(c))!.ancestorCount, 3);
  // A block holding only `a` (mined from another pool).
  const other = new Mempool(l.chain);
  await other.accept(a);
  const [block] = await mine(l.chain, other, l.key.pkh, 1);
  await l.mempool.chainUpdated({
    disconnected: [],
    connected: [{ hash: "", height: 0, block, txids: block.txs.map(txid) }],
  });
  assert.equal(l.mempool.has(txid(a)), false);
  assert.equal(l.mempool.get(txid(b))!.ancestorCount, 1);
  assert.equal(l.mempool.get(txid(c))!.ancestorCount, 2);
  assert.equal(l.mempool.get(txid(b))!.descendantCount, 2);
  assert.equal(l.mempool.totalFees, 2_000);
});

Deno.test("a forged copy (same txid, other signature) cannot keep the honest copy out, waiting or being checked", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const forge = (tx: Transaction): Transaction => {
    const copy = structuredClone(tx);
    copy.inputs[0].signature = new Uint8Array(64).fill(7);
    return copy;
  };
  const parent = await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 1));
  const child = await spend(k, [{ txid: txid(parent), index: 0 }], split(k.pkh, parent.outputs[0].amount, 1));
  assert.equal(txid(forge(child)), txid(child));
  // Both wait for the parent; when it comes, the forged copy fails and the honest one gets in.
  assert.deepEqual(await l.mempool.accept(forge(child), { allowOrphan: true }), []);
  assert.deepEqual(await l.mempool.accept(child, { allowOrphan: true }), [], "the honest copy waits too");
  const accepted = await l.mempool.accept(parent);
  assert.deepEqual(accepted.map((e) => e.txid), [parent, child].map(txid));
  // Both arrive at once: the forged copy being checked does not make the honest one "known".
  const other = await spend(k, [l.coins[1]], split(k.pkh, COIN_AMOUNT, 1));
  const [forged, honest] = await Promise.allSettled([
    l.mempool.accept(forge(other)),
    l.mempool.accept(other),
  ]);
  assert.equal(forged.status, "rejected");
  assert.equal(honest.status, "fulfilled");
  assert.ok(l.mempool.has(txid(other)));
});

Deno.test("coinsOf finds a key's pool outputs through its index, oldest first, and forgets confirmed ones", async () => {
  const { chain, mempool, key, coins } = await fundedLedger();
  const pkhs = Array.from({ length: 6 }, (_, i) => i.toString(16).padStart(40, "0"));
  /** What coinsOf must answer: every pool output paying `keys`, in pool order, walked the long way. */
  const naive = (keys: Set<string>) =>
    mempool.entries().flatMap((e) =>
      e.tx.outputs.flatMap((o, index) =>
        keys.has(o.pubKeyHash)
          ? [{ outpoint: { txid: e.txid, index }, coin: mempool.getCoin({ txid: e.txid, index }) }]
          : []
      )
    );
  const check = (label: string) => {
    for (
      const keys of [
        new Set([pkhs[0]]),
        new Set(pkhs.slice(1, 4)),
        new Set([pkhs[2], pkhs[1]]),
        new Set(pkhs),
        new Set(["ff".repeat(20)]),
      ]
    ) {
      assert.deepEqual(mempool.coinsOf(keys), naive(keys), `${label}: keys ${[...keys].length}`);
    }
  };
  // Three independent payments, each to two of the keys (one pays the same key twice).
  for (let i = 0; i < 3; i++) {
    const c = mempool.getCoin(coins[i])!;
    const outs = [pkhs[i], pkhs[(i * 2 + 1) % 6], pkhs[i]].map((pkh) => ({
      amount: Math.floor((c.amount - 10_000) / 4),
      pubKeyHash: pkh,
    }));
    await mempool.accept(await spend(key, [coins[i]], outs));
  }
  check("three payments");
  assert.equal(mempool.coinsOf(new Set([pkhs[0]])).length, 2);
  // A block confirms the first payment: its outputs are the chain's now, not the pool's.
  const first = mempool.entries()[0].tx;
  const block = makeBlock(chain, undefined, "ee".repeat(20), (b) => void b.txs.push(first));
  const r = await chain.processBlock(block);
  await mempool.chainUpdated(r.update);
  assert.equal(mempool.size, 2);
  check("after a block");
  assert.deepEqual(mempool.coinsOf(new Set([pkhs[0]])), []);
});

Deno.test("while a payment's signature is checked: a double spend added meanwhile is refused; a parent removed meanwhile makes it wait", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const pending: ((ok: boolean) => void)[] = [];
  const queue = new VerifyQueue(16, () => new Promise<boolean>((r) => pending.push(r)));
  const pool = new Mempool(l.chain, { verifier: queue });
  const settleAll = () => pending.splice(0).forEach((r) => r(true));
  // Two spends of one coin, both past their plans before either's check ends: the later one re-checks its
  // conflicts after the first joined (an addition only: its inputs and fee stand) and is refused.
  const a = pool.accept(await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 1)));
  const b = pool.accept(await spend(k, [l.coins[0]], split(k.pkh, COIN_AMOUNT, 1, 3_000)));
  assert.equal(pending.length, 2);
  settleAll();
  assert.equal((await a).length, 1);
  await assertRefused(b, "txn-mempool-conflict", NO_BLAME);
  // A child of a pool payment, whose parent leaves the pool while the child's check runs: its input is gone,
  // so its inputs are checked again and it waits for the parent (an orphan), not accepted without it.
  const parent = await spend(k, [l.coins[1]], split(k.pkh, COIN_AMOUNT, 1));
  const p = pool.accept(parent);
  settleAll();
  assert.equal((await p).length, 1);
  const child = pool.accept(
    await spend(k, [{ txid: txid(parent), index: 0 }], split(k.pkh, parent.outputs[0].amount, 1)),
    { allowOrphan: true },
  );
  assert.equal(pending.length, 1);
  pool.removeWithDescendants(txid(parent));
  settleAll();
  assert.deepEqual(await child, []);
  assert.equal(pool.size, 1, "only the first spend of coin 0");
  assert.equal(pool.orphanCount, 1, "the child waits for its parent");
});
