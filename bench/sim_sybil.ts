/**
 * The Sybil scenario of `deno task sim` (issue 19): N honest nodes and K Sybil SuperPeers (lib/sim/sybil.ts),
 * each Sybil with its own valid key, on one host or on K hosts, lying in every claim about itself, relaying
 * nothing and redirecting in loops. It measures the share of honest nodes whose every overlay link goes to an
 * attacker (goal 0 with K = 50 among 1,000 nodes) and whether blocks mined at honest nodes still reach every
 * honest node. `tests/net_sim_sybil_test.ts` runs a small version.
 * @module
 */
import { type Capture, World } from "../lib/sim/world.ts";
import type { SybilAnswers, SybilCounts } from "../lib/sim/sybil.ts";
import type { FrameTotals } from "../lib/sim/memory_transport.ts";
import { randomInt } from "../lib/sim/random.ts";

/** What the Sybil scenario does; times are virtual ms. */
export interface SybilScenario {
  /** Honest nodes. */
  nodes: number;
  /** Sybil SuperPeers. */
  sybils: number;
  /** All Sybils on one host (distinct ports), or each on its own host. */
  oneHost: boolean;
  /** How Sybils answer joins. */
  answers: SybilAnswers;
  /** Seeds everything. */
  seed: number;
  /** Honest nodes start evenly over this long. */
  startSpreadMs: number;
  /** Sybils start this long after the first honest node (the tracker's seeds are up by then). */
  sybilStartMs: number;
  /** Quiet time after the last start. */
  settleMs: number;
  /** Blocks mined at random honest nodes that hold an honest link, one every `blockEveryMs`. */
  blocks: number;
  /** Time between those blocks. */
  blockEveryMs: number;
  /** Honest SuperPeers SIGKILLed (the busiest) afterwards: failover with poisoned directories. */
  superPeerKills: number;
  /** Time after the kills before the last count and block. */
  afterKillsMs: number;
  /** How long each block may take to reach every honest node. */
  spreadWaitMs: number;
  /** Extra options for every honest `Network`. */
  network?: Record<string, unknown>;
}

/** Issue 19's figure: K = 50 Sybils among 1,000 nodes. */
export function sybilScenario(oneHost: boolean, nodes = 1_000, sybils = 50, seed = 1): SybilScenario {
  return {
    nodes,
    sybils,
    oneHost,
    answers: "mixed",
    seed,
    startSpreadMs: 30_000,
    sybilStartMs: 2_000,
    settleMs: 20_000,
    blocks: 3,
    blockEveryMs: 10_000,
    superPeerKills: 3,
    afterKillsMs: 15_000,
    spreadWaitMs: 10_000,
  };
}

/** One block mined at an honest node. */
export interface SybilBlock {
  /** When: "settled" or "after kills". */
  step: string;
  /** Its height. */
  height: number;
  /** Honest nodes live both when it was mined and after the wait. */
  live: number;
  /** Of those, how many had it. */
  reached: number;
  /** Whether its miner was captured when it mined. */
  minerCaptured: boolean;
}

/** What the Sybil scenario measured. */
export interface SybilReport {
  /** What was run. */
  scenario: SybilScenario;
  /** Captured honest nodes after settling, after the blocks, and after the kills. */
  capture: { step: string; capture: Capture }[];
  /** Blocks and their reach among honest nodes. */
  blocks: SybilBlock[];
  /** Honest SuperPeers at the end. */
  honestSuperPeers: number;
  /** What the Sybils did. */
  sybils: SybilCounts;
  /** Misbehaviour events honest nodes reported (about anyone). */
  misbehaviour: number;
  /** Frames and bytes written on the LAN, by type (Sybils' included). */
  frames: FrameTotals;
  /** Errors thrown by starts and stops. */
  errors: string[];
  /** Wall ms of the run. */
  wallMs: number;
  /** Virtual ms simulated. */
  virtualMs: number;
}

