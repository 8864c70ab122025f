/**
 * Budgets on every path (issue 19), against real node processes on 127.0.0.1: a redirect storm (entries whose
 * addresses answer every dial with a redirect to two others, one of them a third party) makes a SuperPeer
 * dial a bounded number of times, never without end, and never makes it a reflector.
 */
import assert from "node:assert/strict";
import type { SuperPeerEntry } from "../lib/net/messages.ts";
import { DEFAULT_MAX_PEERS, MAX_WAITING_LINKS, MESH_DEGREE } from "../lib/net/config.ts";
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, startSuperPeerAndPeer } from "./support/cluster.ts";
import { helloMessage, type RawPeer, rawPeer } from "./support/raw_peer.ts";
import { type Liar, startLiar } from "./support/liar.ts";
import { sleep, waitFor } from "./support/wait.ts";

Deno.test("redirect storm: three addresses redirecting to each other and to a third party cost a SuperPeer a few dials, not thousands", async () => {
  const cluster = await Cluster.create();
  const third = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const thirdAddr = `127.0.0.1:${(third.addr as Deno.NetAddr).port}`;
  let thirdHits = 0;
  const thirdLoop = (async () => {
    try {
      for await (const c of third) {
        thirdHits++;
        c.close();
      }
    } catch { /* closed */ }
  })();
  const rs: Liar[] = [];
  try {
    const sp = await cluster.start("sp");
    for (let i = 0; i < 3; i++) {
      rs.push(await startLiar({ redirectTo: () => [rs[(i + 1) % 3].listen, thirdAddr] }));
    }
    const raw = await rs[0].meshWith(sp.port);
    const dir = async () => (await sp.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers;
    await waitFor(async () => (await dir()).some((e) => e.nodeId === rs[0].nodeId), 10_000, "r0's entry");
    await raw.conn.close("done"); // now its entry is a SuperPeer the mesh does not hold: dialled
    await waitFor(() => rs[0].accepted >= 1, 10_000, "the SuperPeer to dial r0's address");
    await sleep(5_000);
    const dials = rs.reduce((n, r) => n + r.accepted, 0);
    assert.ok(dials <= 20, `the redirectors were dialled ${dials} times in 5 s`);
    assert.ok(thirdHits <= 5, `the third party was dialled ${thirdHits} times in 5 s: a reflector`);
    assert.ok(!(await dir()).some((e) => e.nodeId === rs[0].nodeId), "an entry that redirects is dropped");
    const status = await sp.rpc<{ role: string }>("status");
    assert.equal(status.role, "superpeer");
  } finally {
    for (const r of rs) await r.close();
    third.close();
    await thirdLoop;
    await cluster.cleanup();
  }
});

/** A SuperPeer's sockets at most, as `Network` counts them (every Peer slot, mesh both ways, handshakes). */
const CAP = DEFAULT_MAX_PEERS + 2 * MESH_DEGREE.high + MAX_WAITING_LINKS;

Deno.test("mesh-slot exhaustion: 80 loopback links that say they are SuperPeers, ask for mesh links and relay nothing do not keep an honest newcomer out", async () => {
  const cluster = await Cluster.create();
  const fakes: RawPeer[] = [];
  try {
    const { sp } = await startSuperPeerAndPeer(cluster);
    // Fakes one at a time, each welcomed (or pushed out) before the next, until the sockets are full.
    const greeted = async () => (await sp.rpc<{ links: unknown[] }>("peers")).links.length;
    for (let i = 0; i < 200 && await greeted() < CAP; i++) {
      const f = await rawPeer(sp.port, helloMessage(`fake-${i}`, { role: "superpeer" }), [{ type: "mesh" }]);
      fakes.push(f);
      await waitFor(
        () => f.conn.isClosed || f.got.some((m) => m.type === "welcome"),
        10_000,
        `fake ${i} to be welcomed or closed`,
      );
    }
    assert.equal(await greeted(), CAP, "the fakes filled every socket");
    const c = await cluster.start("c");
    await waitFor(
      async () => {
        const s = await c.rpc<NodeStatus>("status");
        return s.role === "peer" && s.primary === sp.listen;
      },
      20_000,
      "the honest newcomer to join the SuperPeer as a Peer",
    );
    assert.equal((await sp.rpc<NodeStatus>("status")).role, "superpeer");
  } finally {
    for (const f of fakes) await f.conn.close("done");
    await cluster.cleanup();
  }
});
