/** One test per block-level reject code of `Chain.processBlock`: each builds the offending block. */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { BAN, NO_BLAME, type ValidationError } from "../lib/chain/errors.ts";
import { MAX_FUTURE_BLOCK_TIME, NETWORKS } from "../lib/consensus/params.ts";
import { retargetBits } from "../lib/consensus/pow.ts";
import { createTemplate, solveSync } from "../lib/mining/template.ts";
import { type Block, blockMerkleRoot, blockSize, MAX_BLOCK_SIZE } from "../lib/primitives/block.ts";
import { openStore } from "../lib/store/store.ts";
import { txid, wtxid } from "../lib/primitives/transaction.ts";
import { makeBlock, mine, mineAt, newKey, newLedger, spend } from "./support/ledger.ts";
import {
  assertRefused,
  assertUnchanged,
  COIN_AMOUNT,
  failingNonce,
  fundedLedger,
  hashOf,
  ledgerState,
  unsigned,
  withTxs,
} from "./support/rules.ts";

const PKH = "ab".repeat(20);
const NOWHERE = { txid: "11".repeat(32), index: 0 };

/** A deep copy, so a test can damage a block without touching the original. */
const copyBlock = (b: Block): Block => structuredClone(b);

Deno.test("high-hash: a nonce that fails the target is refused and not remembered", async () => {
  const { chain, mempool } = newLedger();
  const good = makeBlock(chain, mempool, PKH);
  const bad = failingNonce(good);
  const before = ledgerState(chain, mempool);
  await assertRefused(chain.processBlock(bad), "high-hash", BAN);
  assertUnchanged(before, chain, mempool);
  assert.equal(chain.has(hashOf(bad)), false);
  assert.equal((await chain.processBlock(good)).status, "connected");
});

