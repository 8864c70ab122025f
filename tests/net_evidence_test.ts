/**
 * Evidence decides, claims only break ties (issue 19), against real node processes on 127.0.0.1: a lying
 * SuperPeer that answers every join with `full` + `promote` turns nobody into a SuperPeer, and a lone full
 * SuperPeer's next joiner still adds capacity.
 */
import assert from "node:assert/strict";
import type { NodeStatus } from "../lib/node.ts";
import { parseTracker } from "../lib/net/tracker.ts";
import {
  Cluster,
  statuses,
  type TestNode,
  waitForOnePrimary,
  waitForTip,
  withCluster,
} from "./support/cluster.ts";
import { startLiar } from "./support/liar.ts";
import { sleep, waitFor } from "./support/wait.ts";

Deno.test("forced promotion: a liar 'with room' that answers every join with full + promote turns no Peer into a SuperPeer", async () => {
  const cluster = await Cluster.create();
  const liar = await startLiar();
  try {
    const sp = await cluster.start("sp");
    const peers = [await cluster.start("p1"), await cluster.start("p2"), await cluster.start("p3")];
    const nodes = [sp, ...peers];
    await waitForOnePrimary(nodes, 10_000, "a SuperPeer and three Peers");
    await liar.meshWith(sp.port);
    // Each Peer, holding one SuperPeer, hears of the liar and asks it to be its second.
    await waitFor(
      () => peers.every((p) => liar.joins.includes(p.listen)),
      15_000,
      "every Peer to ask the liar for a backup link",
    );
    await sleep(2_000); // the old code promoted within a second of the answer
    const s = await statuses(nodes);
    assert.deepEqual(s.map((x) => x.role), ["superpeer", "peer", "peer", "peer"], "nobody was promoted");
    assert.ok(peers.every((p) => !p.log.some((l) => l.includes("promoted to SuperPeer"))));
    assert.ok(s.slice(1).every((x) => x.hub === sp.listen), "every Peer kept its SuperPeer");
    // The tracker file (all four share it) names only SuperPeers that welcomed a node and then served it: the
    // honest one, once it relayed a block; never the liar, which proved its key and claimed the role but
    // welcomed no join and relayed nothing.
    const [hash] = (await sp.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(nodes, hash, 10_000, "the SuperPeer's block to reach every Peer");
    // A node that stops writes what it holds (flush): the last writer is a Peer that asked the liar.
    await peers[0].rpc("stop").catch(() => {});
    await peers[0].exited.catch(() => {});
    const tracker = parseTracker(await Deno.readTextFile(cluster.learnedTracker)).addrs.map((a) =>
      `${a.hostname}:${a.port}`
    );
    assert.equal(tracker[0], sp.listen, `the SuperPeer that served leads: ${tracker}`);
    assert.ok(!tracker.includes(liar.listen), `no liar in the tracker: ${tracker}`);
  } finally {
    await liar.close();
    await cluster.cleanup();
  }
});

Deno.test("a lone full SuperPeer's next joiner still promotes itself: turned away by every SuperPeer it reached", async () => {
  await withCluster(async (cluster) => {
    const sp = await cluster.start("sp", { args: ["--max-peers", "1"] });
    const p1 = await cluster.start("p1");
    await waitFor(
      async () => (await p1.rpc<NodeStatus>("status")).hub === sp.listen,
      10_000,
      "the first Peer to join",
    );
    const p2 = await cluster.start("p2");
    await waitFor(
      async () => (await p2.rpc<NodeStatus>("status")).role === "superpeer",
      15_000,
      "the next joiner, turned away by the only (full) SuperPeer, to promote itself",
    );
    assert.ok(p2.log.some((l) => /promoted to SuperPeer \(.*(full|turned away)/.test(l)), p2.log.join("\n"));
  });
});

Deno.test("eclipse by step-down: two lying SuperPeers 'with room' linked to an honest SuperPeer that serves four Peers capture nothing in 50 s", async () => {
  const cluster = await Cluster.create();
  const liars = [await startLiar(), await startLiar()];
  try {
    const sp = await cluster.start("sp");
    const peers: TestNode[] = [];
    for (const n of ["a", "b", "c", "d"]) peers.push(await cluster.start(n));
    const nodes = [sp, ...peers];
    await waitForOnePrimary(nodes, 10_000, "a SuperPeer and four Peers");
    for (const l of liars) await l.meshWith(sp.port);
    await waitFor(
      () => liars.every((l) => sp.log.some((x) => x.includes(`mesh-linked ${l.listen}`))),
      10_000,
      "the SuperPeer to hold mesh links to both liars",
    );
    // The old rule stepped down after 30-45 s lightly loaded with two linked SuperPeers claiming room.
    await sleep(50_000);
    const s = await statuses(nodes);
    assert.equal(s[0].role, "superpeer", "the honest SuperPeer did not step down");
    assert.ok(!sp.log.some((l) => l.includes("became a Peer")), "it never stepped down");
    assert.ok(s.slice(1).every((x) => x.role === "peer" && x.hub === sp.listen), "its Peers stayed with it");
    // What the nodes learned goes to the learned file beside the shipped one (which no node rewrites).
    const tracker = parseTracker(await Deno.readTextFile(cluster.learnedTracker)).addrs.map((a) =>
      `${a.hostname}:${a.port}`
    );
    assert.ok(!tracker.some((a) => liars.some((l) => l.listen === a)), `no liar in the tracker: ${tracker}`);
    // And a block mined on a Peer reaches every honest node.
    const [hash] = (await peers[3].rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(nodes, hash, 10_000, "a Peer's block to reach every honest node");
  } finally {
    for (const l of liars) await l.close();
    await cluster.cleanup();
  }
});
