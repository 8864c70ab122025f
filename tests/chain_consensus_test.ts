/**
 * Consensus rules at their exact boundaries, with literal numbers rather than the code's own constants, so a
 * changed rule cannot agree with its test: the subsidy halving, the 2-hour future limit, the median time past
 * of 11 unordered times, an unclamped retarget, coinbase maturity to the block, finality in the mempool, a
 * fee-less transaction, bits above the pow limit; and what happens around invalid blocks (their children,
 * their stored descendants, side branches refused on arrival) and in the mempool (racing conflicts, blocks
 * that confirm a conflict).
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { BAN, NO_BLAME } from "../lib/chain/errors.ts";
import { type IndexedHeader, nextBits } from "../lib/chain/block_rules.ts";
import { blockSubsidy, NETWORKS } from "../lib/consensus/params.ts";
import { bitsToTarget, checkProofOfWork, retargetBits } from "../lib/consensus/pow.ts";
import { createTemplate, solveSync } from "../lib/mining/template.ts";
import { type Block, blockMerkleRoot } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { openStore } from "../lib/store/store.ts";
import { makeBlock, mine, mineAt, newLedger, spend } from "./support/ledger.ts";
import {
  assertRefused,
  assertUnchanged,
  COIN_AMOUNT,
  fundedLedger,
  hashOf,
  ledgerState,
  refuseInBlock,
  refuseInPool,
  withTxs,
} from "./support/rules.ts";

const PKH = "ef".repeat(20);
const regtest = NETWORKS.regtest;
const COIN = 100_000_000;

/** A block on `parent` (by hash, at `height`) rather than on the tip; `edit` may change it before solving. */
function blockOn(chain: Chain, parent: Block, height: number, edit?: (b: Block) => void): Block {
  return makeBlock(chain, undefined, PKH, (b) => {
    b.header.prevHash = hashOf(parent);
    b.txs[0].lockTime = height;
    edit?.(b);
  });
}

Deno.test("subsidy: 50 coins up to block 149 on regtest, 25 from block 150; 210,000 blocks apart on main", async () => {
  assert.equal(regtest.halvingInterval, 150);
  assert.equal(blockSubsidy(149, regtest), 50 * COIN);
  assert.equal(blockSubsidy(150, regtest), 25 * COIN);
  assert.equal(blockSubsidy(300, regtest), 12.5 * COIN);
  assert.equal(blockSubsidy(209_999, NETWORKS.main), 50 * COIN);
  assert.equal(blockSubsidy(210_000, NETWORKS.main), 25 * COIN);
  assert.equal(blockSubsidy(64 * 210_000, NETWORKS.main), 0);

  const { chain, mempool } = newLedger();
  await mine(chain, mempool, PKH, 149);
  assert.equal(chain.tip.header.bits, regtest.genesis.header.bits);
  assert.equal(chain.getBlock(chain.tip.hash)!.txs[0].outputs[0].amount, 50 * COIN);
  const before = ledgerState(chain, mempool);
  const greedy = makeBlock(chain, mempool, PKH, (b) => b.txs[0].outputs[0].amount = 25 * COIN + 1);
  await assertRefused(chain.processBlock(greedy), "bad-cb-amount", BAN);
  assertUnchanged(before, chain, mempool);
  const honest = makeBlock(chain, mempool, PKH, (b) => b.txs[0].outputs[0].amount = 25 * COIN);
  assert.equal((await chain.processBlock(honest)).status, "connected");
  assert.equal(chain.height, 150);
});

Deno.test("time-too-new: exactly 7,200 s ahead of the clock is accepted, 7,201 s refused", async () => {
  const now = regtest.genesis.header.time + 5_000;
  const { chain, mempool } = newLedger({ now: () => now });
  const late = makeBlock(chain, mempool, PKH, (b) => b.header.time = now + 7_201);
  await assertRefused(chain.processBlock(late), "time-too-new", NO_BLAME);
  const ok = makeBlock(chain, mempool, PKH, (b) => b.header.time = now + 7_200);
  assert.equal((await chain.processBlock(ok)).status, "connected");
});

