/**
 * Write-behind (`ChainOptions.writeBehind`): a connected block is fully validated and connected in memory, and
 * reaches the store later, with the blocks after it, in one transaction. What it must keep: the blocks that
 * wait are served as if stored; they commit within `FLUSH_AFTER_MS`, or at once when `MAX_UNFLUSHED_BLOCKS`
 * wait; a reorg over them reads their undo data; a store that refuses the commit loses nothing in memory and
 * refuses new blocks only past the bound; a crash before the commit leaves the store at its last tip,
 * consistent, and the blocks sent again (as peers do) rebuild the same chain. The crash at each store write of
 * such a commit (SIGKILL) is in store_crash_inject_test.ts.
 */
import assert from "node:assert/strict";
import { Chain, FLUSH_AFTER_MS, MAX_UNFLUSHED_BLOCKS } from "../lib/chain/chain.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import type { Block } from "../lib/primitives/block.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { openStore, StoreError } from "../lib/store/store.ts";
import { openFailingStore } from "./support/failing_store.ts";
import { fannedLedger, makeBlock, newKey, newLedger, params, spend } from "./support/ledger.ts";
import { hashOf, withTxs } from "./support/rules.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

/** The 12 blocks of a fanned ledger, then `extra` blocks each spending one of the fan's outputs. */
async function blocksOf(extra: number): Promise<{ blocks: Block[]; reference: Chain }> {
  const { key, ledger, history, fan } = await fannedLedger(Math.max(1, extra));
  const blocks = [...history];
  for (let i = 0; i < extra; i++) {
    const tx = await spend(key, [{ txid: txid(fan), index: i }], [{
      amount: 8e8 - 10_000,
      pubKeyHash: key.pkh,
    }]);
    const b = makeBlock(ledger.chain, undefined, key.pkh, withTxs(tx));
    await ledger.chain.processBlock(b);
    blocks.push(b);
  }
  return { blocks, reference: ledger.chain };
}

const sortedCoins = (chain: Chain) => JSON.stringify([...chain.coins()].sort(([a], [b]) => a < b ? -1 : 1));

/** The chain a fresh process would read from the file at `path`: its height, and its coins replayed. */
function onDisk(path: string): { height: number; tip: string; coins: string; replayed: boolean } {
  const store = openStore(path);
  try {
    const chain = Chain.open(store, params);
    const replayed = diffCoins(chain.coins(), rebuildCoins(chain).coins).length === 0;
    return { height: chain.height, tip: chain.tip.hash, coins: sortedCoins(chain), replayed };
  } finally {
    store.close();
  }
}

Deno.test("write-behind: connected blocks are served before their commit, and commit together within FLUSH_AFTER_MS", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks, reference } = await blocksOf(3);
    const { store, chain } = newLedger({ path, writeBehind: true });
    try {
      for (const b of blocks) assert.equal((await chain.processBlock(b)).status, "connected");
      assert.equal(chain.height, blocks.length);
      assert.equal(chain.unflushed, blocks.length);
      assert.equal(onDisk(path).height, 0, "nothing committed yet");
      const last = blocks.at(-1)!;
      assert.deepEqual(chain.getBlockBytes(hashOf(last)), encodeBlock(last), "a waiting block is served");
      assert.deepEqual(chain.getBlock(hashOf(last)), last);
      assert.equal(sortedCoins(chain), sortedCoins(reference));
      await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS + 150));
      assert.equal(chain.unflushed, 0, "committed by the timer");
      const disk = onDisk(path);
      assert.equal(disk.height, blocks.length);
      assert.equal(disk.coins, sortedCoins(reference));
      assert.ok(disk.replayed);
    } finally {
      chain.close();
      store.close();
    }
  });
});

Deno.test("write-behind: MAX_UNFLUSHED_BLOCKS wait at most; the next block commits them first; activeBlocks reads them", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks } = await blocksOf(MAX_UNFLUSHED_BLOCKS + 1 - 12);
    assert.equal(blocks.length, MAX_UNFLUSHED_BLOCKS + 1);
    const { store, chain } = newLedger({ path, writeBehind: true });
    try {
      for (const [i, b] of blocks.entries()) {
        await chain.processBlock(b);
        const n = i + 1;
        // N-1 and N wait (none committed); N+1 commits the N before it and waits alone.
        if (n <= MAX_UNFLUSHED_BLOCKS) assert.equal(chain.unflushed, n, `after ${n} blocks`);
      }
      assert.equal(chain.unflushed, 1);
      assert.equal(onDisk(path).height, MAX_UNFLUSHED_BLOCKS);
      const read = [...chain.activeBlocks(1, chain.height)].map((x) => hashOf(x.block));
      assert.deepEqual(read, blocks.map(hashOf), "activeBlocks reads the waiting block too");
    } finally {
      chain.close();
      store.close();
    }
    assert.equal(onDisk(path).height, MAX_UNFLUSHED_BLOCKS + 1, "close commits what waits");
  });
});

