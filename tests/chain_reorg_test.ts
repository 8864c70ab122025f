/** Fork choice by most work, reorgs with undo data, and the mempool and balances following them. */
import assert from "node:assert/strict";
import type { Chain, ChainUpdate } from "../lib/chain/chain.ts";
import type { Block } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { coinbaseOut, mine, mineAt, newKey, newLedger, retargetingParams, spend } from "./support/ledger.ts";

const coinsSnapshot = (chain: Chain) => new Map([...chain.coins()].map(([k, c]) => [k, JSON.stringify(c)]));
const balance = (chain: Chain, pkh: string) =>
  chain.coinsOf(new Set([pkh])).reduce((s, c) => s + c.coin.amount, 0);

async function feed(chain: Chain, blocks: Block[]) {
  const results = [];
  for (const b of blocks) results.push(await chain.processBlock(b));
  return results;
}

Deno.test("a longer branch with less work loses to a shorter one with more work", async () => {
  const params = retargetingParams(5);
  const key = await newKey();
  const t0 = params.genesis.header.time;
  // Branch "fast": blocks 1 s apart, so every retarget makes blocks 4 times harder.
  const a = newLedger({ params });
  const fast: Block[] = [];
  for (let i = 1; i <= 10; i++) fast.push(await mineAt(a.chain, key.pkh, t0 + i));
  // Branch "slow": blocks 1,000 s apart, so difficulty falls back to the easiest allowed.
  const b = newLedger({ params });
  const slow: Block[] = [];
  for (let i = 1; i <= 14; i++) slow.push(await mineAt(b.chain, key.pkh, t0 + i * 1000));
  assert.ok(b.chain.height > a.chain.height);
  assert.ok(a.chain.tip.chainWork > b.chain.tip.chainWork, "the fast branch has more work");

  // Slow first, then fast: the node switches to the shorter, heavier branch.
  const c = newLedger({ params, now: () => t0 + 20_000 });
  await feed(c.chain, slow);
  assert.equal(c.chain.height, 14);
  const results = await feed(c.chain, fast);
  assert.equal(c.chain.tip.hash, a.chain.tip.hash);
  assert.equal(c.chain.height, 10);
  assert.ok(results.some((r) => r.update.disconnected.length === 14));
  // Fast first, then slow: the longer branch never takes over. Its blocks carry less than a quarter of the
  // work the tip's next block needs (16 times less and falling), so they are not even kept.
  const d = newLedger({ params, now: () => t0 + 20_000 });
  await feed(d.chain, fast);
  const late: string[] = [];
  for (const b of slow) late.push(await d.chain.processBlock(b).then((r) => r.status, (e) => e.code));
  assert.ok(late.every((s) => s === "low-difficulty"), late.join(" "));
  assert.equal(d.chain.orphanCount, 0);
  assert.equal(d.chain.tip.hash, a.chain.tip.hash);
});

Deno.test("equal work: the first-seen tip stays", async () => {
  const key = await newKey();
  const a = newLedger(), b = newLedger();
  const [x] = await mine(a.chain, a.mempool, key.pkh, 1);
  const [y] = await mine(b.chain, b.mempool, (await newKey()).pkh, 1);
  const r = await a.chain.processBlock(y);
  assert.equal(r.status, "side");
  assert.equal(a.chain.tip.hash, blockHashSync(x.header));
});

