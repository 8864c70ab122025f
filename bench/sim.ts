/**
 * `deno task sim [--scenario all|main|sybil] [--nodes N] [--sybils K] [--seed S] [--quick]`: the network
 * simulation of issue 10, and the Sybil scenario of issue 19 (bench/sim_sybil.ts), written to
 * bench/sim-results.md and bench/sim-sybil-results.md. The real `Network`
 * code runs as N in-process nodes (lib/sim) over a modelled gigabit LAN and a virtual clock; the scenario
 * starts them, churns them (10 % of N joining and as many leaving per minute, half SIGKILLed, half stopped),
 * SIGKILLs the busiest SuperPeers, freezes a SuperPeer and some nodes, partitions the LAN in two and heals
 * it, mining blocks along the way. It prints the figures and, unless `--quick`, writes
 * `bench/sim-results.md`. The same seed gives the same figures (wall time and memory aside).
 * `tests/net_sim_test.ts` runs a 200-node version.
 * @module
 */
import process from "node:process";
import { percentile } from "./stats.ts";
import type { BlockSpread, Components, EventCounts, WorldNetworkOptions } from "../lib/sim/world.ts";
import type { SimBlock } from "../lib/sim/sim_ledger.ts";
import { World } from "../lib/sim/world.ts";
import type { FrameTotals } from "../lib/sim/memory_transport.ts";
import type { ClockStats } from "../lib/sim/virtual_clock.ts";
import { runSybilScenario, type SybilReport, sybilRows, sybilScenario } from "./sim_sybil.ts";

/** What the scenario does; all times are virtual ms. */
export interface SimScenario {
  /** Nodes started at first. */
  nodes: number;
  /** Seeds everything. */
  seed: number;
  /** The first nodes start evenly over this long. */
  startSpreadMs: number;
  /** Quiet time after the last start, before the first block. */
  settleMs: number;
  /** Share of `nodes` that joins, and as many that leave, per minute of churn. */
  churnPerMinute: number;
  /** How long the churn lasts. */
  churnMs: number;
  /** Share of leaving nodes that are SIGKILLed (the rest stop gracefully). */
  killShare: number;
  /** A block is mined this often during churn. */
  blockEveryMs: number;
  /** SuperPeers SIGKILLed after the churn, the busiest first, one every `killEveryMs`. */
  superPeerKills: number;
  /** Time between SuperPeer kills. */
  killEveryMs: number;
  /** Nodes frozen at once: the busiest SuperPeer and random others. */
  freezeCount: number;
  /** How long they stay frozen. */
  freezeMs: number;
  /** Groups the LAN is split into. */
  partitionGroups: number;
  /** How long the partition lasts (a block is mined in its middle). */
  partitionMs: number;
  /** Time after healing before the networks are counted. */
  healSettleMs: number;
  /** How long to wait for each block to reach every node. */
  spreadWaitMs: number;
  /** The clock's step quantum. */
  quantumMs?: number;
  /** Extra options for every `Network` (timings, `maxPeers`). */
  network?: WorldNetworkOptions;
}

/** The issue's scenario for `nodes` nodes. */
export function fullScenario(nodes = 10_000, seed = 1): SimScenario {
  return {
    nodes,
    seed,
    startSpreadMs: 30_000,
    settleMs: 10_000,
    churnPerMinute: 0.1,
    churnMs: 60_000,
    killShare: 0.5,
    blockEveryMs: 20_000,
    superPeerKills: 3,
    killEveryMs: 5_000,
    freezeCount: Math.max(2, Math.round(nodes / 100)),
    freezeMs: 20_000,
    partitionGroups: 2,
    partitionMs: 30_000,
    healSettleMs: 30_000,
    spreadWaitMs: 10_000,
  };
}

/** A shorter run of the same steps (the test suite's 200 nodes, `--quick`'s 1,000). */
export function shortScenario(nodes = 200, seed = 1): SimScenario {
  return {
    ...fullScenario(nodes, seed),
    startSpreadMs: 5_000,
    settleMs: 5_000,
    churnMs: 30_000,
    blockEveryMs: 15_000,
    superPeerKills: 2,
    killEveryMs: 3_000,
    freezeMs: 10_000,
    partitionMs: 10_000,
    healSettleMs: 15_000,
    spreadWaitMs: 5_000,
  };
}

