/**
 * The network simulation (bench/sim.ts over lib/sim): the real `Network` code as in-process nodes on a
 * virtual LAN and clock. A small run that checks the measurements themselves, determinism by seed, and the
 * 200-node version of issue 10's scenario, whose invariants only a super-peer overlay (network v2) meets.
 */
import assert from "node:assert/strict";
import { runScenario, shortScenario, type SimReport } from "../bench/sim.ts";

/**
 * True since network v2 (issue 10) landed. With the star network before it (one hub, at most 64 links) the
 * 200-node invariants below fail as the issue describes: 65 nodes form one network and the rest promote
 * themselves and stay apart (measured: 136 networks after start, largest 65; 4 after healing). Set it to
 * false to run the suite on a network that cannot meet them.
 */
export const NETWORK_V2_LANDED = true;

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

Deno.test({
  name:
    "200 nodes through churn, SuperPeer kills, a freeze and a partition: one network after healing, every block reaches every live node",
  ignore: !NETWORK_V2_LANDED,
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
