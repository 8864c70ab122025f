/** The miner over a real chain: blocks it finds pass full validation; a new tip restarts its work at once. */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { Miner, type MinerHost } from "../lib/mining/miner.ts";
import { createTemplate } from "../lib/mining/template.ts";
import { openStore } from "../lib/store/store.ts";
import { coinbaseOut, mine, newKey, newLedger, spend } from "./support/ledger.ts";

function hostFor(chain: Chain, mempool: Mempool, payTo: string) {
  const watchers = new Set<() => void>();
  let templates = 0;
  const host: MinerHost = {
    template: () => {
      templates++;
      return createTemplate(chain, mempool, payTo);
    },
    submit: async (block) => {
      const r = await chain.processBlock(block);
      await mempool.chainUpdated(r.update);
      for (const w of watchers) w();
      return r.hash;
    },
    watchTip: (cb) => {
      watchers.add(cb);
      return () => watchers.delete(cb);
    },
    mempoolFees: () => mempool.totalFees,
  };
  return { host, templates: () => templates, tipChanged: () => watchers.forEach((w) => w()) };
}

Deno.test("blocks mined by the workers pass full validation, with the mempool's transactions", async () => {
  const { chain, mempool } = newLedger();
  const key = await newKey(), other = await newKey();
  const [first] = await mine(chain, mempool, key.pkh, 11);
  const tx = await spend(key, [coinbaseOut(first)], [{ amount: 10e8, pubKeyHash: other.pkh }, {
    amount: 40e8 - 5000,
    pubKeyHash: key.pkh,
  }]);
  await mempool.accept(tx);
  const miner = new Miner(hostFor(chain, mempool, key.pkh).host, { threads: 2 });
  try {
    const hashes = await miner.mineBlocks(3);
    assert.equal(hashes.length, 3);
    assert.equal(chain.height, 14);
    assert.deepEqual(hashes, [12, 13, 14].map((h) => chain.entryAt(h)!.hash));
    assert.equal(mempool.size, 0, "the payment was mined");
    assert.equal(chain.getBlock(hashes[0])!.txs.length, 2);
    // A second chain that saw none of it accepts the same blocks: they are valid, not just locally accepted.
    const fresh = newLedger();
    for (let h = 1; h <= 14; h++) await fresh.chain.processBlock(chain.getBlock(chain.entryAt(h)!.hash)!);
    assert.equal(fresh.chain.tip.hash, chain.tip.hash);
  } finally {
    await miner.close();
  }
});

Deno.test("continuous mining keeps finding blocks until stopped", async () => {
  const { chain, mempool } = newLedger();
  const key = await newKey();
  const miner = new Miner(hostFor(chain, mempool, key.pkh).host, { threads: 1 });
  try {
    miner.start();
    const end = Date.now() + 10_000;
    while (chain.height < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(chain.height >= 5);
    await miner.stop();
    assert.equal(miner.status().mining, false);
    const h = chain.height;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(chain.height, h, "no block after stop");
  } finally {
    await miner.close();
  }
});

Deno.test("a new tip makes the miner drop its stale search and build a new template at once", async () => {
  // Main-network difficulty: a block takes seconds, so the search is surely running when the tip changes.
  const chain = Chain.open(openStore(":memory:"), NETWORKS.main);
  const mempool = new Mempool(chain);
  const key = await newKey();
  const h = hostFor(chain, mempool, key.pkh);
  const miner = new Miner(h.host, { threads: 1 });
  try {
    miner.start();
    const start = Date.now();
    while (miner.status().hashrate === 0 && Date.now() - start < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(h.templates(), 1);
    const t0 = performance.now();
    h.tipChanged();
    while (h.templates() < 2 && performance.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 1));
    const restartMs = performance.now() - t0;
    assert.equal(h.templates(), 2, "a fresh template after the tip changed");
    assert.ok(
      restartMs < 250,
      `restarted after ${restartMs.toFixed(1)} ms (generous bound; the bench reports the real figure)`,
    );
    const s0 = performance.now();
    await miner.stop();
    assert.ok(performance.now() - s0 < 250, "stop returns promptly");
    assert.equal(chain.height, 0);
  } finally {
    await miner.close();
  }
});
