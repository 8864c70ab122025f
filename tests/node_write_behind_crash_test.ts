/**
 * A node killed between relaying a block and committing it (write-behind, as every node runs): SIGKILLed as
 * soon as it logged a block it received, its store reopens without the block, consistent, and once
 * restarted it has the block again from the peer that sent it. Real processes on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import type { NodeStatus } from "../lib/node.ts";
import { openStore } from "../lib/store/store.ts";
import { Cluster } from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

Deno.test("a node SIGKILLed after it took a block and before its commit gets the block back from its peer", async () => {
  const cluster = await Cluster.create();
  try {
    const a = await cluster.start("a");
    const b = await cluster.start("b");
    await waitFor(() => b.log.some((l) => l.includes("superpeer-linked")), 30_000, "b linked to a");
    // Until one kill lands inside the commit's window (FLUSH_AFTER_MS): a stalled machine may miss it once.
    let beforeCommit = 0;
    for (let round = 0; round < 5 && beforeCommit === 0; round++) {
      const [hash] = (await a.rpc<{ hashes: string[] }>("mine", [1])).hashes;
      await waitFor(() => b.log.some((l) => l.includes(hash)), 20_000, "b logged the block", { everyMs: 2 });
      b.kill("SIGKILL");
      await b.exited;
      const store = openStore(`${b.dataDir}/chain.sqlite`);
      try {
        const disk = Chain.open(store, NETWORKS.regtest);
        assert.deepEqual(diffCoins(disk.coins(), rebuildCoins(disk).coins), [], "the store is consistent");
        if (!disk.has(hash)) beforeCommit++;
      } finally {
        store.close();
      }
      await cluster.restart(b);
      await waitFor(async () => (await b.rpc<NodeStatus>("status")).tip === hash, 30_000, "b has it again");
    }
    assert.equal(beforeCommit, 1, "a kill landed between the block's relay and its commit");
  } finally {
    await cluster.cleanup();
  }
});
