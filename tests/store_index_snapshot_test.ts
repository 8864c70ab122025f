/**
 * The block index snapshot (lib/store/index_snapshot.ts): a chain opened from it is the chain read row by row,
 * also with rows stored after it (a fork below its top included) and statuses changed since; a snapshot the
 * table does not match is not used; a crash while one is written leaves the store and the last one usable;
 * a chain opened from it follows a reorg that starts below everything it read; and a node saves one.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { BlockStatus, Chain } from "../lib/chain/chain.ts";
import { openStore } from "../lib/store/store.ts";
import { INDEX_SNAPSHOT_ROWS, Node } from "../lib/node.ts";
import type { Block } from "../lib/primitives/block.ts";
import { makeBlock, mine, newKey, newLedger, params } from "./support/ledger.ts";
import { withTempDir } from "./support/temp_dir.ts";

/** Every entry of `chain` for the hashes the store holds, in the order they were read. */
function indexOf(chain: Chain, path: string) {
  const db = new DatabaseSync(path);
  const hashes = (db.prepare("SELECT hash FROM blocks").all() as { hash: string }[]).map((r) => r.hash);
  db.close();
  return hashes.map((h) => chain.entry(h)).filter((e) => e !== undefined).sort((a, b) => a.seq - b.seq).map(
    (e) => [e.hash, e.height, e.parent?.hash, e.chainWork, e.status, e.header.time].join(" "),
  );
}

/** Opens the chain at `path`: its index, the tip, and how many rows were read one by one. */
function reopen(path: string) {
  const store = openStore(path);
  try {
    const chain = Chain.open(store, params);
    return { index: indexOf(chain, path), tip: chain.tip.hash, rowsRead: store.indexRowsRead };
  } finally {
    store.close();
  }
}

function sql(path: string, statement: string): void {
  const db = new DatabaseSync(path);
  db.exec(statement);
  db.close();
}

const rowCount = (path: string) => {
  const db = new DatabaseSync(path);
  const n = (db.prepare("SELECT count(*) AS n FROM blocks").get() as { n: number }).n;
  db.close();
  return n;
};

async function feed(chain: Chain, blocks: Block[]): Promise<void> {
  for (const b of blocks) await chain.processBlock(b);
}

/** A store with 20 blocks, a side branch of 8 from genesis, and its snapshot; then 5 + 3 rows after it. */
async function forkedStore(path: string) {
  const key = await newKey();
  const main = newLedger({ path });
  const side = newLedger();
  await mine(main.chain, main.mempool, key.pkh, 20);
  const branch = await mine(side.chain, side.mempool, (await newKey()).pkh, 30);
  await feed(main.chain, branch.slice(0, 8));
  main.chain.saveIndexSnapshot();
  // After the snapshot: the main chain grows, the side branch gets rows below the snapshot's top, and a row
  // the snapshot holds changes its status.
  await mine(main.chain, main.mempool, key.pkh, 5);
  await feed(main.chain, branch.slice(8, 11));
  main.store.close();
  return { branch, side };
}

Deno.test("a chain opened from the index snapshot is the chain read row by row", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    const { branch, side } = await forkedStore(path);
    sql(path, `UPDATE blocks SET status = ${BlockStatus.FAILED} WHERE height = 2 AND status = 0`);
    const fromSnapshot = reopen(path);
    assert.equal(fromSnapshot.rowsRead, 8, "only the rows stored after the snapshot are read one by one");
    sql(path, "DROP TABLE index_snapshot");
    const rowByRow = reopen(path);
    assert.equal(rowByRow.rowsRead, rowCount(path));
    assert.deepEqual(fromSnapshot, { ...rowByRow, rowsRead: 8 });
    assert.ok(fromSnapshot.index.some((l) => l.endsWith(` ${BlockStatus.FAILED} ${l.split(" ").at(-1)}`)));

    // A reorg below everything the snapshot held: the side branch (from genesis) overtakes.
    const store = openStore(path);
    try {
      const chain = Chain.open(store, params);
      chain.saveIndexSnapshot();
      const reopened = openStore(path);
      const again = Chain.open(reopened, params);
      assert.equal(reopened.indexRowsRead, 0);
      await feed(again, branch.slice(11));
      assert.equal(again.tip.hash, side.chain.tip.hash);
      assert.equal(again.height, 30);
      assert.equal(again.entryAt(3)!.hash, side.chain.entryAt(3)!.hash);
      assert.deepEqual(
        again.getBlock(again.entryAt(3)!.hash),
        side.chain.getBlock(side.chain.entryAt(3)!.hash),
      );
      assert.deepEqual(new Map(again.coins()), new Map(side.chain.coins()));
      reopened.close();
    } finally {
      store.close();
    }
  });
});

