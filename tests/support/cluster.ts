/**
 * Real node processes for tests, benchmarks and scripts: each runs `cli.ts run --headless` on regtest, listening
 * on 127.0.0.1, with its own data directory; callers drive it through its RPC and read its log. A node can be
 * signalled (SIGKILL, SIGSTOP), and restarted from its data directory. `Cluster.cleanup()` kills every process
 * and removes the folder, also when a test fails. Then the checks over a set of nodes (one primary, one network,
 * one tip), whose failure messages carry each node's view and the tail of its log.
 *
 * `spawnNode` is the one command line of a node process; `Cluster` runs it on 127.0.0.1, the LAN test
 * (`lan.ts`) inside network namespaces.
 * @module
 */
import type { NodeStatus } from "../../lib/node.ts";
import { callRpc } from "../../lib/rpc/client.ts";
import type { PeersReply } from "../../lib/rpc/methods.ts";
import type { RpcInfo } from "../../lib/rpc/server.ts";
import { CLI } from "./cli.ts";
import { waitFor, type WaitOptions } from "./wait.ts";

/** Permissions a node process gets: the same as `deno task start`. */
export const NODE_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys=networkInterfaces",
];

/** Short network timings for tests: ping every 300 ms, a silent link dead after 1.5 s. */
const TEST_TIMINGS = ["--ping-interval", "300", "--dead-after", "1500"];

/** A free TCP port on 127.0.0.1 (released before returning, so use it at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The command line of one node process: `cli.ts run --headless --network regtest --threads 1` and what varies. */
export interface NodeCommand {
  /** Open the interactive menu instead of running headless. */
  menu?: boolean;
  /** `--listen HOST:PORT`. */
  listen: string;
  /** `--data-dir`; without it the node picks its default (under `HOME` or `XDG_DATA_HOME`). */
  dataDir?: string;
  /** `--tracker`; without it the node reads `server_tracker.txt` in its working directory. */
  tracker?: string;
  /** Further arguments, e.g. `["--max-peers", "2"]`. */
  args?: string[];
  /** Leave out the short test timings, so the node runs with its default ping and dead-after. */
  defaultTimings?: boolean;
  /** Deno permissions (default `NODE_PERMISSIONS`). */
  permissions?: string[];
  /** A command that runs the deno command in place, e.g. `["ip", "netns", "exec", NS]`. */
  prefix?: string[];
  /** Working directory of the process. */
  cwd?: string;
  /** Environment beyond `NO_COLOR=1`. */
  env?: Record<string, string>;
}

/** A spawned node process, its output read line by line as it comes. */
export interface NodeProcess {
  proc: Deno.ChildProcess;
  /** Its exit status, once it exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Resolves once both of its outputs are read to their end. */
  read: Promise<void>;
}

/** Appends the lines of `stream` to `into` as they come; resolves at its end. */
export async function readLines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stream) {
    buf += dec.decode(chunk, { stream: true });
    const lines = buf.split("\n");
    buf = lines.pop()!;
    into.push(...lines);
  }
  if (buf) into.push(buf);
}

/** The whole command line of a node process: `c.prefix`, then `deno run PERMISSIONS cli.ts run ...`. */
export function nodeArgv(c: NodeCommand): string[] {
  return [
    ...(c.prefix ?? []),
    Deno.execPath(),
    "run",
    ...(c.permissions ?? NODE_PERMISSIONS),
    CLI,
    "run",
    ...(c.menu ? [] : ["--headless"]),
    ..."--network regtest --threads 1".split(" "),
    ...(c.dataDir ? ["--data-dir", c.dataDir] : []),
    ...(c.tracker ? ["--tracker", c.tracker] : []),
    ...["--listen", c.listen],
    ...(c.defaultTimings ? [] : TEST_TIMINGS),
    ...(c.args ?? []),
  ];
}

/** Spawns a node with command line `c`; its stderr lines go to `log`, its stdout lines to `stdout`. */
export function spawnNode(c: NodeCommand, log: string[], stdout: string[] = []): NodeProcess {
  const [cmd, ...args] = nodeArgv(c);
  const proc = new Deno.Command(cmd, {
    args,
    cwd: c.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...c.env },
  }).spawn();
  const read = Promise.all([readLines(proc.stderr, log), readLines(proc.stdout, stdout)]).then(
    () => {},
    () => {},
  );
  return { proc, exited: proc.status, read };
}

/** What the checks over several nodes need of each: its name, address, RPC, log, and whether it runs. */
export interface RpcNode {
  readonly name: string;
  /** Where it listens (`host:port`): what the others call it. */
  readonly listen: string;
  /** Its stderr lines so far. */
  readonly log: string[];
  /** False once killed or exited. */
  readonly alive: boolean;
  /** Calls its RPC. */
  rpc<T = Record<string, unknown>>(method: string, params?: unknown[]): Promise<T>;
}

