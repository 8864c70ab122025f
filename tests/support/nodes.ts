/**
 * Real node processes for tests: each runs `cli.ts run --headless` on regtest, listening on 127.0.0.1, with
 * its own data directory; tests drive them through the RPC and read their logs. Every process is killed by
 * `cleanup()`, also when a test fails.
 */
import { callRpc } from "../../lib/rpc/client.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

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
  rpc<T = Record<string, unknown>>(method: string, params?: unknown[]): Promise<T>;
  kill(signal?: Deno.Signal): void;
}

/** Starts and tracks node processes in one temporary folder. */
export class Cluster {
  readonly root: string;
  readonly tracker: string;
  #nodes: TestNode[] = [];

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

  /** Starts a node and waits until its RPC answers. */
  async start(
    name: string,
    opts: { port?: number; args?: string[]; tracker?: string; dataDir?: string } = {},
  ): Promise<TestNode> {
    const port = opts.port ?? freePort();
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
      "--ping-interval",
      "300",
      "--dead-after",
      "1500",
      "--threads",
      "1",
      ...(opts.args ?? []),
    ];
    const proc = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const log: string[] = [];
    (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of proc.stderr) {
        buf += dec.decode(chunk, { stream: true });
        const lines = buf.split("\n");
        buf = lines.pop()!;
        log.push(...lines);
      }
    })().catch(() => {});
    const node: TestNode = {
      name,
      dataDir,
      port,
      listen: `127.0.0.1:${port}`,
      proc,
      log,
      exited: proc.status,
      rpc: (method, params = []) => callRpc(dataDir, method, params) as never,
      kill: (signal = "SIGKILL") => {
        try {
          proc.kill(signal);
        } catch { /* already gone */ }
      },
    };
    this.#nodes.push(node);
    await waitFor(
      async () => {
        try {
          await node.rpc("status");
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      `${name} to answer RPC\n${log.join("\n")}`,
    );
    return node;
  }

  /** Kills every node and removes the folder. */
  async cleanup(): Promise<void> {
    for (const n of this.#nodes) n.kill("SIGKILL");
    await Promise.all(this.#nodes.map((n) => n.exited.catch(() => {})));
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/** Polls `cond` every 50 ms until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The status of each live node. */
export async function statuses(nodes: TestNode[]): Promise<Record<string, unknown>[]> {
  return await Promise.all(nodes.map((n) => n.rpc("status")));
}
