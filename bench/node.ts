/**
 * Node benchmark: how long a headless regtest node with a long chain on disk takes from spawning its process
 * to the first answered RPC call, and how much memory it then holds. Diagnostic figures split the start-up:
 * a bare `deno run`, loading `cli.ts`'s modules, opening the chain in process, `Node.start` in process and the
 * wallet's rescan after it (in the background: the node answers before it ends), and an empty chain.
 *
 * `startup_ms` is the median of 3 starts, each from spawning `deno run cli.ts run --headless` to the first
 * answered `status` RPC (the poller reads `rpc.json` of that very process and calls `status` every 5 ms): by
 * then the node holds its chain, wallet, network listener, explorer and RPC; its wallet rescan, UTXO load and
 * explorer index catch up after. Those starts follow a stop, so they read the block index snapshot the node
 * saved; `startup_without_snapshot_ms` is a start without one. `startup_main_thread_cpu_ms` is the CPU the
 * node's main thread had used at that answer (/proc/PID/schedstat): on a shared machine it moves less with the
 * load than the wall clock does.
 * `deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 --allow-env bench/node.ts [--quick]`
 * @module
 */
import { Chain } from "../lib/chain/chain.ts";
import { Node } from "../lib/node.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { openStore } from "../lib/store/store.ts";
import { DatabaseSync } from "node:sqlite";
import { mine, newKey, newLedger } from "../tests/support/ledger.ts";
import { median, procText, rssMiB, runAlone } from "./stats.ts";
import { CLI } from "../tests/support/cli.ts";
import { Cluster, NODE_PERMISSIONS } from "../tests/support/cluster.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const RUNS = 3;

const round = (x: number, digits = 1) => +x.toFixed(digits);

/** Writes a regtest chain of `blocks` blocks into `dataDir/chain.sqlite`, in process (no node, no network). */
export async function buildChain(dataDir: string, blocks: number): Promise<void> {
  await Deno.mkdir(dataDir, { recursive: true });
  const { store, chain, mempool } = newLedger({ path: `${dataDir}/chain.sqlite` });
  try {
    const key = await newKey();
    for (let done = 0; done < blocks; done += 500) {
      await mine(chain, mempool, key.pkh, Math.min(500, blocks - done));
    }
    if (chain.height !== blocks) throw new Error(`built ${chain.height} blocks, not ${blocks}`);
  } finally {
    store.close();
  }
}

/** Time from spawning `cmd args` until it exits (ms). */
async function timeToExit(args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (out.code !== 0) {
    throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return performance.now() - t0;
}

/**
 * Spawns a headless node on `dataDir` and measures: spawn → first answered `status` (ms), spawn → the node's
 * own "listening" log line (ms, wall clock), and its RSS at that first answer. Stops it with SIGTERM.
 */
async function startOnce(
  cluster: Cluster,
  dataDir: string,
): Promise<{ startup: number; logged: number | null; rss: number | null; cpu: number | null }> {
  const wall0 = Date.now();
  const t0 = performance.now();
  const node = await cluster.start("node", {
    dataDir,
    tracker: `${dataDir}/server_tracker.txt`,
    cwd: dataDir,
    defaultTimings: true,
    everyMs: 5,
  });
  const startup = performance.now() - t0;
  node.kill("SIGSTOP"); // stopped, its CPU time stays that of the answer while it is read
  const cpu = await mainThreadCpuMs(node.proc.pid);
  node.kill("SIGCONT");
  const rss = round(await rssMiB(node.proc.pid)) || null;
  node.kill("SIGTERM");
  await node.exited;
  const line = node.log.find((l) => / listening on /.test(l));
  const logged = line ? Date.parse(line.slice(0, line.indexOf(" "))) - wall0 : null;
  return { startup, logged, rss, cpu };
}

/**
 * CPU time (ms) the main thread of process `pid` has used so far (Linux: /proc/PID/schedstat, read by `cat`:
 * the bench may not read /proc itself), or null. Read at the first answer it is what a start costs the node's
 * JavaScript thread, whatever the machine's load.
 */
async function mainThreadCpuMs(pid: number): Promise<number | null> {
  const ns = Number((await procText(`/proc/${pid}/schedstat`))?.split(" ")[0]);
  return ns > 0 ? ns / 1e6 : null;
}

async function nodeFigures(cluster: Cluster, dataDir: string) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await startOnce(cluster, dataDir));
  const logged = runs.map((r) => r.logged).filter((x): x is number => x !== null);
  const rss = runs.map((r) => r.rss).filter((x): x is number => x !== null);
  const cpu = runs.map((r) => r.cpu).filter((x): x is number => x !== null);
  return {
    startup: round(median(runs.map((r) => r.startup))),
    spread: `${round(Math.min(...runs.map((r) => r.startup)))}-${
      round(Math.max(...runs.map((r) => r.startup)))
    }`,
    cpu: cpu.length ? round(median(cpu)) : null,
    logged: logged.length ? round(median(logged)) : null,
    rss: rss.length ? median(rss) : null,
  };
}

