/**
 * Load: payments at a steady rate spread over several real nodes; every one must be mined, the mempool must
 * stay within its bound, and the relay latency (the `send` request to A → the tx logged as arrived on B) is
 * measured from the nodes' millisecond-stamped logs, on the one clock of this machine.
 * @module
 */
import type { NodeStatus } from "../../lib/node.ts";
import {
  chainTxids,
  Cluster,
  mempoolIds,
  type TestNode,
  waitForOnePrimary,
} from "../../tests/support/cluster.ts";
import { sleep, waitFor } from "../../tests/support/wait.ts";
import { percentile, rssMiB } from "../stats.ts";
import { arrivals, fundEach, JUDGED, JUDGED_STAR, mineUntilEmpty, scenarioResult } from "./scenario.ts";
import type { Progress, ScenarioResult } from "./scenario.ts";
import { MAX_ANCESTORS } from "../../lib/consensus/policy.ts";

/** The mempool's default byte bound (`lib/chain/mempool.ts`, not exported there). */
export const MEMPOOL_MAX_BYTES = 5_000_000;

/** How `load` runs. */
export interface LoadOptions {
  nodes: number;
  /** Target payments per second over all nodes. */
  rate: number;
  seconds: number;
  /**
   * Coinbases each node mines first (at least): independent coins, so chains of unconfirmed change stay
   * within the mempool's limit of 25; at least one coin per 20 of the node's payments is mined.
   */
  coinbases?: number;
  progress?: Progress;
}

/**
 * Sends `rate` payments a second for `seconds` over `nodes` nodes (one send in flight per node: the wallet
 * does not serialise concurrent sends), then mines until every mempool is empty and checks every accepted
 * payment is in the chain.
 */
export async function load(o: LoadOptions): Promise<ScenarioResult> {
  const t0 = Date.now(), notes: string[] = [], log = o.progress ?? (() => {});
  const cluster = await Cluster.create("peerchain-stress-");
  try {
    const nodes: TestNode[] = [];
    for (let i = 0; i < o.nodes; i++) nodes.push(await cluster.start(`n${i}`));
    await waitForOnePrimary(nodes, 20_000, "every node to join one network", JUDGED_STAR);
    const perNode = Math.ceil((o.rate * o.seconds) / o.nodes / (MAX_ANCESTORS - 5));
    const base = await fundEach(cluster, nodes, Math.max(o.coinbases ?? 5, perNode));
    const addresses = await Promise.all(nodes.map(async (s) => (await s.rpc<NodeStatus>("status")).address));
    /** Each accepted payment: when its `send` request left (ms since the epoch) and how long the RPC took. */
    const sent: { txid: string; from: TestNode; requestedAt: number; took: number }[] = [];
    let refused = 0, peakPool = 0, peakRss = 0, behind = 0;
    const errors = new Map<string, number>();
    const start = Date.now(), end = start + o.seconds * 1000;
    const perNodeMs = (1000 * o.nodes) / o.rate;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const pool = await nodes[0].rpc<{ size: number }[]>("mempool").catch(() => []);
        peakPool = Math.max(peakPool, pool.reduce((s, e) => s + e.size, 0));
        for (const n of nodes) peakRss = Math.max(peakRss, await rssMiB(n.proc.pid));
        await sleep(500);
      }
    })();
    // Open loop per node: the i-th send is due at start + i·interval; a late node sends at once to catch up.
    await Promise.all(nodes.map(async (n, i) => {
      for (let k = 0;; k++) {
        const due = start + (i / o.nodes + k) * perNodeMs;
        if (due >= end) break;
        if (due > Date.now()) await sleep(due - Date.now());
        else if (Date.now() - due > 1000) behind++;
        const requestedAt = Date.now();
        try {
          const r = await n.rpc<{ txid: string }>("send", [addresses[(i + 1) % o.nodes], "0.001"]);
          sent.push({ txid: r.txid, from: n, requestedAt, took: Date.now() - requestedAt });
        } catch (e) {
          refused++;
          const key = (e as Error).message.slice(0, 60);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
    }));
    const sendSeconds = (Date.now() - start) / 1000;
    log(`load: ${sent.length} payments in ${sendSeconds.toFixed(1)} s, ${refused} refused`);
    // Relay: every payment in every node's mempool.
    const ids = sent.map((s) => s.txid);
    let relayed = 0;
    await waitFor(
      async () => {
        const pools = await Promise.all(nodes.map(mempoolIds));
        relayed = ids.filter((id) => pools.every((p) => p.has(id))).length;
        return relayed === ids.length;
      },
      30_000,
      "every payment to reach every node",
      JUDGED,
    ).catch(() => {});
    sampling = false;
    await sampler;
    const seen = new Map(nodes.map((n) => [n, arrivals(n)]));
    // From the request, not from the RPC's return: the payment may reach B before A's answer reaches us. No
    // clamping: a negative latency would mean the logs and this process disagree on the time, and shows.
    const latencies: number[] = [];
    let neverArrived = 0;
    for (const s of sent) {
      for (const n of nodes) {
        if (n === s.from) continue;
        const at = seen.get(n)!.get(s.txid);
        if (at === undefined) neverArrived++;
        else latencies.push(at - s.requestedAt);
      }
    }
    // Confirm everything: mine until every mempool is empty (bounded).
    const miner = nodes[0];
    const blocks = await mineUntilEmpty(nodes, miner, 100, 15_000);
    const { txids } = await chainTxids(miner, base);
    const lost = ids.filter((id) => !txids.has(id)).length;
    const left = (await Promise.all(nodes.map((n) => n.rpc<NodeStatus>("status")))).map((s) => s.mempool);
    const sendTook = sent.map((s) => s.took);
    notes.push(
      `target ${o.rate} tx/s for ${o.seconds} s over ${o.nodes} nodes; achieved ${
        (sent.length / sendSeconds).toFixed(1)
      } tx/s accepted (${sent.length} payments, ${refused} refused${
        refused ? ": " + [...errors].map(([m, n]) => `${n}x ${m}`).join("; ") : ""
      }; ${behind} sends started over 1 s late)`,
      `send RPC: p50 ${percentile(sendTook, 50)} ms, p99 ${percentile(sendTook, 99)} ms; ${relayed} of ` +
        `${ids.length} reached every mempool; ${neverArrived} (payment, node) arrivals missing from the logs; ` +
        `relay from the send request to arrival on another node: min ${Math.min(...latencies)} ms, p50 ` +
        `${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${
          Math.max(...latencies)
        } ms ` +
        `over ${latencies.length} arrivals`,
      `mined in ${blocks} blocks; mempools after: ${left.join(", ")}; peak mempool ${
        (peakPool / 1e6).toFixed(2)
      } MB of ${MEMPOOL_MAX_BYTES / 1e6} MB`,
    );
    const failures: string[] = [];
    if (peakPool > MEMPOOL_MAX_BYTES) failures.push(`mempool over its bound: ${peakPool} bytes`);
    if (relayed < ids.length) failures.push(`${ids.length - relayed} payments did not reach every mempool`);
    return scenarioResult(
      t0,
      `load ${o.rate} tx/s for ${o.seconds} s over ${o.nodes} nodes`,
      {
        runs: sent.length + refused,
        survived: sent.length - lost,
        lost,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        txPerSecond: Math.round(sent.length / sendSeconds * 10) / 10,
        peakRssMiB: Math.round(peakRss),
        peakMempoolBytes: peakPool,
      },
      notes,
      failures,
    );
  } finally {
    await cluster.cleanup();
  }
}
