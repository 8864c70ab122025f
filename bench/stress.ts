/**
 * `deno task stress`: the full chaos, fuzzing and load runs with real node processes on 127.0.0.1, written
 * to `bench/stress-results.md`. `--only hub|random|hostile|resources|load|scale` runs one scenario (and writes no file);
 * `--scale 0.5` shrinks every scenario, for a machine that cannot finish the full run in about ten minutes.
 * `--runs N` (default 3) runs each scenario N times in a row: the file gives min / median / max over them and
 * the machine's load average before each run, so a reader can tell noise from a regression.
 * @module
 */
import { passed, type ScenarioResult } from "./stress/scenario.ts";
import { median } from "./stats.ts";
import { hubKills, randomKills } from "./stress/kills.ts";
import { hostile } from "./stress/hostile.ts";
import { resources } from "./stress/resources.ts";
import { load } from "./stress/load.ts";
import { overlayScale } from "./stress/scale.ts";

/** A bad command-line argument. */
export class StressArgsError extends Error {
  override name = "StressArgsError";
}

/** Parsed command line. */
export interface StressArgs {
  only?: string;
  scale: number;
  /** Runs of each scenario (1 to 10). */
  runs: number;
}

const SCENARIOS = ["hub", "random", "hostile", "resources", "load", "scale"] as const;

/** Runs of each scenario unless `--runs` says otherwise: three give a median and a spread. */
export const DEFAULT_RUNS = 3;

/** Parses `--only NAME`, `--scale F` and `--runs N`. */
export function parseStressArgs(args: string[]): StressArgs {
  const out: StressArgs = { scale: 1, runs: DEFAULT_RUNS };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--only" && (SCENARIOS as readonly string[]).includes(args[i + 1])) out.only = args[++i];
    else if (args[i] === "--scale" && Number(args[i + 1]) > 0 && Number(args[i + 1]) <= 1) {
      out.scale = Number(args[++i]);
    } else if (args[i] === "--runs" && /^([1-9]|10)$/.test(args[i + 1] ?? "")) {
      out.runs = Number(args[++i]);
    } else {throw new StressArgsError(
        `unknown or bad argument ${args[i]}: use --only ${SCENARIOS.join("|")}, --scale 0..1, --runs 1..10`,
      );}
  }
  return out;
}

async function sh(cmd: string, ...args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return `(${cmd} unavailable)`;
  }
}

const cell = (x: number | null | undefined, unit = "") =>
  x === null || x === undefined || Number.isNaN(x) ? "–" : `${x}${unit}`;

/** The folders whose code the stress results describe: a change there makes them stale. */
export const STRESSED_PATHS = ["lib/net", "lib/chain", "lib/store"];

/** Where the results came from: the commit, and whether the stressed folders had uncommitted changes. */
export interface Provenance {
  /** `git rev-parse HEAD`, or null without git. */
  commit: string | null;
  /** Files under `STRESSED_PATHS` that differed from `commit` when the run started. */
  uncommitted: string[];
}

/** The provenance line of the results file; `parseProvenance` reads it back. */
export function provenanceLine(p: Provenance, date: string): string {
  const state = p.uncommitted.length ? `with uncommitted changes to ${p.uncommitted.join(", ")}` : "clean";
  return `Produced at commit \`${p.commit ?? "unknown"}\` (${state}) on ${date}.`;
}

/** The commit, cleanliness and date a results file records, or null when it records none. */
export function parseProvenance(text: string): { commit: string; clean: boolean; date: string } | null {
  const m = /^Produced at commit `([0-9a-f]{40})` \((clean|with uncommitted [^)]*)\) on (\S+)\.$/m.exec(text);
  return m ? { commit: m[1], clean: m[2] === "clean", date: m[3] } : null;
}

/** One scenario run `runs.length` times in a row, with the 1-minute load average before each run. */
export interface ScenarioRuns {
  scenario: string;
  runs: ScenarioResult[];
  /** The machine's 1-minute load average just before each run. */
  loads: number[];
}

