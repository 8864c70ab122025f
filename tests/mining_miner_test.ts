/** The miner over a real chain: blocks it finds pass full validation; a new tip restarts its work at once. */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { Miner, type MinerHost } from "../lib/mining/miner.ts";
import { createTemplate } from "../lib/mining/template.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { openStore } from "../lib/store/store.ts";
import { coinbaseOut, mine, newKey, newLedger, spend } from "./support/ledger.ts";

/** Polls `cond` until true; the limit only keeps a broken miner from hanging the suite. */
async function until(cond: () => boolean, what: string, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `p`, or a rejection after `limitMs` naming `what`. */
function within<T>(p: Promise<T>, what: string, limitMs = 30_000): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, rej) =>
    t = setTimeout(() => rej(new Error(`timed out: ${what}`)), limitMs)
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

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
    await until(() => chain.height >= 5, "five blocks");
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
  // A genesis whose bits ask about 2^48 hashes a block: no search ends by finding one, so a second template
  // can only come from dropping the first search, and stop() can only return by interrupting one.
  const header = { ...NETWORKS.main.genesis.header, bits: 0x1b00ffff };
  const params = {
    ...NETWORKS.main,
    genesis: { ...NETWORKS.main.genesis, header },
    genesisHash: blockHashSync(header),
    noRetargeting: true,
  };
  const chain = Chain.open(openStore(":memory:"), params);
  const mempool = new Mempool(chain);
  const key = await newKey();
  const h = hostFor(chain, mempool, key.pkh);
  const miner = new Miner(h.host, { threads: 1 });
  try {
    miner.start();
    await until(() => miner.status().hashrate > 0, "the first search to run");
    assert.equal(h.templates(), 1);
    h.tipChanged();
    await until(() => h.templates() === 2, "a fresh template after the tip changed");
    await until(() => miner.status().hashrate > 0, "the second search to run");
    await within(miner.stop(), "stop() to interrupt the search");
    assert.equal(miner.status().mining, false);
    assert.equal(h.templates(), 2);
    assert.equal(chain.height, 0);
  } finally {
    await miner.close();
  }
});