/** One mined block and how far it got. */
export interface BlockResult {
  /** The step it was mined in. */
  step: string;
  /** Whether every node live both at mining and at the end of the wait had it within `spreadWaitMs`. */
  complete: boolean;
  /** Where it went. */
  spread: BlockSpread;
}

/** Everything the scenario measured that the seed decides. */
export interface SimFigures {
  /** Networks once all nodes had started and settled. */
  networksAfterStart: Components;
  /** Networks just before healing (each side of the partition should have re-formed). */
  networksDuringPartition: Components;
  /** Networks after healing the partition (must be 1). */
  networksAfterHeal: Components;
  /** Virtual ms from start to a node's first `role` event (every node ever started). */
  joinFirstRoleMs: number[];
  /** Virtual ms from start to a node's first overlay link (to a SuperPeer, or as one to a Peer or SuperPeer). */
  joinLinkedMs: number[];
  /** Nodes started that never held such a link while alive. */
  neverLinked: number;
  /** Nodes whose first role was SuperPeer. */
  firstRoleSuperPeer: number;
  /** SuperPeers at the end. */
  superPeersAtEnd: number;
  /** Blocks mined and their spread. */
  blocks: BlockResult[];
  /** Live nodes at the end lacking at least one mined block. */
  missingAtEnd: number;
  /** Live nodes at the end. */
  liveAtEnd: number;
  /** Most open streams on any node, and most greeted links, at the end of setup and overall at sampled steps. */
  mostLinks: { streams: number; greeted: number };
  /** What churn did. */
  churn: { joined: number; killed: number; stopped: number };
  /** SuperPeers SIGKILLed. */
  superPeersKilled: number;
  /** Nodes frozen. */
  frozen: number;
  /** Node events. */
  events: EventCounts;
  /** Frames and bytes written on the LAN, by type. */
  frames: FrameTotals;
  /** Dials started, refused and timed out. */
  dials: { dials: number; refused: number; timedOut: number };
  /** The clock's work. */
  clock: ClockStats;
  /** Virtual ms simulated. */
  virtualMs: number;
}

/** What the run cost this machine (not reproducible). */
export interface SimCost {
  /** Wall ms of the whole run. */
  wallMs: number;
  /** Wall ms per step. */
  stepWallMs: Record<string, number>;
  /**
   * CPU ms (user + system) of the whole run, and per step: what the run cost whatever else the machine ran (on a
   * shared machine the wall time is this divided by the share of a core the process got).
   */
  cpuMs: number;
  /** CPU ms per step. */
  stepCpuMs: Record<string, number>;
  /** JS heap used after setup minus before, per node started, KiB. */
  heapPerNodeKiB: number;
  /** JS heap used after setup, MiB. */
  heapAfterSetupMiB: number;
  /** Resident set size at the end, MiB. */
  rssEndMiB: number;
  /** Whether the heap was measured after a forced GC (`--v8-flags=--expose-gc`). */
  gcForced: boolean;
}

/** A scenario's outcome. */
export interface SimReport {
  /** What was run. */
  scenario: SimScenario;
  /** What the seed decides. */
  figures: SimFigures;
  /** What this machine paid. */
  cost: SimCost;
}

function heapUsed(): { bytes: number; forced: boolean } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return { bytes: Deno.memoryUsage().heapUsed, forced: gc !== undefined };
}

