/**
 * Chaos scenarios with real node processes: the hub SIGKILLed again and again while payments flow, and random
 * nodes SIGKILLed and restarted from their data directories while blocks are mined and relayed.
 * @module
 */
import { Chain } from "../../lib/chain/chain.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { openStore } from "../../lib/store/store.ts";
import type { NodeStatus } from "../../lib/node.ts";
import {
  chainTxids,
  Cluster,
  describeNodes,
  mempoolIds,
  type TestNode,
  waitForOnePrimary,
} from "../../tests/support/cluster.ts";
import { sleep, waitFor } from "../../tests/support/wait.ts";
import { percentile } from "../stats.ts";
import { fundEach, JUDGED, JUDGED_STAR, mineUntilEmpty, scenarioResult, watchRss } from "./scenario.ts";
import type { Progress, ScenarioResult } from "./scenario.ts";
import { diffCoins, rebuildCoins } from "../../tests/support/utxo_rebuild.ts";
import { seeded } from "../../tests/support/random.ts";

/**
 * Sends 0.01 coins from each of `senders` to the next, one at a time per sender (the wallet does not serialise
 * concurrent sends), skipping dead and `paused` ones, until `stop()`.
 */
export function payLoop(senders: TestNode[], addresses: string[], everyMs: number) {
  const sent: { txid: string; from: TestNode; at: number }[] = [];
  const paused = new Set<TestNode>();
  let stopped = false, refused = 0;
  const errors = new Map<string, number>();
  const loops = senders.map(async (s, i) => {
    while (!stopped) {
      if (s.alive && !paused.has(s)) {
        try {
          const r = await s.rpc<{ txid: string }>("send", [addresses[(i + 1) % addresses.length], "0.01"]);
          sent.push({ txid: r.txid, from: s, at: Date.now() });
        } catch (e) {
          refused++;
          const key = (e as Error).message.replace(/\/tmp\/\S+/g, "<data dir>").slice(0, 80);
          errors.set(key, (errors.get(key) ?? 0) + 1);
        }
      }
      await sleep(everyMs);
    }
  });
  return {
    sent,
    paused,
    get refused() {
      return refused;
    },
    errors,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** How `hubKills` runs. */
export interface HubKillOptions {
  kills: number;
  /** Nodes paying at any time; one more node is started, so the hub's death leaves this many. */
  senders: number;
  sendEveryMs?: number;
  /** Mine a block after every this many kills. */
  mineEvery?: number;
  progress?: Progress;
}

/**
 * SIGKILLs the hub `kills` times while every node pays. After each kill the survivors must agree on one live
 * hub and hold every payment whose `send` succeeded on a node other than the dead hub; the dead node is then
 * restarted from its data directory and rejoins. At the end every payment must be mined. Payments the hub
 * itself took while it was hub are counted apart: they may die with it before it relays them.
 */
export async function hubKills(o: HubKillOptions): Promise<ScenarioResult> {
  const t0 = Date.now(), notes: string[] = [], failures: string[] = [], log = o.progress ?? (() => {});
  const cluster = await Cluster.create("peerchain-stress-");
  const failovers: number[] = [];
  let survived = 0, runs = 0;
  try {
    const nodes: TestNode[] = [];
    for (let i = 0; i <= o.senders; i++) nodes.push(await cluster.start(`n${i}`));
    await waitForOnePrimary(nodes, 30_000, "every node to join one network", JUDGED_STAR);
    const base = await fundEach(cluster, nodes);
    const addresses = await Promise.all(nodes.map(async (s) => (await s.rpc<NodeStatus>("status")).address));
    const pay = payLoop(nodes, addresses, o.sendEveryMs ?? 100);
    const memory = watchRss(() => cluster.alive);
    const atRisk = new Set<string>();
    let hubSince = Date.now();
    try {
      for (let k = 1; k <= o.kills; k++) {
        const hub = await waitForOnePrimary(nodes, 15_000, `kill ${k}: one hub before the kill`, JUDGED_STAR);
        await sleep(300); // payments in flight through this hub
        runs++;
        const killedAt = Date.now();
        await cluster.kill(hub);
        for (const p of pay.sent) if (p.from === hub && p.at >= hubSince) atRisk.add(p.txid);
        const survivors = cluster.alive;
        const next = await waitForOnePrimary(
          survivors,
          15_000,
          `kill ${k}: the survivors to agree on a new hub`,
          JUDGED_STAR,
        )
          .catch((e) => {
            failures.push(`kill ${k}: ${(e as Error).message}`); // with each survivor's view
            return null;
          });
        if (!next) break; // counted in runs, not in survived: the scenario fails
        hubSince = Date.now();
        failovers.push(hubSince - killedAt);
        const due = pay.sent.filter((p) => !atRisk.has(p.txid)).map((p) => p.txid);
        let missing = due, where = "";
        await waitFor(
          async () => {
            const { txids } = await chainTxids(next, base);
            const pools = await Promise.all(survivors.map(mempoolIds));
            missing = due.filter((id) => !pools.every((p) => p.has(id) || txids.has(id)));
            where = missing.slice(0, 3).map((id) => {
              const p = pay.sent.find((x) => x.txid === id)!;
              const lacking = survivors.filter((_, i) => !pools[i].has(id) && !txids.has(id)).map((n) =>
                n.name
              );
              return `${id} paid on ${p.from.name} ${
                p.at - killedAt
              } ms from the kill, missing on ${lacking}`;
            }).join("; ");
            return missing.length === 0;
          },
          15_000,
          "every payment on every survivor",
          JUDGED,
        ).catch(() => {});
        let ok = missing.length === 0;
        if (!ok) {
          failures.push(
            `kill ${k} (hub ${hub.name}, new hub ${next.name}): ${missing.length} of ${due.length} ` +
              `payments missing on some survivor after 15 s: ${where}`,
          );
          log(await describeNodes(survivors, 40));
        }
        log(`kill ${k}: ${hub.name} -> ${next.name} in ${failovers.at(-1)} ms, ${due.length} payments held`);
        if (k % (o.mineEvery ?? 3) === 0) await next.rpc("mine", [1]).catch(() => {});
        // The killed node must come back: a restart or rejoin that fails is this kill's failure too.
        await rejoin(cluster, hub, next, pay.sent, base, pay.paused).catch((e) => {
          ok = false;
          failures.push(`kill ${k}: ${hub.name} did not rejoin: ${(e as Error).message}`);
        });
        if (ok) survived++;
      }
    } finally {
      await pay.stop();
    }
    const peakRssMiB = await memory.stop();
    // Everything paid must end up in the chain: mine until every mempool is empty.
    const miner = nodes[0];
    await mineUntilEmpty(nodes, miner, 20, 10_000);
    const { txids } = await chainTxids(miner, base);
    const lost = pay.sent.filter((p) => !atRisk.has(p.txid) && !txids.has(p.txid)).length;
    const hubsLost = [...atRisk].filter((id) => !txids.has(id)).length;
    notes.push(
      `${pay.sent.length} payments accepted; ${lost} of those made on a peer not mined; ` +
        `${hubsLost} of ${atRisk.size} made on a hub that was then killed not mined; ` +
        `${pay.refused} sends refused (${
          [...pay.errors].map(([m, n]) => `${n}x ${m}`).join("; ") || "none"
        })`,
      `failover after SIGKILL: p50 ${percentile(failovers, 50)} ms, max ${Math.max(0, ...failovers)} ms`,
    );
    return scenarioResult(
      t0,
      `hub SIGKILLs while ${o.senders} nodes pay`,
      { runs, survived, lost, peakRssMiB },
      notes,
      failures,
    );
  } finally {
    await cluster.cleanup();
  }
}

/**
 * Restarts a killed node and keeps it from paying until it again sees every payment of its own that the
 * network kept: paying earlier could spend a coin twice, which the network would rightly refuse.
 */
async function rejoin(
  cluster: Cluster,
  node: TestNode,
  hub: TestNode,
  sent: { txid: string; from: TestNode }[],
  base: number,
  paused: Set<TestNode>,
): Promise<void> {
  paused.add(node);
  try {
    await cluster.restart(node);
    await waitFor(
      async () => {
        const known = await chainTxids(hub, base);
        const pool = await mempoolIds(hub);
        const mine = sent.filter((p) => p.from === node && (pool.has(p.txid) || known.txids.has(p.txid)));
        const { txids } = await chainTxids(node, base);
        const own = await mempoolIds(node);
        return mine.every((p) => own.has(p.txid) || txids.has(p.txid));
      },
      15_000,
      `${node.name} to see its own pending payments again after its restart`,
      JUDGED,
    );
  } finally {
    paused.delete(node);
  }
}

/** Reopens a killed node's store as a restart would and checks it: UTXO set equals a replay of its chain. */
export function checkCrashedStore(node: TestNode, reported: string[]): string[] {
  const store = openStore(`${node.dataDir}/chain.sqlite`);
  try {
    const chain = Chain.open(store, NETWORKS.regtest);
    const problems = diffCoins(chain.coins(), rebuildCoins(chain).coins, 5);
    for (const h of reported) if (!chain.entry(h)) problems.push(`reported block ${h} not in its store`);
    return problems;
  } finally {
    store.close();
  }
}

/** How `randomKills` runs. */
export interface RandomKillOptions {
  kills: number;
  nodes: number;
  /** Pause between a kill and the restart. */
  downMs?: number;
  seed?: number;
  progress?: Progress;
}

/**
 * SIGKILLs a random node `kills` times while blocks are mined on random nodes and payments relayed; each
 * victim's store is checked as it lies on disk, then it is restarted and must catch up. At the end every
 * block a `mine` call reported is on the final chain, or accounted for as orphaned (known, not active).
 */
export async function randomKills(o: RandomKillOptions): Promise<ScenarioResult> {
  const t0 = Date.now(), notes: string[] = [], failures: string[] = [], log = o.progress ?? (() => {});
  const rand = seeded(o.seed ?? 7);
  const cluster = await Cluster.create("peerchain-stress-");
  let survived = 0, runs = 0;
  const mined: { hash: string; by: TestNode; at: number }[] = [];
  const catchUps: number[] = [];
  try {
    const nodes: TestNode[] = [];
    for (let i = 0; i < o.nodes; i++) nodes.push(await cluster.start(`n${i}`));
    await waitForOnePrimary(nodes, 20_000, "every node to join one network", JUDGED_STAR);
    const base = await fundEach(cluster, nodes);
    const addresses = await Promise.all(nodes.map(async (s) => (await s.rpc<NodeStatus>("status")).address));
    const pay = payLoop(nodes, addresses, 250);
    const memory = watchRss(() => cluster.alive);
    let mining = true;
    const miner = (async () => {
      while (mining) {
        const by = nodes[rand(nodes.length)];
        if (by.alive) {
          const r = await by.rpc<{ hashes: string[] }>("mine", [1]).catch(() => null);
          for (const hash of r?.hashes ?? []) mined.push({ hash, by, at: Date.now() });
        }
        await sleep(150);
      }
    })();
    try {
      for (let k = 1; k <= o.kills; k++) {
        await sleep(200 + rand(400));
        const victim = nodes[rand(nodes.length)];
        runs++;
        await cluster.kill(victim);
        const problems = checkCrashedStore(victim, mined.filter((m) => m.by === victim).map((m) => m.hash));
        const others = nodes.filter((n) => n !== victim);
        // A block the victim has not seen, so catching up means downloading something.
        const by = others[rand(others.length)];
        const r = await by.rpc<{ hashes: string[] }>("mine", [1]).catch(() => null);
        for (const hash of r?.hashes ?? []) mined.push({ hash, by, at: Date.now() });
        await sleep(o.downMs ?? 200);
        const target = Math.max(
          ...(await Promise.all(others.map((n) => n.rpc<NodeStatus>("status")))).map((s) => s.height),
        );
        const restartedAt = Date.now();
        await cluster.restart(victim);
        const caughtUp = await waitFor(
          async () => (await victim.rpc<NodeStatus>("status")).height >= target,
          20_000,
          `${victim.name} to catch up to height ${target}`,
          JUDGED,
        ).then(() => true, (e) => (problems.push((e as Error).message), false));
        if (caughtUp) catchUps.push(Date.now() - restartedAt);
        if (problems.length === 0) survived++;
        else failures.push(`kill ${k} (${victim.name}): ${problems.join("; ")}`);
        log(`kill ${k}: ${victim.name} restarted, ${caughtUp ? "caught up" : "NOT caught up"} to ${target}`);
      }
    } finally {
      mining = false;
      await miner;
      await pay.stop();
    }
    const peakRssMiB = await memory.stop();
    const final = await waitForOnePrimary(nodes, 20_000, "one hub after the last restart", JUDGED_STAR).catch(
      (e) => {
        failures.push((e as Error).message); // with each node's view
        return nodes[0];
      },
    );
    await waitFor(
      async () => {
        const s = await Promise.all(nodes.map((n) => n.rpc<NodeStatus>("status")));
        return s.every((x) => x.tip === s[0].tip);
      },
      20_000,
      "every node on one tip",
      JUDGED,
    ).catch(async (e) => failures.push(`${e.message}\n${await describeNodes(nodes)}`));
    let onChain = 0, orphaned = 0, lost = 0;
    for (const m of mined) {
      const b = await final.rpc<{ confirmations: number }>("block", [m.hash]).catch(() => null) ??
        await m.by.rpc<{ confirmations: number }>("block", [m.hash]).catch(() => null);
      if (b && b.confirmations > 0) onChain++;
      else if (b) orphaned++;
      else lost++;
    }
    const { height } = await chainTxids(final, base, new Set()).catch(() => ({ height: NaN }));
    notes.push(
      `${mined.length} blocks reported by mine: ${onChain} on the final chain (height ${height}), ` +
        `${orphaned} orphaned by a competing block (mined on a stale tip or not relayed before a kill), ${lost} lost`,
      `restart to caught up: p50 ${percentile(catchUps, 50)} ms, max ${Math.max(0, ...catchUps)} ms; ` +
        `${pay.sent.length} payments relayed meanwhile`,
    );
    return scenarioResult(
      t0,
      `random-node SIGKILLs while mining and relaying (${o.nodes} nodes)`,
      { runs, survived, lost, peakRssMiB },
      notes,
      failures,
    );
  } finally {
    await cluster.cleanup();
  }
}
