/**
 * What every stress scenario shares: the result it reports (one row of `bench/stress-results.md`), how it waits,
 * its memory readings, and the arrival times it reads from the nodes' logs. The nodes themselves are the tests'
 * (`tests/support/cluster.ts`).
 * @module
 */
import { NETWORKS } from "../../lib/consensus/params.ts";
import type { NodeStatus } from "../../lib/node.ts";
import { type Cluster, type StarOptions, statuses, type TestNode } from "../../tests/support/cluster.ts";
import { sleep, waitFor, type WaitOptions } from "../../tests/support/wait.ts";
import { rssMiB } from "../stats.ts";

/** Where progress lines go (the bench prints them; tests stay quiet). */
export type Progress = (line: string) => void;

/**
 * How the scenarios wait: their deadlines are part of what they judge (a payment missing on a survivor 15 s
 * after a kill is a failure), so none is stretched to `MIN_WAIT_MS`; they poll every 100 ms.
 */
export const JUDGED: WaitOptions = { atLeastMs: 0, everyMs: 100 };

/**
 * How the scenarios wait for one hub: as `JUDGED`, and without the network-size count, which can lag behind the
 * links while hubs die in quick succession (`onePrimary`'s `countSize`).
 */
export const JUDGED_STAR: WaitOptions & StarOptions = { ...JUDGED, countSize: false };

/** One row of `bench/stress-results.md`. */
export interface ScenarioResult {
  scenario: string;
  /** Kills, hostile inputs or transactions attempted. */
  runs: number;
  /** Of `runs`, the ones the network came through as required. */
  survived: number;
  /** Transactions or blocks lost (never legitimately dropped). */
  lost: number;
  /** Invalid items accepted; null where the scenario sends none. */
  invalidAccepted: number | null;
  /** Relay latency percentiles in ms, where measured. */
  p50Ms?: number;
  p99Ms?: number;
  /** Load only: payments accepted per second of sending. */
  txPerSecond?: number;
  /** Load only: the largest total size of one node's mempool seen, in bytes. */
  peakMempoolBytes?: number;
  /** Highest VmRSS of the watched node process(es), in MiB. */
  peakRssMiB?: number;
  durationMs: number;
  /** Hostile inputs only: an honest handshake was left open, so the hub's cut-offs mean refusals. */
  control?: boolean;
  /** Further figures, one line each. */
  notes: string[];
  /** What went wrong, one line each: any entry fails the scenario, whatever the counts say. */
  failures: string[];
}

/** A scenario's figures: its row but for the name, the duration, the notes and the failures. */
export type Figures =
  & Omit<ScenarioResult, "scenario" | "durationMs" | "invalidAccepted" | "notes" | "failures">
  & { invalidAccepted?: number | null };

/**
 * The row of `scenario`, its duration measured from `t0` to now: `invalidAccepted` is null (the scenario sends
 * nothing invalid) unless `figures` give it.
 */
export function scenarioResult(
  t0: number,
  scenario: string,
  figures: Figures,
  notes: string[],
  failures: string[],
): ScenarioResult {
  const invalidAccepted = figures.invalidAccepted ?? null;
  return { scenario, ...figures, invalidAccepted, durationMs: Date.now() - t0, notes, failures };
}

/** True when `r` came through as required: every run survived, nothing lost or accepted wrongly, no failure. */
export function passed(r: ScenarioResult): boolean {
  return r.survived === r.runs && r.lost === 0 && (r.invalidAccepted ?? 0) === 0 && r.failures.length === 0;
}

/** Samples the VmRSS of every live node in `nodes()` every `everyMs` until `stop()`, which gives the peak. */
export function watchRss(nodes: () => TestNode[], everyMs = 1000): { stop(): Promise<number> } {
  let peak = 0, running = true;
  const loop = (async () => {
    while (running) {
      for (const n of nodes()) if (n.alive) peak = Math.max(peak, await rssMiB(n.proc.pid));
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return Math.round(peak);
    },
  };
}

const ARRIVED = /^(\S+) tx ([0-9a-f]{64}) \(network\)$/;

/** When `node` logged each transaction as arrived from the network (ms since the epoch). */
export function arrivals(node: TestNode): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of node.log) {
    const hit = ARRIVED.exec(line);
    if (hit && !out.has(hit[2])) out.set(hit[2], Date.parse(hit[1]));
  }
  return out;
}

/**
 * Mines on `miner` until every mempool of `nodes` is empty, at most `maxBlocks` blocks; before each block the
 * nodes get up to `agreeMs` to agree on their tip and mempool size. Returns the blocks mined.
 */
export async function mineUntilEmpty(
  nodes: TestNode[],
  miner: TestNode,
  maxBlocks: number,
  agreeMs: number,
): Promise<number> {
  let blocks = 0;
  for (; blocks < maxBlocks; blocks++) {
    await waitFor(
      async () => {
        const s = await statuses(nodes);
        return s.every((x) => x.tip === s[0].tip && x.mempool === s[0].mempool);
      },
      agreeMs,
      "every node to agree on tip and mempool",
      JUDGED,
    ).catch(() => {});
    if ((await miner.rpc<NodeStatus>("status")).mempool === 0) break;
    await miner.rpc("mine", [1]);
  }
  return blocks;
}

/**
 * Mines `coinbases` blocks on `miner`, then `coinbaseMaturity` more so that they can be spent, and waits up to
 * `timeoutMs` for every node of `others` to reach the miner's tip. Returns the miner's status then.
 */
export async function mineMature(
  miner: TestNode,
  coinbases: number,
  others: TestNode[],
  timeoutMs: number,
  what = "the funding blocks to reach every node",
): Promise<NodeStatus> {
  await miner.rpc("mine", [coinbases + NETWORKS.regtest.coinbaseMaturity]);
  const funded = await miner.rpc<NodeStatus>("status");
  await waitFor(
    async () => (await statuses(others)).every((s) => s.tip === funded.tip),
    timeoutMs,
    what,
    JUDGED,
  );
  return funded;
}

/**
 * Every node of `nodes` mines `coinbases` blocks, then `nodes[0]` matures them, seen by every live node of the
 * cluster: each node can pay (and chain its change). Returns the height after.
 */
export async function fundEach(cluster: Cluster, nodes: TestNode[], coinbases = 1): Promise<number> {
  for (const n of nodes.slice(1)) await n.rpc("mine", [coinbases]);
  return (await mineMature(nodes[0], coinbases, cluster.alive, 20_000)).height;
}