Deno.test("a more-work branch wins; balances and mempool follow; going back restores everything", async () => {
  const alice = await newKey(), bob = await newKey(), carol = await newKey();
  const main = newLedger();
  const base = await mine(main.chain, main.mempool, alice.pkh, 11); // block 1's coinbase is mature
  const before = coinsSnapshot(main.chain);

  // Branch A (one block): Alice pays Bob.
  const pay = await spend(alice, [coinbaseOut(base[0])], [
    { amount: 10e8, pubKeyHash: bob.pkh },
    { amount: 40e8 - 5000, pubKeyHash: alice.pkh },
  ]);
  await main.mempool.accept(pay);
  const [a1] = await mine(main.chain, main.mempool, alice.pkh, 1);
  assert.equal(main.mempool.size, 0);
  assert.equal(balance(main.chain, bob.pkh), 10e8);
  const stateA = coinsSnapshot(main.chain);

  // Branch B (two blocks) built elsewhere from the same base: it does not contain the payment.
  const other = newLedger();
  for (const blk of base) await other.chain.processBlock(blk);
  const branchB = await mine(other.chain, other.mempool, carol.pkh, 2);

  let update: ChainUpdate = { disconnected: [], connected: [] };
  for (const blk of branchB) {
    const r = await main.chain.processBlock(blk);
    await main.mempool.chainUpdated(r.update);
    if (r.update.disconnected.length) update = r.update;
  }
  assert.equal(main.chain.tip.hash, other.chain.tip.hash);
  assert.deepEqual(update.disconnected.map((c) => c.hash), [blockHashSync(a1.header)]);
  assert.equal(update.connected.length, 2);
  // Bob's payment is unconfirmed again, back in the mempool; Carol has two coinbases.
  assert.equal(balance(main.chain, bob.pkh), 0);
  assert.ok(main.mempool.has(txid(pay)));
  assert.equal(balance(main.chain, carol.pkh), 100e8);
  assert.deepEqual(coinsSnapshot(main.chain), coinsSnapshot(other.chain));

  // Branch A grows to three blocks: the node goes back; the payment is confirmed again and leaves the mempool.
  const branchA = newLedger();
  for (const blk of [...base, a1]) await branchA.chain.processBlock(blk);
  const moreA = await mine(branchA.chain, branchA.mempool, alice.pkh, 2);
  for (const blk of moreA) {
    const r = await main.chain.processBlock(blk);
    await main.mempool.chainUpdated(r.update);
  }
  assert.equal(main.chain.tip.hash, branchA.chain.tip.hash);
  assert.equal(main.mempool.size, 0);
  assert.equal(balance(main.chain, bob.pkh), 10e8);
  assert.equal(balance(main.chain, carol.pkh), 0);
  assert.deepEqual(coinsSnapshot(main.chain), coinsSnapshot(branchA.chain));
  assert.notDeepEqual(coinsSnapshot(main.chain), stateA); // two more coinbases than at A's first block
  assert.notDeepEqual(before, stateA);
});

Deno.test("a reorg drops mempool transactions whose inputs the new chain does not have", async () => {
  const alice = await newKey(), bob = await newKey();
  const main = newLedger();
  const base = await mine(main.chain, main.mempool, alice.pkh, 11);
  const other = newLedger();
  for (const blk of base) await other.chain.processBlock(blk);
  // On main: Alice pays Bob in a block; Bob then spends that output in the mempool.
  const pay = await spend(alice, [coinbaseOut(base[0])], [{ amount: 50e8 - 5000, pubKeyHash: bob.pkh }]);
  await main.mempool.accept(pay);
  await mine(main.chain, main.mempool, alice.pkh, 1);
  const onward = await spend(bob, [{ txid: txid(pay), index: 0 }], [{
    amount: 50e8 - 10000,
    pubKeyHash: alice.pkh,
  }]);
  await main.mempool.accept(onward);
  // On the other branch, the same coinbase pays Alice herself: a double spend of Alice's coin.
  const self = await spend(alice, [coinbaseOut(base[0])], [{ amount: 50e8 - 7000, pubKeyHash: alice.pkh }]);
  await other.mempool.accept(self);
  const branch = await mine(other.chain, other.mempool, alice.pkh, 2);
  for (const blk of branch) await main.mempool.chainUpdated((await main.chain.processBlock(blk)).update);
  assert.equal(main.chain.tip.hash, other.chain.tip.hash);
  // The payment conflicts with the new chain, and Bob's spend lost its input: neither survives.
  assert.equal(main.mempool.has(txid(pay)), false);
  assert.equal(main.mempool.has(txid(onward)), false);
  assert.equal(main.mempool.size, 0);
});
