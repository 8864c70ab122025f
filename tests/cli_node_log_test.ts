/** The headless log: a line per event, and while a sync runs a progress line every `SYNC_LOG_MS` instead. */
import assert from "node:assert/strict";
import { describe, headlessLogger, SYNC_LOG_MS } from "../lib/cli/node_log.ts";
import type { NodeEvent } from "../lib/node.ts";
import type { SyncProgress } from "../lib/node/sync_progress.ts";

const block = (height: number, source: "local" | "network" = "network"): NodeEvent => ({
  type: "block",
  hash: `h${height}`,
  height,
  source,
});

Deno.test("a headless node logs one line per block while it is not syncing", () => {
  const lines: string[] = [];
  const onEvent = headlessLogger(() => undefined, (l) => lines.push(l), () => 0);
  onEvent(block(1));
  onEvent(block(2, "local"));
  onEvent({ type: "mined", hash: "m" });
  assert.deepEqual(lines, ["block 1 h1 (network)", "block 2 h2 (local)", "mined m"]);
  assert.equal(describe({ type: "reorg", disconnected: 2, connected: 3 }), "reorg: 2 blocks out, 3 in");
});

Deno.test("during a sync network blocks give a progress line at most every SYNC_LOG_MS, then `synced`", () => {
  const lines: string[] = [];
  let now = 0;
  let progress: SyncProgress | undefined = { height: 10, target: 1000, rate: 50, secondsLeft: 20 };
  const onEvent = headlessLogger(() => progress, (l) => lines.push(l), () => now);
  onEvent(block(10));
  now = SYNC_LOG_MS - 1;
  onEvent(block(11)); // too soon: no line
  assert.equal(lines.length, 1);
  now = SYNC_LOG_MS;
  onEvent(block(12));
  assert.equal(lines.length, 2);
  assert.ok(lines.every((l) => l.startsWith("syncing 10 / 1,000 blocks")), lines.join("\n"));
  onEvent({ type: "tx", txid: "t", source: "network" }); // other events are still logged
  assert.equal(lines.at(-1), "tx t (network)");
  progress = undefined;
  onEvent(block(1000));
  assert.deepEqual(lines.slice(-2), ["synced: height 1000", "block 1000 h1000 (network)"]);
});
