/**
 * Real node processes for tests: each runs `cli.ts run --headless` on regtest, listening on 127.0.0.1, with
 * its own data directory; tests drive them through the RPC and read their logs. Every process is killed by
 * `cleanup()`, also when a test fails.
 */
import { callRpc } from "../../lib/rpc/client.ts";

import { CLI } from "./cli.ts";

/** Permissions a node process gets: the same as `deno task start`. */
export const NODE_PERMISSIONS = [
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys=networkInterfaces",
];

/** A free TCP port on 127.0.0.1 (released before returning, so use it at once). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A node process under test. */
export interface TestNode {
  name: string;
  dataDir: string;
  port: number;
  listen: string;
  proc: Deno.ChildProcess;
  /** stderr lines so far. */
  log: string[];
  exited: Promise<Deno.CommandStatus>;
  /** False once SIGKILLed (or exited). */
  alive: boolean;
  rpc<T = Record<string, unknown>>(method: string, params?: unknown[]): Promise<T>;
  kill(signal?: Deno.Signal): void;
}

/** What the `status` RPC returns (the fields the network tests read). */
export interface NodeStatus {
  role: "peer" | "superpeer";
  hub: string | null;
  listen: string;
  height: number;
  tip: string;
  peers: number;
  superpeers: string[];
  network_size: number;
  address: string;
  balance: number;
  mempool: number;
  /** The explorer's URL, or null with `--no-explorer`. */
  explorer: string | null;
}

/** One link in the `peers` RPC. */
export interface LinkView {
  nodeId: string;
  listen: string;
  kind: "member" | "superpeer" | "mesh";
  primary: boolean;
  inbound: boolean;
}

/** What the `peers` RPC returns. */
export interface PeersInfo {
  role: "peer" | "superpeer";
  hub: { nodeId: string; listen: string } | null;
  links: LinkView[];
  superpeers: { nodeId: string; listen: string; peers: number; load: number; capacity: number }[];
  network_size: number;
}

/** How `Cluster.start` runs a node; every field has a default. */
export interface StartOptions {
  /** Listening port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Extra command-line arguments. */
  args?: string[];
  /** Tracker file (default: the cluster's shared one). */
  tracker?: string;
  /** Data directory (default: `<root>/<name>`). */
  dataDir?: string;
  /** Working directory of the process. */
  cwd?: string;
  /** Leave out `--ping-interval 300 --dead-after 1500`, so the node runs with its default timings. */
  defaultTimings?: boolean;
}

/** Starts and tracks node processes in one temporary folder. */
export class Cluster {
  readonly root: string;
  readonly tracker: string;
  #nodes: TestNode[] = [];
  #readers: Promise<void>[] = [];
  #readerOf = new Map<TestNode, Promise<void>>();

  private constructor(root: string) {
    this.root = root;
    this.tracker = `${root}/server_tracker.txt`;
  }

  /** A cluster in a fresh temporary folder. */
  static async create(): Promise<Cluster> {
    return new Cluster(await Deno.makeTempDir({ prefix: "peerchain-net-" }));
  }

  /** Every node started so far (killed ones too). */
  get nodes(): TestNode[] {
    return this.#nodes;
  }

  /**
   * Starts a node and waits until its RPC answers. Without `port`, a free one is picked; should another
   * socket take it before the node binds it (an outgoing connection may), the start is retried on another.
   */
  async start(name: string, opts: StartOptions = {}): Promise<TestNode> {
    for (let attempt = 1;; attempt++) {
      const node = this.#spawn(name, opts.port ?? freePort(), opts);
      let exited = false;
      node.exited.finally(() => exited = true);
      const answered = await waitFor(
        async () => {
          if (exited) return true;
          try {
            await node.rpc("status");
            return true;
          } catch {
            return false;
          }
        },
        15_000,
        `${name} to answer RPC`,
      ).then(() => !exited, (e) => {
        throw new Error(`${e.message}\n${node.log.join("\n")}`);
      });
      if (answered) return node;
      await this.#readerOf.get(node); // the whole log, to see why it exited
      const portTaken = node.log.some((l) => l.includes("port is in use"));
      if (!portTaken || opts.port !== undefined || attempt === 3) {
        throw new Error(`${name} exited before answering RPC\n${node.log.join("\n")}`);
      }
      this.#nodes.splice(this.#nodes.indexOf(node), 1);
    }
  }

