/**
 * Deterministic crash injection: a child process connects a block (and, in a second scenario, reorganises
 * onto a longer branch, disconnecting a block) and SIGKILLs itself right after its k-th store write, for every
 * k. After each crash the store must open as it lies on disk and be consistent: its UTXO set equal to a replay
 * of its active chain, undo data for every active block, no block the child had finished lost. Connecting a
 * block on the tip must leave exactly the state before or the state after it (one commit); a reorg, several
 * commits, must reach the very state of an uninterrupted run once restarted (`resume`) and sent the blocks
 * again, as a peer would.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { type Block, encodeBlock } from "../lib/primitives/block.ts";
import { type OutPoint, txid } from "../lib/primitives/transaction.ts";
import { openStore } from "../lib/store/store.ts";
import { spawnChild } from "./support/crash_child.ts";
import { coinbaseOut, fannedLedger, makeBlock, newLedger, spend, type TestKey } from "./support/ledger.ts";
import { hashOf, withTxs } from "./support/rules.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

/** Every row of every table of the store at `path`, as one comparable string. */
function dump(path: string): string {
  const db = new DatabaseSync(path);
  try {
    const out: Record<string, unknown[]> = {};
    for (
      const [table, key] of [["meta", "key"], ["blocks", "hash"], ["coins", "outpoint"], ["undo", "hash"]]
    ) {
      out[table] = db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all().map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? v.toHex() : v]),
        )
      );
    }
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

/** A short account of how two dumps differ, for failure messages. */
function dumpDiff(a: string, b: string): string {
  const x = JSON.parse(a), y = JSON.parse(b);
  return Object.keys(x).map((t) => `${t}: ${x[t].length} rows vs ${y[t].length}`).join(", ");
}

/** A signed spend of `inputs` (all `key`'s) into two outputs to `key`, leaving a fee of 10,000. */
function split(key: TestKey, inputs: { outpoint: OutPoint; amount: number }[]) {
  const total = inputs.reduce((s, i) => s + i.amount, 0) - 10_000;
  const first = Math.floor(total / 3);
  return spend(key, inputs.map((i) => i.outpoint), [
    { amount: first, pubKeyHash: key.pkh },
    { amount: total - first, pubKeyHash: key.pkh },
  ]);
}

interface Scenario {
  /** A store file holding the chain the child starts from. */
  template: string;
  /** The blocks the child processes, in order. */
  blocks: Block[];
}

/**
 * The shared history (12 blocks: 11 coinbases, then a fan-out of 6 coins) and three blocks on its tip: C
 * (three transactions, one spending another's output), A1 and the branch B1, B2 that conflicts with A1.
 */
async function scenarios(
  dir: string,
): Promise<
  { connect: Scenario; batch: Scenario; reorg: Scenario; final: Block[]; names: Map<string, string> }
> {
  const { key, ledger: m, history, fan } = await fannedLedger();
  const coin = (i: number) => ({ outpoint: { txid: txid(fan), index: i }, amount: 8e8 });
  const cb = (h: number) => ({ outpoint: coinbaseOut(history[h - 1]), amount: 50e8 });

  // C: two coins into two, one of those on at once, and a mature coinbase.
  const c1 = await split(key, [coin(0), coin(1)]);
  const c2 = await split(key, [{ outpoint: { txid: txid(c1), index: 0 }, amount: c1.outputs[0].amount }]);
  const c3 = await split(key, [cb(2)]);
  const blockC = makeBlock(m.chain, undefined, key.pkh, withTxs(c1, c2, c3));
  // A1 spends coins 2 and 3; B1 spends coin 2 otherwise, and coin 4; B2 spends B1's change and a coinbase.
  const a1 = await split(key, [coin(2), coin(3)]);
  const blockA1 = makeBlock(m.chain, undefined, key.pkh, withTxs(a1));
  const b1 = await split(key, [coin(2)]);
  const b1b = await split(key, [coin(4), cb(3)]);
  const blockB1 = makeBlock(m.chain, undefined, key.pkh, withTxs(b1, b1b));
  await m.chain.processBlock(blockB1);
  const b2 = await split(key, [
    { outpoint: { txid: txid(b1), index: 1 }, amount: b1.outputs[1].amount },
    cb(4),
  ]);
  const blockB2 = makeBlock(m.chain, undefined, key.pkh, withTxs(b2));

  const write = async (name: string, blocks: Block[]) => {
    const path = `${dir}/${name}.sqlite`;
    const l = newLedger({ path });
    for (const b of blocks) assert.equal((await l.chain.processBlock(b)).status, "connected");
    l.store.close(); // checkpoints the WAL: the template is one file
    return path;
  };
  const t0 = await write("t0", history);
  return {
    connect: { template: t0, blocks: [blockC] },
    batch: { template: t0, blocks: [blockB1, blockB2] },
    reorg: { template: await write("t1", [...history, blockA1]), blocks: [blockB1, blockB2] },
    final: [blockB1, blockB2],
    names: new Map([
      [hashOf(history[11]), "the fork"],
      [hashOf(blockA1), "A1"],
      [hashOf(blockB1), "B1"],
      [hashOf(blockB2), "B2"],
    ]),
  };
}

