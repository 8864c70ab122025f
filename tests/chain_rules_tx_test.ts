/** One test per transaction reject code, in a block (`Chain.processBlock`) and in the mempool (`Mempool.accept`). */
import assert from "node:assert/strict";
import { BAN, NO_BLAME } from "../lib/chain/errors.ts";
import { MAX_STANDARD_TX_SIZE, Mempool } from "../lib/chain/mempool.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { MAX_MONEY } from "../lib/consensus/amount.ts";
import type { Transaction, TxOutput } from "../lib/primitives/transaction.ts";
import { txid, txSize } from "../lib/primitives/transaction.ts";
import { makeBlock, mine, newKey, spend, type TestKey } from "./support/ledger.ts";
import {
  assertRefused,
  COIN_AMOUNT,
  type FundedLedger,
  fundedLedger,
  hashOf,
  refuseInBlock,
  refuseInPool,
  signAll,
  withTxs,
} from "./support/rules.ts";

const PKH = "cd".repeat(20);
const pay = (amount: number): TxOutput[] => [{ amount, pubKeyHash: PKH }];

Deno.test("bad-txns-nonfinal: a lockTime above the block's height; equal to it is final", async () => {
  const l = await fundedLedger();
  const next = l.chain.height + 1;
  await refuseInBlock(l, "bad-txns-nonfinal", [await spend(l.key, [l.coins[0]], pay(1e8), next + 1)], BAN);
  const ok = makeBlock(
    l.chain,
    undefined,
    l.key.pkh,
    withTxs(await spend(l.key, [l.coins[0]], pay(1e8), next)),
  );
  assert.equal((await l.chain.processBlock(ok)).status, "connected");
});

Deno.test("bad-txns-inputs-missingorspent: an unknown input, and one coin spent twice in a block", async () => {
  const l = await fundedLedger();
  const unknown = await spend(l.key, [{ txid: "11".repeat(32), index: 0 }], pay(1));
  await refuseInBlock(l, "bad-txns-inputs-missingorspent", [unknown], BAN);
  const a = await spend(l.key, [l.coins[0]], pay(1e8));
  const b = await spend(l.key, [l.coins[0]], pay(2e8));
  await refuseInBlock(l, "bad-txns-inputs-missingorspent", [a, b], BAN);
  // In the mempool a missing input may just be a parent not yet seen.
  await refuseInPool(l, "bad-txns-inputs-missingorspent", unknown, NO_BLAME);
});

Deno.test("bad-txns-premature-spend-of-coinbase: in a block, and in the mempool without blame", async () => {
  const l = await fundedLedger();
  const early = await spend(l.key, [l.immatureCoinbase], pay(1e8));
  // In a block the height is fixed, so it bans; in the mempool the coin may simply mature by the next block.
  await refuseInBlock(l, "bad-txns-premature-spend-of-coinbase", [early], BAN);
  await refuseInPool(l, "bad-txns-premature-spend-of-coinbase", early, NO_BLAME);
  // A coinbase that has matured is spendable.
  await l.mempool.accept(await spend(l.key, [l.matureCoinbase], pay(1e8)));
});

Deno.test("bad-txns-in-belowout: outputs worth more than the inputs", async () => {
  const l = await fundedLedger();
  const tx = await spend(l.key, [l.coins[0]], pay(COIN_AMOUNT + 1));
  await refuseInBlock(l, "bad-txns-in-belowout", [tx], BAN);
  await refuseInPool(l, "bad-txns-in-belowout", tx, BAN);
});

Deno.test("context-free output and input rules, in a block and in the mempool", async () => {
  const l = await fundedLedger();
  const half = Math.floor(MAX_MONEY / 2) + 1;
  const cases: [string, Transaction][] = [
    ["bad-txns-vout-negative", await spend(l.key, [l.coins[0]], pay(-1))],
    ["bad-txns-vout-toolarge", await spend(l.key, [l.coins[0]], pay(MAX_MONEY + 1))],
    ["bad-txns-txouttotal-toolarge", await spend(l.key, [l.coins[0]], [...pay(half), ...pay(half)])],
    ["bad-txns-inputs-duplicate", await spend(l.key, [l.coins[0], l.coins[0]], pay(1e8))],
    ["bad-txns-vout-empty", await spend(l.key, [l.coins[0]], [])],
  ];
  for (const [code, tx] of cases) {
    await refuseInBlock(l, code, [tx], BAN);
    await refuseInPool(l, code, tx, BAN);
  }
});

