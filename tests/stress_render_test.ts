/**
 * The stress results' method (bench/stress.ts): each scenario runs three times by default, and the file gives
 * min / median / max over the runs with the machine's load before each, so noise can be told from a
 * regression; a scenario passes only when every run passed. Rendering only: the scenarios themselves run in
 * stress_short_test.ts.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_RUNS,
  parseStressArgs,
  renderResults,
  type ScenarioRuns,
  spread,
  StressArgsError,
} from "../bench/stress.ts";
import type { ScenarioResult } from "../bench/stress/scenario.ts";

const run = (over: Partial<ScenarioResult>): ScenarioResult => ({
  scenario: "load 200 tx/s for 60 s over 5 nodes",
  runs: 100,
  survived: 100,
  lost: 0,
  invalidAccepted: null,
  durationMs: 60_000,
  notes: [],
  failures: [],
  ...over,
});

Deno.test("stress args: three runs by default; --runs 1..10, anything else refused", () => {
  assert.equal(DEFAULT_RUNS, 3);
  assert.equal(parseStressArgs([]).runs, 3);
  assert.equal(parseStressArgs(["--runs", "5", "--only", "load"]).runs, 5);
  for (const bad of [["--runs", "0"], ["--runs", "11"], ["--runs", "2x"], ["--runs"]]) {
    assert.throws(() => parseStressArgs(bad), StressArgsError, bad.join(" "));
  }
});

Deno.test("spread: min / median / max, one value when they agree, a dash without any", () => {
  assert.equal(spread([156, 149, 192], " tx/s"), "149 tx/s / 156 tx/s / 192 tx/s");
  assert.equal(spread([226.4, 229.1, 180], " ms", 1), "180.0 ms / 226.4 ms / 229.1 ms");
  assert.equal(spread([50, 50, 50], " MiB"), "50 MiB");
  assert.equal(spread([undefined, NaN]), "–");
});

Deno.test("stress results: a row per scenario with each figure's spread and the load before the runs; one failed run fails it", () => {
  const groups: ScenarioRuns[] = [{
    scenario: "load 200 tx/s for 60 s over 5 nodes",
    runs: [
      run({ txPerSecond: 149.2, p50Ms: 25, p99Ms: 226, peakRssMiB: 201, notes: ["first"] }),
      run({ txPerSecond: 156.0, p50Ms: 26, p99Ms: 229, peakRssMiB: 199, notes: ["second"] }),
      run({ txPerSecond: 192.0, p50Ms: 24, p99Ms: 180, peakRssMiB: 205, failures: ["a payment lost"] }),
    ],
    loads: [1.5, 3.25, 0.5],
  }];
  const text = renderResults(
    groups,
    {
      date: "2026-12-07T00:00:00Z",
      uname: "Linux",
      cores: 2,
      loadBefore: "load average: 1.00",
      loadAfter: "load average: 2.00",
    },
    1,
    { commit: "ab".repeat(20), uncommitted: [] },
  );
  const row = text.split("\n").find((l) => l.startsWith("| load 200"))!;
  const cells = row.split("|").map((c) => c.trim());
  assert.deepEqual(cells.slice(1, -1), [
    "load 200 tx/s for 60 s over 5 nodes",
    "3",
    "300 of 300",
    "0",
    "–",
    "149.2 / 156.0 / 192.0",
    "24 ms / 25 ms / 26 ms",
    "180 ms / 226 ms / 229 ms",
    "199 MiB / 201 MiB / 205 MiB",
    "60.0 s",
    "0.50 / 1.50 / 3.25",
  ]);
  assert.match(text, /## load 200 tx\/s for 60 s over 5 nodes: FAILED/);
  assert.match(text, /### run 2 of 3 \(load 3\.25 before\)\n\n- second/);
  assert.match(text, /- \*\*failure:\*\* a payment lost/);
  assert.match(text, /^Produced at commit `(ab){20}` \(clean\)/m);
});
