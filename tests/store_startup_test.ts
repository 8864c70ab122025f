/**
 * Start-up reads: the block index and the UTXO set come back a page at a time (`PAGE_ROWS`), every row once,
 * parents before children, also when a page ends inside a height; entries reopened from the store decode
 * their headers when read and link to the same parents.
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { encodeHeader } from "../lib/primitives/header.ts";
import { BLOCK_PAGE_HEIGHTS, openStore, PAGE_ROWS } from "../lib/store/store.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import type { CoinEntry } from "../lib/store/store.ts";
import { mine, newKey, newLedger, params } from "./support/ledger.ts";
import { seededBytes } from "./support/random.ts";
import { withTempDir } from "./support/temp_dir.ts";

/** A hex hash from a seed. */
const hashOf = (seed: number) => seededBytes(32, seed).toHex();

Deno.test("the index comes back in pages: every row once, by height then arrival, across pages that end mid-height", () => {
  const store = openStore(":memory:");
  try {
    // Three rows a height, so that page boundaries fall inside heights; heights stored out of order.
    const heights = Math.ceil((2 * PAGE_ROWS + 5) / 3);
    const order = Array.from({ length: heights }, (_, h) => h).reverse();
    const expected: string[][] = Array.from({ length: heights }, () => []);
    let seed = 1;
    for (const h of order) {
      for (let k = 0; k < 3; k++) {
        const hash = hashOf(seed++);
        store.putBlock(
          { hash, height: h, header: seededBytes(80, seed), chainWork: BigInt(h), status: 0 },
          new Uint8Array(1),
        );
        expected[h].push(hash);
      }
    }
    const rows = [...store.loadIndex()];
    assert.equal(rows.length, heights * 3);
    assert.deepEqual(rows.map((r) => r.hash), expected.flat());
    assert.deepEqual(rows.map((r) => r.height), expected.flatMap((hs, h) => hs.map(() => h)));
    assert.equal(rows[5].chainWork, 1n);
  } finally {
    store.close();
  }
});

Deno.test("the UTXO set comes back in pages: every coin once", () => {
  const store = openStore(":memory:");
  try {
    const created: CoinEntry[] = Array.from({ length: 2 * PAGE_ROWS + 3 }, (_, i) => [
      `${hashOf(i)}:${i % 3}`,
      { amount: i + 1, pubKeyHash: hashOf(100_000 + i).slice(0, 40), height: i, coinbase: i % 2 === 0 },
    ]);
    store.applyBlock({ hash: hashOf(-1), spent: [], created, undo: null, tip: hashOf(-1) });
    const coins = [...store.loadCoins()];
    assert.equal(coins.length, created.length);
    assert.deepEqual(new Map(coins), new Map(created));
  } finally {
    store.close();
  }
});

Deno.test("a reopened chain's entries have the same headers, parents and branches as before", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const l = newLedger({ path });
    const key = await newKey();
    await mine(l.chain, l.mempool, key.pkh, 12);
    // A side branch from height 10, stored but not active: another ledger replays 1..10 and mines its own 11.
    const other = newLedger();
    for (let h = 1; h <= 10; h++) await other.chain.processBlock(l.chain.getBlock(l.chain.entryAt(h)!.hash)!);
    const [side] = await mine(other.chain, other.mempool, (await newKey()).pkh, 1);
    assert.equal((await l.chain.processBlock(side)).status, "side");
    const sideHash = other.chain.tip.hash;
    other.store.close();
    const before = [...Array(l.chain.height + 1).keys()].map((h) => l.chain.entryAt(h)!);
    const headers = before.map((e) => encodeHeader(e.header));
    const context = l.chain.nextBlockContext();
    l.store.close();
    const store = openStore(path);
    try {
      const chain = Chain.open(store, params);
      assert.equal(chain.height, before.length - 1);
      before.forEach((e, h) => {
        const again = chain.entryAt(h)!;
        assert.equal(again.hash, e.hash);
        assert.equal(again.parent?.hash, e.parent?.hash);
        assert.deepEqual(encodeHeader(again.header), headers[h]);
        assert.deepEqual(again.header, e.header);
      });
      assert.deepEqual(chain.nextBlockContext(), context);
      const sideEntry = chain.entry(sideHash)!;
      assert.equal(sideEntry.parent, chain.entryAt(10));
      assert.deepEqual(sideEntry.header, side.header);
      assert.equal(chain.isActive(sideEntry), false);
    } finally {
      store.close();
    }
  });
});

Deno.test("the active chain's blocks are read a few heights per query, side blocks left out", async () => {
  const { store, chain, mempool } = newLedger();
  try {
    const key = await newKey();
    const blocks = await mine(chain, mempool, key.pkh, 2 * BLOCK_PAGE_HEIGHTS + 3);
    // A side block's row at height 5 (never decoded: only the active chain's blocks are).
    store.putBlock(
      { hash: hashOf(7), height: 5, header: seededBytes(80, 7), chainWork: 1n, status: 0 },
      new Uint8Array([1, 2, 3]),
    );
    assert.equal([...store.blocksBetween(1, chain.height)].length, chain.height + 1, "the side row too");
    const all = [...chain.activeBlocks(1, chain.height)];
    assert.deepEqual(all.map((b) => b.height), blocks.map((_, i) => i + 1));
    assert.deepEqual(all.map((b) => encodeBlock(b.block)), blocks.map(encodeBlock));
    const across = [...chain.activeBlocks(BLOCK_PAGE_HEIGHTS - 1, BLOCK_PAGE_HEIGHTS + 1)];
    assert.deepEqual(across.map((b) => b.height), [
      BLOCK_PAGE_HEIGHTS - 1,
      BLOCK_PAGE_HEIGHTS,
      BLOCK_PAGE_HEIGHTS + 1,
    ]);
    assert.deepEqual([...chain.activeBlocks(chain.height, chain.height + 5)].map((b) => b.height), [
      chain.height,
    ]);
  } finally {
    store.close();
  }
});