Deno.test("time-too-old: the median of the last 11 times, out of order, is 110 s; 110 is refused, 111 accepted", async () => {
  const t0 = regtest.genesis.header.time;
  const chain = Chain.open(openStore(":memory:"), regtest, { now: () => t0 + 10_000 });
  // Each time is after the median of its predecessors, though not after the previous block's.
  const offsets = [10, 100, 20, 110, 30, 120, 40, 130, 140, 150, 160];
  for (const dt of offsets) await mineAt(chain, PKH, t0 + dt);
  assert.equal(chain.height, 11);
  // Sorted: 10 20 30 40 100 [110] 120 130 140 150 160. (The last five alone would give 140; the earliest is 10.)
  const before = ledgerState(chain);
  const at = (dt: number) => {
    const { block } = createTemplate(chain, undefined, PKH);
    block.header.time = t0 + dt;
    return solveSync(block);
  };
  await assertRefused(chain.processBlock(at(110)), "time-too-old", BAN);
  assertUnchanged(before, chain);
  assert.equal((await chain.processBlock(at(111))).status, "connected");
});

Deno.test("retarget: blocks 5 s apart make a 45 s span of the 100 s aimed at; block 10 must carry that target", async () => {
  const params = { ...regtest, noRetargeting: false, retargetInterval: 10 };
  const chain = Chain.open(openStore(":memory:"), params);
  const t0 = params.genesis.header.time;
  for (let i = 1; i <= 9; i++) await mineAt(chain, PKH, t0 + 5 * i);
  // Span from block 0 to block 9: 45 s, inside the clamps [25, 400]: the target scales by 45/100.
  const expected = retargetBits(regtest.genesis.header.bits, 45, 100, params.powLimit);
  assert.ok(bitsToTarget(expected) < bitsToTarget(regtest.genesis.header.bits), "harder than before");
  const { block } = createTemplate(chain, undefined, PKH, { time: t0 + 50 });
  const before = ledgerState(chain);
  // The bits of a span measured one block short (40 s) or long (50 s) are refused.
  for (const wrong of [40, 50]) {
    const bits = retargetBits(regtest.genesis.header.bits, wrong, 100, params.powLimit);
    assert.notEqual(bits, expected);
    const stale = solveSync({ header: { ...block.header, bits }, txs: block.txs });
    await assertRefused(chain.processBlock(stale), "bad-diffbits", BAN);
  }
  assertUnchanged(before, chain);
  const good = solveSync({ header: { ...block.header, bits: expected }, txs: block.txs });
  assert.equal((await chain.processBlock(good)).status, "connected");
  assert.equal(chain.tip.header.bits, expected);
});

Deno.test("main's first retarget measures from block 1: a late start does not make block 60 easier", () => {
  const main = NETWORKS.main;
  assert.equal(main.retargetInterval, 60);
  // Genesis carries its fixed time; block 1 comes a day later, then a block every 3 s (aimed at: 10 s).
  let entry: IndexedHeader = { height: 0, header: main.genesis.header };
  const t1 = main.genesis.header.time + 86_400;
  for (let h = 1; h < 60; h++) {
    entry = { height: h, header: { ...main.genesis.header, time: t1 + 3 * (h - 1) }, parent: entry };
  }
  // Block 1 to 59: 58 intervals of 3 s, scaled to a period's 59 intervals: 177 s of the 600 s aimed at.
  const bits = nextBits(entry, main);
  assert.equal(bits, retargetBits(main.genesis.header.bits, 177, 600, main.powLimit));
  assert.ok(bitsToTarget(bits) < bitsToTarget(main.genesis.header.bits), "3x faster blocks: harder");
  // The second period measures from its own first block, as Bitcoin does (block 60 to 119).
  entry = { height: 60, header: { ...main.genesis.header, bits, time: t1 + 3 * 59 }, parent: entry };
  for (let h = 61; h < 120; h++) {
    entry = { height: h, header: { ...entry.header, time: entry.header.time + 10 }, parent: entry };
  }
  assert.equal(nextBits(entry, main), retargetBits(bits, 590, 600, main.powLimit));
});

Deno.test("high-hash: an orphan whose bits are easier than the pow limit is refused, not kept", async () => {
  const { chain } = newLedger();
  const easy = 0x2100ffff; // a valid compact target above regtest's limit 0x207fffff
  assert.ok(bitsToTarget(easy) > regtest.powLimit);
  const header = {
    version: 1,
    prevHash: "22".repeat(32), // unknown: the block would wait as an orphan
    merkleRoot: "",
    time: regtest.genesis.header.time + 100,
    bits: easy,
    nonce: 0,
  };
  const coinbase = {
    version: 1,
    inputs: [],
    outputs: [{ amount: 50 * COIN, pubKeyHash: PKH }],
    lockTime: 5,
  };
  header.merkleRoot = blockMerkleRoot([coinbase]);
  // A hash that meets the easy target but not the limit: the limit, not the hash, must refuse it.
  while (
    !checkProofOfWork(blockHashSync(header), easy) ||
    checkProofOfWork(blockHashSync(header), regtest.genesis.header.bits)
  ) header.nonce++;
  await assertRefused(chain.processBlock({ header, txs: [coinbase] }), "high-hash", BAN);
  assert.equal(chain.orphanCount, 0);
});

