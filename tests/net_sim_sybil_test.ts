/**
 * Sybil SuperPeers in the simulation (issue 19, lib/sim/sybil.ts): adversaries with keys of their own that
 * speak the real protocol, lie in every claim about themselves, relay nothing and redirect in loops. A small
 * version of `deno task sim`'s Sybil scenario: what the Sybils cannot do, whatever they claim.
 */
import assert from "node:assert/strict";
import { BAN_THRESHOLD } from "../lib/net/ban.ts";
import { BEHIND_GRACE_MS, DIR_LINK_BUDGET, DIR_OVER_BUDGET_SCORE } from "../lib/net/config.ts";
import { World } from "../lib/sim/world.ts";
import { runSybilScenario, sybilScenario } from "../bench/sim_sybil.ts";

Deno.test("Sybil SuperPeers with their own keys cannot hijack an honest node's entry nor stop a block among honest links", async () => {
  const w = new World({ seed: 2, network: { maxPeers: 8 } });
  w.startNodes(70, 4_000);
  const band = w.addSybils(5, { oneHost: false, startAt: 1_000, hijack: true });
  await w.clock.advance(12_000);
  const t = band.totals();
  assert.ok(t.joinsTaken > 0 && t.full > 0 && t.redirects > 0 && t.meshLinks > 0, JSON.stringify(t));
  assert.ok(w.superPeers().length >= 4, "honest SuperPeers remain");

  // Entries are signed by their subject: every honest node's directory names each node at its own address.
  const listenOf = new Map<string, string>();
  for (const n of w.nodes) listenOf.set(n.id, n.listen);
  for (const s of band.members) listenOf.set(s.nodeId, s.listen);
  let entries = 0, sybilEntries = 0;
  for (const n of w.live()) {
    for (const e of n.net!.directory()) {
      entries++;
      if (band.has(e.nodeId)) sybilEntries++;
      assert.equal(e.listen, listenOf.get(e.nodeId), `${n.host} holds ${e.nodeId} at ${e.listen}`);
    }
  }
  assert.ok(sybilEntries > 0 && sybilEntries < entries, `${sybilEntries} Sybil entries of ${entries}`);
  assert.ok(
    w.events.misbehaviourSamples.some((x) => x.includes("not signed by their node")),
    "the forged entries were refused and scored",
  );

  // A block mined at an honest node reaches every honest node linked to it by honest links, whatever the
  // Sybils swallow.
  const miner = w.running().find((n) => n.net!.linkInfo().some((l) => !band.has(l.nodeId)))!;
  const linked = w.reachable(miner);
  assert.ok(linked.size > 1);
  const m = w.mine(miner);
  await w.clock.advance(3_000);
  const missing = [...linked].filter((n) => !n.ledger.knows(m.block.hash)).map((n) => n.host);
  assert.deepEqual(missing, []);
  assert.ok(band.totals().swallowed > 0, "honest nodes relayed to Sybils, which swallowed it");
  const c = w.captured((id) => band.has(id));
  assert.equal(c.honest, 70);
  assert.ok(c.captured + linked.size <= c.honest, "a captured node has no honest link");
});

Deno.test("the Sybil scenario reports the capture share and the blocks' reach among honest nodes", async () => {
  const r = await runSybilScenario({
    ...sybilScenario(true, 60, 4, 3),
    startSpreadMs: 3_000,
    settleMs: 5_000,
    blocks: 1,
    superPeerKills: 1,
    afterKillsMs: 5_000,
    spreadWaitMs: 2_000,
    network: { maxPeers: 8 },
  });
  assert.deepEqual(r.capture.map((c) => c.step), ["settled", "after blocks", "after kills"]);
  assert.equal(r.capture[0].capture.honest, 60);
  assert.equal(r.capture[2].capture.honest, 59, "one honest SuperPeer SIGKILLed");
  assert.equal(r.blocks.length, 2);
  for (const b of r.blocks) assert.ok(b.reached >= 1 && b.reached <= b.live);
  assert.ok(r.sybils.meshLinks > 0);
  assert.deepEqual(r.errors, []);
  // Sybils on one host hold no honest node: a Peer's two SuperPeers are never both on one host while another
  // is known, and a full SuperPeer names one SuperPeer per host (10 of 60 captured at every step before).
  assert.deepEqual(r.capture.map((c) => c.capture.captured), [0, 0, 0], "honest nodes captured");
  for (const b of r.blocks) assert.equal(b.reached, b.live, `block ${b.height} (${b.step})`);
});