/** Runs `s` and measures it; `log` gets one progress line per step. */
export async function runScenario(
  s: SimScenario,
  log: (line: string) => void = () => {},
  progressEveryMs = 0,
): Promise<SimReport> {
  const wall0 = performance.now();
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const cpu0 = cpu();
  const heap0 = heapUsed();
  const world = new World({ seed: s.seed, network: s.network, quantumMs: s.quantumMs });
  const stepWallMs: Record<string, number> = {};
  const stepCpuMs: Record<string, number> = {};
  const blocks: BlockResult[] = [];
  const mined: SimBlock[] = [];
  let mostLinks = { streams: 0, greeted: 0 };
  const noteLinks = () => {
    const m = world.mostLinks();
    mostLinks = {
      streams: Math.max(mostLinks.streams, m.streams),
      greeted: Math.max(mostLinks.greeted, m.greeted),
    };
  };
  let stepStart = performance.now(), stepCpu = cpu0;
  const step = (name: string) => {
    const now = performance.now(), used = cpu();
    stepWallMs[name] = Math.round(now - stepStart);
    stepCpuMs[name] = Math.round(used - stepCpu);
    stepStart = now;
    stepCpu = used;
    noteLinks();
    const c = world.components();
    log(
      `${name.padEnd(18)} virtual ${(world.clock.elapsed / 1000).toFixed(1).padStart(6)} s, wall ${
        (stepWallMs[name] / 1000).toFixed(1).padStart(6)
      } s, CPU ${
        (stepCpuMs[name] / 1000).toFixed(1).padStart(6)
      } s: ${world.liveCount} live, ${world.superPeers().length} SuperPeers, ${c.count} networks (largest ${c.largest})`,
    );
  };
  const mineAndMeasure = async (name: string) => {
    const m = world.mine();
    mined.push(m.block);
    await world.waitForBlock(m, s.spreadWaitMs);
    const spread = world.spread(m);
    blocks.push({ step: name, complete: spread.reached === spread.live, spread });
    log(`  block ${spread.height} (${name}): ${spread.reached} of ${spread.live} nodes`);
  };

  // Progress every `progressEveryMs` of virtual time (the command line's, for long runs): what a run that
  // does not finish has shown so far.
  if (progressEveryMs > 0) {
    const progress = () => {
      const f = world.lan.totals();
      const all = sum(Object.values(f).map((t) => t.bytes));
      log(
        `  virtual ${(world.clock.elapsed / 1000).toFixed(0)} s, wall ${
          ((performance.now() - wall0) / 1000).toFixed(1)
        } s, CPU ${((cpu() - cpu0) / 1000).toFixed(1)} s: ${world.liveCount} live; ${
          (all / 1e6).toFixed(1)
        } MB written; directory gossip / welcomes ${directoryShare(f)}`,
      );
      world.clock.setTimeout(progress, progressEveryMs);
    };
    world.clock.setTimeout(progress, progressEveryMs);
  }

  // 1. Start every node, staggered, and let them settle.
  world.startNodes(s.nodes, s.startSpreadMs);
  await world.clock.advance(s.startSpreadMs + s.settleMs);
  const networksAfterStart = world.components();
  const heap1 = heapUsed();
  step("start");
  await mineAndMeasure("after start");
  step("first block");

  // 2. Churn, mining a block every `blockEveryMs`.
  const perMinute = Math.round(s.nodes * s.churnPerMinute);
  const churn = world.churn({
    joinsPerMinute: perMinute,
    leavesPerMinute: perMinute,
    forMs: s.churnMs,
    killShare: s.killShare,
  });
  const churnEnd = world.clock.elapsed + s.churnMs;
  while (world.clock.elapsed + s.blockEveryMs <= churnEnd) {
    await world.clock.advance(s.blockEveryMs - s.spreadWaitMs);
    await mineAndMeasure("churn");
  }
  await world.clock.runUntil(churnEnd);
  step("churn");

  // 3. SIGKILL the busiest SuperPeers, one after another.
  let superPeersKilled = 0;
  for (let k = 0; k < s.superPeerKills; k++) {
    superPeersKilled += world.killSuperPeers(1).length;
    await world.clock.advance(s.killEveryMs);
  }
  await mineAndMeasure("superpeer kills");
  step("superpeer kills");

  // 4. Freeze the busiest SuperPeer and some others (SIGSTOP), then thaw them.
  const frozen = world.freezeSome(s.freezeCount, true);
  await world.clock.advance(s.freezeMs);
  for (const n of frozen) world.thaw(n);
  await world.clock.advance(s.spreadWaitMs);
  await mineAndMeasure("after freeze");
  step("freeze");

  // 5. Partition, mine in the middle (on one side), heal, settle, count the networks, mine once more.
  world.partitionAtRandom(s.partitionGroups);
  await world.clock.advance(s.partitionMs / 2);
  const split = world.mine();
  mined.push(split.block);
  await world.clock.advance(s.partitionMs / 2);
  const networksDuringPartition = world.components();
  world.heal();
  await world.clock.advance(s.healSettleMs);
  const splitSpread = world.spread(split);
  blocks.push({
    step: "during partition",
    complete: splitSpread.reached === splitSpread.live,
    spread: splitSpread,
  });
  const networksAfterHeal = world.components();
  step("partition + heal");
  await mineAndMeasure("after heal");
  step("last block");

  noteLinks();
  const started = world.nodes.filter((n) => !Number.isNaN(n.startedAt));
  const figures: SimFigures = {
    networksAfterStart,
    networksDuringPartition,
    networksAfterHeal,
    joinFirstRoleMs: started.flatMap((n) => n.firstRole ? [n.firstRole.at - n.startedAt] : []),
    joinLinkedMs: started.flatMap((n) => n.linkedAt !== undefined ? [n.linkedAt - n.startedAt] : []),
    neverLinked: started.filter((n) => n.linkedAt === undefined).length,
    firstRoleSuperPeer: started.filter((n) => n.firstRole?.role === "superpeer").length,
    superPeersAtEnd: world.superPeers().length,
    blocks,
    missingAtEnd: world.missing(mined).length,
    liveAtEnd: world.liveCount,
    mostLinks,
    churn: { ...churn },
    superPeersKilled,
    frozen: frozen.length,
    events: world.events,
    frames: world.lan.totals(),
    dials: world.lan.dialTotals(),
    clock: { ...world.clock.stats },
    virtualMs: world.clock.elapsed,
  };
  const mem = Deno.memoryUsage();
  return {
    scenario: s,
    figures,
    cost: {
      wallMs: Math.round(performance.now() - wall0),
      stepWallMs,
      cpuMs: Math.round(cpu() - cpu0),
      stepCpuMs,
      heapPerNodeKiB: Math.round((heap1.bytes - heap0.bytes) / s.nodes / 1024 * 10) / 10,
      heapAfterSetupMiB: Math.round(heap1.bytes / 2 ** 20),
      rssEndMiB: Math.round(mem.rss / 2 ** 20),
      gcForced: heap1.forced,
    },
  };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const fmt = (x: number, digits = 0) => Number.isNaN(x) ? "–" : x.toFixed(digits);
const ppm = (xs: number[], digits = 0) =>
  `${fmt(percentile(xs, 50), digits)} / ${fmt(percentile(xs, 99), digits)} / ${
    fmt(xs.length ? Math.max(...xs) : NaN, digits)
  }`;

/** Directory gossip's and welcomes' share of all bytes written (issue 19's goal: gossip at most 25 %). */
export function directoryShare(frames: FrameTotals): string {
  const bytes = (t: string) => frames[t]?.bytes ?? 0;
  const all = sum(Object.values(frames).map((t) => t.bytes));
  const gossip = bytes("superpeers") + bytes("ihave") + bytes("iwant") + bytes("dirsum");
  const pct = (x: number) => `${all ? (100 * x / all).toFixed(1) : "–"} %`;
  return `${pct(gossip)} / ${pct(bytes("welcome"))}`;
}

/** The figures as `name value` rows, for the console and the results file. */
export function figureRows(r: SimReport): [string, string][] {
  const f = r.figures, c = r.cost;
  const perStep = f.blocks.map((b) =>
    [
      `block ${b.spread.height} (${b.step})`,
      `${b.spread.reached} of ${b.spread.live} nodes${b.complete ? "" : " (INCOMPLETE)"}; hops ${
        ppm(b.spread.hops)
      }; ms ${ppm(b.spread.ms, 1)}; frames/node ${fmt(b.spread.framesPerNode, 2)} (block ${
        fmt(b.spread.blockFramesPerNode, 2)
      })`,
    ] as [string, string]
  );
  const net = (x: Components) => `${x.count} (largest ${x.largest}, alone ${x.isolated})`;
  return [
    ["networks after start", net(f.networksAfterStart)],
    ["networks during the partition", net(f.networksDuringPartition)],
    ["networks after healing", net(f.networksAfterHeal)],
    ["join: first role event, ms p50/p99/max", ppm(f.joinFirstRoleMs, 1)],
    ["join: linked to a SuperPeer, ms", `${ppm(f.joinLinkedMs)}; never: ${f.neverLinked}`],
    ["first role SuperPeer / at end", `${f.firstRoleSuperPeer} / ${f.superPeersAtEnd}`],
    ...perStep,
    ["live nodes missing a block at end", `${f.missingAtEnd} of ${f.liveAtEnd}`],
    ["most links on any node (streams/greeted)", `${f.mostLinks.streams} / ${f.mostLinks.greeted}`],
    ["churn joined / killed / stopped", `${f.churn.joined} / ${f.churn.killed} / ${f.churn.stopped}`],
    ["SuperPeers killed / nodes frozen", `${f.superPeersKilled} / ${f.frozen}`],
    [
      "events: role / superpeer-lost / misbehaviour",
      `${f.events.roles} / ${f.events.superPeerLost} / ${f.events.misbehaviour}`,
    ],
    [
      "frames written: count (MB) by type",
      Object.entries(f.frames).sort((a, b) => b[1].frames - a[1].frames).map(([k, t]) =>
        `${k} ${t.frames} (${fmt(t.bytes / 1e6, 1)})`
      ).join(", "),
    ],
    [
      "directory bytes: gossip (superpeers, ihave, iwant, dirsum) / welcomes, share of all bytes",
      directoryShare(f.frames),
    ],
    [
      "frames written: all types",
      `${sum(Object.values(f.frames).map((t) => t.frames))} (${
        fmt(sum(Object.values(f.frames).map((t) => t.bytes)) / 1e6, 1)
      } MB)`,
    ],
    ["dials / refused / timed out", `${f.dials.dials} / ${f.dials.refused} / ${f.dials.timedOut}`],
    ["virtual time", `${fmt(f.virtualMs / 1000, 1)} s; ${f.clock.fired} timers in ${f.clock.steps} steps`],
    [
      "wall time",
      `${fmt(c.wallMs / 1000, 1)} s (${
        Object.entries(c.stepWallMs).map(([k, v]) => `${k} ${fmt(v / 1000, 1)}`).join(", ")
      })`,
    ],
    [
      "CPU time, user + system",
      `${fmt(c.cpuMs / 1000, 1)} s (${
        Object.entries(c.stepCpuMs).map(([k, v]) => `${k} ${fmt(v / 1000, 1)}`).join(", ")
      })`,
    ],
    [
      "memory per node (JS heap after setup)",
      `${c.heapPerNodeKiB} KiB (heap ${c.heapAfterSetupMiB} MiB${
        c.gcForced ? ", after GC" : ""
      }; RSS at end ${c.rssEndMiB} MiB)`,
    ],
  ];
}

/**
 * The results file. `previous` (the file as it was) keeps its sections of other node counts: each run of
 * `--nodes N` replaces only its own, so the 1,000- and 10,000-node figures stand side by side.
 */
export function renderResults(
  r: SimReport | undefined,
  meta: { date: string; commit: string; machine: string; load: string },
  sybil: SybilReport[] = [],
  previous = "",
): string {
  const head = `# Simulation results

- date: ${meta.date}
- commit: ${meta.commit}
- machine: ${meta.machine}; load average before / after: ${meta.load}
`;
  if (!r) return head + renderSybil(sybil);
  const sections = resultSections(previous);
  sections.set(r.scenario.nodes, renderMain(r, meta));
  const body = [...sections].sort((a, b) => b[0] - a[0]).map(([, text]) => text).join("\n");
  return `# Simulation results

Written by \`deno task sim\` (bench/sim.ts): the real \`Network\` code (lib/net) as in-process nodes over the memory
transport and the virtual clock (lib/sim). A modelled gigabit LAN: 0.2–0.5 ms per message plus its size at 1 Gbit/s
per sending host. Times are virtual; hops follow each node's sender back to the miner. Frames travel the memory
transport as their JSON text: every message is serialised, parsed and schema-checked as on TCP and counted at its
size on the wire, only the UTF-8 and length-prefix layer is skipped. A 200-node version runs in \`deno task test\`
(tests/net_sim_test.ts). One section per node count: \`--nodes N\` replaces its own and keeps the others.

${body}${renderSybil(sybil)}`;
}

const SECTION_RE = /^<!-- sim (\d+) nodes -->$/m;

/** The sections of a results file by node count (none in a file from before sections). */
export function resultSections(text: string): Map<number, string> {
  const out = new Map<number, string>();
  const parts = text.split(SECTION_RE);
  for (let i = 1; i + 1 < parts.length; i += 2) {
    out.set(Number(parts[i]), `<!-- sim ${parts[i]} nodes -->${parts[i + 1].replace(/\n+$/, "\n")}`);
  }
  return out;
}

function renderSybil(reports: SybilReport[]): string {
  if (!reports.length) return "";
  const one = reports[0].scenario;
  const table = (r: SybilReport) =>
    sybilRows(r).map(([k, v]) => `| ${k} | ${v.replaceAll("|", "\\|")} |`).join("\n");
  return `
## Sybil SuperPeers (issue 19)

Written by \`deno task sim\` (bench/sim_sybil.ts): ${one.nodes} honest nodes and ${one.sybils} Sybil SuperPeers
(lib/sim/sybil.ts), each Sybil with its own valid key, speaking the real protocol: a proven hello as
SuperPeer, entries signed by its own key claiming capacity 10,000 and load 0 with sequence numbers as far ahead
as receivers take, re-signed every 5 s and pushed down every mesh link; mesh links dialled to honest
SuperPeers; joins answered with a welcome naming only Sybils (half), \`full\` + \`promote\` pointing at other
Sybils (a quarter) or a redirect to two other Sybils (a quarter); getaddr answered with a redirect loop; every
block and transaction swallowed. A captured node is a live honest node whose every overlay link (its
SuperPeers, or as a SuperPeer its mesh neighbours and Peers) goes to a Sybil. Goal: 0 captured.
Steps: honest nodes start over ${one.startSpreadMs / 1000} s, Sybils ${
    one.sybilStartMs / 1000
  } s after the first; settle ${one.settleMs / 1000} s; ${one.blocks} blocks at random honest nodes, ${
    one.blockEveryMs / 1000
  } s apart; SIGKILL the ${one.superPeerKills} busiest honest SuperPeers; ${
    one.afterKillsMs / 1000
  } s later count again and mine once more.
${
    reports.map((r) => `
### ${
      r.scenario.oneHost ? "Sybils on one host" : `Sybils on ${r.scenario.sybils} hosts`
    } (seed ${r.scenario.seed})

| figure | value |
| --- | --- |
${table(r)}
`).join("")
  }`;
}

