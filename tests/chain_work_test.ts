/**
 * What the chain stores is bounded by work: unrequested lighter blocks are refused and never written (Core's
 * AcceptBlock), blocks off the best chain need near-current difficulty, orphan blocks are bounded in bytes;
 * and the time-warp guard at retarget boundaries.
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { BAN, NO_BLAME } from "../lib/chain/errors.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { createTemplate, solveSync } from "../lib/mining/template.ts";
import { type Block, encodeBlock } from "../lib/primitives/block.ts";
import { openStore } from "../lib/store/store.ts";
import { mine, mineAt, newLedger, retargetingParams } from "./support/ledger.ts";
import { assertRefused, hashOf } from "./support/rules.ts";
import type { NetworkParams } from "../lib/consensus/params.ts";

const PKH = "ab".repeat(20), OTHER = "cd".repeat(20);

/** A solved block on `chain`'s tip stamped exactly `time` (no bump to the earliest allowed time). */
function blockAt(chain: Chain, time: number, payTo = PKH): Block {
  const { block } = createTemplate(chain, undefined, payTo);
  block.header.time = time;
  return solveSync(block);
}

/** `n` blocks mined on a fresh chain of `params`, `spacing` seconds apart, paying `payTo`. */
async function branch(params: NetworkParams, n: number, spacing: number, payTo: string) {
  const { chain } = newLedger({ params, now: () => params.genesis.header.time + 100_000 });
  const blocks: Block[] = [];
  for (let i = 1; i <= n; i++) {
    blocks.push(await mineAt(chain, payTo, params.genesis.header.time + i * spacing));
  }
  return { chain, blocks };
}

Deno.test("too-little-chainwork: an unrequested block of a lighter branch is refused before its body is read and never stored; asked for, it is kept", async () => {
  const a = newLedger();
  await mine(a.chain, a.mempool, PKH, 3);
  const b = newLedger();
  const fork = await mine(b.chain, b.mempool, OTHER, 4);
  const [f1, f2, f3, f4] = fork;

  // The header decides before the body is read: a damaged body is not even looked at.
  const damaged: Block = { header: f1.header, txs: [...f1.txs, f1.txs[0]] };
  await assertRefused(a.chain.processBlock(damaged, undefined, { requested: false }), "too-little-chainwork");
  // One block behind the tip's work: a race lost honestly, no blame.
  assert.throws(() => a.chain.checkHeader(f1.header, { requested: false }), /too-little-chainwork/);
  await assertRefused(
    a.chain.processBlock(f1, undefined, { requested: false }),
    "too-little-chainwork",
    NO_BLAME,
  );
  assert.equal(a.chain.has(hashOf(f1)), false);
  assert.equal(a.store.getBlock(hashOf(f1)), undefined, "not written");
  // Asked for (a sync batch), the same block is stored as a side block.
  assert.equal((await a.chain.processBlock(f1)).status, "side");
  assert.ok(a.store.getBlock(hashOf(f1)));
  assert.equal((await a.chain.processBlock(f2, undefined, { requested: true })).status, "side");
  // Equal work is worth keeping (Core: more or the same work), and more work takes over.
  assert.equal((await a.chain.processBlock(f3, undefined, { requested: false })).status, "side");
  assert.equal((await a.chain.processBlock(f4, undefined, { requested: false })).status, "connected");
  assert.equal(a.chain.tip.hash, hashOf(f4));
});

Deno.test("too-little-chainwork costs 10 when the block forks far below the tip (a spam side chain, not a lost race)", async () => {
  const a = newLedger();
  await mine(a.chain, a.mempool, PKH, 10);
  const b = newLedger();
  const [f1] = await mine(b.chain, b.mempool, OTHER, 1);
  await assertRefused(a.chain.processBlock(f1, undefined, { requested: false }), "too-little-chainwork", 10);
  assert.equal(a.store.getBlock(hashOf(f1)), undefined);
});

Deno.test("low-difficulty: an orphan or a requested side block needs at least a quarter of the tip's next difficulty", async () => {
  const params = retargetingParams(5);
  // "fast": blocks 1 s apart, so difficulty rises 4 times each retarget: 16 times genesis after 10 blocks.
  const fast = await branch(params, 12, 1, PKH);
  const twin = await branch(params, 13, 1, OTHER); // the same difficulty schedule, other blocks
  const slow = await branch(params, 8, 1_000, OTHER); // difficulty falls to the easiest
  const { chain } = newLedger({ params, now: () => params.genesis.header.time + 100_000 });
  for (const b of fast.blocks) await chain.processBlock(b);
  assert.equal(chain.height, 12);

  // An orphan at the current difficulty waits for its parent; one far easier is refused and scored.
  assert.equal((await chain.processBlock(twin.blocks[12])).status, "orphan");
  await assertRefused(chain.processBlock(slow.blocks[7]), "low-difficulty", 10);
  assert.equal(chain.orphanCount, 1);
  // A requested side block at genesis difficulty (16 times easier than the tip's next) is not kept either.
  await assertRefused(chain.processBlock(slow.blocks[0]), "low-difficulty", 10);
  assert.equal(chain.has(hashOf(slow.blocks[0])), false);
});

