/**
 * Explorer benchmark: how fast the dashboard of a node with 10,000 blocks loads (over HTTP, and in a real
 * browser when chromium is installed), how long the index takes to catch up with those blocks, how long
 * `/events` takes from a block accepted to its event read by a client on loopback (p50/p99/max), and what
 * 50 open dashboards cost the node in CPU at one block per second (against none, same load otherwise).
 * `deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 --allow-env bench/explorer.ts [--quick]`
 * @module
 */
import { startExplorer } from "../lib/explorer/server.ts";
import { Cluster, freePort, type TestNode } from "../tests/support/cluster.ts";
import { startLocalNode } from "../tests/support/local_node.ts";
import { sleep } from "../tests/support/wait.ts";
import { buildChain } from "./node.ts";
import { cpuMs, loadAverage, median, percentile, runAlone } from "./stats.ts";

const round = (x: number, digits = 1) => +x.toFixed(digits);
const spread = (xs: number[], digits = 1) =>
  `${round(median(xs), digits)} (min ${round(Math.min(...xs), digits)}, max ${
    round(Math.max(...xs), digits)
  }, n ${xs.length})`;

/** A node process serving its explorer at `url`. */
interface Spawned {
  node: TestNode;
  url: string;
}

/** Starts a headless regtest node on `dataDir` with its explorer on a free port; waits for its RPC. */
async function spawnNode(cluster: Cluster, dataDir: string): Promise<Spawned> {
  const port = freePort();
  const node = await cluster.start("explorer", {
    dataDir,
    tracker: `${dataDir}/server_tracker.txt`,
    args: ["--explorer", `127.0.0.1:${port}`],
    defaultTimings: true,
    everyMs: 20,
    waitMs: 60_000,
  });
  return { node, url: `http://127.0.0.1:${port}` };
}

async function timedGet(url: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t;
}

/**
 * Loads of `url` in chromium, each in a fresh context (nothing cached), and of `baseline` (a page with nothing
 * to lay out or fetch: what chromium itself costs here); undefined without chromium.
 */
async function browserLoads(
  url: string,
  baseline: string,
  runs: number,
): Promise<{ page: number[]; baseline: number[] } | undefined> {
  try {
    Deno.statSync("/usr/bin/chromium");
  } catch {
    return undefined;
  }
  const { launchBrowser } = await import("../tests/support/browser.ts");
  const browser = await launchBrowser();
  try {
    const out = { page: [] as number[], baseline: [] as number[] };
    for (let i = 0; i < runs + 1; i++) {
      for (const [target, into] of [[url, out.page], [baseline, out.baseline]] as const) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        const t = performance.now();
        await page.goto(target, { waitUntil: "load" });
        const ms = performance.now() - t;
        if (i > 0) into.push(ms); // the first round warms chromium itself up
        await context.close();
      }
    }
    return out;
  } finally {
    await browser.close();
  }
}

/** Dashboard load figures and the index catch-up, on a node started over `blocks` blocks. */
async function loadFigures(cluster: Cluster, dataDir: string, blocks: number, runs: number) {
  const t0 = performance.now();
  const node = await spawnNode(cluster, dataDir);
  const first = await timedGet(`${node.url}/`);
  for (;;) {
    const s = await (await fetch(`${node.url}/api/status`)).json();
    if (s.index.synced && s.height === blocks) break;
    await sleep(20);
  }
  const catchup = performance.now() - t0;
  const http: number[] = [];
  for (let i = 0; i < runs * 10; i++) http.push(await timedGet(`${node.url}/`));
  const browser = await browserLoads(`${node.url}/`, `${node.url}/api/status`, runs);
  return { first, catchup, http, browser, node };
}

/** CPU (% of one core) the node uses over `windowMs` while a block is mined every second. */
async function cpuWhileMining(node: Spawned, windowMs: number): Promise<number> {
  const pid = node.node.proc.pid;
  const start = await cpuMs(pid), t = performance.now();
  let next = t;
  while (performance.now() - t < windowMs) {
    await node.node.rpc("mine", [1]);
    next += 1000;
    await sleep(Math.max(0, next - performance.now()));
  }
  return ((await cpuMs(pid)) - start) / (performance.now() - t) * 100;
}

/** Opens `n` dashboards: the page, then its live connection, read as a browser would. */
async function openDashboards(url: string, n: number): Promise<{ close(): void; received: () => number }> {
  const aborts: AbortController[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    await timedGet(`${url}/`);
    const ac = new AbortController();
    aborts.push(ac);
    const res = await fetch(`${url}/events?html=1`, { signal: ac.signal });
    if (!res.ok) throw new Error(`dashboard ${i}: /events answered ${res.status}`);
    (async () => {
      for await (const chunk of res.body!) bytes += chunk.length;
    })().catch(() => {});
  }
  return { close: () => aborts.forEach((a) => a.abort()), received: () => bytes };
}