/** `min / median / max` of the defined values (one value alone when they are all equal), or "–". */
export function spread(values: (number | undefined | null)[], unit = "", digits = 0): string {
  const xs = values.filter((x): x is number => typeof x === "number" && !Number.isNaN(x));
  if (xs.length === 0) return "–";
  const f = (x: number) => `${x.toFixed(digits)}${unit}`;
  const [lo, mid, hi] = [Math.min(...xs), median(xs), Math.max(...xs)];
  return lo === hi ? f(lo) : `${f(lo)} / ${f(mid)} / ${f(hi)}`;
}

/** True when every run of the scenario passed. */
export function allPassed(g: ScenarioRuns): boolean {
  return g.runs.every(passed);
}

/**
 * The results file: provenance, a table of min / median / max over each scenario's runs with the load before
 * them, then each run's failures and notes, then the machine.
 */
export function renderResults(
  groups: ScenarioRuns[],
  machine: { date: string; uname: string; cores: number; loadBefore: string; loadAfter: string },
  scale: number,
  provenance: Provenance,
): string {
  const sum = (g: ScenarioRuns, f: (r: ScenarioResult) => number | null) =>
    g.runs.some((r) => f(r) !== null) ? g.runs.reduce((s, r) => s + (f(r) ?? 0), 0) : null;
  const rows = groups.map((g) =>
    `| ${g.scenario} | ${g.runs.length} | ${sum(g, (r) => r.survived)} of ${sum(g, (r) => r.runs)} | ${
      sum(g, (r) => r.lost)
    } | ${cell(sum(g, (r) => r.invalidAccepted))} | ${spread(g.runs.map((r) => r.txPerSecond), "", 1)} | ${
      spread(g.runs.map((r) => r.p50Ms), " ms")
    } | ${spread(g.runs.map((r) => r.p99Ms), " ms")} | ${spread(g.runs.map((r) => r.peakRssMiB), " MiB")} | ${
      spread(g.runs.map((r) => r.durationMs / 1000), " s", 1)
    } | ${spread(g.loads, "", 2)} |`
  );
  const repeats = Math.max(0, ...groups.map((g) => g.runs.length));
  return [
    "# Stress results",
    "",
    provenanceLine(provenance, machine.date),
    `They describe ${
      STRESSED_PATHS.join(", ")
    } as of that commit; tests/stress_results_test.ts fails once any of`,
    "those changes after it, until this file is written again. The file is only ever replaced by a new run,",
    "committed as it was written: its figures belong to the commit it names, which the history must hold.",
    "",
    "Written by `deno task stress` (bench/stress.ts); the scenarios are in bench/stress/*.ts and a",
    "short version of each runs in `deno task test` (tests/stress_short_test.ts). Real node processes",
    "(`cli.ts run --headless --network regtest`, ping every 300 ms, dead after 1.5 s) on 127.0.0.1.",
    scale === 1 ? "Full size as specified in issue 7." : `**Scaled down to ${scale} of the specified size.**`,
    `Each scenario ran ${repeats} time(s) in a row: figures are min / median / max over the runs (one value`,
    "when they agree), and *load* is the machine's 1-minute load average before each run, so a reader can",
    "tell noise (a busy machine) from a regression.",
    "",
    "| scenario | repeats | survived | lost | invalid accepted | tx/s | relay p50 | relay p99 | peak memory | time | load |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    "What the columns mean: *survived* counts, over all repeats, the kills, hostile inputs or payments the",
    "network came through as required (one live hub and every payment on every survivor, and the killed node",
    "back in the network; store consistent and caught up after restart; an input delivered to the hub and",
    "answered on its socket while the hub was alive; payment accepted and mined); *lost* are payments or",
    "blocks that vanished (blocks orphaned by a competing block are counted apart in the notes); *tx/s* is",
    "payments accepted per second of sending (load); *relay* is from the `send` request on one node to the",
    "arrival logged on another; *peak memory* is the highest VmRSS of the hub (hostile) or of any one node",
    "(the others), sampled every 0.1–1 s. A scenario passes when every run of it survived, nothing was lost",
    "or accepted wrongly, and it lists no failure.",
    "",
    ...groups.flatMap((g) => [
      `## ${g.scenario}: ${allPassed(g) ? "passed" : "FAILED"}`,
      "",
      ...g.runs.flatMap((r, i) => [
        ...(g.runs.length > 1
          ? [`### run ${i + 1} of ${g.runs.length} (load ${g.loads[i]?.toFixed(2)} before)`, ""]
          : []),
        ...r.failures.map((f) => `- **failure:** ${f}`),
        ...r.notes.map((n) => `- ${n}`),
        "",
      ]),
    ]),
    "## Machine",
    "",
    `- date: ${machine.date}`,
    `- uname -a: \`${machine.uname}\``,
    `- cores: ${machine.cores}`,
    `- load before: ${machine.loadBefore}`,
    `- load after: ${machine.loadAfter}`,
    "",
  ].join("\n");
}