function renderMain(
  r: SimReport,
  meta: { date: string; commit: string; machine: string; load: string },
): string {
  const rows = figureRows(r).map(([k, v]) => `| ${k} | ${v.replaceAll("|", "\\|")} |`).join("\n");
  const samples = r.figures.events.misbehaviourSamples.concat(r.figures.events.errors);
  return `<!-- sim ${r.scenario.nodes} nodes -->
## ${r.scenario.nodes.toLocaleString("en")} nodes

- date: ${meta.date}
- commit: ${meta.commit}
- seed: ${r.scenario.seed}
- machine: ${meta.machine}; load average before / after: ${meta.load}

### Figures

| figure | value |
| --- | --- |
${rows}
${
    samples.length
      ? `\nFirst misbehaviour reports and errors:\n\n${samples.map((x) => `- ${x}`).join("\n")}\n`
      : ""
  }
### Scenario

\`\`\`json
${JSON.stringify(r.scenario, null, 2)}
\`\`\`

Steps: start ${r.scenario.nodes} nodes evenly over ${r.scenario.startSpreadMs / 1000} s and settle ${
    r.scenario.settleMs / 1000
  } s (all from one tracker file listing the first 8); mine a block at a random node; churn ${
    r.scenario.churnPerMinute * 100
  } % of N joining and as many leaving per minute for ${r.scenario.churnMs / 1000} s (${
    r.scenario.killShare * 100
  } % of leavers SIGKILLed, the rest stopped), a block every ${
    r.scenario.blockEveryMs / 1000
  } s; SIGKILL the ${r.scenario.superPeerKills} busiest SuperPeers, ${
    r.scenario.killEveryMs / 1000
  } s apart, and mine; freeze the busiest SuperPeer and ${r.scenario.freezeCount - 1} random nodes for ${
    r.scenario.freezeMs / 1000
  } s, thaw, mine; partition the LAN at random into ${r.scenario.partitionGroups} groups for ${
    r.scenario.partitionMs / 1000
  } s with a block mined in the middle, heal, wait ${
    r.scenario.healSettleMs / 1000
  } s, count the networks, mine.
A block is complete when every node live both when it was mined and ${
    r.scenario.spreadWaitMs / 1000
  } s later had it by then (the partition's block: every live node, after healing).
`;
}

