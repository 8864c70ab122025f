/**
 * The two-part update at the Node level: a running `Node` whose chain store refuses a write, at each write of
 * a block's connection in turn (and in the middle of a reorg). After each failure the node's tip, height,
 * wallet balances and mempool are what they were (or, mid-reorg, what the chain it kept implies: the
 * mempool holds exactly the payment its active chain leaves unconfirmed); once the disk is healed the same
 * block is taken, and the node goes on mining and paying. These run write-through (`writeBehind: false`); the
 * last test runs as a node does by default, committing blocks behind their relay.
 */
import assert from "node:assert/strict";
import { createTemplate, solveSync } from "../lib/mining/template.ts";
import type { Node } from "../lib/node.ts";
import type { Block } from "../lib/primitives/block.ts";
import { blockMerkleRoot } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { openStore, StoreError } from "../lib/store/store.ts";
import { type FailingStore, openFailingStore } from "./support/failing_store.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";

let time = 1_700_000_000;

/** A solved block on `parent` (default the tip) with what the mempool offers when `withPool`. */
function nextBlock(node: Node, withPool = true, parent?: Block): Block {
  const { block } = createTemplate(node.chain, withPool ? node.mempool : undefined, node.wallet.pubKeyHash, {
    time: ++time,
  });
  if (parent) {
    block.header.prevHash = blockHashSync(parent.header);
  }
  return solveSync(block);
}

/** Everything the issue names that must not move when a block fails to store. */
function snapshot(node: Node) {
  return {
    tip: node.chain.tip.hash,
    height: node.chain.height,
    balances: node.balances(),
    mempool: node.mempool.entries().map((e) => e.txid).sort(),
    statusHeight: node.status().height,
  };
}

/**
 * Runs `body` on a node in a fresh directory over a store whose writes fail on demand, after `blocks` mined
 * blocks, with a new address `to` of its wallet to pay; stops the node after, also when `body` fails.
 */
async function withFailingNode(
  blocks: number,
  body: (node: Node, store: () => FailingStore, to: string, dir: string) => Promise<void>,
  writeBehind = false,
): Promise<void> {
  await withTempDir(async (dir) => {
    let failing: FailingStore | undefined;
    const node = await startLocalNode(dir, {
      openStore: (path) => (failing = openFailingStore(path)).store,
      writeBehind,
    });
    try {
      for (let i = 0; i < blocks; i++) await node.submitBlock(nextBlock(node));
      await body(node, () => failing!, await node.wallet.newAddress(), dir);
    } finally {
      await node.stop();
    }
  }, "peerchain-node-store-");
}

Deno.test("Node: a block whose store write fails, at each write in turn, leaves tip, height, balances and mempool as they were; the node goes on", async () => {
  await withFailingNode(11, async (node, store, to) => {
    const paid = await node.send(to, 1e8);
    const block = nextBlock(node);
    assert.ok(block.txs.some((t) => txid(t) === paid.txid), "the block confirms the payment");
    const before = snapshot(node);
    assert.deepEqual(before.mempool, [paid.txid]);
    let k = 1;
    for (; k < 100; k++) {
      store().failAt(k);
      const failed = await node.submitBlock(block).then(() => false, () => true);
      store().heal();
      if (!failed) break;
      assert.deepEqual(snapshot(node), before, `write ${k} failed`);
    }
    assert.ok(k > 3 && k < 100, `the block took ${k - 1} writes`);
    assert.equal(node.chain.height, before.height + 1);
    assert.deepEqual(node.mempool.entries(), []);
    assert.notDeepEqual(node.balances(), before.balances);
    // It goes on: another payment, another block.
    const again = await node.send(to, 1e8);
    await node.submitBlock(nextBlock(node));
    assert.equal(node.chain.height, before.height + 2);
    assert.ok(!node.mempool.has(again.txid));
  });
});

/** A solved block on `parentHash` at `height` paying `payTo`, holding `txs` after its coinbase. */
function blockOn(
  node: Node,
  parentHash: string,
  height: number,
  payTo: string,
  txs: Block["txs"] = [],
): Block {
  const { block } = createTemplate(node.chain, undefined, payTo, { time: ++time });
  block.txs[0].lockTime = height; // the coinbase names its height
  block.txs.push(...txs);
  block.header.prevHash = parentHash;
  block.header.merkleRoot = blockMerkleRoot(block.txs);
  return solveSync(block);
}

