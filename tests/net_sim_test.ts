/**
 * The network simulation (bench/sim.ts over lib/sim): the real `Network` code as in-process nodes on a
 * virtual LAN and clock. A small run that checks the measurements themselves, determinism by seed, and the
 * 200-node version of issue 10's scenario, whose invariants only a super-peer overlay (network v2) meets.
 */
import assert from "node:assert/strict";
import { runScenario, shortScenario, type SimReport } from "../bench/sim.ts";
import { DEMOTE_AFTER_MS } from "../lib/net/config.ts";
import { type SimNode, World } from "../lib/sim/world.ts";

/** Every block mined, with where it fell short. */
function incomplete(r: SimReport): string[] {
  return r.figures.blocks.filter((b) => !b.complete).map((b) =>
    `block ${b.spread.height} (${b.step}): ${b.spread.reached} of ${b.spread.live}`
  );
}

Deno.test("a 40-node run measures what happened: one network before and after, several during the partition, every block everywhere over a few LAN hops", async () => {
  const r = await runScenario(shortScenario(40, 11));
  const f = r.figures;
  assert.equal(f.events.misbehaviour, 0, f.events.misbehaviourSamples.join("; "));
  assert.deepEqual(f.events.errors, []);
  assert.equal(f.networksAfterStart.count, 1);
  assert.ok(f.networksDuringPartition.count >= 2, "each side of the partition is a network of its own");
  assert.equal(f.networksAfterHeal.count, 1);
  assert.equal(f.missingAtEnd, 0);
  assert.equal(f.blocks[0].complete, true);
  assert.equal(f.blocks[0].spread.reached, 40);
  assert.equal(f.blocks[0].spread.hops.length, 39, "every receiver's sender chain leads back to the miner");
  assert.ok(f.blocks[0].spread.hops.every((h) => h >= 1 && h <= 4), `hops ${f.blocks[0].spread.hops}`);
  assert.ok(f.blocks[0].spread.ms.every((ms) => ms > 0 && ms < 10), "sub-10 ms on a gigabit LAN");
  assert.equal(f.joinLinkedMs.length + f.neverLinked, f.churn.joined + 40);
  assert.equal(f.superPeersKilled, 2);
  assert.equal(f.joinFirstRoleMs.length, f.churn.joined + 40);
});

Deno.test("the simulation is deterministic: the same seed gives the same figures, another seed others", async () => {
  const run = async (seed: number) =>
    (await runScenario({ ...shortScenario(30, seed), churnMs: 20_000 })).figures;
  const [a, b, c] = [await run(5), await run(5), await run(6)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.frames, c.frames);
});

// The star network before v2 (one hub, at most 64 links) failed this as issue 10 describes: 136 networks
// after start (largest 65), 4 after healing.
Deno.test({
  name:
    "200 nodes through churn, SuperPeer kills, a freeze and a partition: one network after healing, every block reaches every live node",
  fn: async () => {
    const r = await runScenario(shortScenario(200, 1));
    const f = r.figures;
    assert.equal(f.events.misbehaviour, 0, f.events.misbehaviourSamples.join("; "));
    assert.deepEqual(f.events.errors, []);
    assert.equal(
      f.networksAfterStart.count,
      1,
      `networks after start: ${JSON.stringify(f.networksAfterStart)}`,
    );
    assert.equal(
      f.networksAfterHeal.count,
      1,
      `networks after healing: ${JSON.stringify(f.networksAfterHeal)}`,
    );
    assert.deepEqual(incomplete(r), []);
    assert.equal(f.missingAtEnd, 0, `${f.missingAtEnd} live nodes lack a block`);
  },
});

/** Whether every live node is in one network, each Peer holding a SuperPeer (links of any age). */
function whole(w: World): boolean {
  const c = w.components(0);
  return c.count === 1 && c.isolated === 0 &&
    w.live().every((n) => n.net?.role === "superpeer" || (n.net?.superpeers.length ?? 0) > 0);
}

const roleOf = (n: SimNode) => n.net?.role;

/**
 * A check for `clock.until` that fails once the network has not been whole for over `graceMs` in a row: a
 * SuperPeer stepping down closes its links before it joins as a Peer, so it is alone for a dial's time.
 */
function staysWhole(w: World, graceMs = 1_000): () => void {
  let since: number | undefined;
  return () => {
    if (whole(w)) since = undefined;
    else if ((since ??= w.clock.elapsed) < w.clock.elapsed - graceMs) {
      assert.fail(`not one network for ${graceMs} ms: ${JSON.stringify(w.components(0))}`);
    }
  };
}

