/**
 * The error path of the chain's two-part update (the store, then memory): a store write that fails, at each
 * write of a scenario in turn, once (a transient error) or from then on (a disk that stays full). After every
 * block, failed or not, what the chain holds in memory (tip, height, coins, each block's status) equals what a
 * fresh chain reads from the same file, and the mempool, fed what `processBlock` returned or, when it threw,
 * `partialUpdate` of its error, holds exactly the transactions the active chain leaves unconfirmed. Once the
 * disk is healed and the blocks sent again, as a peer would, the node reaches the state of a run without
 * failures. The crash (SIGKILL at the k-th write) counterpart is store_crash_inject_test.ts.
 */
import assert from "node:assert/strict";
import { type Chain, partialUpdate, type ProcessResult } from "../lib/chain/chain.ts";
import { ValidationError } from "../lib/chain/errors.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { checkInputs } from "../lib/chain/tx_rules.ts";
import type { Block } from "../lib/primitives/block.ts";
import { type OutPoint, type Transaction, txid } from "../lib/primitives/transaction.ts";
import { openStore } from "../lib/store/store.ts";
import { Chain as ChainClass } from "../lib/chain/chain.ts";
import { openFailingStore } from "./support/failing_store.ts";
import { fannedLedger, makeBlock, newLedger, params, spend, type TestKey } from "./support/ledger.ts";
import { hashOf, withTxs } from "./support/rules.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

/** A spend of one 8-coin output into two, fee 10,000. */
function split(key: TestKey, outpoint: OutPoint): Promise<Transaction> {
  return spend(key, [outpoint], [
    { amount: 3e8, pubKeyHash: key.pkh },
    { amount: 5e8 - 10_000, pubKeyHash: key.pkh },
  ]);
}

interface Scenario {
  /** The store file every run starts from: 12 blocks, the last a fan-out of 6 coins. */
  template: string;
  /** In the mempool before the first block: A1 confirms it, the B branch does not. */
  pay: Transaction;
  /** A1 (on the tip, confirms `pay`), B1 (equal work, a side block), B2 (on B1: a reorg), A2 (on A1: equal
   * work again, a side block), A3 (on A2, more work, but its coinbase pays one unit too much). */
  blocks: Block[];
  names: string[];
}

async function scenario(dir: string): Promise<Scenario> {
  const { key, ledger: m, history, fan } = await fannedLedger();
  const coin = (i: number) => ({ txid: txid(fan), index: i });
  const at = async (blocks: Block[]) => {
    const l = newLedger();
    for (const b of blocks) assert.notEqual((await l.chain.processBlock(b)).status, "orphan");
    return l;
  };
  const pay = await split(key, coin(0));
  const a1 = makeBlock(m.chain, undefined, key.pkh, withTxs(pay));
  const b1 = makeBlock(m.chain, undefined, key.pkh, withTxs(await split(key, coin(1))));
  const b2 = makeBlock(
    (await at([...history, b1])).chain,
    undefined,
    key.pkh,
    withTxs(await split(key, coin(2))),
  );
  const onA1 = await at([...history, a1]);
  const a2 = makeBlock(onA1.chain, undefined, key.pkh, withTxs(await split(key, coin(3))));
  await onA1.chain.processBlock(a2);
  const a3 = makeBlock(onA1.chain, undefined, key.pkh, (b) => b.txs[0].outputs[0].amount += 1);
  const template = `${dir}/template.sqlite`;
  const t = newLedger({ path: template });
  for (const b of history) assert.equal((await t.chain.processBlock(b)).status, "connected");
  t.store.close();
  return { template, pay, blocks: [a1, b1, b2, a2, a3], names: ["A1", "B1", "B2", "A2", "A3"] };
}

const coinsOf = (chain: Chain) => JSON.stringify([...chain.coins()].sort(([a], [b]) => a < b ? -1 : 1));

/** Memory equals disk: tip, height, coins and each scenario block's presence and status. */
function assertMatchesDisk(chain: Chain, path: string, s: Scenario, at: string): void {
  const store = openStore(path);
  try {
    const disk = ChainClass.open(store, params);
    assert.equal(chain.tip.hash, disk.tip.hash, `${at}: tip`);
    assert.equal(chain.height, disk.height, `${at}: height`);
    assert.equal(coinsOf(chain), coinsOf(disk), `${at}: coins`);
    s.blocks.forEach((b, i) => {
      const mem = chain.entry(hashOf(b)), onDisk = disk.entry(hashOf(b));
      const what = `${at}: ${s.names[i]}`;
      if (!onDisk) {
        // Only a block that failed to connect is known in memory (to refuse it again) and not written.
        assert.ok(!mem || mem.status & 2, `${what} is in memory but not on disk`);
      } else {
        assert.ok(mem, `${what} is on disk but not in memory`);
        assert.equal(mem.status, onDisk.status, `${what}: status`);
      }
    });
  } finally {
    store.close();
  }
}