Deno.test("coinbase maturity: a coinbase of block h is spendable in block h + 10 and not in h + 9", async () => {
  assert.equal(regtest.coinbaseMaturity, 10);
  const l = await fundedLedger();
  const h = l.chain.height; // the tip's coinbase, l.immatureCoinbase, is from block h
  const tx = await spend(l.key, [l.immatureCoinbase], [{ amount: 50 * COIN - 10_000, pubKeyHash: PKH }]);
  await mine(l.chain, l.mempool, PKH, 8);
  assert.equal(l.chain.height + 1, h + 9);
  await refuseInPool(l, "bad-txns-premature-spend-of-coinbase", tx, NO_BLAME);
  await refuseInBlock(l, "bad-txns-premature-spend-of-coinbase", [tx]);
  await mine(l.chain, l.mempool, PKH, 1);
  assert.equal(l.chain.height + 1, h + 10);
  const inBlock = makeBlock(l.chain, undefined, PKH, withTxs(tx));
  await l.mempool.accept(tx);
  assert.equal((await l.chain.processBlock(inBlock)).status, "connected");
});

Deno.test("bad-txns-nonfinal in the mempool: locked to the block after next is refused without blame, to the next accepted", async () => {
  const l = await fundedLedger();
  const next = l.chain.height + 1;
  const pay = [{ amount: COIN_AMOUNT - 10_000, pubKeyHash: PKH }];
  await refuseInPool(l, "bad-txns-nonfinal", await spend(l.key, [l.coins[0]], pay, next + 1), NO_BLAME);
  await l.mempool.accept(await spend(l.key, [l.coins[0]], pay, next));
});

Deno.test("a transaction whose outputs equal its inputs (no fee) is valid in a block", async () => {
  const l = await fundedLedger();
  const free = await spend(l.key, [l.coins[0]], [{ amount: COIN_AMOUNT, pubKeyHash: PKH }]);
  await refuseInPool(l, "min-fee-not-met", free, NO_BLAME); // policy, not consensus
  const block = makeBlock(l.chain, undefined, l.key.pkh, withTxs(free));
  assert.equal((await l.chain.processBlock(block)).status, "connected");
  assert.equal(l.chain.getCoin({ txid: txid(free), index: 0 })?.amount, COIN_AMOUNT);
});

Deno.test("bad-txns-nonfinal: a side-branch block is refused on arrival, before it could ever be connected", async () => {
  const l = await fundedLedger();
  const h = l.chain.height;
  const parent = l.blocks[h - 2]; // block h - 1: a side block on it has no more work than the tip
  const locked = await spend(l.key, [l.coins[0]], [{ amount: 1e8, pubKeyHash: PKH }], h + 5);
  const side = blockOn(l.chain, parent, h, withTxs(locked));
  const before = ledgerState(l.chain, l.mempool);
  await assertRefused(l.chain.processBlock(side), "bad-txns-nonfinal", BAN);
  assertUnchanged(before, l.chain, l.mempool);
  assert.equal(l.chain.has(hashOf(side)), false, "not stored");
  // The same side block without the locked transaction is stored as a side branch.
  assert.equal((await l.chain.processBlock(blockOn(l.chain, parent, h))).status, "side");
});

Deno.test("bad-prevblk: the child of a block refused in context is refused too, not kept as an orphan", async () => {
  const { chain, mempool } = newLedger();
  const bad = makeBlock(chain, mempool, PKH, (b) => b.txs[0].lockTime = 7); // bad-cb-height
  await assertRefused(chain.processBlock(bad), "bad-cb-height", BAN);
  const child = blockOn(chain, bad, 2);
  await assertRefused(chain.processBlock(child), "bad-prevblk", BAN);
  assert.equal(chain.orphanCount, 0);
  assert.equal(chain.has(hashOf(child)), false);
});

