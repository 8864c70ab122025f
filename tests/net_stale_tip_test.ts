/**
 * The stale-tip check acts on evidence, never on a claim (issue 19): Sybil SuperPeers whose hellos claim a tip far
 * above the network's, in an idle network where every Peer's tip is stale, through the real `Network` on the
 * simulated LAN. A SuperPeer tried is kept only once it delivered a block this node lacked, so the liars take no
 * Peer's backup slot; a full one's refusal counts only if it delivered blocks to this node before, so the liars'
 * `full` answers make no Peer promote itself.
 */
import assert from "node:assert/strict";
import { World } from "../lib/sim/world.ts";
import { STALE_TIP_MS } from "../lib/net/config.ts";

/** A claim of a tip 1,000 blocks ahead of anything the honest nodes mined. */
const HIGH_CLAIM = { hash: "ab".repeat(32), height: 1_000, work: "ffffffffffff" };

Deno.test("Sybils claiming a higher tip take no stale Peer's backup slot and make none promote itself", async () => {
  const promotions: string[] = [];
  const w = new World({
    seed: 11,
    network: { maxPeers: 8 },
    onEvent: (n, e) => {
      if (e.type === "role" && e.role === "superpeer" && /stale tip/.test(e.reason)) promotions.push(n.host);
    },
  });
  w.startNodes(24, 3_000);
  await w.clock.advance(10_000);
  // Blocks while all is honest: every Peer's SuperPeers deliver, so none is starved of a deliverer.
  for (let i = 0; i < 3; i++) {
    w.mine();
    await w.clock.advance(2_000);
  }
  const peers = w.live().filter((n) => n.net!.role === "peer");
  assert.ok(peers.length > 10 && peers.every((n) => n.net!.superpeers.length === 2), "every Peer holds two");
  const band = w.addSybils(4, { oneHost: false, startAt: 0, answers: "mixed", claimTip: HIGH_CLAIM });
  // Idle past the stale-tip time: every Peer tries other SuperPeers, again every third of it.
  await w.clock.advance(STALE_TIP_MS + 40_000);
  const t = band.totals();
  assert.ok(t.joinsTaken > 0 && t.full > 0, `the liars were asked and answered: ${JSON.stringify(t)}`);
  const held = w.live().filter((n) =>
    n.net!.role === "peer" && n.net!.superpeers.some((s) => band.has(s.nodeId))
  );
  assert.deepEqual(held.map((n) => n.host), [], "Peers holding a liar that claimed a higher tip");
  assert.deepEqual(promotions, [], "Peers promoted by liars' full answers");
});
