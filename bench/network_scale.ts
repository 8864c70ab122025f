/**
 * The overlay at a thousand nodes, on real sockets: a few real node processes and the rest light nodes in
 * this process — each the real `Network` over TCP on 127.0.0.1 with a light ledger (lib/sim's `SimLedger`:
 * real regtest blocks, no transactions). Figures:
 *
 * - `join_1000_s`: from the first light node's start (one every `START_MS_PER_NODE`) until every one
 *   of the 1,000 nodes holds a link in the overlay (a SuperPeer of its own, or as a SuperPeer a mesh link or
 *   a Peer); `join_each_p50_ms` / `_max_ms`: from each light node's start to its first link.
 * - `propagation_1000_p50_ms` / `_p99_ms` / `_max_ms`: per block mined on a real node, from the miner's log
 *   line until each other node connected it (light nodes: their ledger's clock; real nodes: their log).
 * - `superpeer_kb_per_link`: the network code's live memory per Peer link (V8 heap and external memory after
 *   garbage collection) in a SuperPeer process of its own (`superpeer_host.ts`), while the second 100 of 200
 *   light Peers join; `superpeer_host_rss_kb_per_link` that process's resident memory per link over the same
 *   half, `superpeer_host_first_rss_kb_per_link` over the first half (which also pays for what grows once:
 *   V8's young generation alone grows by tens of MiB under the first burst of joins and keeps them).
 * - `superpeer_rss_kb_per_link`: a real node process's resident memory per Peer link as a SuperPeer, over
 *   the second half of 200 light Peers. (A SuperPeer serves 32 by default, plus its mesh links: 200 is
 *   several times what one holds; an only SuperPeer tells each Peer of every join, N² messages, slow at 500.)
 * @module
 */
import { Network, type NetworkEvent } from "../lib/net/network.ts";
import { generateIdentity } from "../lib/net/identity.ts";
import { type HostPort, parseHostPort } from "../lib/net/messages.ts";
import { BlockStore, type LedgerClock, SimLedger, wallClock } from "../lib/sim/sim_ledger.ts";
import { memoryTracker } from "../lib/sim/world.ts";
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, freePort, readLines, statuses, type TestNode } from "../tests/support/cluster.ts";
import type { HostMemory } from "./superpeer_host.ts";
import { sleep, waitFor } from "../tests/support/wait.ts";
import { median, percentile, rssMiB, runAlone } from "./stats.ts";

/**
 * Light nodes start one every this many ms (1,000 over 20 s), as machines switched on in a room would. All
 * light nodes share this one process's event loop: started much faster they overload it, their joins time out
 * and they promote themselves (measured with 1,000 over 2 s: 886 SuperPeers at the peak, 453 after 90 s of
 * stepping down), which says more about this host than about a LAN of machines each with its own CPU.
 */
const START_MS_PER_NODE = 20;

/** A light node: the real network code with a light ledger, and when it first held a link. */
interface Light {
  net: Network;
  ledger: SimLedger;
  startedAt?: number;
  linkedAt?: number;
}

const LINKED: ReadonlySet<NetworkEvent["type"]> = new Set(["superpeer-linked", "mesh-linked", "peer-joined"]);

async function lights(
  n: number,
  tracker: HostPort[],
  store: BlockStore,
  clock: LedgerClock,
  first = 0,
): Promise<Light[]> {
  const keys = await Promise.all(Array.from({ length: n }, () => generateIdentity()));
  return Array.from({ length: n }, (_, i) => {
    const id = `light-${first + i}`;
    const ledger = new SimLedger(store, id, clock);
    const light: Light = { ledger, net: undefined as unknown as Network };
    light.net = new Network(ledger, {
      identity: keys[i],
      bind: { hostname: "127.0.0.1", port: 0 },
      tracker: memoryTracker(tracker),
      onEvent: (e) => {
        if (LINKED.has(e.type) && light.linkedAt === undefined) light.linkedAt = Date.now();
      },
    });
    return light;
  });
}

/** Milliseconds since the epoch of the first line of `node`'s log matching `re`, or undefined. */
function logTime(node: TestNode, re: RegExp): number | undefined {
  const line = node.log.find((l) => re.test(l));
  return line ? Date.parse(line.slice(0, line.indexOf(" "))) : undefined;
}