Deno.test("a side branch whose first block fails to connect: its stored descendants fail too, the tip stays", async () => {
  const l = await fundedLedger();
  const h = l.chain.height;
  const tipBlock = l.blocks[h - 1];
  const [a] = await mine(l.chain, l.mempool, PKH, 1); // the main chain's block h + 1
  // B1 is fine by itself, but a signature in it is bad: only connecting it can tell.
  const forged = await spend(l.key, [l.coins[0]], [{ amount: 1e8, pubKeyHash: PKH }]);
  forged.inputs[0].signature[0] ^= 1;
  const b1 = blockOn(l.chain, tipBlock, h + 1, withTxs(forged));
  const b2 = blockOn(l.chain, b1, h + 2);
  const b3 = blockOn(l.chain, b2, h + 3);
  assert.equal((await l.chain.processBlock(b1)).status, "side");
  const before = ledgerState(l.chain, l.mempool);
  // B2 gives the branch more work: the chain tries it, B1 fails, and the chain goes back to A.
  await assertRefused(l.chain.processBlock(b2), "bad-sig", BAN);
  assertUnchanged(before, l.chain, l.mempool);
  assert.equal(l.chain.tip.hash, hashOf(a));
  await assertRefused(l.chain.processBlock(b3), "bad-prevblk", BAN);
  await assertRefused(l.chain.processBlock(b2), "duplicate-invalid", BAN);
  assertUnchanged(before, l.chain, l.mempool);
  // And the main chain goes on.
  await mine(l.chain, l.mempool, PKH, 1);
  assert.equal(l.chain.height, h + 2);
});

Deno.test("a block that failed to connect stays failed after a restart: resume does not try it again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_failed_" });
  try {
    const path = `${dir}/chain.sqlite`;
    const l = await fundedLedger({ path });
    const h = l.chain.height;
    const [a] = await mine(l.chain, l.mempool, PKH, 1);
    const forged = await spend(l.key, [l.coins[0]], [{ amount: 1e8, pubKeyHash: PKH }]);
    forged.inputs[0].signature[0] ^= 1;
    const b1 = blockOn(l.chain, l.blocks[h - 1], h + 1, withTxs(forged));
    const b2 = blockOn(l.chain, b1, h + 2);
    await l.chain.processBlock(b1);
    await assertRefused(l.chain.processBlock(b2), "bad-sig", BAN);
    l.store.close();

    const again = newLedger({ path });
    try {
      // The stored branch has more work than the tip, but it is known to be invalid.
      assert.deepEqual(await again.chain.resume(), { disconnected: [], connected: [] });
      assert.equal(again.chain.tip.hash, hashOf(a));
      await assertRefused(again.chain.processBlock(b2), "duplicate-invalid", BAN);
      await assertRefused(again.chain.processBlock(blockOn(again.chain, b2, h + 3)), "bad-prevblk", BAN);
    } finally {
      again.store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mempool: two conflicting transactions accepted at once: exactly one gets in", async () => {
  const l = await fundedLedger();
  const a = await spend(l.key, [l.coins[0]], [{ amount: 1e8, pubKeyHash: PKH }]);
  const b = await spend(l.key, [l.coins[0]], [{ amount: 2e8, pubKeyHash: PKH }]);
  // Both pass every check before either is added; the signatures are verified while both wait.
  const results = await Promise.allSettled([l.mempool.accept(a), l.mempool.accept(b)]);
  assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
  assert.equal(refused.reason.code, "txn-mempool-conflict");
  assert.equal(l.mempool.size, 1);
  const [block] = await mine(l.chain, l.mempool, PKH, 1);
  assert.equal(block.txs.length, 2);
});

Deno.test("mempool: a block confirming a conflicting transaction evicts the pool's spend and its descendants", async () => {
  const l = await fundedLedger();
  const mine1 = await spend(l.key, [l.coins[0]], [{ amount: COIN_AMOUNT - 10_000, pubKeyHash: l.key.pkh }]);
  const child = await spend(l.key, [{ txid: txid(mine1), index: 0 }], [{
    amount: COIN_AMOUNT - 20_000,
    pubKeyHash: PKH,
  }]);
  const unrelated = await spend(l.key, [l.coins[1]], [{ amount: COIN_AMOUNT - 10_000, pubKeyHash: PKH }]);
  for (const tx of [mine1, child, unrelated]) await l.mempool.accept(tx);
  // A block from elsewhere spends the same coin differently.
  const rival = await spend(l.key, [l.coins[0]], [{ amount: COIN_AMOUNT - 30_000, pubKeyHash: PKH }]);
  const block = makeBlock(l.chain, undefined, PKH, withTxs(rival));
  const r = await l.chain.processBlock(block);
  await l.mempool.chainUpdated(r.update);
  assert.deepEqual(l.mempool.entries().map((e) => e.txid), [txid(unrelated)]);
  // The next template is valid.
  await mine(l.chain, l.mempool, PKH, 1);
  assert.equal(l.mempool.size, 0);
});
