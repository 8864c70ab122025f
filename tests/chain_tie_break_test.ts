/**
 * Tie-breaks of the fork choice: after a branch with more work fails to connect, the chain settles on the
 * valid tip with the most work and, between equal-work tips, on the one seen first (as Bitcoin does), in
 * memory, on disk, and after a restart; whichever branch was seen first.
 */
import assert from "node:assert/strict";
import { ValidationError } from "../lib/chain/errors.ts";
import type { Block } from "../lib/primitives/block.ts";
import { makeBlock, mine, newKey, newLedger, type TestKey } from "./support/ledger.ts";
import { hashOf } from "./support/rules.ts";
import { withTempDir } from "./support/temp_dir.ts";

/** Two branches of two blocks from one base, and on each a third block whose coinbase pays one unit too much. */
async function branches(key: TestKey) {
  const m = newLedger();
  const base = await mine(m.chain, m.mempool, key.pkh, 2);
  const grow = async (other: TestKey) => {
    const l = newLedger();
    for (const b of base) await l.chain.processBlock(b);
    const out = await mine(l.chain, l.mempool, other.pkh, 2);
    return {
      blocks: out,
      bad: makeBlock(l.chain, undefined, other.pkh, (b) => b.txs[0].outputs[0].amount += 1),
    };
  };
  return { base, A: await grow(await newKey()), B: await grow(await newKey()) };
}

async function refusedCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ValidationError) return e.code;
    throw e;
  }
  return "accepted";
}

for (const firstSeen of ["A", "B"] as const) {
  Deno.test(`a more-work branch fails: of two equal-work tips, the first seen (${firstSeen}) is active, also on disk and after a restart`, async () => {
    await withTempDir(async (dir) => {
      const key = await newKey();
      const { base, A, B } = await branches(key);
      const path = `${dir}/chain.sqlite`;
      const l = newLedger({ path });
      for (const blk of base) await l.chain.processBlock(blk);
      const [first, second, bad] = firstSeen === "A"
        ? [A.blocks, B.blocks, B.bad]
        : [B.blocks, A.blocks, A.bad];
      const feed = async (blocks: Block[]) => {
        for (const blk of blocks) await l.chain.processBlock(blk);
      };
      await feed(first);
      await feed(second);
      assert.equal(l.chain.tip.hash, hashOf(first[1]), "equal work: the first seen stays");
      // The other branch's third block has more work: that branch is connected up to its second block (the
      // equal-work tip seen later), then its third fails.
      assert.equal(await refusedCode(l.chain.processBlock(bad)), "bad-cb-amount");
      assert.equal(l.chain.tip.hash, hashOf(first[1]), `after the failure: ${firstSeen}2, seen first`);
      assert.equal(l.store.getMeta("tip"), hashOf(first[1]), "the store's tip");
      l.store.close();
      const again = newLedger({ path });
      try {
        assert.deepEqual(await again.chain.resume(), { disconnected: [], connected: [] });
        assert.equal(again.chain.tip.hash, hashOf(first[1]), "after a restart");
      } finally {
        again.store.close();
      }
    });
  });
}

Deno.test("three equal-work tips: after a heavier branch on the last one fails, the first seen is active", async () => {
  const key = await newKey();
  const m = newLedger();
  const base = await mine(m.chain, m.mempool, key.pkh, 2);
  const tips: Block[] = [];
  for (let i = 0; i < 3; i++) {
    const l = newLedger();
    for (const b of base) await l.chain.processBlock(b);
    tips.push(...await mine(l.chain, l.mempool, (await newKey()).pkh, 1));
    if (i === 2) tips.push(makeBlock(l.chain, undefined, key.pkh, (b) => b.txs[0].outputs[0].amount += 1));
  }
  const l = newLedger();
  for (const b of base) await l.chain.processBlock(b);
  for (const b of tips.slice(0, 3)) await l.chain.processBlock(b);
  assert.equal(await refusedCode(l.chain.processBlock(tips[3])), "bad-cb-amount");
  assert.equal(l.chain.tip.hash, hashOf(tips[0]));
});
