/**
 * Short versions of the `deno task stress` scenarios, with real node processes on 127.0.0.1: hub SIGKILLs
 * while nodes pay, random SIGKILLs while mining, hostile inputs at a hub, and a burst of load. The scenarios
 * are the benchmark's (`bench/stress/`), run here at a size the suite can afford; only tests import bench/,
 * never tests/support/.
 */
import assert from "node:assert/strict";
import type { ScenarioResult } from "../bench/stress/scenario.ts";
import { hubKills, randomKills } from "../bench/stress/kills.ts";
import { hostile } from "../bench/stress/hostile.ts";
import { load, MEMPOOL_MAX_BYTES } from "../bench/stress/load.ts";

const show = (r: ScenarioResult) => `${r.scenario}\n${[...r.failures, ...r.notes].join("\n")}`;

/** A kill scenario of `runs` kills: each survived, nothing lost, no failure. */
function assertAllSurvived(r: ScenarioResult, runs: number): void {
  assert.equal(r.runs, runs, show(r));
  assert.equal(r.survived, runs, show(r));
  assert.equal(r.lost, 0, show(r));
  assert.deepEqual(r.failures, [], show(r));
}

Deno.test("stress: the hub SIGKILLed 3 times while 5 nodes pay: one live hub each time, no payment lost", async () => {
  assertAllSurvived(await hubKills({ kills: 3, senders: 5 }), 3);
});

Deno.test("stress: 5 random nodes SIGKILLed while mining: each store consistent, each catches up, no block lost", async () => {
  const r = await randomKills({ kills: 5, nodes: 4 });
  assertAllSurvived(r, 5);
  assert.match(r.notes.join("\n"), /blocks reported by mine: [1-9]/, "blocks were mined during the kills");
});

Deno.test("stress: 500 hostile inputs and a flood at a hub: it stays up, accepts nothing invalid, still relays", async () => {
  const r = await hostile({ inputs: 500, flood: 100 });
  assert.equal(r.control, true, `an honest handshake must stay open: ${show(r)}`);
  assert.equal(r.runs, 500, show(r));
  assert.equal(r.survived, 500, `every input delivered and answered by a live hub: ${show(r)}`);
  assert.equal(r.invalidAccepted, 0, show(r));
  assert.deepEqual(r.failures, [], show(r));
  assert.equal(r.lost, 0, show(r));
  assert.ok(
    r.peakRssMiB! > 0 && r.peakRssMiB! < 512,
    `hub memory bounded: peak ${r.peakRssMiB} MiB\n${show(r)}`,
  );
});

Deno.test("stress: 50 payments a second for 5 s over 3 nodes: all relayed and mined, mempool bounded", async () => {
  const r = await load({ nodes: 3, rate: 50, seconds: 5, coinbases: 2 });
  assert.ok(r.runs >= 200, `most of the 250 sends were attempted: ${show(r)}`);
  assert.equal(r.survived, r.runs, `every send accepted and mined: ${show(r)}`);
  assert.equal(r.lost, 0, show(r));
  assert.deepEqual(r.failures, [], show(r));
  assert.ok(r.peakMempoolBytes! > 0 && r.peakMempoolBytes! <= MEMPOOL_MAX_BYTES, show(r));
  // Relay latency was measured (a figure for `deno task stress`, not a bound a busy machine could miss).
  assert.ok(Number.isFinite(r.p99Ms), `relay p99 ${r.p99Ms} ms\n${show(r)}`);
  assert.ok(r.peakRssMiB! > 0, `node memory was read: ${show(r)}`);
});