Deno.test("bad-sig: another key's signature and a flipped bit; the block is remembered as invalid", async () => {
  const l = await fundedLedger();
  const genuine = await spend(l.key, [l.coins[0]], pay(1e8));
  // Mallory's valid signature of the same txid, under the owner's public key.
  const stolen = structuredClone(genuine);
  stolen.inputs[0].signature = (await signAll(structuredClone(genuine), await newKey())).inputs[0].signature;
  const flipped = structuredClone(genuine);
  flipped.inputs[0].signature[63] ^= 0x40;
  for (const tx of [stolen, flipped]) {
    await refuseInPool(l, "bad-sig", tx, BAN);
    const { block } = await refuseInBlock(l, "bad-sig", [tx], BAN);
    await assertRefused(l.chain.processBlock(block), "duplicate-invalid", BAN);
  }
  // The coin is untouched: its owner can still spend it.
  await l.mempool.accept(genuine);
  // The signature cache the mempool fills is keyed by wtxid: the same txid with a forged signature is checked.
  const twin = structuredClone(genuine);
  twin.inputs[0].signature[0] ^= 1;
  assert.equal(txid(twin), txid(genuine));
  await refuseInBlock(l, "bad-sig", [twin], BAN);
});

Deno.test("bad-pubkey-address: spending someone else's coin with one's own key and a valid signature", async () => {
  const l = await fundedLedger();
  const mallory = await newKey();
  const theft = await spend(mallory, [l.coins[0]], pay(COIN_AMOUNT - 1000));
  await refuseInPool(l, "bad-pubkey-address", theft, BAN);
  await refuseInBlock(l, "bad-pubkey-address", [theft], BAN);
});

Deno.test("mempool: txn-already-in-mempool, txn-mempool-conflict (first seen wins), txn-already-known", async () => {
  const l = await fundedLedger();
  const first = await spend(l.key, [l.coins[0]], pay(1e8));
  const second = await spend(l.key, [l.coins[0]], pay(2e8));
  await l.mempool.accept(first);
  await refuseInPool(l, "txn-already-in-mempool", first, NO_BLAME);
  await refuseInPool(l, "txn-mempool-conflict", second, NO_BLAME);
  assert.deepEqual(l.mempool.entries().map((e) => e.txid), [txid(first)]);

  const [block] = await mine(l.chain, l.mempool, l.key.pkh, 1);
  assert.equal(block.txs.length, 2);
  assert.equal(l.mempool.size, 0);
  await refuseInPool(l, "txn-already-known", first, NO_BLAME);
  // The loser of the conflict now spends a confirmed-spent coin.
  await refuseInPool(l, "bad-txns-inputs-missingorspent", second, NO_BLAME);
});

Deno.test("mempool: a coinbase is refused", async () => {
  const l = await fundedLedger();
  await refuseInPool(l, "coinbase", l.blocks[l.blocks.length - 1].txs[0], BAN);
  const fresh = makeBlock(l.chain, undefined, l.key.pkh).txs[0];
  await refuseInPool(l, "coinbase", fresh, BAN);
});

Deno.test("mempool: min-fee-not-met below 1 unit per byte; exactly 1 per byte is accepted", async () => {
  const l = await fundedLedger();
  const size = txSize(await spend(l.key, [l.coins[0]], pay(1)));
  await refuseInPool(l, "min-fee-not-met", await spend(l.key, [l.coins[0]], pay(COIN_AMOUNT)), NO_BLAME);
  await refuseInPool(
    l,
    "min-fee-not-met",
    await spend(l.key, [l.coins[0]], pay(COIN_AMOUNT - size + 1)),
    NO_BLAME,
  );
  const [entry] = await l.mempool.accept(await spend(l.key, [l.coins[0]], pay(COIN_AMOUNT - size)));
  assert.equal(entry.feeRate, 1);
});

/** A one-in, one-out payment to `key` itself paying `rate` units per byte. */
async function atRate(key: TestKey, coin: { txid: string; index: number }, amount: number, rate: number) {
  const size = txSize(await spend(key, [coin], [{ amount: 0, pubKeyHash: key.pkh }]));
  return spend(key, [coin], [{ amount: amount - Math.round(rate * size), pubKeyHash: key.pkh }]);
}

/** A payment of coin 0 at 2 units per byte and its child, spending the payment's output at `childRate`. */
async function parentAndChild(l: FundedLedger, childRate: number) {
  const parent = await atRate(l.key, l.coins[0], COIN_AMOUNT, 2);
  const child = await atRate(l.key, { txid: txid(parent), index: 0 }, parent.outputs[0].amount, childRate);
  return { parent, child };
}