/** A node process under test: restarted from the same data directory, it stays the same `TestNode`. */
export interface TestNode extends RpcNode {
  readonly dataDir: string;
  port: number;
  listen: string;
  /** The current process. */
  proc: Deno.ChildProcess;
  /** stderr lines of every run, in order. */
  log: string[];
  /** stdout lines of every run (a headless node writes nothing there). */
  stdout: string[];
  /** The current process's exit. */
  exited: Promise<Deno.CommandStatus>;
  alive: boolean;
  /** Restarts so far. */
  restarts: number;
  /** Sends `signal` to the current process (SIGKILL by default); a SIGKILLed node is no longer alive. */
  kill(signal?: Deno.Signal): void;
}

/** How `Cluster.start` runs a node; every field has a default. */
export interface StartOptions {
  /** Listening port on 127.0.0.1 (default: a free one, another if it is taken before the node binds it). */
  port?: number;
  /** Further arguments. */
  args?: string[];
  /** Tracker file (default: the cluster's shared one); null for the node's default, in its working directory. */
  tracker?: string | null;
  /** Data directory (default: `<root>/<name>`). */
  dataDir?: string;
  /** Pass no `--data-dir`: the node picks its default, which is this folder (where its `rpc.json` appears). */
  defaultDataDir?: string;
  /** Leave out the short test timings (`--ping-interval 300 --dead-after 1500`). */
  defaultTimings?: boolean;
  /** Deno permissions (default `NODE_PERMISSIONS`). */
  permissions?: string[];
  /** Working directory of the process. */
  cwd?: string;
  /** Environment beyond `NO_COLOR=1`. */
  env?: Record<string, string>;
  /** How often to ask whether the RPC answers, in ms (default 50). */
  everyMs?: number;
  /** Hang guard for the start, in ms (default 15,000, and never less than `MIN_WAIT_MS`). */
  waitMs?: number;
}

interface Started {
  node: TestNode;
  opts: StartOptions;
  /** Output readers of every run. */
  reads: Promise<void>[];
}

/** Starts, signals, restarts and cleans up node processes in one temporary folder. */
export class Cluster {
  readonly root: string;
  /** The tracker file nodes share unless told otherwise. */
  readonly tracker: string;
  /** Where the nodes write what they learned: `server_tracker.regtest.txt` beside `tracker`. */
  readonly learnedTracker: string;
  #started: Started[] = [];

  private constructor(root: string) {
    this.root = root;
    this.tracker = `${root}/server_tracker.txt`;
    this.learnedTracker = `${root}/server_tracker.regtest.txt`;
  }

  /** A cluster in a fresh temporary folder. */
  static async create(prefix = "peerchain-net-"): Promise<Cluster> {
    return new Cluster(await Deno.makeTempDir({ prefix }));
  }

  /** Every node started so far (killed ones too). */
  get nodes(): TestNode[] {
    return this.#started.map((s) => s.node);
  }

  /** Nodes not killed. */
  get alive(): TestNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /**
   * Starts a node named `name` and waits until its RPC answers (the `rpc.json` of this very process: not one a
   * killed node left behind). Throws, with its log, when it exits first.
   */
  async start(name: string, opts: StartOptions = {}): Promise<TestNode> {
    const port = opts.port ?? freePort();
    const dataDir = opts.defaultDataDir ?? opts.dataDir ?? `${this.root}/${name}`;
    const node: TestNode = {
      name,
      dataDir,
      port,
      listen: `127.0.0.1:${port}`,
      log: [],
      stdout: [],
      alive: false,
      restarts: -1,
      // Set by #launch before start() returns; a restart replaces them.
      proc: undefined as unknown as Deno.ChildProcess,
      exited: undefined as unknown as Promise<Deno.CommandStatus>,
      rpc: (method, params = []) => callRpc(dataDir, method, params) as never,
      kill: (signal = "SIGKILL") => {
        if (signal === "SIGKILL") node.alive = false;
        try {
          node.proc.kill(signal);
        } catch { /* already gone */ }
      },
    };
    this.#started.push({ node, opts, reads: [] });
    await this.#launch(node);
    return node;
  }

  /** SIGKILLs `node` and waits until its process is gone. */
  async kill(node: TestNode): Promise<void> {
    node.kill("SIGKILL");
    await node.exited.catch(() => {});
  }

  /** Restarts a killed or exited `node` from its data directory, on its old port if that is free. */
  async restart(node: TestNode): Promise<void> {
    if (node.alive) throw new Error(`${node.name} is still running`);
    await this.#launch(node);
  }

