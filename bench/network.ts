/**
 * Network benchmark with real node processes on 127.0.0.1 (the test cluster: regtest, ping every 300 ms,
 * dead after 1.5 s): block propagation from a peer to every other node, block download by a fresh node, and
 * failover after the hub is SIGKILLed. Times come from the nodes' own log timestamps (ms, one clock).
 * `deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 --allow-env bench/network.ts [--quick]`
 * @module
 */
import {
  agreeOnOneHub,
  Cluster,
  type NodeStatus,
  type TestNode,
  waitFor,
  waitForOneHub,
} from "../tests/support/nodes.ts";
import { percentile } from "./stats.ts";

/** Milliseconds since the epoch of a log line's leading ISO timestamp. */
function stamp(line: string): number {
  return Date.parse(line.slice(0, line.indexOf(" ")));
}

/** The time of the first log line of `node` matching `re` (after `after` ms), or undefined. */
function logTime(node: TestNode, re: RegExp, after = 0): number | undefined {
  for (const line of node.log) {
    if (re.test(line)) {
      const t = stamp(line);
      if (t >= after) return t;
    }
  }
  return undefined;
}

async function startMany(cluster: Cluster, n: number, prefix: string): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let i = 0; i < n; i++) nodes.push(await cluster.start(`${prefix}${i}`));
  return nodes;
}

/** Per block: from the miner's `block N hash (local)` to the last `block N hash (network)` among the others. */
async function propagation(nodeCount: number, blocks: number): Promise<number[]> {
  const cluster = await Cluster.create();
  try {
    const nodes = await startMany(cluster, nodeCount, "p");
    const hub = await waitForOneHub(nodes, 30_000, "the propagation network to form");
    const miner = nodes.find((n) => n !== hub)!;
    const others = nodes.filter((n) => n !== miner);
    const out: number[] = [];
    for (let i = 0; i < blocks; i++) {
      const [hash] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;
      const seen = new RegExp(`block \\d+ ${hash} \\(network\\)`);
      await waitFor(() => others.every((n) => logTime(n, seen) !== undefined), 10_000, `block ${hash}`);
      const minedAt = logTime(miner, new RegExp(`block \\d+ ${hash} \\(local\\)`))!;
      out.push(Math.max(...others.map((n) => logTime(n, seen)!)) - minedAt);
    }
    return out;
  } finally {
    await cluster.cleanup();
  }
}

/** Blocks per second for a fresh node, from its first log line to the line of the last block. */
async function sync(blocks: number): Promise<number> {
  const cluster = await Cluster.create();
  try {
    const source = await cluster.start("source");
    for (let left = blocks; left > 0; left -= 500) await source.rpc("mine", [Math.min(500, left)]);
    const { tip } = await source.rpc<NodeStatus>("status");
    const fresh = await cluster.start("fresh");
    await waitFor(
      async () => (await fresh.rpc<NodeStatus>("status")).tip === tip,
      120_000,
      "the fresh node to sync",
    );
    const last = new RegExp(`block ${blocks} ${tip} `);
    await waitFor(() => logTime(fresh, last) !== undefined, 5_000, "the fresh node to log the last block");
    return Math.round(blocks / ((logTime(fresh, last)! - stamp(fresh.log[0])) / 1000));
  } finally {
    await cluster.cleanup();
  }
}

/** Per kill: from the SIGKILL until the last survivor names the new hub (its `joined`/`promoted` line). */
async function failover(kills: number): Promise<number[]> {
  const cluster = await Cluster.create();
  try {
    await startMany(cluster, kills + 2, "f");
    const out: number[] = [];
    for (let k = 0; k < kills; k++) {
      const hub = await waitForOneHub(cluster.alive, 30_000, "one hub before the kill");
      const killedAt = Date.now();
      hub.kill("SIGKILL");
      const survivors = cluster.alive;
      await waitFor(() => agreeOnOneHub(survivors), 30_000, "the survivors to agree on a new hub");
      const next = (await survivors[0].rpc<NodeStatus>("status")).hub!;
      const named = survivors.map((n) =>
        n.listen === next
          ? logTime(n, /promoted to SuperPeer/, killedAt)!
          : logTime(n, new RegExp(`joined hub ${next.replaceAll(".", "\\.")} `), killedAt)!
      );
      out.push(Math.max(...named) - killedAt);
    }
    return out;
  } finally {
    await cluster.cleanup();
  }
}

/** The 1, 5 and 15 minute load averages from `uptime` (reading /proc would need --allow-all). */
async function loadAverage(): Promise<string | null> {
  try {
    const out = await new Deno.Command("uptime", { stdout: "piped", stderr: "null" }).output();
    return /load average:\s*(.*)$/.exec(new TextDecoder().decode(out.stdout).trim())?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Runs the network benchmark; `quick` uses fewer nodes, blocks and kills. */
export async function benchNetwork(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number | string | null>> {
  const q = opts.quick ?? false;
  const nodes = q ? 5 : 17, blocks = q ? 5 : 20, chain = q ? 1000 : 5000, kills = q ? 3 : 10;
  const prop = await propagation(nodes, blocks);
  const syncRate = await sync(chain);
  const fail = await failover(kills);
  return {
    setup:
      `${nodes} nodes × ${blocks} blocks; ${chain}-block sync; ${kills} hub kills; ping 300 ms, dead 1.5 s`,
    propagation_p50_ms: percentile(prop, 50),
    propagation_p99_ms: percentile(prop, 99),
    sync_blocks_per_s: syncRate,
    failover_p50_ms: percentile(fail, 50),
    failover_max_ms: Math.max(...fail),
    load_average: await loadAverage(),
  };
}

if (import.meta.main) {
  const figures = await benchNetwork({ quick: Deno.args.includes("--quick") });
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(24)} ${v}`);
}
