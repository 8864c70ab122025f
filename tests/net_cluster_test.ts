/**
 * The network with real node processes on 127.0.0.1: forming one network, relay from any node, sync of a long
 * chain by a late joiner, and nodes started from different folders. Failover is in `net_failover_test.ts`,
 * hostile peers in `net_hostile_test.ts`.
 */
import assert from "node:assert/strict";
import { parseTracker } from "../lib/net/tracker.ts";
import type { NodeStatus } from "../lib/node.ts";
import {
  type Cluster,
  statuses,
  type TestNode,
  waitForOnePrimary,
  waitForTip,
  withCluster,
} from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";

/** Starts `names` one after another in `cluster` (each joins through the shared tracker file). */
async function startAll(cluster: Cluster, names: string[]): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (const n of names) nodes.push(await cluster.start(n));
  return nodes;
}

async function mempoolIds(node: TestNode): Promise<string[]> {
  return (await node.rpc<{ txid: string }[]>("mempool")).map((e) => e.txid);
}

Deno.test("five nodes form one network: one SuperPeer serving the other four, first in the tracker", async () => {
  await withCluster(async (cluster) => {
    const nodes = await startAll(cluster, ["a", "b", "c", "d", "e"]);
    const hub = await waitForOnePrimary(nodes, 10_000, "five nodes to form a star around one SuperPeer");
    // The first node found no SuperPeer and promoted itself; the others joined it.
    assert.equal(hub, nodes[0]);
    const s = await statuses(nodes);
    assert.deepEqual(
      s.map((x) => x.peers),
      [4, 1, 1, 1, 1],
      "the SuperPeer links to 4 Peers, each Peer to it",
    );
    assert.deepEqual(s.map((x) => x.network_size), [5, 5, 5, 5, 5]);
    assert.deepEqual(s[2].superpeers, [hub.listen]);
    // The tracker file names SuperPeers only, the one this folder's nodes greeted first.
    await waitFor(
      async () => {
        const addrs = parseTracker(await Deno.readTextFile(cluster.learnedTracker)).addrs
          .map((a) => `${a.hostname}:${a.port}`);
        return addrs[0] === hub.listen;
      },
      5_000,
      "the tracker file to list the SuperPeer first",
    );
  });
});

Deno.test("nodes run with the default timings (no timing flags) also form one network", async () => {
  await withCluster(async (cluster) => {
    const nodes: TestNode[] = [];
    for (const n of ["a", "b", "c"]) nodes.push(await cluster.start(n, { defaultTimings: true }));
    assert.equal(
      await waitForOnePrimary(nodes, 10_000, "three nodes with default timings to form one network"),
      nodes[0],
    );
  });
});

Deno.test("a transaction and a block made on a Peer (not the hub) reach every node", async () => {
  await withCluster(async (cluster) => {
    const nodes = await startAll(cluster, ["a", "b", "c", "d", "e"]);
    const hub = await waitForOnePrimary(nodes, 10_000, "one network");
    const [miner, sender, receiver] = nodes.filter((n) => n !== hub);
    // Fund the sender: one block of its own, then ten more so that coinbase matures.
    await sender.rpc("mine", [1]);
    await miner.rpc("mine", [10]);
    const funded = await miner.rpc<NodeStatus>("status");
    await waitForTip(nodes, funded.tip, 10_000, "blocks mined on a peer to reach every node");
    assert.ok((await statuses(nodes)).every((s) => s.height === 11));

    const to = (await receiver.rpc<NodeStatus>("status")).address;
    const { txid } = await sender.rpc<{ txid: string }>("send", [to, "1.5"]);
    await waitFor(
      async () => (await Promise.all(nodes.map(mempoolIds))).every((ids) => ids.includes(txid)),
      10_000,
      "a transaction sent from a peer to reach every mempool",
    );
    // A block from another peer confirms it everywhere.
    const [hash] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(nodes, hash, 10_000, "a block mined on a peer to reach every node");
    const block = await receiver.rpc<{ txs: { txid: string }[] }>("block", [hash]);
    assert.ok(block.txs.some((t) => t.txid === txid), "the relayed block carries the relayed transaction");
    await waitFor(
      async () => (await statuses(nodes)).every((s) => s.mempool === 0),
      5_000,
      "every mempool to drop the confirmed transaction",
    );
    assert.equal(
      (await receiver.rpc<{ balance: string }>("status")).balance,
      "1.5",
      "the receiver's wallet sees the payment (JSON amounts: decimal coin strings)",
    );
  });
});

Deno.test("a late joiner downloads and validates a 2,000-block chain up to the same tip", async () => {
  await withCluster(async (cluster) => {
    const [a, b] = await startAll(cluster, ["a", "b"]);
    for (let i = 0; i < 4; i++) await b.rpc("mine", [500]);
    const tip = await b.rpc<NodeStatus>("status");
    assert.equal(tip.height, 2000);
    const late = await cluster.start("late");
    await waitForTip([a, b, late], tip.tip, 30_000, "the late joiner to sync 2,000 blocks");
    const [top] = await late.rpc<{ height: number; hash: string }[]>("chain", [1]);
    assert.deepEqual(top, { ...top, height: 2000, hash: tip.tip });
    await waitForOnePrimary([a, b, late], 5_000, "the late joiner to be served by the SuperPeer");
  });
});

Deno.test("nodes started from different folders with copies of one tracker file join one network", async () => {
  await withCluster(async (cluster) => {
    const hub = await cluster.start("hub");
    await waitFor(
      async () =>
        parseTracker(await Deno.readTextFile(cluster.learnedTracker).catch(() => "")).addrs.length > 0,
      5_000,
      "the first node to write the tracker file",
    );
    // The file to copy is the one the node wrote what it learned to (server_tracker.regtest.txt).
    const original = await Deno.readTextFile(cluster.learnedTracker);
    const others: TestNode[] = [];
    for (const name of ["left", "right"]) {
      const folder = `${cluster.root}/${name}-folder`;
      await Deno.mkdir(folder);
      await Deno.writeTextFile(`${folder}/server_tracker.regtest.txt`, original);
      // A relative tracker path resolved against a different working directory each time.
      others.push(await cluster.start(name, { cwd: folder, tracker: "server_tracker.txt" }));
    }
    const nodes = [hub, ...others];
    assert.equal(await waitForOnePrimary(nodes, 10_000, "nodes from two folders to join one network"), hub);
    // Each copy is kept up to date by the node that uses it.
    for (const name of ["left", "right"]) {
      const path = `${cluster.root}/${name}-folder/server_tracker.regtest.txt`;
      await waitFor(
        async () => {
          const addrs = parseTracker(await Deno.readTextFile(path)).addrs.map((a) =>
            `${a.hostname}:${a.port}`
          );
          return addrs[0] === hub.listen;
        },
        5_000,
        `${name}'s tracker copy to name the SuperPeer first`,
      );
    }
  });
});
