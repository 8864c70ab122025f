/**
 * Self-repair with real node processes on 127.0.0.1 (short timings: ping every 300 ms, dead after 1.5 s):
 * the only SuperPeer SIGKILLed again and again (its roster names the successor), one frozen with SIGSTOP and
 * later resumed, and two SuperPeers that meet.
 */
import assert from "node:assert/strict";
import type { NodeStatus } from "../lib/node.ts";
import {
  chainTxids,
  describeNodes,
  freePort,
  mempoolIds,
  statuses,
  type TestNode,
  waitForOneNetwork,
  waitForOnePrimary,
  waitForTip,
  withCluster,
} from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";

/** Every survivor has every block in `hashes` on its active chain, all share one tip, and holds every tx. */
async function nothingLost(
  nodes: TestNode[],
  hashes: string[],
  txids: string[],
  fromHeight: number,
): Promise<boolean> {
  const s = await statuses(nodes);
  if (!s.every((x) => x.tip === s[0].tip)) return false;
  for (const n of nodes) {
    for (const h of hashes) {
      const b = await n.rpc<{ confirmations: number }>("block", [h]).catch(() => null);
      if (!b || b.confirmations < 1) return false;
    }
  }
  const { txids: confirmed } = await chainTxids(nodes[0], fromHeight);
  for (const n of nodes) {
    const pool = await mempoolIds(n);
    if (!txids.every((id) => confirmed.has(id) || pool.has(id))) return false;
  }
  return true;
}

