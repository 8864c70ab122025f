/** The on-disk store across restarts: what survives close/reopen, the data directory lock, and start-up cost. */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import type { Block } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { DataDirLocked, lockDataDir } from "../lib/store/lock.ts";
import { openStore, Store, StoreError } from "../lib/store/store.ts";
import { spawnChild } from "./support/crash_child.ts";
import { coinbaseOut, mine, newKey, newLedger, spend } from "./support/ledger.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

/** Counts calls of a `Store` method (on every store) until `restore()`. */
function spyOn(method: "getBlock" | "getUndo"): { calls(): number; restore(): void } {
  const original = Store.prototype[method];
  let calls = 0;
  Store.prototype[method] = function (this: Store, hash: string) {
    calls++;
    return original.call(this, hash);
  };
  return { calls: () => calls, restore: () => void (Store.prototype[method] = original) };
}

const snapshot = (chain: Chain) => ({
  tip: chain.tip.hash,
  height: chain.height,
  chainWork: chain.tip.chainWork,
  works: Array.from({ length: chain.height + 1 }, (_, h) => chain.entryAt(h)!.chainWork),
  coins: new Map(chain.coins()),
});

/** A ledger over a store at `path` with `n` blocks mined to a new key: the ledger, the key, the blocks, the tip. */
async function minedLedger(path: string, n: number) {
  const key = await newKey();
  const a = newLedger({ path });
  const blocks: Block[] = await mine(a.chain, a.mempool, key.pkh, n);
  return { a, key, blocks, tip: a.chain.tip.hash };
}

Deno.test("a restart keeps tip, height, chainwork and coins, and mining goes on from there", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { a, key, blocks: base } = await minedLedger(path, 11);
    const pay = await spend(key, [coinbaseOut(base[0])], [
      { amount: 20e8, pubKeyHash: key.pkh },
      { amount: 30e8 - 1000, pubKeyHash: key.pkh },
    ]);
    await a.mempool.accept(pay);
    await mine(a.chain, a.mempool, key.pkh, 1);
    const before = snapshot(a.chain);
    a.store.close();

    const b = newLedger({ path });
    try {
      assert.deepEqual(snapshot(b.chain), before);
      assert.equal(b.chain.getCoin({ txid: txid(pay), index: 1 })?.amount, 30e8 - 1000);
      // The reopened chain spends what the first one created and keeps growing.
      const next = await spend(key, [{ txid: txid(pay), index: 0 }], [
        { amount: 10e8, pubKeyHash: key.pkh },
        { amount: 10e8 - 1000, pubKeyHash: key.pkh },
      ]);
      await b.mempool.accept(next);
      await mine(b.chain, b.mempool, key.pkh, 1);
      assert.equal(b.chain.height, before.height + 1);
      assert.equal(b.chain.getCoin({ txid: txid(pay), index: 0 }), undefined);
      assert.deepEqual(diffCoins(b.chain.coins(), rebuildCoins(b.chain).coins), []);
    } finally {
      b.store.close();
    }
  });
});

Deno.test("a held data directory refuses a second lock in this process, naming the directory", async () => {
  await withTempDir((dir) => {
    const lock = lockDataDir(dir);
    try {
      assert.throws(() => lockDataDir(dir), (e) => e instanceof DataDirLocked && e.message.includes(dir));
    } finally {
      lock.release();
    }
    lockDataDir(dir).release(); // free again after release
  });
});

Deno.test("the lock holds across processes and a SIGKILLed holder frees it", async () => {
  await withTempDir(async (dir) => {
    const holder = spawnChild([dir, "hold"]);
    try {
      await holder.waitForLine((l) => l === "locked");
      assert.throws(() => lockDataDir(dir), (e) => e instanceof DataDirLocked && e.message.includes(dir));
      const status = await holder.kill();
      assert.equal(status.signal, "SIGKILL");
    } finally {
      await holder.kill();
    }
    const lock = lockDataDir(dir);
    try {
      // And the other way round: a child miner refuses to start while this process holds the directory.
      const miner = spawnChild([dir]);
      const status = await miner.exited;
      await miner.kill();
      assert.equal(status.success, false);
      assert.match(await miner.stderr, /DataDirLocked/);
      assert.ok((await miner.stderr).includes(dir));
      assert.deepEqual(miner.lines, []);
      await assert.rejects(Deno.stat(`${dir}/chain.sqlite`), Deno.errors.NotFound, "it touched no store");
    } finally {
      lock.release();
    }
  });
});