Deno.test("orphan blocks are bounded in bytes: the oldest make room", async () => {
  const source = newLedger();
  const blocks = await mine(source.chain, source.mempool, PKH, 6);
  const size = encodeBlock(blocks[1]).length;
  const { chain } = newLedger({ maxOrphanBytes: 3 * size + size / 2 });
  for (const b of blocks.slice(1)) assert.equal((await chain.processBlock(b)).status, "orphan");
  assert.equal(chain.orphanCount, 3);
  assert.ok(chain.orphanBytes <= 3 * size + size / 2);
  assert.deepEqual(blocks.slice(1).map((b) => chain.has(hashOf(b))), [false, false, true, true, true]);
});

Deno.test("time-warp guard: the first block of a retarget period may be at most maxTimewarp older than its parent", async () => {
  const params = retargetingParams(5);
  assert.equal(params.maxTimewarp, 10);
  const t0 = params.genesis.header.time;
  const { chain } = newLedger({ params, now: () => t0 + 100_000 });
  for (let i = 1; i <= 4; i++) await mineAt(chain, PKH, t0 + 100 * i);
  // Block 5 starts a period; its parent (block 4) is at t0 + 400, the median time past at t0 + 200.
  assert.equal(chain.nextBlockContext().minTime, t0 + 390, "templates respect the guard");
  const warped = blockAt(chain, t0 + 389);
  await assertRefused(chain.processBlock(warped), "time-timewarp-attack", BAN);
  await assertRefused(chain.processBlock(warped), "duplicate-invalid", BAN);
  assert.equal((await chain.processBlock(blockAt(chain, t0 + 390))).status, "connected");
  // Inside a period only the median time past applies: block 6 may be 89 s older than block 5.
  assert.equal(chain.nextBlockContext().minTime, t0 + 301);
  assert.equal((await chain.processBlock(blockAt(chain, t0 + 301))).status, "connected");
  for (let i = 7; i <= 9; i++) await mineAt(chain, PKH, t0 + 400 + i);
  // The next boundary, block 10: the same rule.
  const parentTime = chain.tip.header.time;
  await assertRefused(chain.processBlock(blockAt(chain, parentTime - 11)), "time-timewarp-attack", BAN);
  assert.equal((await chain.processBlock(blockAt(chain, parentTime - 10))).status, "connected");
});

Deno.test("time-warp: a period stamped at the median time past, its last block at the real time, cannot start the next period back in the past", async () => {
  const params = retargetingParams(5);
  const t0 = params.genesis.header.time;
  const { chain } = newLedger({ params, now: () => t0 + 100_000 });
  // The attack: every block at the earliest allowed time, the period's last one far later...
  for (let i = 1; i <= 3; i++) await chain.processBlock(blockAt(chain, chain.nextBlockContext().minTime));
  await chain.processBlock(blockAt(chain, t0 + 50_000));
  assert.equal(chain.height, 4);
  // ...so the retarget at block 5 sees a slow period and eases difficulty 4 times; then block 5 would go back
  // to the median time past, ready to make the next period look slow again.
  const back = blockAt(chain, chain.nextBlockContext().minTime - 40_000);
  assert.ok(back.header.time > t0 + 2, "it would pass the median-time-past rule");
  await assertRefused(chain.processBlock(back), "time-timewarp-attack", BAN);
  assert.equal(chain.height, 4);
});

Deno.test("the time-warp guard applies only where difficulty retargets (not regtest)", async () => {
  const params = { ...NETWORKS.regtest, retargetInterval: 5 };
  const chain = Chain.open(openStore(":memory:"), params);
  const t0 = params.genesis.header.time;
  for (let i = 1; i <= 4; i++) await mineAt(chain, PKH, t0 + 100 * i);
  assert.equal((await chain.processBlock(blockAt(chain, t0 + 300))).status, "connected");
});

Deno.test("an orphan kept unread is decoded and checked only when its parent comes; a damaged one is dropped then", async () => {
  const source = newLedger();
  const [parent, child] = await mine(source.chain, source.mempool, PKH, 2);
  const { chain } = newLedger();
  assert.equal(chain.checkHeader(child.header, { requested: false }), "orphan");
  const bytes = encodeBlock(child);
  chain.keepOrphan(child.header, bytes.slice(0, bytes.length - 3)); // the right header, a truncated body
  assert.equal(chain.orphanCount, 1);
  assert.equal((await chain.processBlock(parent)).status, "connected");
  assert.equal(chain.orphanCount, 0);
  assert.equal(chain.height, 1, "the damaged copy was dropped, not connected");
  assert.equal((await chain.processBlock(child, undefined, { requested: false })).status, "connected");
  // An intact one kept unread is connected with its parent.
  const next = await mine(source.chain, source.mempool, PKH, 2);
  chain.keepOrphan(next[1].header, encodeBlock(next[1]));
  const r = await chain.processBlock(next[0]);
  assert.deepEqual(r.update.connected.map((c) => c.hash), next.map(hashOf));
});