Deno.test("gossip flood (issue 19): pages of 500 fresh, validly signed entries on one mesh link are read only within the link's budget, forwarded no further than that, and the flooder is scored and cut off at the ban", async () => {
  const scores: { at: string; score: number; reason: string }[] = [];
  const w = new World({
    seed: 4,
    network: { maxPeers: 4 },
    onEvent: (n, e) => {
      if (e.type === "misbehaviour" && e.host.startsWith("10.253.")) scores.push({ at: n.host, ...e });
    },
  });
  w.startNodes(24, 3_000);
  await w.clock.advance(8_000);
  const pages = 20, perPage = 500;
  const band = w.addSybils(1, {
    oneHost: false,
    meshTarget: 1,
    flood: { pages, perPage, everyMs: 50 },
  });
  const t0 = w.clock.elapsed;
  await w.clock.advance(4_000);
  const seconds = (w.clock.elapsed - t0) / 1000;
  const bound = DIR_LINK_BUDGET.burst + DIR_LINK_BUDGET.perSecond * seconds;
  assert.ok(band.totals().flooded >= 4 * DIR_LINK_BUDGET.burst, "the flood is larger than any budget");
  const held = w.live().map((n) => n.net!.directory().filter((e) => e.nodeId.startsWith("flood-")).length);
  assert.ok(Math.max(...held) > 0, "the flood got in as far as the budget let it");
  assert.ok(Math.max(...held) <= bound, `flooded entries held: ${Math.max(...held)} > ${bound}`);
  assert.ok(scores.some((s) => s.score > 0 && /budget/.test(s.reason)), JSON.stringify(scores.slice(0, 3)));
  // Each SuperPeer it flooded read a few pages, scored the rest and cut it off at the ban: it kept no link
  // long enough to send all its pages anywhere.
  const reports = new Map<string, number>();
  for (const s of scores) if (/budget/.test(s.reason)) reports.set(s.at, (reports.get(s.at) ?? 0) + 1);
  const most = Math.max(...reports.values());
  assert.equal(
    most,
    BAN_THRESHOLD / DIR_OVER_BUDGET_SCORE,
    `over-budget reports per SuperPeer: ${[...reports]}`,
  );
});

Deno.test("Sybils on K hosts: once blocks flow, no honest node stays captured (the stale-tip check keeps the SuperPeers that deliver)", async () => {
  // Before the first block nothing tells a Sybil on a host of its own from an honest SuperPeer (a few nodes are
  // captured then); the blocks are the evidence. On the code before (c1a9ba8) seed 1 kept one node captured after
  // the blocks and after the kill, and the last blocks missed it.
  const r = await runSybilScenario({
    ...sybilScenario(false, 60, 4, 1),
    startSpreadMs: 3_000,
    settleMs: 5_000,
    blocks: 5,
    blockEveryMs: 10_000,
    superPeerKills: 1,
    afterKillsMs: 5_000,
    spreadWaitMs: 2_000,
    network: { maxPeers: 8 },
  });
  assert.deepEqual(r.errors, []);
  assert.ok(r.capture[0].capture.captured > 0, "some nodes are captured before any block (no evidence yet)");
  assert.deepEqual(
    r.capture.slice(1).map((c) => c.capture.captured),
    [0, 0],
    "captured after blocks, after kills",
  );
  for (const b of r.blocks.slice(-2)) assert.equal(b.reached, b.live, `block ${b.height} (${b.step})`);
});

Deno.test("Sybils on K hosts, 100 nodes: no honest node captured after the blocks nor after two SuperPeer kills (evidence: mesh links of its own choice, lagging SuperPeers replaced)", async () => {
  // On the code before (main at 6336696) one node stayed captured after the kills: a Peer with a Sybil primary
  // from its start and an honest backup that was killed kept the Sybil and took Sybil backups.
  const r = await runSybilScenario({
    ...sybilScenario(false, 100, 5, 3),
    startSpreadMs: 6_000,
    settleMs: 6_000,
    blocks: 3,
    blockEveryMs: 10_000,
    superPeerKills: 2,
    afterKillsMs: 8_000,
    spreadWaitMs: 3_000,
    network: { maxPeers: 8 },
  });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.capture.slice(1).map((c) => c.capture.captured),
    [0, 0],
    "captured after blocks, after kills",
  );
  const last = r.blocks.at(-1)!;
  assert.equal(last.reached, last.live, `block ${last.height} (${last.step})`);
});

Deno.test("a Sybil taken as a Peer's SuperPeer after blocks, its hello at the genesis tip and relaying nothing, is let go within BEHIND_GRACE_MS", async () => {
  // Before (main at 6336696) a Sybil backup taken between blocks was kept until blocks it failed to relay came:
  // 18.3 s of the 20 s here.
  const since = new Map<string, number>();
  let longest = 0;
  const sybils = new Set<string>();
  const w: World = new World({
    seed: 1,
    network: { maxPeers: 8 },
    onEvent: (n, e) => {
      if ((e.type !== "superpeer-linked" && e.type !== "superpeer-lost") || !sybils.has(e.peer.nodeId)) {
        return;
      }
      const k = n.id + e.peer.nodeId;
      if (e.type === "superpeer-linked") since.set(k, w.clock.elapsed);
      else if (since.has(k)) (longest = Math.max(longest, w.clock.elapsed - since.get(k)!), since.delete(k));
    },
  });
  w.startNodes(20, 3_000);
  await w.clock.advance(8_000);
  for (let i = 0; i < 2; i++) (w.mine(), await w.clock.advance(2_000));
  const band = w.addSybils(3, { oneHost: false, startAt: 0, answers: "accept" });
  for (const s of band.members) sybils.add(s.nodeId);
  await w.clock.advance(2_000);
  // The busiest honest SuperPeer dies, so its Peers look for others, the Sybils (which take every join) among
  // them. (Without the kill, since the seekstall merge Peers find a second among honest SuperPeers before the
  // Sybils come, and none is taken.)
  w.kill(w.busiest(w.superPeers())[0]);
  await w.clock.advance(18_000);
  for (const t of since.values()) longest = Math.max(longest, w.clock.elapsed - t);
  assert.ok(band.totals().joinsTaken > 0, "Peers took Sybils");
  assert.ok(longest <= BEHIND_GRACE_MS + 1_000, `a Sybil held for ${longest} ms`);
});