/** Block accepted (the node's event) to its `/events` message read by a client, in one process (ms). */
async function eventDelays(blocks: number, spacingMs: number): Promise<{ json: number[]; html: number[] }> {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bench-events-" });
  const node = await startLocalNode(dir);
  const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0 });
  const accepted = new Map<number, number>();
  const unsubscribe = node.subscribe((e) => {
    if (e.type === "block") accepted.set(e.height, performance.now());
  });
  const json: number[] = [], html: number[] = [];
  const aborts: AbortController[] = [];
  const listen = async (path: string, onText: (text: string, at: number) => void) => {
    const ac = new AbortController();
    aborts.push(ac);
    const res = await fetch(explorer.url.slice(0, -1) + path, { signal: ac.signal });
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of res.body!) onText(dec.decode(chunk, { stream: true }), performance.now());
    })().catch(() => {});
  };
  try {
    await listen("/events", (text, at) => {
      for (const m of text.matchAll(/event: block\ndata: \{[^\n]*"height":(\d+),/g)) {
        const t = accepted.get(Number(m[1]));
        if (t !== undefined) json.push(at - t);
      }
    });
    await listen("/events?html=1", (text, at) => {
      for (const m of text.matchAll(/"id":"blocks","html":"[^\n]*?data-height=\\"(\d+)\\"/g)) {
        const t = accepted.get(Number(m[1]));
        if (t !== undefined && html.length < accepted.size) html.push(at - t);
      }
    });
    await sleep(200);
    for (let i = 0; i < blocks; i++) {
      await node.miner.mineBlocks(1);
      await sleep(spacingMs);
    }
    await sleep(500);
    return { json, html };
  } finally {
    aborts.forEach((a) => a.abort());
    unsubscribe();
    await explorer.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs the explorer section; `quick` uses 2,000 blocks and shorter windows. */
export async function benchExplorer(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number | string | null>> {
  const blocks = opts.quick ? 2_000 : 10_000;
  const runs = opts.quick ? 3 : 10;
  const windowMs = opts.quick ? 6_000 : 15_000;
  const windows = opts.quick ? 1 : 3;
  const cluster = await Cluster.create("peerchain-bench-explorer-");
  try {
    const dataDir = `${cluster.root}/node`;
    await buildChain(dataDir, blocks);
    const loadAvg = await loadAverage();
    const load = await loadFigures(cluster, dataDir, blocks, runs);
    const node = load.node;
    let idle: number[] = [], busy: number[] = [], bytes = 0;
    try {
      // Alternating windows without and with 50 dashboards, so a drift in load hits both alike.
      for (let w = 0; w < windows; w++) {
        idle.push(await cpuWhileMining(node, windowMs));
        const dashboards = await openDashboards(node.url, 50);
        await sleep(500);
        const before = dashboards.received();
        busy.push(await cpuWhileMining(node, windowMs));
        bytes = (dashboards.received() - before) / 50 / (windowMs / 1000);
        dashboards.close();
        await sleep(500);
      }
    } finally {
      await cluster.kill(node.node);
    }
    idle = idle.map((x) => round(x, 2));
    busy = busy.map((x) => round(x, 2));
    const cost = busy.map((b, i) => round(b - idle[i], 2));
    const delays = await eventDelays(opts.quick ? 40 : 150, 120);
    return {
      blocks,
      index_catchup_ms: Math.round(load.catchup),
      dashboard_first_request_ms: round(load.first),
      dashboard_http_ms: spread(load.http),
      dashboard_http_p90_ms: round(percentile(load.http, 90)),
      dashboard_browser_load_ms: load.browser ? spread(load.browser.page) : null,
      browser_baseline_load_ms: load.browser ? spread(load.browser.baseline) : null,
      machine_load_average: loadAvg,
      events_block_delay_p50_ms: round(median(delays.json), 2),
      events_block_delay_p99_ms: round(percentile(delays.json, 99), 2),
      events_block_delay_max_ms: round(Math.max(...delays.json), 2),
      events_dashboard_delay_p99_ms: round(percentile(delays.html, 99), 2),
      events_samples: delays.json.length,
      cpu_pct_0_dashboards: spread(idle, 2),
      cpu_pct_50_dashboards: spread(busy, 2),
      cpu_pct_cost_of_50_dashboards: spread(cost, 2),
      dashboard_bytes_per_s_each: Math.round(bytes),
    };
  } finally {
    await cluster.cleanup();
  }
}

if (import.meta.main) await runAlone("explorer", benchExplorer);