Deno.test("the hub SIGKILLed five times in a row: each time the survivors agree on one live hub and lose no block or transaction it never relayed", async () => {
  await withCluster(async (cluster) => {
    const names = ["a", "b", "c", "d", "e", "f", "g"];
    const nodes: TestNode[] = [];
    for (const n of names) nodes.push(await cluster.start(n));
    await waitForOnePrimary(nodes, 10_000, "seven nodes to form one network");
    // Two coinbases per node, matured by ten more blocks: every node can pay twice. Each node mines on the
    // tip everyone has: mined on a stale tip (a busy machine relays slowly), its coinbases would be reorged away.
    for (const n of nodes) {
      const [, tip] = (await n.rpc<{ hashes: string[] }>("mine", [2])).hashes;
      await waitForTip(nodes, tip, 10_000, `${n.name}'s coinbases to reach everyone`);
    }
    await nodes[6].rpc("mine", [10]);
    const start = await nodes[6].rpc<NodeStatus>("status");
    await waitForTip(nodes, start.tip, 10_000, "funding blocks to reach everyone");
    const hashes: string[] = [], txids: string[] = [];
    const sends = new Map<TestNode, number>();
    for (let round = 1; round <= 5; round++) {
      const alive = cluster.alive;
      const hub = await waitForOnePrimary(alive, 10_000, `round ${round}: one hub before the kill`);
      const peers = alive.filter((n) => n !== hub);
      const miner = peers[0];
      const sender = peers.find((n) => (sends.get(n) ?? 0) < 2)!;
      sends.set(sender, (sends.get(sender) ?? 0) + 1);
      const to = (await peers[peers.length - 1].rpc<NodeStatus>("status")).address;
      // Freeze the hub first, so the block and the payment exist only where they were made when it dies:
      // only re-announcement and sync after the failover can spread them.
      hub.kill("SIGSTOP");
      hashes.push(...(await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes);
      txids.push((await sender.rpc<{ txid: string }>("send", [to, "0.5"])).txid);
      hub.kill("SIGKILL");
      const survivors = cluster.alive;
      const next = await waitForOnePrimary(
        survivors,
        10_000,
        `round ${round}: survivors to agree on a new hub`,
      );
      assert.notEqual(next, hub);
      assert.ok(next.alive);
      await waitFor(
        () => nothingLost(survivors, hashes, txids, start.height),
        10_000,
        `round ${round}: every survivor to hold every block and transaction`,
      ).catch(async (e) => {
        throw new Error(`${e.message}\nblocks ${hashes}\ntxs ${txids}\n${await describeNodes(survivors)}`);
      });
    }
    assert.equal(cluster.alive.length, 2);
  });
});

Deno.test("a SIGSTOPped SuperPeer is noticed by missed pings and replaced; resumed, it links to the new one and takes nobody back", async () => {
  await withCluster(async (cluster) => {
    const nodes: TestNode[] = [];
    for (const n of ["a", "b", "c", "d"]) nodes.push(await cluster.start(n));
    const hub = await waitForOnePrimary(nodes, 10_000, "four nodes to form one network");
    const rest = nodes.filter((n) => n !== hub);
    hub.kill("SIGSTOP");
    // Its sockets stay open: only missed pings (dead after 1.5 s) tell, then the roster names the successor.
    const next = await waitForOnePrimary(rest, 10_000, "the survivors to replace a frozen SuperPeer");
    assert.notEqual(next, hub);
    assert.ok(
      rest.every((n) => n.log.some((l) => l.includes(`superpeer-lost ${hub.listen}`))),
      "each Peer noticed the frozen SuperPeer itself",
    );

    // Life goes on without the frozen node: a payment and a block it has not seen.
    const [payer, miner] = rest;
    await payer.rpc("mine", [11]);
    const to = (await miner.rpc<NodeStatus>("status")).address;
    const { txid } = await payer.rpc<{ txid: string }>("send", [to, "1"]);
    await waitFor(async () => (await mempoolIds(miner)).has(txid), 5_000, "the payment to reach the miner");
    const [frozenMissed] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;

    hub.kill("SIGCONT");
    // Resumed, it is still a SuperPeer with no Peers; its probe finds the new one and the two link up.
    await waitForOneNetwork(nodes, 15_000, "the resumed node and the new SuperPeer to form one network");
    // Nobody moved back: every Peer keeps the SuperPeer elected during the freeze as its primary.
    for (const s of await statuses(rest.filter((n) => n !== next))) assert.equal(s.hub, next.listen);
    // What happened during the freeze reached the resumed node: the block (which carries the payment).
    await waitForTip(nodes, frozenMissed, 5_000, "the block mined during the freeze to reach all four nodes");
    const block = await hub.rpc<{ txs: { txid: string }[] }>("block", [frozenMissed]);
    assert.ok(block.txs.some((t) => t.txid === txid), "the payment made during the freeze is confirmed");
    // And the network still works end to end, from the resumed node.
    const [hash] = (await hub.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(nodes, hash, 5_000, "a block mined on the resumed node to reach all four nodes");
  });
});

Deno.test("two SuperPeers that do not know each other at start find each other through the probe and link up; nobody steps down, every Peer then holds both", async () => {
  await withCluster(async (cluster) => {
    // `first` knows where `second` will listen, but `second` is not up yet: `first` finds no SuperPeer,
    // promotes itself, and remembers the address for its probes.
    const secondPort = freePort();
    const first = await cluster.start("first", {
      tracker: `${cluster.root}/first.txt`,
      args: ["--connect", `127.0.0.1:${secondPort}`],
    });
    assert.equal((await first.rpc<NodeStatus>("status")).role, "superpeer");
    const firstPeer = await cluster.start("first-peer", { tracker: `${cluster.root}/first.txt` });
    // `second` starts with its own empty tracker: a SuperPeer of its own, then gains a Peer too.
    const second = await cluster.start("second", { port: secondPort, tracker: `${cluster.root}/second.txt` });
    const follower = await cluster.start("follower", { tracker: `${cluster.root}/second.txt` });
    const all = [first, firstPeer, second, follower];
    await waitForOneNetwork(all, 15_000, "two SuperPeers to find each other and link up");
    const s = await statuses(all);
    assert.deepEqual(s.map((x) => x.role), ["superpeer", "peer", "superpeer", "peer"], "nobody stepped down");
    // Each Peer keeps the SuperPeer it joined as primary and takes the other as its second.
    assert.equal(s[1].hub, first.listen);
    assert.equal(s[3].hub, second.listen);
    await waitFor(
      async () => (await statuses([firstPeer, follower])).every((x) => x.superpeers.length === 2),
      5_000,
      "each Peer to hold both SuperPeers",
    );
    const [hash] = (await follower.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(all, hash, 5_000, "a block from one side to reach the other");
  });
});