if (import.meta.main) {
  const args = parseStressArgs(Deno.args);
  const s = args.scale;
  const progress = (line: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const loadBefore = await sh("uptime");
  const head = await sh("git", "rev-parse", "HEAD");
  const commit = /^[0-9a-f]{40}$/.test(head) ? head : null;
  const changed = commit
    ? (await sh("git", "diff", "--name-only", "HEAD", "--", ...STRESSED_PATHS)) + "\n" +
      (await sh("git", "ls-files", "--others", "--exclude-standard", "--", ...STRESSED_PATHS))
    : "";
  const provenance: Provenance = { commit, uncommitted: changed.split("\n").filter((l) => l.trim() !== "") };
  const results: ScenarioRuns[] = [];
  const run = async (name: string, f: () => Promise<ScenarioResult>) => {
    if (args.only && args.only !== name) return;
    const group: ScenarioRuns = { scenario: "", runs: [], loads: [] };
    for (let i = 1; i <= args.runs; i++) {
      // Read through `cat`: Deno.loadavg() asks for --allow-sys, which the task does not grant.
      const load = Number((await sh("cat", "/proc/loadavg")).split(" ")[0]);
      progress(`${name}: run ${i} of ${args.runs} starting (load ${load.toFixed(2)})`);
      const r = await f();
      progress(
        `${name}: ${r.survived}/${r.runs} survived, ${r.lost} lost, ${r.failures.length} failures (${
          (r.durationMs / 1000).toFixed(0)
        } s)`,
      );
      group.scenario = r.scenario;
      group.runs.push(r);
      group.loads.push(load);
    }
    results.push(group);
  };
  await run("hub", () => hubKills({ kills: Math.max(1, Math.round(20 * s)), senders: 5, progress }));
  await run("random", () => randomKills({ kills: Math.max(1, Math.round(50 * s)), nodes: 5, progress }));
  await run("hostile", () => hostile({ inputs: Math.max(300, Math.round(10_000 * s)), progress }));
  const attacks = (n: number) => Math.max(4, Math.round(n * s));
  await run("resources", () =>
    resources({
      links: attacks(40),
      hugeTxs: attacks(40),
      orphanTxs: attacks(400),
      getdatas: attacks(200),
      sideBlocks: attacks(40),
      orphanBlocks: attacks(100),
      progress,
    }));
  await run("load", () => load({ nodes: 5, rate: 200, seconds: Math.max(5, Math.round(60 * s)), progress }));
  await run(
    "scale",
    () => overlayScale({ nodes: Math.max(16, Math.round(100 * s)), maxPeers: 8, kills: 3, progress }),
  );
  const text = renderResults(
    results,
    {
      date: new Date().toISOString(),
      uname: await sh("uname", "-a"),
      cores: navigator.hardwareConcurrency,
      loadBefore,
      loadAfter: await sh("uptime"),
    },
    s,
    provenance,
  );
  if (args.only) console.log(text);
  else {
    const path = new URL("./stress-results.md", import.meta.url);
    await Deno.writeTextFile(path, text);
    progress(`wrote ${path.pathname}`);
  }
  const failed = results.some((g) => !allPassed(g));
  Deno.exit(failed ? 1 : 0);
}
