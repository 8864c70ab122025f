/**
 * `GET /metrics`: the Prometheus text format as Prometheus reads it (parsed with parse-prometheus-text-format),
 * one prefix, units in the names, counters ending in `_total`, and values that follow the node: height, tip
 * age, links by role, mempool, blocks received from a peer by verdict, traffic by message type, refusals by
 * reason; the counter sets are bounded in keys.
 */
import assert from "node:assert/strict";
import { parsePrometheusTextFormat } from "./support/test_deps.ts";
import { startExplorer } from "../lib/explorer/server.ts";
import { renderPrometheus } from "../lib/explorer/prometheus.ts";
import { Counters, countVerdict, MAX_COUNTER_KEYS, OTHER } from "../lib/runtime/metrics.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { waitFor } from "./support/wait.ts";

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(`${url}metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const families = parsePrometheusTextFormat(await res.text()) as Family[];
  return new Map(families.map((f) => [f.name, f]));
}

function value(f: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const fam = f.get(name);
  assert.ok(fam, `no ${name}`);
  const m = fam.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  assert.ok(m, `no ${name}${JSON.stringify(labels)} in ${JSON.stringify(fam.metrics)}`);
  return Number(m.value);
}

Deno.test("counters: bounded in keys, the rest counted as other", () => {
  const c = new Counters();
  for (let i = 0; i < MAX_COUNTER_KEYS + 10; i++) c.add(`k${i}`, 2);
  assert.equal(c.entries().length, MAX_COUNTER_KEYS + 1);
  assert.equal(c.get(OTHER), 20);
  assert.equal(c.get("k0"), 2);
});

Deno.test("exposition: help and label values escaped, special values written, as a Prometheus parser reads them", () => {
  const hostile = 'a "quoted" \\ back\nslash';
  const text = renderPrometheus([
    {
      name: "peerchain_x_total",
      help: `help with \\ and\nnewline`,
      type: "counter",
      samples: [[{ k: hostile }, 3]],
    },
    {
      name: "peerchain_y",
      help: "special values.",
      type: "gauge",
      samples: [[{ v: "nan" }, NaN], [{ v: "inf" }, Infinity], [{}, 0.25]],
    },
  ]);
  const [x, y] = parsePrometheusTextFormat(text) as Family[];
  assert.equal(x.name, "peerchain_x_total");
  assert.equal(x.type, "COUNTER");
  assert.equal(x.metrics[0].labels!.k, hostile);
  assert.equal(x.metrics[0].value, "3");
  assert.equal(y.metrics.length, 3);
  assert.deepEqual(y.metrics.map((m) => m.value), ["NaN", "+Inf", "0.25"]);
  assert.throws(
    () => renderPrometheus([{ name: "bad-name", help: "x", type: "gauge", samples: [] }]),
    /bad metric name/,
  );
  assert.throws(
    () => renderPrometheus([{ name: "ok", help: "x", type: "gauge", samples: [[{ "bad-label": "v" }, 1]] }]),
    /bad label name/,
  );
});

Deno.test("metrics: a Peer's explorer serves its figures in the Prometheus text format", async () => {
  await withTempDir(async (dir) => {
    const a = await startLocalNode(`${dir}/a`);
    const b = await startLocalNode(`${dir}/b`, { connect: [a.net.listen] });
    const explorer = await startExplorer(b, { hostname: "127.0.0.1", port: 0, indexPath: ":memory:" });
    try {
      await waitFor(() => b.net.linkCount === 1 && a.net.role === "superpeer", 30_000, "b linked to a");
      await a.miner.mineBlocks(3);
      await waitFor(() => b.chain.height === 3, 30_000, "b has a's blocks");
      countVerdict("block", { kind: "rejected", code: "test-planted-code", reason: "a test", score: 0 });

      const f = await scrape(explorer.url);
      for (const [name, fam] of f) {
        assert.match(name, /^peerchain_[a-z_]+$/, "one prefix, snake case");
        if (fam.type === "COUNTER") assert.match(name, /_total$/, `${name}: a counter ends in _total`);
        else assert.doesNotMatch(name, /_total$/, `${name}: only counters end in _total`);
        assert.ok(fam.help.length > 10, `${name} has a help text`);
      }
      assert.equal(value(f, "peerchain_chain_height"), 3);
      const age = value(f, "peerchain_chain_tip_age_seconds");
      assert.ok(age >= 0 && age < 120, `tip age ${age}`);
      assert.equal(value(f, "peerchain_node_role", { role: "peer" }), 1);
      assert.equal(value(f, "peerchain_node_role", { role: "superpeer" }), 0);
      assert.equal(
        value(f, "peerchain_links", { role: "superpeer", kind: "primary" }),
        1,
        "its primary SuperPeer",
      );
      assert.equal(value(f, "peerchain_links", { role: "peer", kind: "primary" }), 0);
      assert.equal(value(f, "peerchain_mempool_transactions"), 0);
      assert.equal(value(f, "peerchain_mempool_bytes"), 0);
      assert.ok(value(f, "peerchain_blocks_received_total", { verdict: "accepted" }) >= 3);
      assert.equal(value(f, "peerchain_blocks_refused_total", { reason: "test-planted-code" }), 1);
      const types = f.get("peerchain_network_received_bytes_total")!.metrics.map((m) => m.labels!.type);
      assert.ok(types.length > 0 && types.every((t) => /^[a-z_]+$/.test(t)), types.join());
      const sent = f.get("peerchain_network_sent_bytes_total")?.metrics ?? [];
      assert.ok(sent.length > 0 && sent.every((m) => Number(m.value) > 0), JSON.stringify(sent));
      assert.ok(value(f, "peerchain_network_received_messages_total", { type: types[0] }) >= 1);
      for (
        const name of [
          "peerchain_verify_queue_checks",
          "peerchain_event_loop_stall_recent_seconds",
          "peerchain_event_loop_stall_max_seconds",
          "peerchain_mining_hashrate_hashes_per_second",
          "peerchain_transactions_received_total",
          "peerchain_superpeers_known",
          "peerchain_explorer_connections",
        ]
      ) assert.ok(f.has(name), name);
      assert.equal(value(f, "peerchain_explorer_connections"), 1, "this scrape's own");
    } finally {
      await explorer.close();
      await b.stop();
      await a.stop();
    }
  }, "peerchain-metrics-");
});
