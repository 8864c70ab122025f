/**
 * Initial sync progress: the arithmetic (rate over a sliding window, time left, when a sync starts and ends,
 * what a false announced height can do), the line a person reads, and a real node that syncs 400 blocks and
 * logs "syncing … / 400 blocks" and "synced" instead of a line per block.
 */
import assert from "node:assert/strict";
import {
  formatDuration,
  IDLE_MS,
  RateWindow,
  SHOW_FROM_BLOCKS,
  syncLine,
  SyncMeter,
} from "../lib/node/sync_progress.ts";
import { withCluster } from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("RateWindow: the rate across the window, sliding, with a bounded number of samples", () => {
  const w = new RateWindow(5_000, 64);
  assert.equal(w.rate(0), 0, "no samples");
  w.add(0, 0);
  assert.equal(w.rate(0), 0, "one sample");
  // 100 blocks every 125 ms: 800 blocks/s.
  for (let t = 125, n = 100; t <= 4_000; t += 125, n += 100) w.add(t, n);
  assert.equal(w.rate(4_000), 800);
  // Then twice as fast for 6 s: the first rate has slid out of the window.
  for (let t = 4_000 + 125, n = 3_200 + 200; t <= 10_000; t += 125, n += 200) w.add(t, n);
  assert.equal(w.rate(10_000), 1_600);
  // Ten thousand samples in one second still give the right rate (merged, not all kept).
  const dense = new RateWindow(5_000, 64);
  for (let i = 0; i <= 10_000; i++) dense.add(i / 10, i);
  assert.ok(Math.abs(dense.rate(1_000) - 10_000) < 1, String(dense.rate(1_000)));
  // Nothing for longer than the window: no rate at all, rather than an old one.
  assert.equal(w.rate(20_000), 0);
});

Deno.test("SyncMeter: shows a sync only when far enough behind the announced tip, with rate and time left", () => {
  const m = new SyncMeter();
  m.announce(50);
  m.connected(0, 1);
  assert.equal(
    m.progress(0, 1),
    undefined,
    `${49} blocks behind is less than ${SHOW_FROM_BLOCKS}: no progress`,
  );

  const s = new SyncMeter();
  s.announce(5_000);
  s.announce(4_000); // a lower claim changes nothing
  s.announce(Number.NaN);
  s.announce(1.5);
  s.connected(0, 1);
  assert.deepEqual(s.progress(0, 1), { height: 1, target: 5_000, rate: 0, secondsLeft: undefined });
  for (let t = 100, h = 81; t <= 1_500; t += 100, h += 80) s.connected(t, h);
  const p = s.progress(1_500, 1_121)!;
  assert.equal(p.rate, 800);
  assert.equal(p.target, 5_000);
  assert.equal(p.secondsLeft, (5_000 - 1_121) / 800);
  // A better tip announced during the sync raises the target.
  s.announce(6_000);
  assert.equal(s.progress(1_500, 1_121)!.target, 6_000);
  // At the target the sync is over, and stays over for blocks that follow.
  s.connected(2_000, 6_000);
  assert.equal(s.progress(2_000, 6_000), undefined);
  s.connected(2_100, 6_001);
  assert.equal(s.progress(2_100, 6_001), undefined);
});

Deno.test("SyncMeter: a false announced height lasts only while blocks come, and does not come back", () => {
  const s = new SyncMeter();
  s.announce(1_000_000_000); // a liar
  s.connected(0, 1);
  assert.equal(s.progress(0, 1)!.target, 1_000_000_000);
  assert.ok(s.progress(IDLE_MS - 1, 1), "still syncing just before the idle limit");
  assert.equal(s.progress(IDLE_MS, 1), undefined, "no block for IDLE_MS: over");
  s.connected(IDLE_MS + 1, 2);
  assert.equal(s.progress(IDLE_MS + 1, 2), undefined, "the claim was forgotten");
});

Deno.test("the progress line and durations read as a person expects", () => {
  assert.equal(
    syncLine({ height: 1_234, target: 5_000, rate: 800, secondsLeft: 4.7 }),
    "syncing 1,234 / 5,000 blocks, 800 blocks/s, about 5 s left",
  );
  assert.equal(
    syncLine({ height: 1, target: 400, rate: 0, secondsLeft: undefined }),
    "syncing 1 / 400 blocks",
  );
  assert.equal(formatDuration(0.2), "1 s");
  assert.equal(formatDuration(89), "89 s");
  assert.equal(formatDuration(90), "2 min");
  assert.equal(formatDuration(3_600), "60 min");
  assert.equal(formatDuration(5_400), "1 h 30 min");
});

Deno.test("a headless node that joins 400 blocks behind logs its sync progress, then synced, not a line per block", async () => {
  await withCluster(async (cluster) => {
    const a = await cluster.start("a");
    await a.rpc("mine", [400]);
    const b = await cluster.start("b", { args: ["--connect", a.listen] });
    await waitFor(
      async () => (await b.rpc<{ height: number }>("status")).height === 400,
      60_000,
      "b to sync",
    );
    await waitFor(() => b.log.some((l) => l.includes("synced: height 400")), 10_000, "the synced line");
    const progress = b.log.filter((l) => / syncing [\d,]+ \/ 400 blocks/.test(l));
    assert.ok(progress.length >= 1, b.log.join("\n"));
    const perBlock = b.log.filter((l) => / block \d+ [0-9a-f]{64} \(network\)$/.test(l));
    assert.ok(perBlock.length < 50, `${perBlock.length} per-block lines during a 400-block sync`);
  });
});
