/**
 * Format versions: a store written before versions were kept (tests/fixtures/store-v0, made by that code)
 * opens migrated with the same chain and coins; a migration is all or nothing; a store or wallet newer than
 * this program is refused with a message saying so, and the data directory is left exactly as it was.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { openStore, STORE_VERSION, StoreError } from "../lib/store/store.ts";
import { WALLET_FILE_VERSION } from "../lib/wallet/wallet_file.ts";
import { Wallet, WalletError } from "../lib/wallet/wallet.ts";
import { assertRefusal } from "./support/cli.ts";
import { Cluster } from "./support/cluster.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";

const FIXTURE = new URL("./fixtures/store-v0/", import.meta.url).pathname;
const expected = JSON.parse(await Deno.readTextFile(`${FIXTURE}expected.json`));

/**
 * Runs `fn` with a copy of the fixture's data directory (`dataDir`, inside the fresh temporary folder `root`)
 * and removes the folder afterwards, also when `fn` fails.
 */
function withFixtureCopy(fn: (root: string, dataDir: string) => Promise<void>): Promise<void> {
  return withTempDir(async (root) => {
    const dataDir = `${root}/data`;
    await Deno.mkdir(dataDir);
    for (const f of ["chain.sqlite", "wallet.json"]) await Deno.copyFile(`${FIXTURE}${f}`, `${dataDir}/${f}`);
    await fn(root, dataDir);
  }, "peerchain-upgrade-");
}

function userVersion(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    db.close();
  }
}

function setUserVersion(path: string, version: number): void {
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA user_version = ${version}`);
  db.close();
}

/** Every file of `dir` (but the lock, which only says who holds it) with the SHA-256 of its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.name === "LOCK") continue;
    const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${e.name}`));
    files[e.name] = new Uint8Array(digest).toHex();
  }
  return files;
}

Deno.test("the fixture is the old format: no version and no height index", () => {
  assert.equal(userVersion(`${FIXTURE}chain.sqlite`), 0);
});

Deno.test("a store from before format versions opens migrated, with the same tip, blocks, coins and wallet", async () => {
  await withFixtureCopy(async (root, dataDir) => {
    const node = await startLocalNode(root, { dataDir });
    try {
      assert.equal(node.chain.height, expected.height);
      assert.equal(node.chain.tip.hash, expected.tip);
      // The format-1 wallet was migrated: its key is kept (an imported key beside new seed words), so its
      // address is still the wallet's, while new coinbases go to the seed's first address.
      assert.ok(node.wallet.addresses().includes(expected.walletAddress));
      const old = node.wallet.parseAddress(expected.walletAddress);
      const b = node.wallet.balance(node.walletView());
      const owned = expected.coins.filter((c: { pubKeyHash: string }) => c.pubKeyHash === old);
      assert.ok(owned.length > 0);
      assert.equal(
        b.confirmed + b.immature,
        owned.reduce((s: number, c: { amount: number }) => s + c.amount, 0),
      );
      // The payment made before the upgrade is confirmed, and the stale block is still known.
      assert.ok(node.chain.getCoin({ txid: expected.payment.txid, index: 0 }));
      assert.equal(node.chain.coinCount, expected.coins.length);
    } finally {
      await node.stop();
    }
    const path = `${dataDir}/chain.sqlite`;
    assert.equal(userVersion(path), STORE_VERSION);
    const store = openStore(path);
    try {
      assert.equal([...store.loadIndex()].length, expected.blocks);
      const coins = [...store.loadCoins()].map(([key, c]) => ({ key, ...c }))
        .sort((a, b) => a.key < b.key ? -1 : 1);
      assert.deepEqual(coins, expected.coins);
      // And the chain rebuilt from the migrated store agrees.
      const chain = Chain.open(store, NETWORKS.regtest);
      assert.equal(chain.tip.hash, expected.tip);
    } finally {
      store.close();
    }
    const db = new DatabaseSync(path, { readOnly: true });
    const plan = db.prepare(
      "EXPLAIN QUERY PLAN SELECT hash, height, header, work, status FROM blocks ORDER BY height, rowid",
    ).all().map((r) => String((r as { detail: string }).detail));
    db.close();
    assert.deepEqual(plan, ["SCAN blocks USING INDEX blocks_by_height"], "start-up reads the index unsorted");
  });
});

Deno.test("a new store starts at the current format version", async () => {
  await withTempDir(async (root) => {
    openStore(`${root}/chain.sqlite`).close();
    assert.equal(userVersion(`${root}/chain.sqlite`), STORE_VERSION);
    // Reopening a current store writes nothing.
    const before = await Deno.readFile(`${root}/chain.sqlite`);
    openStore(`${root}/chain.sqlite`).close();
    assert.deepEqual(await Deno.readFile(`${root}/chain.sqlite`), before);
  }, "peerchain-upgrade-");
});

Deno.test("a migration that fails part-way changes nothing: the store keeps its old format and version", async () => {
  await withFixtureCopy(async (_root, dataDir) => {
    const path = `${dataDir}/chain.sqlite`;
    // A table with the name the migration gives its index makes the migration's step fail.
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE blocks_by_height (x)");
    db.close();
    const before = await snapshot(dataDir);
    assert.throws(
      () => openStore(path),
      (e) => e instanceof StoreError && /nothing was changed/.test(e.message),
    );
    assert.deepEqual(await snapshot(dataDir), before);
    assert.equal(userVersion(path), 0);
  });
});

Deno.test("a store newer than this program is refused with a clear message and left untouched", async () => {
  await withFixtureCopy(async (root, dataDir) => {
    const path = `${dataDir}/chain.sqlite`;
    openStore(path).close();
    setUserVersion(path, STORE_VERSION + 1);
    const before = await snapshot(dataDir);
    await assert.rejects(
      startLocalNode(root, { dataDir }),
      (e) =>
        e instanceof StoreError &&
        e.message.includes(
          `format version ${STORE_VERSION + 1}, newer than this program reads (${STORE_VERSION})`,
        ) &&
        /use a newer peerchain/.test(e.message),
    );
    assert.deepEqual(await snapshot(dataDir), before);

    // The executable says it in one line and exits 1, before listening or writing anything.
    const cluster = await Cluster.create();
    try {
      await assert.rejects(
        cluster.start("newer", { dataDir, tracker: `${root}/tracker.txt`, defaultTimings: true }),
        /exited before answering RPC/,
      );
      const node = cluster.nodes[0];
      assertRefusal(
        { code: (await node.exited).code, stdout: node.stdout.join("\n"), stderr: node.log.join("\n") },
        1,
        /chain store .* newer than this program reads/,
      );
    } finally {
      await cluster.cleanup();
    }
    assert.deepEqual(await snapshot(dataDir), before);
  });
});

Deno.test("a wallet newer than this program is refused before the old store is migrated", async () => {
  await withFixtureCopy(async (root, dataDir) => {
    const walletPath = `${dataDir}/wallet.json`;
    const file = JSON.parse(await Deno.readTextFile(walletPath));
    await Deno.writeTextFile(walletPath, JSON.stringify({ ...file, version: WALLET_FILE_VERSION + 1 }));
    const before = await snapshot(dataDir);
    await assert.rejects(
      startLocalNode(root, { dataDir }),
      (e) => e instanceof WalletError && /newer than this program reads/.test(e.message),
    );
    assert.deepEqual(await snapshot(dataDir), before);
    assert.equal(userVersion(`${dataDir}/chain.sqlite`), 0);
    // The wallet itself refuses the same way when opened alone.
    await assert.rejects(Wallet.open(walletPath, NETWORKS.regtest), WalletError);
  });
});