async function commit(): Promise<string> {
  try {
    const run = (args: string[]) =>
      new Deno.Command("git", { args, stdout: "piped", stderr: "null" }).output().then((o) =>
        new TextDecoder().decode(o.stdout).trim()
      );
    const [head, dirty] = await Promise.all([
      run(["rev-parse", "--short", "HEAD"]),
      run(["status", "--porcelain"]),
    ]);
    return head ? `${head}${dirty ? " (with uncommitted changes)" : ""}` : "unknown";
  } catch {
    return "unknown (git not available)";
  }
}

function loadAverage(): string {
  try {
    return Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  } catch {
    return "?";
  }
}

/** Which scenarios `deno task sim` runs. */
export type SimChoice = "all" | "main" | "sybil";

/** What the command line asked for. */
export interface SimArgs {
  /** Nodes of the main scenario (honest nodes of the Sybil one). */
  nodes?: number;
  /** Sybils of the Sybil scenario. */
  sybils?: number;
  /** The seed. */
  seed: number;
  /** A shorter run, printed only. */
  quick: boolean;
  /** Which scenarios. */
  scenario: SimChoice;
}

/** Parses `--scenario all|main|sybil`, `--nodes N`, `--sybils K`, `--seed S`, `--quick`. */
export function parseSimArgs(args: string[]): SimArgs {
  const out: SimArgs = { seed: 1, quick: false, scenario: "all" };
  for (let i = 0; i < args.length; i++) {
    const v = Number(args[i + 1]);
    if (args[i] === "--quick") out.quick = true;
    else if (args[i] === "--scenario" && ["all", "main", "sybil"].includes(args[i + 1])) {
      out.scenario = args[++i] as SimChoice;
    } else if (args[i] === "--sybils" && Number.isInteger(v) && v >= 1 && v <= 60_000) (out.sybils = v, i++);
    else if (args[i] === "--nodes" && Number.isInteger(v) && v >= 2 && v <= 1_000_000) (out.nodes = v, i++);
    else if (args[i] === "--seed" && Number.isInteger(v) && v >= 0 && v < 2 ** 32) (out.seed = v, i++);
    else {
      throw new Error(
        `unknown or bad argument ${args[i]}: use --scenario all|main|sybil, --nodes 2.., --sybils 1.., ` +
          `--seed 0..2^32-1, --quick`,
      );
    }
  }
  return out;
}