Deno.test("bad-blk-length: a block without transactions, and one over 1,000,000 bytes", async () => {
  const { chain, mempool } = newLedger();
  const before = ledgerState(chain, mempool);
  const empty = makeBlock(chain, mempool, PKH, (b) => b.txs.length = 0);
  await assertRefused(chain.processBlock(empty), "bad-blk-length", BAN);
  // A coinbase with 36,000 zero outputs: 28 bytes each.
  const huge = makeBlock(chain, mempool, PKH, (b) => {
    for (let i = 0; i < 36_000; i++) b.txs[0].outputs.push({ amount: 0, pubKeyHash: PKH });
  });
  assert.ok(blockSize(huge) > MAX_BLOCK_SIZE);
  await assertRefused(chain.processBlock(huge), "bad-blk-length", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("bad-cb-missing: the first transaction is not a coinbase", async () => {
  const { chain, mempool } = newLedger();
  const key = await newKey();
  const before = ledgerState(chain, mempool);
  const b = makeBlock(
    chain,
    mempool,
    PKH,
    (b) => b.txs[0] = unsigned(key, [NOWHERE], [{ amount: 1, pubKeyHash: PKH }]),
  );
  await assertRefused(chain.processBlock(b), "bad-cb-missing", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("bad-cb-multiple: a second coinbase", async () => {
  const { chain, mempool } = newLedger();
  const before = ledgerState(chain, mempool);
  const b = makeBlock(chain, mempool, PKH, (b) => b.txs.push({ ...b.txs[0], lockTime: 77 }));
  await assertRefused(chain.processBlock(b), "bad-cb-multiple", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("bad-txns-duplicate: the same transaction twice", async () => {
  const { chain, mempool } = newLedger();
  const tx = unsigned(await newKey(), [NOWHERE], [{ amount: 1, pubKeyHash: PKH }]);
  const before = ledgerState(chain, mempool);
  const b = makeBlock(chain, mempool, PKH, withTxs(tx, tx));
  await assertRefused(chain.processBlock(b), "bad-txns-duplicate", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("bad-txnmrklroot: a header whose merkle root does not match", async () => {
  const { chain, mempool } = newLedger();
  const before = ledgerState(chain, mempool);
  const b = makeBlock(chain, mempool, PKH);
  const bad = solveSync({ header: { ...b.header, merkleRoot: "00".repeat(32) }, txs: b.txs });
  await assertRefused(chain.processBlock(bad), "bad-txnmrklroot", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("damage in transit (a flipped signature bit, a duplicated last tx) is not remembered as invalid", async () => {
  const { chain, mempool, key, coins } = await fundedLedger();
  const t1 = await spend(key, [coins[0]], [{ amount: COIN_AMOUNT - 1000, pubKeyHash: PKH }]);
  const t2 = await spend(key, [coins[1]], [{ amount: COIN_AMOUNT - 1000, pubKeyHash: PKH }]);
  const intact = makeBlock(chain, undefined, key.pkh, withTxs(t1, t2));
  const before = ledgerState(chain, mempool);

  // The merkle root commits to wtxids, so a damaged signature no longer matches the header.
  const damaged = copyBlock(intact);
  damaged.txs[1].inputs[0].signature[5] ^= 1;
  assert.equal(hashOf(damaged), hashOf(intact));
  await assertRefused(chain.processBlock(damaged), "bad-txnmrklroot");
  // Bitcoin's CVE-2012-2459: with an odd count, repeating the last transaction keeps the merkle root.
  const repeated = copyBlock(intact);
  repeated.txs.push(repeated.txs[2]);
  assert.equal(blockMerkleRoot(repeated.txs), intact.header.merkleRoot);
  await assertRefused(chain.processBlock(repeated), "bad-txns-duplicate");
  assertUnchanged(before, chain, mempool);
  assert.equal(chain.has(hashOf(intact)), false);

  const r = await chain.processBlock(intact);
  assert.equal(r.status, "connected");
  assert.equal(chain.tip.hash, hashOf(intact));
});

Deno.test("bad-diffbits: bits other than required are refused and remembered", async () => {
  const { chain, mempool } = newLedger();
  const before = ledgerState(chain, mempool);
  // Harder than required, so the proof of work itself is fine.
  const b = makeBlock(chain, mempool, PKH, (b) => b.header.bits = 0x2000ffff);
  await assertRefused(chain.processBlock(b), "bad-diffbits", BAN);
  assertUnchanged(before, chain, mempool);
  await assertRefused(chain.processBlock(b), "duplicate-invalid", BAN);
});

Deno.test("time-too-old: a time equal to the median of the last 11 is refused, one second later accepted", async () => {
  const { chain, mempool } = newLedger();
  await mine(chain, mempool, PKH, 11);
  const { minTime } = chain.nextBlockContext();
  const before = ledgerState(chain, mempool);
  const old = makeBlock(chain, mempool, PKH, (b) => b.header.time = minTime - 1);
  await assertRefused(chain.processBlock(old), "time-too-old", BAN);
  assertUnchanged(before, chain, mempool);
  const ok = makeBlock(chain, mempool, PKH, (b) => b.header.time = minTime);
  assert.equal((await chain.processBlock(ok)).status, "connected");
});

Deno.test("time-too-new: more than 2 h ahead costs no blame, and the block is accepted once the clock catches up", async () => {
  let now = NETWORKS.regtest.genesis.header.time + 1_000;
  const { chain, mempool } = newLedger({ now: () => now });
  const before = ledgerState(chain, mempool);
  const b = makeBlock(chain, mempool, PKH, (b) => b.header.time = now + MAX_FUTURE_BLOCK_TIME + 1);
  await assertRefused(chain.processBlock(b), "time-too-new", NO_BLAME);
  assertUnchanged(before, chain, mempool);
  assert.equal(chain.has(hashOf(b)), false);
  now += 1;
  const r = await chain.processBlock(b);
  assert.equal(r.status, "connected");
  assert.equal(chain.height, 1);
});

Deno.test("bad-cb-height: the coinbase commits to another height", async () => {
  const { chain, mempool } = newLedger();
  const before = ledgerState(chain, mempool);
  const b = makeBlock(chain, mempool, PKH, (b) => b.txs[0].lockTime += 1);
  await assertRefused(chain.processBlock(b), "bad-cb-height", BAN);
  assertUnchanged(before, chain, mempool);
});

Deno.test("bad-cb-amount, duplicate-invalid, bad-prevblk: subsidy + fees + 1 fails; so do re-sends and children", async () => {
  const { chain, mempool, key, coins } = await fundedLedger();
  const fee = 12_345;
  await mempool.accept(await spend(key, [coins[0]], [{ amount: COIN_AMOUNT - fee, pubKeyHash: PKH }]));
  const before = ledgerState(chain, mempool);
  const greedy = makeBlock(chain, mempool, PKH, (b) => b.txs[0].outputs[0].amount += 1);
  assert.equal(greedy.txs[0].outputs[0].amount, 50e8 + fee + 1);
  await assertRefused(chain.processBlock(greedy), "bad-cb-amount", BAN);
  assertUnchanged(before, chain, mempool);
  await assertRefused(chain.processBlock(greedy), "duplicate-invalid", BAN);

  const child = makeBlock(chain, undefined, PKH, (b) => {
    b.header.prevHash = hashOf(greedy);
    b.txs[0].lockTime = chain.height + 2;
  });
  await assertRefused(chain.processBlock(child), "bad-prevblk", BAN);
  await assertRefused(chain.processBlock(child), "duplicate-invalid", BAN);
  assertUnchanged(before, chain, mempool);

  // Exactly subsidy + fees is fine.
  const honest = makeBlock(chain, mempool, PKH);
  assert.equal(honest.txs[0].outputs[0].amount, 50e8 + fee);
  assert.equal((await chain.processBlock(honest)).status, "connected");
});

Deno.test("duplicate: the same valid block twice costs no blame", async () => {
  const { chain, mempool } = newLedger();
  const [b] = await mine(chain, mempool, PKH, 1);
  const before = ledgerState(chain, mempool);
  await assertRefused(chain.processBlock(b), "duplicate", NO_BLAME);
  assertUnchanged(before, chain, mempool);
});

Deno.test("an orphan waits for its parent and is connected when the parent arrives", async () => {
  const source = newLedger();
  const [parent, child] = await mine(source.chain, source.mempool, PKH, 2);
  const { chain } = newLedger();
  const r = await chain.processBlock(child);
  assert.deepEqual(r, {
    status: "orphan",
    hash: hashOf(child),
    missingParent: hashOf(parent),
    update: { disconnected: [], connected: [] },
  });
  assert.equal(chain.orphanCount, 1);
  assert.equal(chain.height, 0);
  await assertRefused(chain.processBlock(child), "duplicate", NO_BLAME);

  const r2 = await chain.processBlock(parent);
  assert.equal(r2.status, "connected");
  assert.deepEqual(r2.update.connected.map((c) => c.hash), [hashOf(parent), hashOf(child)]);
  assert.equal(chain.tip.hash, hashOf(child));
  assert.equal(chain.height, 2);
  assert.equal(chain.orphanCount, 0);
});

Deno.test("retarget: block 10 must carry the retargeted bits; the old bits are bad-diffbits", async () => {
  const params = { ...NETWORKS.regtest, noRetargeting: false, retargetInterval: 10 };
  const chain = Chain.open(openStore(":memory:"), params);
  const t0 = params.genesis.header.time;
  // Blocks 1 s apart: the 9 s span is clamped to a quarter of the 100 s aimed at, so blocks get 4 times harder.
  for (let i = 1; i <= 9; i++) await mineAt(chain, PKH, t0 + i);
  assert.equal(chain.height, 9);
  const expected = retargetBits(params.genesis.header.bits, 9, 10 * params.targetSpacing, params.powLimit);
  assert.notEqual(expected, params.genesis.header.bits);
  const { block } = createTemplate(chain, undefined, PKH, { time: t0 + 10 });
  assert.equal(block.header.bits, expected);

  const before = ledgerState(chain);
  const stale = solveSync({ header: { ...block.header, bits: params.genesis.header.bits }, txs: block.txs });
  await assertRefused(chain.processBlock(stale), "bad-diffbits", BAN);
  assertUnchanged(before, chain);
  const r = await chain.processBlock(solveSync(block));
  assert.equal(r.status, "connected");
  assert.equal(chain.tip.header.bits, expected);
  assert.equal(chain.height, 10);
});

Deno.test("bad-txnmrklroot: ids handed in with a block (knownIds) are what its merkle root is checked over", async () => {
  const key = await newKey();
  const { chain, mempool } = newLedger();
  const block = makeBlock(chain, mempool, key.pkh);
  const ids = { txids: block.txs.map(txid), wtxids: block.txs.map(wtxid) };
  const wrong = {
    txids: ids.txids,
    wtxids: ids.wtxids.map((w) => w.replace(/^./, (c) => c === "0" ? "1" : "0")),
  };
  await assert.rejects(
    chain.processBlock(block, undefined, { knownIds: wrong }),
    (e: ValidationError) => e.code === "bad-txnmrklroot",
  );
  const fresh = newLedger();
  await fresh.chain.processBlock(block, undefined, { knownIds: ids });
  assert.equal(fresh.chain.txidsOf(block), ids.txids, "taken, not hashed again");
});
