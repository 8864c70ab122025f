/**
 * Flood, then failover (issue 19), with real node processes on 127.0.0.1: a mesh link floods the SuperPeer's
 * directory with made-up SuperPeers whose addresses accept TCP and stay silent; when the only real
 * SuperPeer is then SIGKILLed, the Peers must still re-form at once (before: 0 links after 60 s).
 */
import assert from "node:assert/strict";
import type { NodeStatus } from "../lib/node.ts";
import type { SuperPeerEntry } from "../lib/net/messages.ts";
import { DIR_LINK_BUDGET, DIR_PEER_REFRESH, DIR_PEER_SAMPLE } from "../lib/net/config.ts";
import { floodDirectory, floodEntries, tarpits } from "./support/flood.ts";
import { Cluster, describeNodes, type TestNode, waitForOnePrimary } from "./support/cluster.ts";
import type { RawPeer } from "./support/raw_peer.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("flood, then failover: 1,500 made-up silent entries in the SuperPeer's directory (a sample in every Peer's) do not stall the failover when the only SuperPeer is SIGKILLed", async () => {
  const cluster = await Cluster.create();
  const pits = tarpits(60);
  let flooder: RawPeer | undefined;
  try {
    const sp = await cluster.start("sp");
    const peers: TestNode[] = [];
    for (const n of ["a", "b", "c", "d"]) peers.push(await cluster.start(n));
    await waitForOnePrimary([sp, ...peers], 10_000, "a SuperPeer and four Peers");
    const entries = await floodEntries(1500, pits.addrs);
    const floodedAt = Date.now();
    flooder = await floodDirectory(sp.port, entries, pits.addrs[0]);
    // The SuperPeer holds the flood as far as the flooder's budget let it in; its Peers hear a sample of its
    // directory (DIR_PEER_SAMPLE when they join, DIR_PEER_REFRESH every DIR_MEMBER_REFRESH_MS), so theirs are
    // poisoned too, but only so far.
    const flooded = new Set(entries.map((e) => e.nodeId));
    await waitFor(
      async () => {
        const spHeld = (await sp.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers;
        if (spHeld.length < 0.9 * DIR_LINK_BUDGET.burst) return false;
        for (const p of peers) {
          const dir = (await p.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers;
          if (!dir.some((e) => flooded.has(e.nodeId))) return false;
          assert.ok(dir.length <= 1 + DIR_PEER_SAMPLE + 4 * DIR_PEER_REFRESH, `a Peer holds ${dir.length}`);
        }
        return true;
      },
      40_000,
      "the flood to reach the SuperPeer's directory and a sample of it every Peer's",
    );
    // The flood got in only as far as the flooder's link budget let it: the rest was dropped unread.
    const spDir = (await sp.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers.length;
    const seconds = (Date.now() - floodedAt) / 1000;
    assert.ok(spDir <= DIR_LINK_BUDGET.burst + DIR_LINK_BUDGET.perSecond * seconds + 2, `${spDir} entries`);
    assert.ok(
      sp.log.some((l) => /over the link's budget, dropped unread/.test(l)),
      "the surplus was dropped",
    );
    sp.kill("SIGKILL");
    await waitFor(
      async () => {
        const s = await Promise.all(peers.map((p) => p.rpc<NodeStatus>("status")));
        const hub = s[0].primary;
        return hub !== null && hub !== sp.listen && s.every((x) => x.primary === hub) &&
          s.some((x) => x.role === "superpeer" && x.listen === hub);
      },
      15_000,
      "the Peers to re-form around one live SuperPeer despite the flood",
    ).catch(async (e) => {
      throw new Error(`${e.message}\n${await describeNodes(peers, 20)}`);
    });
    const s = await Promise.all(peers.map((p) => p.rpc<NodeStatus>("status")));
    assert.equal(s.filter((x) => x.role === "superpeer").length, 1, "one new SuperPeer, the successor");
  } finally {
    await flooder?.conn.close("done");
    pits.close();
    await cluster.cleanup();
  }
});
