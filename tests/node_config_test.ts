/** The node's configuration: every default filled in once by `resolveNodeOptions`, every timing checked. */
import assert from "node:assert/strict";
import { resolveNodeOptions } from "../lib/node/config.ts";
import { DEFAULT_MAX_PEERS, DEFAULT_TIMINGS, resolveNetworkConfig } from "../lib/net/config.ts";
import { defaultMiningThreads } from "../lib/mining/pool.ts";

const base = {
  network: "regtest" as const,
  dataDir: "/tmp/x/data",
  trackerPath: "/tmp/x/server_tracker.txt",
  bind: { hostname: "127.0.0.1", port: 0 },
};

Deno.test("node config: what is not given takes its default, once, in one place", () => {
  const c = resolveNodeOptions(base);
  assert.deepEqual(c.net, { ...DEFAULT_TIMINGS, capacity: DEFAULT_MAX_PEERS });
  assert.deepEqual(
    c.net,
    resolveNetworkConfig({}),
    "the network's defaults, from the network's own resolver",
  );
  assert.equal(c.threads, defaultMiningThreads());
  assert.equal(c.learnedTrackerPath, "/tmp/x/server_tracker.regtest.txt");
  assert.equal(c.discover, false);
  assert.equal(c.connect, undefined);
  assert.equal(
    resolveNodeOptions({ ...base, connect: [] }).connect,
    undefined,
    "an empty list: the tracker's",
  );
});

Deno.test("node config: a timing given as undefined keeps its default; one given replaces only itself", () => {
  // The command line passes the timing flags it was not given as undefined.
  const c = resolveNodeOptions({ ...base, timings: { pingIntervalMs: 300, deadAfterMs: undefined } });
  assert.deepEqual(c.net, { ...DEFAULT_TIMINGS, pingIntervalMs: 300, capacity: DEFAULT_MAX_PEERS });
  const d = resolveNodeOptions({
    ...base,
    maxPeers: 4,
    threads: 2,
    connect: ["127.0.0.1:1"],
    discover: true,
  });
  assert.deepEqual([d.net.capacity, d.threads, d.connect, d.discover], [4, 2, ["127.0.0.1:1"], true]);
});

Deno.test("node config: a timing or maxPeers out of range is a RangeError naming it", () => {
  for (const bad of [0, -1, 1.5, NaN, 86_400_001]) {
    assert.throws(
      () => resolveNodeOptions({ ...base, timings: { deadAfterMs: bad } }),
      /timings\.deadAfterMs/,
    );
  }
  for (const bad of [0, 2.5]) assert.throws(() => resolveNodeOptions({ ...base, maxPeers: bad }), /maxPeers/);
});

Deno.test("node config: the resolved copy does not follow later changes to the caller's options", () => {
  const opts = { ...base, bind: { ...base.bind }, connect: ["127.0.0.1:1"] };
  const c = resolveNodeOptions(opts);
  opts.connect.push("127.0.0.1:2");
  opts.bind.port = 9;
  assert.deepEqual(c.connect, ["127.0.0.1:1"]);
  assert.equal(c.bind.port, 0);
});
