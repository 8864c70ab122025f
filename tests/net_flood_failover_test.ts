/**
 * Flood, then failover (issue 19), with real node processes on 127.0.0.1: a mesh link fills every Peer's
 * directory with made-up SuperPeers whose addresses accept TCP and stay silent; when the only real
 * SuperPeer is then SIGKILLed, the Peers must still re-form at once (before: 0 links after 60 s).
 */
import assert from "node:assert/strict";
import type { NodeStatus } from "../lib/node.ts";
import type { SuperPeerEntry } from "../lib/net/messages.ts";
import { Cluster, describeNodes, type TestNode, waitForOneHub } from "./support/cluster.ts";
import { helloMessage, type RawPeer, rawPeer } from "./support/raw_peer.ts";
import { waitFor } from "./support/wait.ts";

/** `n` listeners on 127.0.0.1 that accept and never say a word. */
function tarpits(n: number): { addrs: string[]; close: () => void } {
  const held: Deno.Conn[] = [];
  const listeners = Array.from({ length: n }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  for (const l of listeners) {
    (async () => {
      try {
        for await (const c of l) held.push(c);
      } catch { /* closed */ }
    })();
  }
  return {
    addrs: listeners.map((l) => `127.0.0.1:${(l.addr as Deno.NetAddr).port}`),
    close: () => {
      for (const l of listeners) l.close();
      for (const c of held) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("flood, then failover: 1,500 made-up silent entries in every Peer's directory do not stall the failover when the only SuperPeer is SIGKILLed", async () => {
  const cluster = await Cluster.create();
  const pits = tarpits(60);
  let flooder: RawPeer | undefined;
  try {
    const sp = await cluster.start("sp");
    const peers: TestNode[] = [];
    for (const n of ["a", "b", "c", "d"]) peers.push(await cluster.start(n));
    await waitForOneHub([sp, ...peers], 10_000, "a SuperPeer and four Peers");
    const now = Date.now();
    const entries: SuperPeerEntry[] = Array.from({ length: 1500 }, (_, i) => ({
      nodeId: i.toString(16).padStart(64, "f"),
      listen: pits.addrs[i % pits.addrs.length],
      peers: 0,
      load: 0,
      capacity: 10_000,
      seq: now,
    }));
    const pages = [0, 500, 1000].map((i) => ({
      type: "superpeers" as const,
      add: entries.slice(i, i + 500),
      remove: [],
    }));
    flooder = await rawPeer(sp.port, helloMessage("flooder", { role: "superpeer", listen: pits.addrs[0] }), [
      { type: "mesh" },
      ...pages,
    ]);
    await waitFor(
      async () => {
        for (const p of peers) {
          const dir = (await p.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers;
          if (dir.length < 1000) return false;
        }
        return true;
      },
      40_000,
      "the flood to reach every Peer's directory",
    );
    sp.kill("SIGKILL");
    await waitFor(
      async () => {
        const s = await Promise.all(peers.map((p) => p.rpc<NodeStatus>("status")));
        const hub = s[0].hub;
        return hub !== null && hub !== sp.listen && s.every((x) => x.hub === hub) &&
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