/** What one child run printed. */
interface Run {
  status: Deno.CommandStatus;
  processed: string[];
  writes: string[];
  total?: number;
}

/** Copies `template` into a fresh `dir/chain.sqlite` and runs the child on it over `blocksFile`. */
async function runChild(
  dir: string,
  template: string,
  blocksFile: string,
  killAt: number,
  mode = "replay",
): Promise<Run> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(template, `${dir}/chain.sqlite`);
  const child = spawnChild([dir, mode, blocksFile, String(killAt)]);
  const status = await child.exited;
  await child.kill();
  if (!status.success && status.signal !== "SIGKILL") {
    throw new Error(`the child failed (${status.code}):\n${await child.stderr}`);
  }
  const lines = child.lines;
  const total = lines.find((l) => l.startsWith("writes "));
  return {
    status,
    processed: lines.filter((l) => l.startsWith("processed ")).map((l) => l.split(" ")[1]),
    writes: lines.filter((l) => l.startsWith("write ")),
    total: total === undefined ? undefined : Number(total.split(" ")[1]),
  };
}

/** Opens the store at `path` as a restarted node would (before `resume`) and checks it is consistent. */
function checkConsistent(path: string, processed: string[], context: string): void {
  const store = openStore(path);
  try {
    const chain = Chain.open(store, NETWORKS.regtest);
    assert.deepEqual(
      diffCoins(chain.coins(), rebuildCoins(chain).coins),
      [],
      `${context}: UTXO set ≠ replay`,
    );
    for (let h = 1; h <= chain.height; h++) {
      assert.ok(store.getUndo(chain.entryAt(h)!.hash), `${context}: active block ${h} has no undo data`);
    }
    for (const hash of processed) {
      assert.ok(chain.entry(hash) && chain.getBlock(hash), `${context}: processed block ${hash} is lost`);
    }
  } finally {
    store.close();
  }
}

/**
 * Reopens the store at `path` and resumes, as a node's start does: the tip must then have the most work of any
 * stored block (a crash between the commits of a reorg leaves the better branch stored but not connected).
 * Then sends `blocks` again, as a peer would (duplicates are refused harmlessly), and closes.
 */
async function restartAndResend(path: string, blocks: Block[], context: string): Promise<void> {
  const store = openStore(path);
  try {
    const chain = Chain.open(store, NETWORKS.regtest);
    await chain.resume();
    const most = [...store.loadIndex()].reduce((m, r) => r.chainWork > m ? r.chainWork : m, 0n);
    assert.equal(chain.tip.chainWork, most, `${context}: after resume the tip is not the most-work block`);
    for (const b of blocks) await chain.processBlock(b).catch(() => {});
  } finally {
    store.close();
  }
}

/**
 * For every k from 1 to the number of writes of an uninterrupted run: a child killed right after write k;
 * `check` then inspects its store, given the uninterrupted run's final dump. Returns the number of writes and
 * that dump.
 */
async function everyWrite(
  root: string,
  name: string,
  s: Scenario,
  check: (path: string, run: Run, context: string, reference: string) => Promise<void> | void,
  mode = "replay",
): Promise<{ writes: number; reference: string }> {
  const blocksFile = `${root}/${name}.blocks`;
  await Deno.writeTextFile(blocksFile, s.blocks.map((b) => encodeBlock(b).toHex()).join("\n") + "\n");
  const ref = await runChild(`${root}/${name}-ref`, s.template, blocksFile, 0, mode);
  assert.ok(ref.status.success && ref.total !== undefined, `${name}: the uninterrupted run did not finish`);
  assert.equal(ref.processed.length, s.blocks.length);
  const reference = dump(`${root}/${name}-ref/chain.sqlite`);
  const total: number = ref.total!;
  for (let k = 1; k <= total; k++) {
    const dir = `${root}/${name}-${k}`;
    const run = await runChild(dir, s.template, blocksFile, k, mode);
    const context = `${name}, killed after write ${k} of ${total} (${ref.writes[k - 1]})`;
    assert.equal(run.status.signal, "SIGKILL", `${context}: the child was not killed: the writes differ`);
    await check(`${dir}/chain.sqlite`, run, context, reference);
    await Deno.remove(dir, { recursive: true });
  }
  return { writes: total, reference };
}