/** The mempool holds `pay` exactly when the active chain leaves it unconfirmed, and nothing the chain spent. */
function assertMempoolFollows(chain: Chain, mempool: Mempool, s: Scenario, at: string): void {
  const a1 = chain.entry(hashOf(s.blocks[0]));
  const confirmed = a1 !== undefined && chain.isActive(a1);
  assert.equal(mempool.has(txid(s.pay)), !confirmed, `${at}: pay in the mempool`);
  for (const e of mempool.entries()) checkInputs(e.tx, mempool, chain.height + 1, params);
}

interface Run {
  chain: Chain;
  mempool: Mempool;
  writes: number;
  failures: number;
  refused: string[];
  close(): void;
}

/** Processes the scenario over a copy of the template, the `k`-th write failing (from then on with `persist`). */
async function run(dir: string, s: Scenario, k: number, persist: boolean): Promise<Run> {
  const path = `${dir}/run.sqlite`;
  await Deno.remove(`${path}-wal`).catch(() => {});
  await Deno.remove(`${path}-shm`).catch(() => {});
  await Deno.copyFile(s.template, path);
  const f = openFailingStore(path);
  const chain = ChainClass.open(f.store, params);
  const mempool = new Mempool(chain);
  await mempool.accept(s.pay);
  const refused: string[] = [];
  const label = `write ${k}${persist ? " on" : ""}`;
  const feed = async (b: Block, i: number, phase: string) => {
    let update;
    try {
      const r: ProcessResult = await chain.processBlock(b);
      update = r.update;
    } catch (e) {
      if (e instanceof ValidationError && ["duplicate", "duplicate-invalid"].includes(e.code)) return;
      if (!(e instanceof ValidationError) && !(e instanceof Error && e.name === "StoreError")) {
        throw new Error(`${label}, ${phase} ${s.names[i]}: ${(e as Error).stack}`);
      }
      // Only A3 is invalid: a refusal of another block would blame its sender for what is not its fault.
      if (e instanceof ValidationError) assert.equal(s.names[i], "A3", `${label}, ${phase}: ${e.code}`);
      refused.push(`${s.names[i]}: ${e instanceof ValidationError ? e.code : "StoreError"}`);
      update = partialUpdate(e);
    }
    if (update) await mempool.chainUpdated(update);
    assertMatchesDisk(chain, path, s, `${label}, after ${phase} ${s.names[i]}`);
    assertMempoolFollows(chain, mempool, s, `${label}, after ${phase} ${s.names[i]}`);
  };
  if (k > 0) f.failAt(k, persist);
  for (const [i, b] of s.blocks.entries()) await feed(b, i, "sending");
  f.heal();
  // The peer sends everything again.
  for (const [i, b] of s.blocks.entries()) await feed(b, i, "sending again");
  return { chain, mempool, writes: f.writes, failures: f.failures, refused, close: () => f.store.close() };
}

Deno.test("a store write that fails at any write of a reorg leaves memory equal to disk, and the mempool following", async () => {
  await withTempDir(async (dir) => {
    const s = await scenario(dir);
    const clean = await run(dir, s, 0, false);
    // Without failures: B2 wins, A3 fails (bad-cb-amount), and the equal-work B2, seen first, stays the tip.
    assert.equal(clean.chain.tip.hash, hashOf(s.blocks[2]));
    assert.deepEqual(clean.refused, ["A3: bad-cb-amount"]);
    assert.ok(clean.mempool.has(txid(s.pay)));
    const total = clean.writes;
    clean.close();
    assert.ok(total > 40, `the scenario writes ${total} times`);
    let failed = 0;
    for (let k = 1; k <= total; k++) {
      for (const persist of [false, true]) {
        const r = await run(dir, s, k, persist);
        failed += r.failures;
        const at = `write ${k}${persist ? " on" : ""} (refused: ${r.refused.join(", ")})`;
        // The tip is the equal-work tip seen first, B2; or A2 when a failure kept B1 out, or B2 from the tip
        // (A2 then beat the tip, and B2, stored but not connected, has only A2's work when sent again).
        const tip = s.names[s.blocks.findIndex((b) => hashOf(b) === r.chain.tip.hash)];
        const bFailed = r.refused.includes("B1: StoreError") || r.refused.includes("B2: StoreError");
        assert.ok(tip === "B2" || (tip === "A2" && bFailed), `${at}: tip ${tip}`);
        assert.deepEqual(diffCoins(r.chain.coins(), rebuildCoins(r.chain).coins), [], `${at}: coins`);
        assert.equal(r.mempool.has(txid(s.pay)), tip === "B2", `${at}: pay in the mempool`);
        assert.ok(r.chain.entry(hashOf(s.blocks[4]))!.status & 2, `write ${k}: A3 failed`);
        r.close();
      }
    }
    assert.ok(failed >= total * 2, `${failed} writes refused`);
  });
});
