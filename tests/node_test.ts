/** The node in one process: transactions that arrive before their parent, and payments made at once. */
import assert from "node:assert/strict";
import { encodeTransaction, txid } from "../lib/primitives/transaction.ts";
import { withLocalNode } from "./support/local_node.ts";

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
