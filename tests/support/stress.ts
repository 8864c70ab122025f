/**
 * Real node processes for the stress runs: each runs `cli.ts run --headless` on regtest on 127.0.0.1 with its
 * own data directory, and can be SIGKILLed and restarted from that directory on the same port (which
 * `nodes.ts`'s Cluster does not do). Also the figures every scenario reports and the small helpers they share.
 * @module
 */
import { callRpc } from "../../lib/rpc/client.ts";
import { CLI } from "./cli.ts";
import { freePort, NODE_PERMISSIONS } from "./nodes.ts";
import { rssMiB } from "../../bench/stats.ts";

export { freePort };
export { percentile, rssMiB } from "../../bench/stats.ts";

/** A condition that did not come true in time; the message says what was awaited. */
export class StressTimeout extends Error {
  override name = "StressTimeout";
}

/** A node process that exited or never answered its RPC. */
export class NodeStartError extends Error {
  override name = "NodeStartError";
}

/** One node: its process (replaced on restart), data directory, port and stderr lines. */
export interface StressNode {
  readonly name: string;
  readonly dataDir: string;
  port: number;
  listen: string;
  proc: Deno.ChildProcess;
  /** stderr lines of every incarnation, in order. */
  log: string[];
  alive: boolean;
  exited: Promise<unknown>;
  /** Restarts so far. */
  restarts: number;
}

/** What the `status` RPC returns (the fields these runs read). */
export interface Status {
  role: "peer" | "superpeer";
  hub: string | null;
  listen: string;
  height: number;
  tip: string;
  peers: number;
  address: string;
  mempool: number;
}

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

/** True when `r` came through as required: every run survived, nothing lost or accepted wrongly, no failure. */
export function passed(r: ScenarioResult): boolean {
  return r.survived === r.runs && r.lost === 0 && (r.invalidAccepted ?? 0) === 0 && r.failures.length === 0;
}

/** Polls `cond` every `everyMs` until true; throws `StressTimeout` naming `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch { /* a node mid-restart: try again */ }
    await sleep(everyMs);
  }
  throw new StressTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Samples the VmRSS of every live node in `nodes()` every `everyMs` until `stop()`, which gives the peak. */