/** Joins `total` nodes (`real` of them processes) and measures the join and block propagation. */
async function joinAndPropagate(total: number, real: number, blocks: number) {
  const cluster = await Cluster.create();
  const clock = wallClock(), epoch = clock.now() - clock.elapsed;
  const store = new BlockStore(clock);
  let light: Light[] = [];
  try {
    const reals: TestNode[] = [];
    for (let i = 0; i < real; i++) reals.push(await cluster.start(`r${i}`, { defaultTimings: true }));
    light = await lights(total - real, [parseHostPort(reals[0].listen)], store, clock);
    const startedAt = Date.now();
    await Promise.all(
      light.map((l, i) => sleep(i * START_MS_PER_NODE).then(() => (l.startedAt = Date.now(), l.net.start()))),
    );
    await waitFor(() => light.every((l) => l.linkedAt !== undefined), 120_000, "every light node to link");
    await waitFor(async () => (await statuses(reals)).every((s) => s.peers > 0), 60_000, "real nodes linked");
    const joinS = (Math.max(...light.map((l) => l.linkedAt!)) - startedAt) / 1000;
    const joinEach = light.map((l) => l.linkedAt! - l.startedAt!);
    const delays: number[] = [];
    for (let b = 0; b < blocks; b++) {
      const miner = reals[1 + (b % (real - 1))];
      const [hash] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;
      const others = reals.filter((r) => r !== miner);
      await waitFor(
        () =>
          light.every((l) => l.ledger.knows(hash)) &&
          others.every((r) => logTime(r, new RegExp(`block \\d+ ${hash} \\(network\\)`)) !== undefined),
        60_000,
        `block ${b + 1} to reach all ${total} nodes`,
      );
      const minedAt = logTime(miner, new RegExp(`block \\d+ ${hash} \\(local\\)`))!;
      for (const [, a] of store.get(hash)!.arrivals) delays.push(epoch + a.t - minedAt);
      for (const r of others) {
        delays.push(logTime(r, new RegExp(`block \\d+ ${hash} \\(network\\)`))! - minedAt);
      }
    }
    const sps = light.filter((l) => l.net.role === "superpeer").length +
      (await statuses(reals)).filter((s: NodeStatus) => s.role === "superpeer").length;
    return { joinS, joinEach, delays, sps };
  } finally {
    await Promise.all(light.map((l) => l.net.stop().catch(() => {})));
    await cluster.cleanup();
  }
}

/** Light Peers of `target` (ids from `first`), started 50 at a time. */
async function joinPeers(links: number, target: string, first = 0): Promise<Light[]> {
  const clock = wallClock();
  const light = await lights(links, [parseHostPort(target)], new BlockStore(clock), clock, first);
  for (let i = 0; i < light.length; i += 50) {
    await Promise.all(light.slice(i, i + 50).map((l) => l.net.start()));
  }
  return light;
}

/**
 * A real node process's resident memory per Peer link as a SuperPeer: its growth while the second half of
 * `links` light Peers join (the first half's also pays for what grows once, such as V8's young generation).
 */
async function rssKbPerLink(links: number): Promise<{ kb: number; rss: number[] }> {
  const cluster = await Cluster.create();
  const light: Light[] = [];
  try {
    const sp = await cluster.start("sp", { defaultTimings: true, args: ["--max-peers", String(links + 10)] });
    await sleep(2000);
    const rss = [await rssMiB(sp.proc.pid)];
    for (const half of [0, 1]) {
      light.push(...await joinPeers(links / 2, sp.listen, light.length));
      const want = (links / 2) * (half + 1);
      // An only SuperPeer tells each of its Peers of every join (they need its roster): N² messages, slow here.
      await waitFor(
        async () => (await sp.rpc<NodeStatus>("status")).peers >= want,
        120_000,
        "the Peers to join",
      );
      await sleep(3000); // pings and directory traffic settle
      rss.push(await rssMiB(sp.proc.pid));
    }
    return { kb: Math.round(((rss[2] - rss[1]) * 1024) / (links / 2)), rss };
  } finally {
    await Promise.all(light.map((l) => l.net.stop().catch(() => {})));
    await cluster.cleanup();
  }
}