Deno.test("a store of another network is refused with a StoreError and left as it was", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { a, tip } = await minedLedger(path, 3);
    a.store.close();

    const store = openStore(path);
    try {
      assert.throws(
        () => Chain.open(store, NETWORKS.main),
        (e) => e instanceof StoreError && /regtest/.test(e.message) && /main/.test(e.message),
      );
      assert.equal(Chain.open(store, NETWORKS.regtest).tip.hash, tip);
    } finally {
      store.close();
    }

    const mainPath = `${dir}/main.sqlite`;
    openStore(mainPath).close();
    const mainStore = openStore(mainPath);
    try {
      assert.equal(Chain.open(mainStore, NETWORKS.main).tip.hash, NETWORKS.main.genesisHash);
      assert.throws(() => Chain.open(mainStore, NETWORKS.regtest), StoreError);
    } finally {
      mainStore.close();
    }
  });
});

Deno.test("a reorg after a restart disconnects with undo data read from disk", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const alice = await newKey(), bob = await newKey(), carol = await newKey();
    const a = newLedger({ path });
    const base = await mine(a.chain, a.mempool, alice.pkh, 11);

    // Branch A (2 blocks): alice pays bob from block 1's coinbase, and bob passes it on in the same block.
    const pay = await spend(alice, [coinbaseOut(base[0])], [
      { amount: 10e8, pubKeyHash: bob.pkh },
      { amount: 40e8 - 1000, pubKeyHash: alice.pkh },
    ]);
    const onward = await spend(bob, [{ txid: txid(pay), index: 0 }], [
      { amount: 5e8, pubKeyHash: carol.pkh },
      { amount: 5e8 - 1000, pubKeyHash: bob.pkh },
    ]);
    // And block 2's coinbase, which branch B leaves unspent: only undo data can bring it back.
    const other = await spend(alice, [coinbaseOut(base[1])], [
      { amount: 1e8, pubKeyHash: bob.pkh },
      { amount: 49e8 - 1000, pubKeyHash: alice.pkh },
    ]);
    for (const tx of [pay, onward, other]) await a.mempool.accept(tx);
    const branchA = await mine(a.chain, a.mempool, alice.pkh, 2);
    assert.equal(branchA[0].txs.length, 4);
    assert.equal(a.chain.getCoin(coinbaseOut(base[1])), undefined);
    a.store.close();

    // Branch B (3 blocks), built elsewhere on the same base: it spends the same coinbase differently.
    const b = newLedger();
    for (const block of base) await b.chain.processBlock(block);
    const conflict = await spend(alice, [coinbaseOut(base[0])], [
      { amount: 25e8, pubKeyHash: carol.pkh },
      { amount: 25e8 - 2000, pubKeyHash: alice.pkh },
    ]);
    await b.mempool.accept(conflict);
    const branchB = await mine(b.chain, b.mempool, carol.pkh, 3);

    const c = newLedger({ path });
    try {
      assert.equal(c.chain.tip.hash, blockHashSync(branchA[1].header));
      const undoReads = spyOn("getUndo");
      try {
        for (const block of branchB) await c.chain.processBlock(block);
      } finally {
        undoReads.restore();
      }
      assert.equal(
        undoReads.calls(),
        2,
        "both blocks of branch A were disconnected with their stored undo data",
      );
      assert.equal(c.chain.tip.hash, b.chain.tip.hash);
      assert.deepEqual(diffCoins(c.chain.coins(), rebuildCoins(c.chain).coins), []);
      assert.deepEqual(diffCoins(c.chain.coins(), new Map(b.chain.coins())), []);
      assert.equal(c.chain.getCoin({ txid: txid(pay), index: 1 }), undefined);
      assert.equal(c.chain.getCoin({ txid: txid(conflict), index: 0 })?.amount, 25e8);
      assert.equal(c.chain.getCoin(coinbaseOut(base[1]))?.amount, 50e8);
    } finally {
      c.store.close();
    }
    // The reorg itself survives a restart.
    const d = newLedger({ path });
    try {
      assert.equal(d.chain.tip.hash, b.chain.tip.hash);
      assert.deepEqual(diffCoins(d.chain.coins(), new Map(b.chain.coins())), []);
      assert.equal(d.chain.getCoin(coinbaseOut(base[1]))?.amount, 50e8);
    } finally {
      d.store.close();
    }
  });
});

