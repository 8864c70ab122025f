/**
 * The node holds its miner while it checks and connects a block from the network (the search underway is
 * about to go stale; the block's checks get the cores), and releases it whatever the verdict.
 */
import assert from "node:assert/strict";
import type { Block } from "../lib/primitives/block.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import { withLocalNode } from "./support/local_node.ts";
import { makeBlock, newKey } from "./support/ledger.ts";

Deno.test("a network block is processed with the miner held, and the hold is released after, accepted or refused", async () => {
  await withLocalNode(async (node) => {
    const miner = node.miner;
    let holds = 0;
    const seen: number[] = [];
    miner.hold = () => {
      holds++;
      let open = true;
      return () => {
        if (open) holds--;
        open = false;
      };
    };
    const process = node.chain.processBlock.bind(node.chain);
    node.chain.processBlock = (...args: Parameters<typeof process>) => {
      seen.push(holds);
      return process(...args);
    };
    const key = await newKey();
    const good = makeBlock(node.chain, undefined, key.pkh);
    assert.equal((await node.receiveBlock(encodeBlock(good), true)).kind, "accepted");
    assert.deepEqual(seen, [1], "held while processed");
    assert.equal(holds, 0, "released after");
    // A block refused by processBlock (its coinbase pays too much): released all the same.
    const greedy: Block = makeBlock(node.chain, undefined, key.pkh, (b) => b.txs[0].outputs[0].amount += 1);
    const verdict = await node.receiveBlock(encodeBlock(greedy), true);
    assert.equal(verdict.kind === "rejected" && verdict.code, "bad-cb-amount");
    assert.deepEqual(seen, [1, 1]);
    assert.equal(holds, 0);
  });
});
