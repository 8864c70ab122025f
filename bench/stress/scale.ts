/**
 * The overlay with many real node processes (issue 10): all started from one tracker file with small
 * SuperPeers (`--max-peers`), they form one network of several SuperPeers, every Peer holding two; then the
 * busiest SuperPeers are SIGKILLed one after another, and after each the survivors are one network again,
 * nobody is alone, and a block mined on one reaches all.
 * @module
 */
import type { NodeStatus } from "../../lib/node.ts";
import {
  Cluster,
  describeNodes,
  oneNetwork,
  statuses,
  type TestNode,
  waitForTip,
} from "../../tests/support/cluster.ts";
import { waitFor } from "../../tests/support/wait.ts";
import { median } from "../stats.ts";
import { JUDGED, scenarioResult, watchRss } from "./scenario.ts";
import type { Progress, ScenarioResult } from "./scenario.ts";

/**
 * One network judged by its links: past a full mesh a Peer's count of the network follows SuperPeers' load
 * changes in batches, so it lags behind the links (the count's spread is reported as a note).
 */
const LINKS_ONLY = { countSize: false };

/** How `overlayScale` runs. */
export interface ScaleOptions {
  nodes: number;
  maxPeers: number;
  kills: number;
  /** Nodes started at once, as machines switched on in a room (default 8). */
  batch?: number;
  progress?: Progress;
}

/** Each SuperPeer's count of Peers it serves, from its `peers` reply. */
interface PeersReply {
  links: { kind: string }[];
}

/** Starts `o.nodes` processes, then SIGKILLs `o.kills` SuperPeers; one run per kill. */
export async function overlayScale(o: ScaleOptions): Promise<ScenarioResult> {
  const t0 = Date.now(), notes: string[] = [], failures: string[] = [], log = o.progress ?? (() => {});
  const cluster = await Cluster.create("peerchain-stress-");
  const args = ["--max-peers", String(o.maxPeers)], batch = o.batch ?? 8;
  const heals: number[] = [], counts: string[] = [];
  let runs = 0, survived = 0, lost = 0, peak = 0;
  // Reading every process's VmRSS spawns a reader each: every 5 s is enough for a peak.
  const memory = watchRss(() => cluster.alive, 5000);
  try {
    const nodes: TestNode[] = [await cluster.start("n0", { args })];
    for (let i = 1; i < o.nodes; i += batch) {
      const names = Array.from({ length: Math.min(batch, o.nodes - i) }, (_, k) => `n${i + k}`);
      nodes.push(...await Promise.all(names.map((name) => cluster.start(name, { args }))));
    }
    const started = Date.now();
    log(`${o.nodes} nodes started in ${((started - t0) / 1000).toFixed(0)} s`);
    await waitFor(
      () => oneNetwork(nodes, LINKS_ONLY),
      60_000,
      `${o.nodes} nodes to form one network`,
      JUDGED,
    );
    const joined = Date.now();
    await waitFor(
      async () => (await statuses(nodes)).every((x) => x.role === "superpeer" || x.superpeers.length === 2),
      20_000,
      "every Peer to hold two SuperPeers",
      JUDGED,
    );
    const s = await statuses(nodes);
    const sps = nodes.filter((_, i) => s[i].role === "superpeer");
    const served = await Promise.all(
      sps.map(async (n) =>
        (await n.rpc<PeersReply>("peers")).links.filter((l) => l.kind === "member").length
      ),
    );
    if (sps.length < 2) failures.push(`capacity did not grow: ${sps.length} SuperPeer`);
    if (Math.max(...served) > o.maxPeers) failures.push(`a SuperPeer serves ${Math.max(...served)} Peers`);
    notes.push(
      `${o.nodes} nodes (--max-peers ${o.maxPeers}) started ${batch} at a time from one tracker file: one ` +
        `network ${
          ((joined - started) / 1000).toFixed(1)
        } s after the last start, ${sps.length} SuperPeers ` +
        `serving ${Math.min(...served)}–${Math.max(...served)} Peers each, every Peer holding two`,
    );

    for (let k = 1; k <= o.kills; k++) {
      const alive = cluster.alive, now = await statuses(alive);
      const busiest = alive.filter((_, i) => now[i].role === "superpeer")
        .sort((a, b) => now[alive.indexOf(b)].peers - now[alive.indexOf(a)].peers)[0];
      runs++;
      const killedAt = Date.now();
      await cluster.kill(busiest);
      const survivors = cluster.alive;
      try {
        await waitFor(
          () => oneNetwork(survivors, LINKS_ONLY),
          20_000,
          `kill ${k}: the survivors to form one network`,
          JUDGED,
        );
        heals.push(Date.now() - killedAt);
        const counted = await waitFor(() => oneNetwork(survivors), 30_000, "", JUDGED)
          .then(() => Date.now() - killedAt, () => null);
        counts.push(counted === null ? "over 30 s" : `${counted}`);
        const alone = (await statuses(survivors)).filter((x: NodeStatus) => x.peers === 0);
        if (alone.length) throw new Error(`kill ${k}: ${alone.length} survivors hold no link`);
        const miner = survivors[(k * 7) % survivors.length];
        const [hash] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;
        await waitForTip(survivors, hash, 15_000, `kill ${k}: the next block to reach every survivor`, JUDGED)
          .catch((e) => {
            lost++;
            throw e;
          });
        survived++;
        log(`kill ${k}: ${busiest.name} (a SuperPeer of ${now[alive.indexOf(busiest)].peers}) healed`);
      } catch (e) {
        failures.push((e as Error).message.split("\n")[0]);
        log(`kill ${k}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    notes.push(
      `one network again (links) after each SuperPeer SIGKILL: ms ${heals.join(", ")} (p50 ${median(heals)})`,
      `every survivor's network_size equal to the number of survivors again after each kill: ms ` +
        `${counts.join(", ")} (past a full mesh a Peer hears load changes in batches)`,
    );
  } catch (e) {
    failures.push(
      `${(e as Error).message.split("\n")[0]}\n${await describeNodes(cluster.alive.slice(0, 12), 3)}`,
    );
  } finally {
    peak = await memory.stop();
    await cluster.cleanup();
  }
  return scenarioResult(
    t0,
    `${o.nodes} nodes (--max-peers ${o.maxPeers}), ${o.kills} SuperPeer SIGKILLs`,
    { runs, survived, lost, peakRssMiB: peak },
    notes,
    failures,
  );
}