Deno.test("a crash after any store write of connecting a block leaves exactly the state before or after it", async () => {
  const root = await Deno.makeTempDir({ prefix: "peerchain_inject_" });
  try {
    const { connect } = await scenarios(root);
    const before = dump(connect.template);
    let sawBefore = 0, sawAfter = 0;
    const { writes, reference: after } = await everyWrite(
      root,
      "connect",
      connect,
      (path, run, context, reference) => {
        checkConsistent(path, run.processed, context);
        const now = dump(path);
        assert.ok(
          now === before || now === reference,
          `${context}: a state between before and after (${dumpDiff(now, reference)})`,
        );
        if (now === before) sawBefore++;
        else sawAfter++;
      },
    );
    // The block is one commit: every kill before it leaves the old state, the kill after it the new one.
    assert.ok(writes >= 10, `connecting C took only ${writes} writes`);
    assert.deepEqual([sawBefore, sawAfter], [writes - 1, 1], "one commit, at the last write");
    assert.notEqual(before, after);
    console.log(`connect: ${writes} kills, ${sawBefore} left the state before, ${sawAfter} the state after`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a crash after any store write of a reorg leaves a consistent store that resumes to the same chain", async () => {
  const root = await Deno.makeTempDir({ prefix: "peerchain_inject_" });
  try {
    const { reorg, final, names } = await scenarios(root);
    const tips = new Map<string, number>();
    const { writes } = await everyWrite(root, "reorg", reorg, async (path, run, context, reference) => {
      checkConsistent(path, run.processed, context);
      const store = openStore(path);
      const tip = Chain.open(store, NETWORKS.regtest).tip.hash;
      store.close();
      tips.set(tip, (tips.get(tip) ?? 0) + 1);
      await restartAndResend(path, final, context);
      const now = dump(path);
      assert.equal(now === reference, true, `${context}: after a restart, ${dumpDiff(now, reference)}`);
    });
    // The kills landed on each side of the reorg: on A1, between (the fork point, B1) and on B2.
    const seen = [...tips.keys()].map((h) => names.get(h) ?? h.slice(0, 8));
    assert.ok(tips.size >= 3, `tips seen after kills: ${seen.join(", ")}`);
    assert.ok(tips.has(hashOf(final[1])), "some kills came after the reorg");
    assert.ok(writes >= 20, `the reorg took only ${writes} writes`);
    console.log(
      `reorg: ${writes} kills; tips left: ${
        [...tips].map(([h, n]) => `${names.get(h) ?? h.slice(0, 8)} ×${n}`).join(", ")
      }`,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a crash after any store write of a write-behind commit leaves the state before all its blocks or after all of them", async () => {
  const root = await Deno.makeTempDir({ prefix: "peerchain_inject_" });
  try {
    // B1 and B2 connect one on the other, both held for one commit (`writeBehind`), made at the chain's close.
    const { batch } = await scenarios(root);
    const before = dump(batch.template);
    let sawBefore = 0, sawAfter = 0;
    const { writes, reference: after } = await everyWrite(
      root,
      "batch",
      batch,
      (path, _run, context, reference) => {
        // Blocks connected in memory and not yet committed are lost by the crash (peers send them again): the
        // store must only be consistent, and hold none or both.
        checkConsistent(path, [], context);
        const now = dump(path);
        assert.ok(
          now === before || now === reference,
          `${context}: a state between before and after (${dumpDiff(now, reference)})`,
        );
        if (now === before) sawBefore++;
        else sawAfter++;
      },
      "replay-behind",
    );
    assert.ok(writes >= 15, `committing B1 and B2 took only ${writes} writes`);
    assert.deepEqual([sawBefore, sawAfter], [writes - 1, 1], "one commit for both blocks, at the last write");
    assert.notEqual(before, after);
    console.log(`batch: ${writes} kills, ${sawBefore} left the state before, ${sawAfter} the state after`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