export function watchRss(nodes: () => StressNode[], everyMs = 1000): { stop(): Promise<number> } {
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

/** Calls `method` on `node`. */
export function rpc<T = Record<string, unknown>>(node: StressNode, method: string, params: unknown[] = []) {
  return callRpc(node.dataDir, method, params) as Promise<T>;
}

/** Txids in `node`'s mempool. */
export async function mempoolIds(node: StressNode): Promise<Set<string>> {
  return new Set((await rpc<{ txid: string }[]>(node, "mempool")).map((e) => e.txid));
}

/** Starts, kills and restarts node processes in one temporary folder; `cleanup` kills them all. */
export class StressCluster {
  readonly root: string;
  readonly tracker: string;
  readonly nodes: StressNode[] = [];
  #readers: Promise<void>[] = [];

  private constructor(root: string) {
    this.root = root;
    this.tracker = `${root}/server_tracker.txt`;
  }

  /** A cluster in a fresh temporary folder. */
  static async create(): Promise<StressCluster> {
    return new StressCluster(await Deno.makeTempDir({ prefix: "peerchain-stress-" }));
  }

  /** Nodes not killed. */
  get alive(): StressNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /** Starts a new node named `name` and waits for its RPC. */
  async start(name: string): Promise<StressNode> {
    const port = freePort();
    const node = {
      name,
      dataDir: `${this.root}/${name}`,
      port,
      listen: `127.0.0.1:${port}`,
      log: [],
    } as unknown as StressNode;
    node.restarts = -1;
    this.nodes.push(node);
    await this.#launch(node);
    return node;
  }

  /** SIGKILLs `node` and waits for its process to be gone. */
  async kill(node: StressNode): Promise<void> {
    node.alive = false;
    try {
      node.proc.kill("SIGKILL");
    } catch { /* already gone */ }
    await node.exited;
  }

  /** Restarts a killed `node` from its data directory, on its old port if that is free, and waits for RPC. */
  async restart(node: StressNode): Promise<void> {
    if (node.alive) throw new NodeStartError(`${node.name} is still running`);
    await this.#launch(node);
  }

  async #launch(node: StressNode): Promise<void> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      this.#spawn(node);
      let gone = false;
      node.exited.then(() => gone = true);
      try {
        await waitFor(async () => gone || (await rpc(node, "status"), true), 20_000, `${node.name}'s RPC`);
      } catch (e) {
        throw new NodeStartError(`${(e as Error).message}\n${node.log.slice(-20).join("\n")}`);
      }
      if (!gone) return;
      await sleep(50);
      if (!node.log.some((l) => l.includes("port is in use"))) break;
      node.port = freePort(); // the old port is taken by someone else's outgoing socket
      node.listen = `127.0.0.1:${node.port}`;
    }
    throw new NodeStartError(`${node.name} exited before answering RPC\n${node.log.slice(-20).join("\n")}`);
  }

  #spawn(node: StressNode): void {
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...NODE_PERMISSIONS,
        CLI,
        "run",
        "--network",
        "regtest",
        "--headless",
        "--data-dir",
        node.dataDir,
        "--tracker",
        this.tracker,
        "--listen",
        node.listen,
        "--ping-interval",
        "300",
        "--dead-after",
        "1500",
        "--threads",
        "1",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    node.proc = proc;
    node.alive = true;
    node.restarts++;
    node.exited = proc.status.then(() => {
      if (node.proc === proc) node.alive = false;
    }, () => {});
    this.#readers.push(
      (async () => {
        const dec = new TextDecoder();
        let buf = "";
        for await (const chunk of proc.stderr) {
          buf += dec.decode(chunk, { stream: true });
          const lines = buf.split("\n");
          buf = lines.pop()!;
          node.log.push(...lines);
        }
      })().catch(() => {}),
    );
  }

  /** Kills every node and removes the folder. */
  async cleanup(): Promise<void> {
    for (const n of this.nodes) {
      try {
        n.proc.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await Promise.all(this.nodes.map((n) => n.exited));
    await Promise.all(this.#readers);
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** The hub all of `nodes` name, when they agree on one of them and it alone is a superpeer; else null. */
export async function oneHub(nodes: StressNode[]): Promise<StressNode | null> {
  let s: Status[];
  try {
    s = await Promise.all(nodes.map((n) => rpc<Status>(n, "status")));
  } catch {
    return null;
  }
  const hub = nodes.find((n) => n.listen === s[0].hub);
  if (!hub) return null;
  const ok = s.every((x, i) =>
    x.hub === hub.listen && x.role === (nodes[i] === hub ? "superpeer" : "peer") &&
    (nodes[i] === hub ? x.peers === nodes.length - 1 : true)
  );
  return ok ? hub : null;
}

/** Waits until `nodes` agree on one hub among them and returns it. */
export async function waitForOneHub(nodes: StressNode[], timeoutMs: number, what: string) {
  let hub: StressNode | null = null;
  await waitFor(async () => (hub = await oneHub(nodes)) !== null, timeoutMs, what);
  return hub! as StressNode;
}

/** True when all of `nodes` report the same tip. */
export async function sameTip(nodes: StressNode[]): Promise<boolean> {
  const s = await Promise.all(nodes.map((n) => rpc<Status>(n, "status")));
  return s.every((x) => x.tip === s[0].tip);
}

/** Txids of the active chain's blocks in `(fromHeight, tip]`, read from `node`, added to `into`. */
export async function chainTxids(node: StressNode, fromHeight: number, into = new Set<string>()) {
  const { height } = await rpc<Status>(node, "status");
  for (let h = fromHeight + 1; h <= height; h++) {
    const b = await rpc<{ txs: { txid: string }[] }>(node, "block", [String(h)]);
    for (const t of b.txs) into.add(t.txid);
  }
  return { height, txids: into };
}

/** Each node's role, hub, height, mempool and last log lines: for failure notes. */
export async function describe(nodes: StressNode[], lines = 8): Promise<string> {
  const out: string[] = [];
  for (const n of nodes) {
    const s = await rpc<Status>(n, "status").then(
      (s) => `${s.role} hub=${s.hub} height=${s.height} mempool=${s.mempool} peers=${s.peers}`,
      (e) => `no answer (${(e as Error).message})`,
    );
    out.push(`--- ${n.name} ${n.listen} alive=${n.alive}: ${s}`, ...n.log.slice(-lines));
  }
  return out.join("\n");
}