if (import.meta.main) {
  let args;
  try {
    args = parseSimArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(2);
  }
  const loadBefore = loadAverage();
  let report: SimReport | undefined;
  if (args.scenario !== "sybil") {
    const scenario = args.quick
      ? shortScenario(args.nodes ?? 1_000, args.seed)
      : fullScenario(args.nodes, args.seed);
    console.log(`simulating ${scenario.nodes} nodes, seed ${scenario.seed}${args.quick ? " (quick)" : ""}`);
    report = await runScenario(scenario, (line) => console.log(`  ${line}`), 10_000);
    console.log();
    for (const [k, v] of figureRows(report)) console.log(`${k.padEnd(42)} ${v}`);
  }
  const sybil: SybilReport[] = [];
  if (args.scenario !== "main") {
    // Issue 19's figure: 50 Sybils among 1,000 nodes (--nodes and --sybils change it with --scenario sybil).
    const nodes = args.scenario === "sybil" ? args.nodes ?? 1_000 : 1_000;
    const k = args.sybils ?? Math.max(1, Math.round(nodes / 20));
    for (const oneHost of [true, false]) {
      const s = sybilScenario(oneHost, nodes, k, args.seed);
      console.log(
        `\nsimulating ${nodes} honest nodes and ${k} Sybils on ${oneHost ? "one host" : `${k} hosts`}`,
      );
      const r = await runSybilScenario(s, (line) => console.log(`  ${line}`));
      sybil.push(r);
      for (const [name, v] of sybilRows(r)) console.log(`${name.padEnd(42)} ${v}`);
    }
  }
  if (!args.quick) {
    const meta = {
      date: new Date().toISOString(),
      commit: await commit(),
      machine:
        `${Deno.build.os}-${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, deno ${Deno.version.deno}`,
      load: `${loadBefore} / ${loadAverage()}`,
    };
    // Each scenario its own file, so one can be rerun without the other.
    if (report) {
      const path = new URL("./sim-results.md", import.meta.url);
      const previous = await Deno.readTextFile(path).catch(() => "");
      await Deno.writeTextFile(path, renderResults(report, meta, [], previous));
      console.log(`\nwrote ${path.pathname}`);
    }
    if (sybil.length) {
      const path = new URL("./sim-sybil-results.md", import.meta.url);
      await Deno.writeTextFile(path, renderResults(undefined, meta, sybil));
      console.log(`\nwrote ${path.pathname}`);
    }
  }
  // Killed nodes leave promises that never settle, as a killed process would: exit rather than wait on them.
  Deno.exit(0);
}