/**
 * The network code's live memory per Peer link: one SuperPeer (`bench/superpeer_host.ts`, the real `Network`
 * with a light ledger) in a process of its own, its V8 heap and external memory after garbage collection,
 * as the second half of `links` light Peers join it; with its resident memory over the same half and over the
 * first.
 */
async function liveKbPerLink(
  links: number,
): Promise<{ kb: number; rssKb: number; firstRssKb: number }> {
  const port = freePort();
  const host = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--v8-flags=--expose-gc",
      new URL("./superpeer_host.ts", import.meta.url).pathname,
      String(port),
      String(links + 10),
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = host.stdin.getWriter();
  const out: string[] = [];
  readLines(host.stdout, out).catch(() => {});
  let seen = 0;
  const line = async (): Promise<string> => {
    await waitFor(() => out.length > seen, 30_000, "a line from the SuperPeer host", { everyMs: 5 });
    return out[seen++];
  };
  const mem = async (): Promise<HostMemory> => {
    await writer.write(new TextEncoder().encode("mem\n"));
    return JSON.parse(await line());
  };
  const light: Light[] = [];
  try {
    if ((await line()) !== "ready") throw new Error("the SuperPeer host did not start");
    await sleep(1000);
    const readings: HostMemory[] = [await mem()];
    // Two halves: the second half's growth is the cost of a link, apart from what V8 and the runtime grow
    // once under the first burst of joins (the young generation alone grows to tens of MiB and stays).
    for (const half of [0, 1]) {
      const batch = await joinPeers(links / 2, `127.0.0.1:${port}`, light.length);
      light.push(...batch);
      const want = (links / 2) * (half + 1);
      await waitFor(async () => (await mem()).links >= want, 120_000, "the Peers to join the host", {
        everyMs: 500,
      });
      await sleep(3000); // pings and directory traffic settle
      readings.push(await mem());
    }
    const [before, mid, after] = readings;
    const perLink = (f: (m: HostMemory) => number, from: HostMemory, n: number) =>
      Math.round((f(after) - f(from)) / 1024 / n);
    const live = (m: HostMemory) => m.heapUsed + m.external;
    return {
      kb: perLink(live, mid, links / 2),
      rssKb: perLink((m) => m.rss, mid, links / 2),
      firstRssKb: Math.round((mid.rss - before.rss) / 1024 / (links / 2)),
    };
  } finally {
    await Promise.all(light.map((l) => l.net.stop().catch(() => {})));
    await writer.close().catch(() => {});
    const exited = await Promise.race([host.status, sleep(5000).then(() => null)]);
    if (!exited) host.kill("SIGKILL");
    await host.status;
  }
}

/** Runs the thousand-node figures (`quick`: 200 nodes). */
export async function benchNetworkScale(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number | string>> {
  const q = opts.quick ?? false;
  const total = q ? 200 : 1000, real = q ? 3 : 5, blocks = q ? 3 : 10, links = q ? 100 : 200;
  const { joinS, joinEach, delays, sps } = await joinAndPropagate(total, real, blocks);
  const mem = await rssKbPerLink(links);
  const live = await liveKbPerLink(links);
  const n = total === 1000 ? "1000" : String(total);
  return {
    scale_setup:
      `${total} nodes (${real} real processes, ${total - real} light nodes: the real Network over ` +
      `TCP with a light ledger, started over ${
        (total - real) * START_MS_PER_NODE / 1000
      } s), default timings and --max-peers; ${blocks} blocks; ${sps} SuperPeers at the end`,
    [`join_${n}_s`]: +joinS.toFixed(2),
    join_each_p50_ms: median(joinEach),
    join_each_max_ms: Math.max(...joinEach),
    [`propagation_${n}_p50_ms`]: median(delays),
    [`propagation_${n}_p99_ms`]: percentile(delays, 99),
    [`propagation_${n}_max_ms`]: Math.max(...delays),
    superpeer_kb_per_link: live.kb,
    superpeer_host_rss_kb_per_link: live.rssKb,
    superpeer_host_first_rss_kb_per_link: live.firstRssKb,
    superpeer_rss_kb_per_link: mem.kb,
    superpeer_rss_mib: `${mem.rss.map((x) => x.toFixed(0)).join(" / ")} with 0 / ${
      links / 2
    } / ${links} Peers`,
  };
}

if (import.meta.main) await runAlone("network_scale", benchNetworkScale);