/** Runs `s`; `log` gets a progress line per step. */
export async function runSybilScenario(
  s: SybilScenario,
  log: (line: string) => void = () => {},
): Promise<SybilReport> {
  const wall0 = performance.now();
  const world = new World({ seed: s.seed, network: s.network });
  world.startNodes(s.nodes, s.startSpreadMs);
  const band = world.addSybils(s.sybils, { oneHost: s.oneHost, startAt: s.sybilStartMs, answers: s.answers });
  const isSybil = (id: string) => band.has(id);
  const capture: SybilReport["capture"] = [];
  const count = (step: string) => {
    const c = world.captured(isSybil);
    capture.push({ step, capture: c });
    log(
      `${step.padEnd(14)} virtual ${(world.clock.elapsed / 1000).toFixed(1).padStart(6)} s, wall ${
        ((performance.now() - wall0) / 1000).toFixed(1).padStart(6)
      } s: ${c.captured} of ${c.honest} honest nodes captured, ${c.alone} alone`,
    );
  };
  const blocks: SybilBlock[] = [];
  const mine = async (step: string) => {
    // Mined where an honest link exists (a block mined at a captured node reaches nobody, trivially).
    const running = world.running();
    const linked = running.filter((n) => n.net?.linkInfo().some((l) => !isSybil(l.nodeId)));
    const pool = linked.length ? linked : running;
    const miner = pool[randomInt(world.random, pool.length)];
    const minerCaptured = !linked.length;
    const m = world.mine(miner);
    await world.waitForBlock(m, s.spreadWaitMs);
    const sp = world.spread(m);
    blocks.push({ step, height: sp.height, live: sp.live, reached: sp.reached, minerCaptured });
    log(`  block ${sp.height} (${step}): ${sp.reached} of ${sp.live} honest nodes`);
  };

  await world.clock.advance(s.startSpreadMs + s.settleMs);
  count("settled");
  for (let i = 0; i < s.blocks; i++) {
    await mine("settled");
    await world.clock.advance(Math.max(0, s.blockEveryMs - s.spreadWaitMs));
  }
  count("after blocks");
  for (let k = 0; k < s.superPeerKills; k++) world.killSuperPeers(1);
  await world.clock.advance(s.afterKillsMs);
  count("after kills");
  await mine("after kills");
  return {
    scenario: s,
    capture,
    blocks,
    honestSuperPeers: world.superPeers().length,
    sybils: band.totals(),
    misbehaviour: world.events.misbehaviour,
    frames: world.lan.totals(),
    errors: world.events.errors,
    wallMs: Math.round(performance.now() - wall0),
    virtualMs: world.clock.elapsed,
  };
}

const pct = (x: number, of: number) => `${of ? (100 * x / of).toFixed(1) : "–"} %`;

/** The figures as `name value` rows. */
export function sybilRows(r: SybilReport): [string, string][] {
  const s = r.scenario;
  const where = s.oneHost ? "one host" : `${s.sybils} hosts`;
  const rows: [string, string][] = r.capture.map(({ step, capture: c }) => [
    `captured honest nodes (${step})`,
    `${c.captured} of ${c.honest} (${pct(c.captured, c.honest)}); alone ${c.alone}`,
  ]);
  for (const b of r.blocks) {
    rows.push([
      `block ${b.height} (${b.step})`,
      `${b.reached} of ${b.live} honest nodes${b.reached === b.live ? "" : " (INCOMPLETE)"}${
        b.minerCaptured ? "; mined at a captured node" : ""
      }`,
    ]);
  }
  const t = r.sybils;
  rows.push(
    ["honest SuperPeers at end", String(r.honestSuperPeers)],
    [
      `Sybils (${s.sybils}, ${where}): joins taken / full+promote / redirects / mesh links / swallowed`,
      `${t.joinsTaken} / ${t.full} / ${t.redirects} / ${t.meshLinks} / ${t.swallowed}`,
    ],
    ["misbehaviour reports", String(r.misbehaviour)],
    [
      "frames written: count (MB) by type",
      Object.entries(r.frames).sort((a, b) => b[1].bytes - a[1].bytes).map(([k, v]) =>
        `${k} ${v.frames} (${(v.bytes / 1e6).toFixed(1)})`
      ).join(", "),
    ],
    ["wall / virtual time", `${(r.wallMs / 1000).toFixed(1)} s / ${(r.virtualMs / 1000).toFixed(1)} s`],
  );
  return rows;
}