  #spawn(name: string, port: number, opts: StartOptions): TestNode {
    const dataDir = opts.dataDir ?? `${this.root}/${name}`;
    const args = [
      "run",
      ...NODE_PERMISSIONS,
      CLI,
      "run",
      "--network",
      "regtest",
      "--headless",
      "--data-dir",
      dataDir,
      "--tracker",
      opts.tracker ?? this.tracker,
      "--listen",
      `127.0.0.1:${port}`,
      ...(opts.defaultTimings ? [] : ["--ping-interval", "300", "--dead-after", "1500"]),
      "--threads",
      "1",
      ...(opts.args ?? []),
    ];
    const proc = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      cwd: opts.cwd,
      env: { NO_COLOR: "1" },
    }).spawn();
    const log: string[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stderr) {
        buf += dec.decode(chunk, { stream: true });
        const lines = buf.split("\n");
        buf = lines.pop()!;
        log.push(...lines);
      }
    })().catch(() => {});
    this.#readers.push(reading);
    const node: TestNode = {
      name,
      dataDir,
      port,
      listen: `127.0.0.1:${port}`,
      proc,
      log,
      exited: proc.status,
      alive: true,
      rpc: (method, params = []) => callRpc(dataDir, method, params) as never,
      kill: (signal = "SIGKILL") => {
        if (signal === "SIGKILL") node.alive = false;
        try {
          proc.kill(signal);
        } catch { /* already gone */ }
      },
    };
    this.#nodes.push(node);
    this.#readerOf.set(node, reading);
    proc.status.then(() => node.alive = false, () => node.alive = false);
    return node;
  }

  /** Nodes not killed yet. */
  get alive(): TestNode[] {
    return this.#nodes.filter((n) => n.alive);
  }

  /** Kills every node (resuming stopped ones first) and removes the folder. */
  async cleanup(): Promise<void> {
    for (const n of this.#nodes) {
      n.kill("SIGCONT");
      n.kill("SIGKILL");
    }
    await Promise.all(this.#nodes.map((n) => n.exited.catch(() => {})));
    await Promise.all(this.#readers);
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/**
 * Waiting for conditions between processes never gives up before this: the deadline a caller names only keeps
 * a hung process from hanging the suite, and on two busy cores a condition can take seconds longer than on an
 * idle machine. What a test proves is the condition, never how soon it came.
 */
export const MIN_WAIT_MS = 30_000;

/** Polls `cond` every 50 ms until true; throws naming `what` after `timeoutMs` (at least `MIN_WAIT_MS`). */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const ms = Math.max(timeoutMs, MIN_WAIT_MS), end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The status of each node. */
export async function statuses(nodes: TestNode[]): Promise<NodeStatus[]> {
  return await Promise.all(nodes.map((n) => n.rpc<NodeStatus>("status")));
}

/**
 * True when `nodes` form the star of a small network: one of them is the only SuperPeer, every other names
 * it as its SuperPeer, it serves exactly the others, and every node counts the network as `nodes.length`.
 */
export async function agreeOnOneHub(nodes: TestNode[]): Promise<boolean> {
  let infos: PeersInfo[];
  try {
    infos = await Promise.all(nodes.map((n) => n.rpc<PeersInfo>("peers")));
  } catch {
    return false; // a node that just died or has not started its RPC yet
  }
  const hub = infos[0].hub?.listen;
  const h = nodes.findIndex((n) => n.listen === hub);
  if (!hub || h < 0) return false;
  const members = infos[h].links.filter((l) => l.kind === "member").map((l) => l.listen).sort();
  const others = nodes.filter((n) => n.listen !== hub).map((n) => n.listen).sort();
  if (members.join() !== others.join()) return false;
  return infos.every((info, i) =>
    info.hub?.listen === hub && info.role === (i === h ? "superpeer" : "peer") &&
    info.network_size === nodes.length
  );
}

/**
 * True when `nodes` form one network among themselves: every Peer holds at least one SuperPeer, every link
 * of a node ends at another of `nodes`, the links connect them all, and each counts the network as
 * `nodes.length` nodes.
 */
export async function oneNetwork(nodes: TestNode[]): Promise<boolean> {
  let infos: PeersInfo[];
  try {
    infos = await Promise.all(nodes.map((n) => n.rpc<PeersInfo>("peers")));
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
    infos.every((i) => i.network_size === nodes.length && (i.role === "superpeer" || i.hub !== null));
}

/** Waits until `nodes` form one network (see `oneNetwork`); the failure message carries each node's view. */
export async function waitForOneNetwork(nodes: TestNode[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => oneNetwork(nodes), timeoutMs, what).catch(async (e) => {
    throw new Error(`${e.message}\n${await describeNodes(nodes)}`);
  });
}

/**
 * Waits until `nodes` agree on one hub among them (see `agreeOnOneHub`) and returns it. The failure message
 * carries each node's view and the tail of its log.
 */
export async function waitForOneHub(nodes: TestNode[], timeoutMs: number, what: string): Promise<TestNode> {
  await waitFor(() => agreeOnOneHub(nodes), timeoutMs, what).catch(async (e) => {
    throw new Error(`${e.message}\n${await describeNodes(nodes)}`);
  });
  const s = await nodes[0].rpc<NodeStatus>("status");
  return nodes.find((n) => n.listen === s.hub)!;
}

/** Each node's role, hub, peer list, height and last log lines: for failure messages. */
export async function describeNodes(nodes: TestNode[], logLines = 15): Promise<string> {
  const out: string[] = [];
  for (const n of nodes) {
    let view: string;
    try {
      const p = await n.rpc<PeersInfo>("peers");
      const s = await n.rpc<NodeStatus>("status");
      view =
        `${p.role} hub=${p.hub?.listen} height=${s.height} mempool=${s.mempool} size=${p.network_size} links=${
          p.links.map((x) => `${x.kind}${x.primary ? "*" : ""}:${x.listen}`).join(",")
        }`;
    } catch (e) {
      view = `no answer (${(e as Error).message})`;
    }
    out.push(`--- ${n.name} ${n.listen} alive=${n.alive}: ${view}`, ...n.log.slice(-logLines));
  }
  return out.join("\n");
}

/** Waits until every node's tip is `tip`. */
export async function waitForTip(
  nodes: TestNode[],
  tip: string,
  timeoutMs: number,
  what: string,
): Promise<void> {
  await waitFor(async () => (await statuses(nodes)).every((s) => s.tip === tip), timeoutMs, what)
    .catch(async (e) => {
      throw new Error(`${e.message}\n${await describeNodes(nodes)}`);
    });
}