Deno.test("start-up reads the index and coins but no block bodies or undo data", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { a, blocks, tip } = await minedLedger(path, 2000);
    a.store.close();

    const store = openStore(path);
    try {
      const blockReads = spyOn("getBlock"), undoReads = spyOn("getUndo");
      let chain: Chain;
      try {
        chain = Chain.open(store, NETWORKS.regtest);
        assert.equal(blockReads.calls(), 0, "no block body read at start-up");
        assert.equal(undoReads.calls(), 0, "no undo data read at start-up");
        // The spy does see reads, so the zeros above mean something.
        assert.deepEqual(chain.getBlock(tip), blocks.at(-1));
        assert.equal(blockReads.calls(), 1);
      } finally {
        blockReads.restore();
        undoReads.restore();
      }
      assert.equal(chain.height, 2000);
      assert.equal(chain.tip.hash, tip);
      assert.equal(chain.coinCount, 2000);
    } finally {
      store.close();
    }
  });
});

Deno.test("a store write that fails part-way changes nothing: the coins it deleted are back, the tip is the old one", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { a, blocks: [first], tip } = await minedLedger(path, 2);
    const spent = `${txid(first.txs[0])}:0`;
    assert.ok(a.chain.getCoin(coinbaseOut(first)));
    // The deletion runs first; the insertion then breaks the NOT NULL constraint on the key hash.
    const broken = { amount: 1, pubKeyHash: null as unknown as string, height: 3, coinbase: false };
    assert.throws(
      () =>
        a.store.applyBlock({
          hash: "ab".repeat(32),
          spent: [spent],
          created: [["cd".repeat(32) + ":0", broken]],
          undo: new Uint8Array(1),
          tip: "ab".repeat(32),
        }),
      (e) => e instanceof StoreError && /nothing was changed/.test(e.message),
    );
    a.store.close();
    const b = newLedger({ path });
    try {
      assert.equal(b.chain.tip.hash, tip);
      assert.ok(b.chain.getCoin(coinbaseOut(first)), "the deleted coin is back");
      assert.deepEqual(diffCoins(b.chain.coins(), rebuildCoins(b.chain).coins), []);
    } finally {
      b.store.close();
    }
  });
});

Deno.test("a block's coins are written and deleted in batches: every one, across the batches' edges", () => {
  const store = openStore(":memory:");
  try {
    const key = (i: number) => `${i.toString(16).padStart(64, "0")}:${i % 3}`;
    const coin = (i: number) => ({
      amount: 1_000 + i,
      pubKeyHash: "ab".repeat(20),
      height: i,
      coinbase: i % 2 === 0,
    });
    const hash = (i: number) => i.toString(16).padStart(64, "0");
    // Counts around the batch of 32: below, at, above, and several batches with a remainder.
    let next = 0;
    const live = new Map<string, ReturnType<typeof coin>>();
    for (
      const [spend, create] of [[0, 31], [0, 32], [0, 33], [31, 65], [32, 100], [33, 7], [64, 1], [1, 0]]
    ) {
      const spent = [...live.keys()].slice(0, spend);
      const created = Array.from({ length: create }, () => next++).map((i) => [key(i), coin(i)] as const);
      store.applyBlock({
        hash: hash(next),
        spent,
        created: created.map(([k, c]) => [k, c]),
        undo: null,
        tip: hash(next),
      });
      for (const k of spent) live.delete(k);
      for (const [k, c] of created) live.set(k, c);
      const stored = new Map(store.loadCoins());
      assert.equal(stored.size, live.size, `after spending ${spend} and creating ${create}`);
      for (const [k, c] of live) assert.deepEqual(stored.get(k), c, k);
    }
  } finally {
    store.close();
  }
});