Deno.test("the overlay grows with its nodes and shrinks back after they leave, only once SuperPeers stayed idle long enough", async () => {
  const w = new World({ seed: 3, network: { maxPeers: 4 } });
  w.startNodes(60, 5_000);
  await w.clock.advance(20_000);
  assert.ok(whole(w), JSON.stringify(w.components(0)));
  const grown = w.superPeers().length;
  assert.ok(grown >= 60 / (4 + 1), `60 nodes, 4 Peers each: ${grown} SuperPeers`);
  const single = w.live().filter((n) => roleOf(n) === "peer" && n.net!.superpeers.length < 2);
  assert.deepEqual(
    single.map((n) => n.host),
    [],
    "every Peer holds two SuperPeers once the overlay has room",
  );

  // 48 leave, the Peers first: the SuperPeers left serve next to nobody. Those that served Peers until now
  // become idle now; one that served none already (the last to promote, its Peers gone elsewhere) may have
  // been idle for a while and may step down sooner.
  const peers = w.live().filter((n) => roleOf(n) !== "superpeer");
  const leaving = [...peers, ...w.superPeers()].slice(0, 48);
  const serving = w.superPeers().filter((sp) =>
    !leaving.includes(sp) && sp.net!.linkInfo().some((l) => l.kind === "member")
  );
  for (const n of leaving) w.stop(n);
  await w.clock.advance(DEMOTE_AFTER_MS * 2 / 3);
  const idle = w.superPeers().length;
  assert.ok(idle >= 10, `${idle} SuperPeers among 12 nodes`);
  assert.ok(
    serving.length >= 10,
    `${serving.length} of the 12 nodes left served Peers until the others left`,
  );
  assert.ok(whole(w));

  await w.clock.advance(DEMOTE_AFTER_MS / 3 - 1);
  assert.deepEqual(
    serving.filter((n) => roleOf(n) !== "superpeer").map((n) => n.host),
    [],
    "nobody steps down before it has been idle DEMOTE_AFTER_MS",
  );

  let fewest = idle;
  const check = staysWhole(w);
  const shrunk = await w.clock.until(() => {
    check();
    fewest = Math.min(fewest, w.superPeers().length);
    return fewest <= idle / 2;
  }, 4 * DEMOTE_AFTER_MS);
  assert.ok(shrunk, `${idle} idle SuperPeers were still ${fewest} after ${4 * DEMOTE_AFTER_MS} ms`);
  await w.clock.until(() => (check(), false), 2 * DEMOTE_AFTER_MS);
  assert.ok(w.superPeers().length >= 2, "two stay, so that every Peer keeps two");
  assert.ok(whole(w));
  const m = w.mine();
  assert.ok(await w.waitForBlock(m, 5_000), "a block still reaches every node");
});

Deno.test("SuperPeers SIGKILLed one by one until a handful of nodes is left: one network after each, every block everywhere", async () => {
  const w = new World({ seed: 1, network: { maxPeers: 5 } });
  w.startNodes(12, 3_000);
  await w.clock.advance(15_000);
  assert.ok(whole(w));
  let kills = 0;
  while (w.liveCount > 4) {
    const [sp] = w.superPeers();
    w.kill(sp);
    kills++;
    assert.ok(
      await w.clock.until(() => whole(w), 5_000),
      `kill ${kills}: ${JSON.stringify(w.components(0))}`,
    );
    const m = w.mine();
    assert.ok(await w.waitForBlock(m, 5_000), `kill ${kills}: the next block reaches every node`);
  }
  assert.equal(kills, 8);
});

Deno.test("settled overlays stay put: every Peer holds two SuperPeers and nobody changes role for three minutes, tight (6 or 11 nodes, --max-peers 2) or large (300, --max-peers 32)", async () => {
  for (const [nodes, maxPeers] of [[6, 2], [11, 2], [300, 32]]) {
    let roles = 0;
    const w = new World({
      seed: 1,
      network: { maxPeers },
      onEvent: (_, e) => void (e.type === "role" && roles++),
    });
    const spreadMs = Math.max(2_000, nodes * 20);
    w.startNodes(nodes, spreadMs);
    await w.clock.advance(spreadMs + 10_000);
    const what = `${nodes} nodes, --max-peers ${maxPeers}`;
    assert.ok(whole(w), `${what}: ${JSON.stringify(w.components(0))}`);
    const single = () => w.live().filter((n) => roleOf(n) === "peer" && n.net!.superpeers.length < 2).length;
    assert.equal(single(), 0, `${what}: Peers holding one SuperPeer`);
    roles = 0;
    await w.clock.advance(180_000);
    assert.equal(roles, 0, `${what}: role changes in a settled network (stepping down, then promoted again)`);
    assert.equal(single(), 0);
    assert.ok(whole(w));
  }
});