Deno.test("a snapshot the table does not match is not used", async (t) => {
  for (
    const [name, tamper] of [
      ["cut short", "UPDATE index_snapshot SET data = substr(data, 1, 1000)"],
      ["another version", "UPDATE index_snapshot SET data = x'58494350' || substr(data, 5)"],
      ["a row it holds deleted", "DELETE FROM blocks WHERE height = 8 AND status = 0"],
      [
        "a row it holds changed",
        "UPDATE blocks SET hash = '00' || substr(hash, 3) WHERE height = 8 AND status = 0",
      ],
    ]
  ) {
    await t.step(name, async () => {
      await withTempDir(async (dir) => {
        const path = `${dir}/chain.sqlite`;
        await forkedStore(path);
        sql(path, tamper);
        const opened = reopen(path);
        assert.equal(opened.rowsRead, rowCount(path), "read row by row");
        sql(path, "DROP TABLE index_snapshot");
        assert.deepEqual(opened, reopen(path));
      });
    });
  }
});

Deno.test("a crash while a snapshot is written leaves the store and the last snapshot usable", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/chain.sqlite`;
    await forkedStore(path);
    const child = `${dir}/child.ts`;
    const store = new URL("../lib/store/store.ts", import.meta.url).href;
    const chainModule = new URL("../lib/chain/chain.ts", import.meta.url).href;
    const paramsModule = new URL("../lib/consensus/params.ts", import.meta.url).href;
    await Deno.writeTextFile(
      child,
      `import { openStore } from "${store}";
import { Chain } from "${chainModule}";
import { NETWORKS } from "${paramsModule}";
// Killed right after the snapshot's row is written, before its transaction commits.
const s = openStore(Deno.args[0], {
  onWrite: (sql) => sql.includes("INTO index_snapshot") && Deno.kill(Deno.pid, "SIGKILL"),
});
Chain.open(s, NETWORKS.regtest).saveIndexSnapshot();
console.log("not killed");
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-run", child, path],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.signal, "SIGKILL", new TextDecoder().decode(out.stderr));
    const opened = reopen(path);
    assert.equal(opened.rowsRead, 8, "the snapshot before the crash is used");
    sql(path, "DROP TABLE index_snapshot");
    assert.deepEqual(opened, { ...reopen(path), rowsRead: 8 });
  });
});

Deno.test("a node saves the snapshot after a start that read many rows one by one, and at its stop", async () => {
  await withTempDir(async (dir) => {
    const dataDir = `${dir}/data`;
    await Deno.mkdir(dataDir);
    const path = `${dataDir}/chain.sqlite`;
    const ledger = newLedger({ path });
    await mine(ledger.chain, ledger.mempool, (await newKey()).pkh, INDEX_SNAPSHOT_ROWS);
    ledger.store.close();
    await Deno.writeTextFile(`${dir}/tracker.txt`, "");
    const node = await Node.start({
      network: "regtest",
      dataDir,
      trackerPath: `${dir}/tracker.txt`,
      bind: { hostname: "127.0.0.1", port: 0 },
      threads: 1,
    });
    try {
      const saved = () => {
        const db = new DatabaseSync(path);
        try {
          return db.prepare("SELECT name FROM sqlite_master WHERE name = 'index_snapshot'").get() !==
            undefined;
        } finally {
          db.close();
        }
      };
      for (let i = 0; i < 200 && !saved(); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(saved(), "saved in the background after the start, before any stop");
      for (let i = 0; i < 2; i++) {
        await node.chain.processBlock(makeBlock(node.chain, undefined, "00".repeat(20)));
      }
    } finally {
      await node.stop();
    }
    const reopened = reopen(path);
    assert.equal(reopened.rowsRead, 0, "the snapshot saved at the stop holds the blocks mined since");
    assert.equal(reopened.index.length, INDEX_SNAPSHOT_ROWS + 3);
  });
});