Deno.test("mempool-full: a low fee rate is refused; a higher one evicts the lowest entry and its descendants", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const { parent, child } = await parentAndChild(l, 5);
  const other = await atRate(k, l.coins[1], COIN_AMOUNT, 10);
  const size = txSize(parent);
  const pool = new Mempool(l.chain, { maxBytes: 3 * size });
  const pooled = { ...l, mempool: pool };
  for (const tx of [parent, child, other]) await pool.accept(tx);
  assert.equal(pool.bytes, 3 * size);

  // 1.5 per byte: above the minimum, below everything in the pool.
  await refuseInPool(pooled, "mempool-full", await atRate(k, l.coins[2], COIN_AMOUNT, 1.5), NO_BLAME);
  const rich = await atRate(k, l.coins[3], COIN_AMOUNT, 20);
  await pool.accept(rich);
  assert.deepEqual(new Set(pool.entries().map((e) => e.txid)), new Set([txid(other), txid(rich)]));
  assert.equal(pool.bytes, 2 * size);
});

Deno.test("mempool: chained spends of unconfirmed outputs are accepted and mined together", async () => {
  const l = await fundedLedger();
  const a = await spend(l.key, [l.coins[0]], [{ amount: COIN_AMOUNT - 1000, pubKeyHash: l.key.pkh }]);
  const b = await spend(l.key, [{ txid: txid(a), index: 0 }], [{
    amount: COIN_AMOUNT - 2000,
    pubKeyHash: l.key.pkh,
  }]);
  const c = await spend(l.key, [{ txid: txid(b), index: 0 }], pay(COIN_AMOUNT - 3000));
  for (const tx of [a, b, c]) await l.mempool.accept(tx);
  assert.equal(l.mempool.size, 3);
  const [block] = await mine(l.chain, l.mempool, l.key.pkh, 1);
  assert.deepEqual(block.txs.slice(1).map(txid), [a, b, c].map(txid));
  assert.equal(l.chain.tip.hash, hashOf(block));
  assert.equal(l.mempool.size, 0);
});

Deno.test("selectForBlock: highest fee rate first, parents before their children", async () => {
  const l = await fundedLedger();
  const k = l.key;
  const { parent, child } = await parentAndChild(l, 50);
  const mid = await atRate(k, l.coins[1], COIN_AMOUNT, 10);
  const high = await atRate(k, l.coins[2], COIN_AMOUNT, 30);
  for (const tx of [parent, child, mid, high]) await l.mempool.accept(tx);
  const order = l.mempool.selectForBlock(1_000_000).map((e) => e.txid);
  assert.deepEqual(order, [high, mid, parent, child].map(txid));
  // A size limit leaves out what does not fit, never a parent while keeping its child.
  const two = l.mempool.selectForBlock(2 * txSize(parent)).map((e) => e.txid);
  assert.deepEqual(two, [high, mid].map(txid));
  const [block] = await mine(l.chain, l.mempool, k.pkh, 1);
  assert.equal(block.txs.length, 5);
  assert.equal(l.mempool.size, 0);
});

// Regression: a child must not evict its own parent to make room, or it would spend nothing and every
// later block template would be invalid.
Deno.test({
  name: "mempool-full never evicts a parent of the transaction it makes room for",
  fn: async () => {
    const l = await fundedLedger();
    const { parent, child } = await parentAndChild(l, 50);
    const other = await atRate(l.key, l.coins[1], COIN_AMOUNT, 10);
    const pool = new Mempool(l.chain, { maxBytes: 2 * txSize(parent) });
    for (const tx of [parent, other]) await pool.accept(tx);
    // Room must come from `other`, the only entry the child does not depend on.
    await pool.accept(child);
    assert.deepEqual(new Set(pool.entries().map((e) => e.txid)), new Set([parent, child].map(txid)));
    const template = makeBlock(l.chain, pool, l.key.pkh);
    assert.equal((await l.chain.processBlock(template)).status, "connected");
  },
});

Deno.test("tx-size: the mempool refuses a transaction over 100 kB, which a block could still hold", async () => {
  const l = await fundedLedger();
  const outputs = Array.from({ length: 3600 }, () => ({ amount: 1000, pubKeyHash: l.key.pkh }));
  const big = await spend(l.key, [l.coins[0]], outputs);
  assert.ok(txSize(big) > MAX_STANDARD_TX_SIZE);
  await refuseInPool(l, "tx-size", big, NO_BLAME);
  const block = makeBlock(l.chain, undefined, l.key.pkh, (b) => b.txs.push(big));
  await l.chain.processBlock(block); // consensus allows it
  assert.equal(l.chain.tip.hash, blockHashSync(block.header));
});