Deno.test("Node: a reorg whose store write fails, at writes spread over it, leaves the mempool holding exactly what the chain it kept leaves unconfirmed; resent, the blocks win", async () => {
  await withFailingNode(14, async (node, store, to) => {
    const other = "bb".repeat(20);
    /**
     * One round: a payment confirmed by a new tip T; a branch of two blocks (paying someone else) on T's
     * parent takes over, disconnecting T and connecting two, its k-th store write failing (none for 0).
     * Returns the writes the reorg took.
     */
    const round = async (k: number): Promise<number> => {
      const pay = await node.send(to, 1e6);
      const t = nextBlock(node);
      await node.submitBlock(t);
      const tHash = blockHashSync(t.header), confirmed = t.txs.slice(1).map(txid);
      assert.ok(confirmed.includes(pay.txid));
      const s1 = blockOn(node, t.header.prevHash, node.chain.height, other);
      const s2 = blockOn(node, blockHashSync(s1.header), node.chain.height + 1, other);
      await node.submitBlock(s1); // equal work: a side block
      const consistent = (what: string) => {
        const tActive = node.chain.isActive(node.chain.entry(tHash)!);
        for (const id of confirmed) {
          assert.equal(
            node.mempool.has(id),
            !tActive,
            `${what}: ${id} is in the mempool iff T is not active`,
          );
        }
        assert.equal(node.status().height, node.chain.height, what);
      };
      const before = store().writes;
      if (k) store().failAt(k);
      const failed = await node.submitBlock(s2).then(() => false, () => true);
      store().heal();
      assert.equal(failed, k > 0, `write ${k}`);
      if (failed) {
        consistent(`write ${k} of the reorg failed`);
        for (const b of [s1, s2]) await node.submitBlock(b).catch(() => {}); // a peer sends them again
      }
      assert.equal(node.chain.tip.hash, blockHashSync(s2.header), `write ${k}: the longer branch wins`);
      consistent(`write ${k}: the reorg done`);
      // The reorg put T's payments back: dropped, so every round's T is the same size.
      for (const id of confirmed) node.mempool.removeWithDescendants(id);
      return store().writes - before;
    };
    const total = await round(0);
    assert.ok(total > 10, `the reorg took ${total} writes`);
    const ks = [1, 2, 3, ...Array.from({ length: 8 }, (_, j) => Math.round(total * (j + 1) / 9)), total];
    for (const k of ks) await round(k);
  });
});

Deno.test("Node (write-behind): a commit the disk refuses stops nothing; the node goes on, and its stop commits every block", async () => {
  await withFailingNode(11, async (node, store, to, dir) => {
    node.chain.flush(); // the 11 blocks mined so far
    store().failAt(1, true); // the disk is full from now on
    const paid = await node.send(to, 1e8);
    await node.submitBlock(nextBlock(node));
    await node.submitBlock(nextBlock(node));
    assert.equal(node.chain.height, 13);
    assert.ok(!node.mempool.has(paid.txid), "confirmed in memory");
    assert.throws(() => node.chain.flush(), StoreError);
    assert.equal(node.chain.unflushed, 2, "the refused commit dropped nothing");
    store().heal();
    await node.submitBlock(nextBlock(node));
    const [tip, height] = [node.chain.tip.hash, node.chain.height];
    await node.stop();
    const disk = openStore(`${dir}/data/chain.sqlite`);
    try {
      const chain = Chain.open(disk, NETWORKS.regtest);
      assert.equal(chain.height, height, "every block connected before the stop is on disk");
      assert.equal(chain.tip.hash, tip);
    } finally {
      disk.close();
    }
  }, true);
});

Deno.test("Node (write-behind): a block it mined itself is on disk when submitBlock returns, before anyone hears of it", async () => {
  await withFailingNode(2, async (node, _store, _to, dir) => {
    const block = nextBlock(node);
    await node.submitBlock(block);
    assert.equal(node.chain.unflushed, 0);
    const disk = openStore(`${dir}/data/chain.sqlite`); // a second reader sees only what is committed
    try {
      assert.equal(Chain.open(disk, NETWORKS.regtest).tip.hash, blockHashSync(block.header));
    } finally {
      disk.close();
    }
  }, true);
});
