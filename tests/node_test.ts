/** The node in one process: transactions that arrive before their parent, and payments made at once. */
import assert from "node:assert/strict";
import { encodeTransaction, txid } from "../lib/primitives/transaction.ts";
import { startLocalNode, withLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { makeBlock, mine, newLedger } from "./support/ledger.ts";
import { RESCAN_BLOCKS_PER_TURN, Wallet } from "../lib/wallet/wallet.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import type { Node } from "../lib/node.ts";
import { METHODS } from "../lib/rpc/methods.ts";

Deno.test("a transaction that arrives before its parent waits, then is accepted when the parent comes", async () => {
  await withLocalNode(async (node) => {
    await node.miner.mineBlocks(11);
    // A parent and a child that spends the parent's change, built on this node, then forgotten by it.
    const to = node.wallet.address;
    const { tx: parent } = await node.wallet.createTransaction(node.walletView(), to, 10e8);
    const parentId = txid(parent);
    const change = parent.outputs.findIndex((o) => o.amount !== 10e8); // to a fresh change address
    const view = node.walletView();
    const childView = {
      ...view,
      coinsOf: () => [],
      mempoolCoinsOf: () => [{
        outpoint: { txid: parentId, index: change },
        coin: {
          amount: parent.outputs[change].amount,
          pubKeyHash: parent.outputs[change].pubKeyHash,
          height: node.chain.height + 1,
          coinbase: false,
        },
      }],
      isSpentInMempool: () => false,
    };
    const { tx: child } = await node.wallet.createTransaction(childView, to, 5e8);
    const childId = txid(child);

    const early = await node.receiveTx(encodeTransaction(child));
    assert.equal(early.kind, "orphan");
    assert.equal(node.mempool.has(childId), false);
    const v = await node.receiveTx(encodeTransaction(parent));
    assert.equal(v.kind, "accepted");
    assert.ok(node.mempool.has(parentId));
    assert.ok(node.mempool.has(childId), "the waiting child was accepted once its parent came");
  });
});

Deno.test("payments made at the same moment pick different coins", async () => {
  await withLocalNode(async (node) => {
    await node.miner.mineBlocks(13);
    const to = node.wallet.address;
    const results = await Promise.all([1, 2, 3].map((n) => node.send(to, n * 1e8)));
    assert.equal(new Set(results.map((r) => r.txid)).size, 3);
    for (const r of results) assert.ok(node.mempool.has(r.txid));
  });
});

Deno.test("the start-up rescan runs in the background; a block connected meanwhile is scanned after it, once", async () => {
  await withTempDir(async (dir) => {
    // A chain whose every coinbase pays the wallet, written before the node starts.
    await Deno.mkdir(`${dir}/data`);
    const wallet = await Wallet.open(`${dir}/data/wallet.json`, NETWORKS.regtest);
    const blocks = 8 * RESCAN_BLOCKS_PER_TURN;
    const { store, chain, mempool } = newLedger({ path: `${dir}/data/chain.sqlite` });
    await mine(chain, mempool, wallet.pubKeyHash, blocks);
    store.close();

    const node = await startLocalNode(dir);
    try {
      let scanned = false;
      const done = node.walletScanned().then(() => scanned = true);
      // Start returned before the rescan ended: a block connected now must wait for it.
      assert.equal(scanned, false, "Node.start waited for the rescan");
      const hash = await node.submitBlock(makeBlock(node.chain, node.mempool, wallet.pubKeyHash));
      await done;
      const history = await json(node);
      assert.equal(history.length, blocks + 1, "every coinbase once, the new block's too");
      assert.deepEqual(history.map((e) => e.height), [...Array(blocks + 1)].map((_, i) => blocks + 1 - i));
      assert.equal(node.chain.tip.hash, hash);
    } finally {
      await node.stop();
    }
  }, "peerchain-node-");
});

/** The wallet's history as the RPC gives it (it waits for the rescan). */
function json(node: Node): Promise<{ height: number | null }[]> {
  return Promise.resolve(METHODS["wallet.history"](node, [])) as Promise<{ height: number | null }[]>;
}