/** Runs the node section; `quick` builds 2,000 blocks instead of 10,000. */
export async function benchNode(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number | string | null>> {
  const blocks = opts.quick ? 2_000 : 10_000;
  const cluster = await Cluster.create("peerchain-bench-node-");
  const root = cluster.root;
  try {
    const full = `${root}/full`, empty = `${root}/empty`;
    const tb = performance.now();
    await buildChain(full, blocks);
    const buildMs = performance.now() - tb;

    // In process: opening the store and loading the block index, as Node.start does (the UTXO set is read into
    // memory after the start, in the background).
    const opens: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const store = openStore(`${full}/chain.sqlite`);
      Chain.open(store, NETWORKS.regtest, { coinsInBackground: true });
      opens.push(performance.now() - t);
      store.close();
    }

    // The same from the block index snapshot a node saves (at its stop, or after a start that read many rows).
    const snapshotOpens: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t = performance.now();
      const store = openStore(`${full}/chain.sqlite`);
      const chain = Chain.open(store, NETWORKS.regtest, { coinsInBackground: true });
      if (i > 0) snapshotOpens.push(performance.now() - t);
      else chain.saveIndexSnapshot();
      store.close();
    }

    // In process: the whole Node.start on that chain (a spawned node adds the runtime, the module graph, the
    // explorer and the RPC to it), and how long after it the wallet's rescan, which runs in the background, ends.
    const starts: number[] = [], rescans: number[] = [];
    await Deno.writeTextFile(`${root}/in_process_tracker.txt`, "");
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const node = await Node.start({
        network: "regtest",
        dataDir: full,
        trackerPath: `${root}/in_process_tracker.txt`,
        bind: { hostname: "127.0.0.1", port: 0 },
        threads: 1,
      });
      const started = performance.now();
      await node.walletScanned();
      starts.push(started - t);
      rescans.push(performance.now() - started);
      await node.stop();
    }

    // Out of process: a bare Deno, then Deno loading every module cli.ts imports (it runs nothing when imported).
    await Deno.mkdir(empty);
    const probe = `${root}/load_cli.ts`;
    await Deno.writeTextFile(probe, `import ${JSON.stringify(new URL(CLI, "file://").href)};\n`);
    await Deno.writeTextFile(`${root}/nothing.ts`, "\n");
    const bare: number[] = [], load: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push(await timeToExit(["run", `${root}/nothing.ts`]));
      load.push(await timeToExit(["run", "--config", `${ROOT}deno.json`, ...NODE_PERMISSIONS, probe]));
    }

    // The first start of the node on the chain built in process reads the block index row by row (no
    // snapshot yet); it saves one, which the starts of startup_ms read (as every start after a stop does).
    const db = new DatabaseSync(`${full}/chain.sqlite`);
    db.exec("DROP TABLE IF EXISTS index_snapshot");
    db.close();
    const firstStart = await startOnce(cluster, full);
    const chainNode = await nodeFigures(cluster, full);
    const emptyNode = await nodeFigures(cluster, empty);
    return {
      blocks,
      build_chain_ms: Math.round(buildMs),
      startup_ms: chainNode.startup,
      startup_spread_ms: chainNode.spread,
      startup_main_thread_cpu_ms: chainNode.cpu,
      startup_without_snapshot_ms: round(firstStart.startup),
      rss_mb: chainNode.rss,
      startup_log_line_ms: chainNode.logged,
      startup_empty_chain_ms: emptyNode.startup,
      startup_empty_chain_main_thread_cpu_ms: emptyNode.cpu,
      rss_empty_chain_mb: emptyNode.rss,
      chain_open_in_process_ms: round(median(opens)),
      chain_open_from_snapshot_in_process_ms: round(median(snapshotOpens)),
      node_start_in_process_ms: round(median(starts)),
      wallet_rescan_after_start_ms: round(median(rescans)),
      deno_bare_ms: round(median(bare)),
      deno_load_cli_modules_ms: round(median(load)),
      // What the node's own start adds to Deno starting and loading its modules (the floor startup_ms stands on).
      startup_above_module_load_ms: round(chainNode.startup - median(load)),
    };
  } finally {
    await cluster.cleanup();
  }
}

if (import.meta.main) await runAlone("node", benchNode);