  /** Spawns `node`'s process and waits for its RPC; a port taken meanwhile is replaced, unless it was given. */
  async #launch(node: TestNode): Promise<void> {
    const s = this.#started.find((x) => x.node === node)!;
    const o = s.opts;
    for (let attempt = 1;; attempt++) {
      const p = spawnNode(
        {
          listen: node.listen,
          dataDir: o.defaultDataDir ? undefined : node.dataDir,
          tracker: o.tracker === null ? undefined : o.tracker ?? this.tracker,
          args: o.args,
          defaultTimings: o.defaultTimings,
          permissions: o.permissions,
          cwd: o.cwd,
          env: o.env,
        },
        node.log,
        node.stdout,
      );
      s.reads.push(p.read);
      const proc = node.proc = p.proc;
      node.alive = true;
      node.restarts++;
      let gone = false;
      // A restart's old process may end after the new one started: only the current one's end counts.
      node.exited = p.exited.finally(() => {
        gone = true;
        if (node.proc === proc) node.alive = false;
      });
      await waitFor(
        async () => gone || await answers(node.dataDir, proc.pid),
        o.waitMs ?? 15_000,
        () => `${node.name} to answer RPC\n${node.log.join("\n")}`,
        { everyMs: o.everyMs },
      );
      if (!gone) return;
      await p.read; // the whole log, to see why it exited
      const portTaken = node.log.some((l) => l.includes("port is in use"));
      if (!portTaken || o.port !== undefined || attempt === 3) {
        throw new Error(`${node.name} exited before answering RPC\n${node.log.join("\n")}`);
      }
      node.port = freePort(); // taken by someone else's socket before the node bound it
      node.listen = `127.0.0.1:${node.port}`;
    }
  }

  /** Kills every node (resuming stopped ones first) and removes the folder. */
  async cleanup(): Promise<void> {
    for (const { node } of this.#started) {
      node.kill("SIGCONT");
      node.kill("SIGKILL");
    }
    await Promise.all(this.#started.map((s) => s.node.exited?.catch(() => {})));
    await Promise.all(this.#started.flatMap((s) => s.reads));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** Whether `dataDir`'s `rpc.json` belongs to process `pid` and its RPC answers. */
async function answers(dataDir: string, pid: number): Promise<boolean> {
  try {
    const info: RpcInfo = JSON.parse(await Deno.readTextFile(`${dataDir}/rpc.json`));
    if (info.pid !== pid) return false;
    await callRpc(dataDir, "status");
    return true;
  } catch {
    return false;
  }
}

/** The status of each node. */
export async function statuses(nodes: readonly RpcNode[]): Promise<NodeStatus[]> {
  return await Promise.all(nodes.map((n) => n.rpc<NodeStatus>("status")));
}

/** Txids in `node`'s mempool. */
export async function mempoolIds(node: RpcNode): Promise<Set<string>> {
  return new Set((await node.rpc<{ txid: string }[]>("mempool")).map((e) => e.txid));
}

/** Txids of the active chain's blocks in `(fromHeight, tip]`, read from `node`, added to `into`. */
export async function chainTxids(
  node: RpcNode,
  fromHeight: number,
  into = new Set<string>(),
): Promise<{ height: number; txids: Set<string> }> {
  const { height } = await node.rpc<NodeStatus>("status");
  for (let h = fromHeight + 1; h <= height; h++) {
    const b = await node.rpc<{ txs: { txid: string }[] }>("block", [String(h)]);
    for (const t of b.txs) into.add(t.txid);
  }
  return { height, txids: into };
}

/** How `onePrimary` judges a star. */
export interface StarOptions {
  /**
   * Also require every node to count the network as `nodes.length` (default true). Off where SuperPeers die in quick
   * succession: a Peer's count of the network can lag behind its links there, and the links are what counts.
   */
  countSize?: boolean;
}

/**
 * The only SuperPeer when `nodes` form the star of a small network: every other node names it as its primary, it serves exactly the others, and (unless `countSize` is false) every node counts the
 * network as `nodes.length`; else null.
 */
export async function onePrimary<N extends RpcNode>(
  nodes: readonly N[],
  opts: StarOptions = {},
): Promise<N | null> {
  let infos: PeersReply[];
  try {
    infos = await Promise.all(nodes.map((n) => n.rpc<PeersReply>("peers")));
  } catch {
    return null; // a node that just died or has not started its RPC yet
  }
  const h = nodes.findIndex((n) => n.listen === infos[0].primary?.listen);
  if (h < 0) return null;
  const primary = nodes[h];
  const members = infos[h].links.filter((l) => l.kind === "member").map((l) => l.listen).sort();
  const others = nodes.filter((n) => n !== primary).map((n) => n.listen).sort();
  if (members.join() !== others.join()) return null;
  const agree = infos.every((info, i) =>
    info.primary?.listen === primary.listen && info.role === (i === h ? "superpeer" : "peer") &&
    (opts.countSize === false || info.networkSize === nodes.length)
  );
  return agree ? primary : null;
}

/**
 * True when `nodes` form one network among themselves: every Peer holds at least one SuperPeer, every link
 * of a node ends at another of `nodes`, the links connect them all, and (unless `countSize` is false) each
 * counts the network as `nodes.length` nodes. Past a full mesh of SuperPeers a Peer hears of load changes in
 * batches (every 15 s), so its count lags behind the links there.
 */
export async function oneNetwork(nodes: readonly RpcNode[], opts: StarOptions = {}): Promise<boolean> {
  let infos: PeersReply[];
  try {
    infos = await Promise.all(nodes.map((n) => n.rpc<PeersReply>("peers")));
  } catch {
    return false;
  }
  const index = new Map(nodes.map((n, i) => [n.listen, i]));
  const seen = new Set([0]), todo = [0];
  while (todo.length) {
    for (const l of infos[todo.pop()!].links) {
      const j = index.get(l.listen);
      if (j === undefined) return false;
      if (!seen.has(j)) {
        seen.add(j);
        todo.push(j);
      }
    }
  }
  return seen.size === nodes.length &&
    infos.every((i) =>
      (opts.countSize === false || i.networkSize === nodes.length) &&
      (i.role === "superpeer" || i.primary !== null)
    );
}

/** A `what` for `waitFor` followed by each node's view (`describeNodes`), read when the wait fails. */
export function withViews(nodes: readonly RpcNode[], what: string, logLines?: number): () => Promise<string> {
  return async () => `${what}\n${await describeNodes(nodes, logLines)}`;
}

/** Waits until `nodes` form one network (see `oneNetwork`). */
export async function waitForOneNetwork(
  nodes: readonly RpcNode[],
  timeoutMs: number,
  what: string,
  opts: WaitOptions = {},
): Promise<void> {
  await waitFor(() => oneNetwork(nodes), timeoutMs, withViews(nodes, what), opts);
}

/** Waits until `nodes` form one star, all naming one of them as primary (see `onePrimary`), and returns it. */
export async function waitForOnePrimary<N extends RpcNode>(
  nodes: readonly N[],
  timeoutMs: number,
  what: string,
  opts: WaitOptions & StarOptions & { logLines?: number } = {},
): Promise<N> {
  let primary: N | null = null;
  const found = async () => (primary = await onePrimary(nodes, opts)) !== null;
  await waitFor(found, timeoutMs, withViews(nodes, what, opts.logLines), opts);
  return primary!;
}

/** Waits until every node's tip is `tip`. */
export async function waitForTip(
  nodes: readonly RpcNode[],
  tip: string,
  timeoutMs: number,
  what: string,
  opts: WaitOptions = {},
): Promise<void> {
  const cond = async () => (await statuses(nodes)).every((s) => s.tip === tip);
  await waitFor(cond, timeoutMs, withViews(nodes, what), opts);
}

/** Each node's role, primary, height, links, mempool and last log lines: for failure messages. */
export async function describeNodes(nodes: readonly RpcNode[], logLines = 15): Promise<string> {
  const out: string[] = [];
  for (const n of nodes) {
    let view: string;
    try {
      const [p, s, pool] = await Promise.all([
        n.rpc<PeersReply>("peers"),
        n.rpc<NodeStatus>("status"),
        mempoolIds(n),
      ]);
      view = `${p.role} primary=${p.primary?.listen} height=${s.height} size=${p.networkSize} links=${
        p.links.map((x) => `${x.kind}${x.primary ? "*" : ""}:${x.listen}`).join(",")
      } mempool=[${[...pool].slice(0, 10).map((id) => id.slice(0, 8)).join(",")}${
        pool.size > 10 ? ",..." : ""
      }]`;
    } catch (e) {
      view = `no answer (${(e as Error).message})`;
    }
    out.push(`--- ${n.name} ${n.listen} alive=${n.alive}: ${view}`, ...n.log.slice(-logLines));
  }
  return out.join("\n");
}

/**
 * Runs `fn` with a fresh cluster (its folder named with `prefix`) and cleans it up afterwards, also when `fn`
 * fails: every node killed, the folder removed.
 */
export async function withCluster<T>(fn: (cluster: Cluster) => Promise<T>, prefix?: string): Promise<T> {
  const cluster = await Cluster.create(prefix);
  try {
    return await fn(cluster);
  } finally {
    await cluster.cleanup();
  }
}

/** A SuperPeer `sp` and a Peer `b` it serves, started one after the other in `cluster`. */
export async function startSuperPeerAndPeer(cluster: Cluster): Promise<{ sp: TestNode; b: TestNode }> {
  const sp = await cluster.start("sp");
  const b = await cluster.start("b");
  await waitForOnePrimary([sp, b], 10_000, "a SuperPeer and a Peer");
  return { sp, b };
}
