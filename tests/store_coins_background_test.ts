/**
 * The UTXO set read into memory after the start (`coinsInBackground`, `CoinSet`): before, during and after the
 * load every answer (a coin, a wallet's coins, the count) is the store's, also for coins spent or created
 * while the load runs; a spent coin never comes back and a double spend is refused.
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { CoinSet } from "../lib/chain/coin_set.ts";
import { type CoinEntry, openStore, PAGE_ROWS } from "../lib/store/store.ts";
import type { OwnedCoin } from "../lib/chain/coins.ts";
import { coinbaseOut, mine, newKey, newLedger, params, spend } from "./support/ledger.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { seededBytes } from "./support/random.ts";
import { withTempDir } from "./support/temp_dir.ts";

const hashOf = (seed: number) => seededBytes(32, seed).toHex();
const PKHS = [hashOf(900).slice(0, 40), hashOf(901).slice(0, 40), hashOf(902).slice(0, 40)];
const byKey = (a: CoinEntry, b: CoinEntry) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
const owned = (coins: OwnedCoin[]) =>
  coins.map((c) => `${c.outpoint.txid}:${c.outpoint.index}:${c.coin.amount}:${c.coin.height}`).sort();

Deno.test("a UTXO set loaded in the background answers as the store does before, during and after the load", async () => {
  const store = openStore(":memory:");
  let loading: Promise<void> | undefined;
  try {
    const created: CoinEntry[] = Array.from({ length: 2 * PAGE_ROWS + 3 }, (_, i) => [
      `${hashOf(i)}:${i % 3}`,
      { amount: i + 1, pubKeyHash: PKHS[i % 3], height: i, coinbase: i % 2 === 0 },
    ]);
    store.applyBlock({ hash: hashOf(-1), spent: [], created, undo: null, tip: hashOf(-1) });
    let pages = 0;
    const coins = new CoinSet({
      getCoin: (key) => store.getCoin(key),
      coinsPaying: (pkhs) => store.coinsPaying(pkhs),
      coinPage: (after) => (pages++, store.coinPage(after)),
    });
    const truth = () => [...store.loadCoins()].sort(byKey);
    const check = (when: string) => {
      for (const [key, coin] of truth()) assert.deepEqual(coins.get(key), coin, `${when}: ${key}`);
      const mine = new Set([PKHS[1]]);
      assert.deepEqual(
        coins.paying(mine).sort(byKey),
        truth().filter(([, c]) => c.pubKeyHash === PKHS[1]),
        `${when}: the coins of one key`,
      );
    };
    check("before the load");
    assert.equal(coins.get(`${hashOf(5)}:9`), undefined, "a coin that never was");

    loading = coins.loadInBackground();
    assert.equal(pages, 0, "no page is read inside the call (a node's start)");
    await new Promise((r) => setTimeout(r, 0)); // the background's first turn: one page
    assert.equal(pages, 1);
    assert.equal(coins.loaded, false);
    // The chain's way of changing it: the store first, then the set. One coin of the page in memory, one of a
    // page not read yet, and a new one.
    const [inMemory, notYet] = [created[1][0], created[PAGE_ROWS + 10][0]];
    const fresh: CoinEntry = [`${hashOf(7777)}:0`, {
      amount: 5,
      pubKeyHash: PKHS[1],
      height: 9,
      coinbase: false,
    }];
    store.applyBlock({
      hash: hashOf(-2),
      spent: [inMemory, notYet],
      created: [fresh],
      undo: null,
      tip: hashOf(-2),
    });
    coins.delete(inMemory);
    coins.delete(notYet);
    coins.set(...fresh);
    assert.equal(coins.get(inMemory), undefined, "spent, read before");
    assert.equal(coins.get(notYet), undefined, "spent, not read yet");
    assert.deepEqual(coins.get(fresh[0]), fresh[1]);
    check("during the load");

    await loading;
    assert.equal(coins.loaded, true);
    assert.deepEqual([...coins.entries()].sort(byKey), truth(), "in memory: exactly the store's coins");
    assert.equal(coins.size, created.length - 1);
    check("after the load");
  } finally {
    await loading?.catch(() => {}); // a failed check must not leave the load reading a closed store
    store.close();
  }
});

Deno.test("a chain opened with its coins on disk validates, spends and lists as one that read them all", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const key = await newKey();
    const l = newLedger({ path });
    const history = await mine(l.chain, l.mempool, key.pkh, 12);
    l.store.close();

    const store = openStore(path);
    try {
      const chain = Chain.open(store, params, { coinsInBackground: true });
      const mempool = new Mempool(chain);
      const full = () => {
        const other = openStore(path);
        try {
          const c = Chain.open(other, params);
          return { coins: [...c.coins()].sort(byKey), mine: owned(c.coinsOf(new Set([key.pkh]))) };
        } finally {
          other.close();
        }
      };
      assert.deepEqual(
        owned(chain.coinsOf(new Set([key.pkh]))),
        full().mine,
        "the wallet's coins, from disk",
      );
      assert.deepEqual(
        chain.getCoin(coinbaseOut(history[0])),
        full().coins.find(([k]) => k.startsWith(coinbaseOut(history[0]).txid))?.[1],
      );

      // A payment spending a coin not in memory: checked against the store, connected, and gone from both.
      const paid = await spend(key, [coinbaseOut(history[0])], [{ amount: 1e8, pubKeyHash: key.pkh }]);
      await mempool.accept(paid);
      await mine(chain, mempool, key.pkh, 1);
      assert.equal(chain.getCoin(coinbaseOut(history[0])), undefined, "spent");
      const again = await spend(key, [coinbaseOut(history[0])], [{ amount: 2e8, pubKeyHash: key.pkh }]);
      await assert.rejects(mempool.accept(again), "a double spend of a coin spent before the load");
      assert.deepEqual(owned(chain.coinsOf(new Set([key.pkh]))), full().mine);

      await chain.loadCoins();
      assert.deepEqual([...chain.coins()].sort(byKey), full().coins, "loaded: the store's coins");
      assert.equal(chain.coinCount, full().coins.length);
      assert.deepEqual(owned(chain.coinsOf(new Set([key.pkh]))), full().mine);
      await assert.rejects(mempool.accept(again), "and after it");
    } finally {
      store.close();
    }
  });
});