Deno.test("write-behind: a reorg disconnects blocks still waiting for their commit; memory and disk agree after", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks: a, reference } = await blocksOf(3); // 12 shared blocks, then A1-A3 spending the fan
    const other = await newKey();
    const b = newLedger();
    for (const x of a.slice(0, 12)) await b.chain.processBlock(x);
    const branch: Block[] = [];
    for (let i = 0; i < 4; i++) {
      const x = makeBlock(b.chain, undefined, other.pkh);
      await b.chain.processBlock(x);
      branch.push(x);
    }
    const { store, chain } = newLedger({ path, writeBehind: true });
    try {
      for (const x of a) await chain.processBlock(x);
      assert.equal(chain.unflushed, a.length);
      for (const x of branch) await chain.processBlock(x);
      assert.equal(chain.tip.hash, hashOf(branch.at(-1)!));
      for (const x of a.slice(12)) assert.ok(!chain.isActive(chain.entry(hashOf(x))!));
      assert.equal(sortedCoins(chain), sortedCoins(b.chain));
      assert.notEqual(sortedCoins(chain), sortedCoins(reference));
    } finally {
      chain.close();
      store.close();
    }
    const disk = onDisk(path);
    assert.equal(disk.tip, hashOf(branch.at(-1)!));
    assert.equal(disk.coins, sortedCoins(b.chain));
    assert.ok(disk.replayed);
  });
});

Deno.test("write-behind: a refused commit loses nothing in memory; past the bound new blocks are refused until the disk heals", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks, reference } = await blocksOf(MAX_UNFLUSHED_BLOCKS + 2 - 12);
    const failing = openFailingStore(path);
    const errors: unknown[] = [];
    const chain = Chain.open(failing.store, params, {
      writeBehind: true,
      onFlushError: (e) => errors.push(e),
    });
    try {
      failing.failAt(1, true); // the disk is full from now on
      for (const b of blocks.slice(0, MAX_UNFLUSHED_BLOCKS)) await chain.processBlock(b);
      await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS + 150));
      assert.ok(errors[0] instanceof StoreError, "the timed commit failed and said so");
      assert.equal(chain.height, MAX_UNFLUSHED_BLOCKS, "memory keeps every connected block");
      assert.equal(chain.unflushed, MAX_UNFLUSHED_BLOCKS);
      const next = blocks[MAX_UNFLUSHED_BLOCKS];
      await assert.rejects(chain.processBlock(next), StoreError);
      assert.equal(chain.height, MAX_UNFLUSHED_BLOCKS, "past the bound a block is refused, memory unchanged");
      failing.heal();
      for (const b of blocks.slice(MAX_UNFLUSHED_BLOCKS)) await chain.processBlock(b); // a peer sends it again
      assert.equal(chain.height, blocks.length);
      assert.equal(sortedCoins(chain), sortedCoins(reference));
      chain.close();
    } finally {
      failing.store.close();
    }
    const disk = onDisk(path);
    assert.equal(disk.height, blocks.length);
    assert.equal(disk.coins, sortedCoins(reference));
  });
});

Deno.test("write-behind: a crash before the commit leaves the last committed tip, consistent; the blocks sent again rebuild the chain", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks, reference } = await blocksOf(3);
    const first = newLedger({ path, writeBehind: true, onFlushError: () => {} });
    for (const b of blocks.slice(0, 10)) await first.chain.processBlock(b);
    first.chain.flush(); // committed: 10 blocks
    for (const b of blocks.slice(10)) await first.chain.processBlock(b);
    assert.equal(first.chain.unflushed, blocks.length - 10);
    first.store.close(); // the process dies: what waited in memory is gone (its timed commit finds no store)
    await new Promise((r) => setTimeout(r, FLUSH_AFTER_MS + 150));
    const disk = onDisk(path);
    assert.equal(disk.height, 10, "the last committed tip");
    assert.ok(disk.replayed, "its UTXO set is its chain's");
    const { store, chain } = newLedger({ path, writeBehind: true });
    try {
      for (const b of blocks) await chain.processBlock(b).catch(() => {}); // the peers send them again
      assert.equal(chain.tip.hash, reference.tip.hash);
      assert.equal(sortedCoins(chain), sortedCoins(reference));
    } finally {
      chain.close();
      store.close();
    }
  });
});

Deno.test("write-behind waits for the UTXO set's load: a coin spent while the store still answers for it stays spent", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { blocks } = await blocksOf(1);
    const template = newLedger({ path });
    for (const b of blocks.slice(0, -1)) await template.chain.processBlock(b);
    template.store.close();
    const { store, chain } = newLedger({ path, writeBehind: true, coinsInBackground: true });
    try {
      const last = blocks.at(-1)!;
      const spent = last.txs[1].inputs[0].prevout;
      assert.ok(chain.getCoin(spent), "the coin is there before");
      await chain.processBlock(last); // the set is not loaded: the store must hold the spend at once
      assert.equal(chain.getCoin(spent), undefined, "spent, also while the store answers for the set");
      assert.equal(chain.unflushed, 0);
    } finally {
      chain.close();
      store.close();
    }
  });
});
