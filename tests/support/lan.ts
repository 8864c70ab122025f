/**
 * A LAN of separate hosts on one Linux machine: a bridge in the root namespace, one network namespace per
 * host joined to it by a veth pair, addresses in 10.200.0.0/16, and the real CLI (`run --headless`, the command
 * line of every test node: `spawnNode`) inside each namespace. Cables can be pulled (`cableDown`) and the LAN
 * split in two (`partition`, which moves hosts onto a second bridge). Needs root and iproute2; `lanSkipReason`
 * says why not when they are missing.
 *
 * A node's RPC listens on 127.0.0.1 *inside* its namespace, so the test process cannot reach it. Each host
 * therefore runs this file as a small relay (`lan.ts relay`) in its namespace: JSON lines in on stdin, the
 * real RPC client (`callRpc`, what the subcommands use) calls the node, JSON lines out on stdout.
 *
 * Names carry a 4-hex-digit run id (`pcbr<id>`, `pcv<id>-N`, `pcn<id>-N`) and a pid file in
 * `/tmp/peerchain-lan/` says which test process owns them, so leftovers of crashed runs are removed at the
 * next start without touching a concurrent run's.
 */
import { callRpc, NoNode, RpcError } from "../../lib/rpc/client.ts";
import { CLI } from "./cli.ts";
import { type RpcNode, spawnNode } from "./cluster.ts";
import { waitFor } from "./wait.ts";

const SELF = new URL(import.meta.url).pathname;
const STATE_DIR = "/tmp/peerchain-lan";
const NODE_PORT = 18765;
const RPC_TIMEOUT_MS = 10_000;
const dec = new TextDecoder();

/** An `ip` command failed. */
export class IpCommandFailed extends Error {
  override name = "IpCommandFailed";
}

async function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdin: "null", stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function ip(...args: string[]): Promise<string> {
  const r = await sh("ip", args);
  if (r.code !== 0) throw new IpCommandFailed(`ip ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `ip` arguments that run `deno run` with `permissions` inside namespace `ns`. */
function inNs(ns: string, ...permissions: string[]): string[] {
  return ["netns", "exec", ns, Deno.execPath(), "run", ...permissions];
}
const ipQuiet = (...args: string[]) => ip(...args).catch(() => "");
const randomRid = () => crypto.getRandomValues(new Uint8Array(2)).toHex();

/** Why the LAN cannot be built here (not Linux, not root, no `ip`, namespaces refused), or undefined. */
export async function lanSkipReason(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `network namespaces need Linux, this is ${Deno.build.os}`;
  // Deno.uid() and /proc/self need permissions the test task does not grant; --allow-run covers `id`.
  const uid = (await sh("id", ["-u"]).catch(() => undefined))?.stdout.trim();
  if (uid !== "0") return `network namespaces need root (uid ${uid || "unknown"})`;
  try {
    await ip("-V");
  } catch (e) {
    return `the \`ip\` command (iproute2) is missing or broken: ${(e as Error).message}`;
  }
  // A probe under a pid file, so that even a crash here leaves nothing the next run will not remove.
  const rid = randomRid();
  await claim(rid);
  try {
    await ip("netns", "add", `pcn${rid}-0`);
    await ip("netns", "del", `pcn${rid}-0`);
  } catch (e) {
    return `cannot create network namespaces: ${(e as Error).message}`;
  } finally {
    await Deno.remove(`${STATE_DIR}/${rid}.pid`).catch(() => {});
  }
  return undefined;
}

/** Marks run `rid` as ours: our pid, then the run's data folder (removed with the run's leftovers). */
async function claim(rid: string, root = ""): Promise<void> {
  await Deno.mkdir(STATE_DIR, { recursive: true });
  await Deno.writeTextFile(`${STATE_DIR}/${rid}.pid`, `${Deno.pid}\n${root}\n`);
}

/** Run ids whose owning test process is still alive. */
async function liveRuns(): Promise<Set<string>> {
  const live = new Set<string>();
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(STATE_DIR));
  } catch { /* no runs yet */ }
  for (const e of entries) {
    const rid = /^([0-9a-f]{4})\.pid$/.exec(e.name)?.[1];
    if (!rid) continue;
    const [pid, root] = (await Deno.readTextFile(`${STATE_DIR}/${e.name}`).catch(() => "")).split("\n");
    if (/^\d+$/.test(pid) && await isDeno(pid)) {
      live.add(rid);
      continue;
    }
    if (root?.includes("/pc-lan-")) await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(`${STATE_DIR}/${e.name}`).catch(() => {});
  }
  return live;
}

/** True when process `pid` runs deno (the test that owns a run). /proc itself needs --allow-all in Deno. */
async function isDeno(pid: string): Promise<boolean> {
  try {
    const r = await sh("ps", ["-p", pid, "-o", "comm="]);
    return r.code === 0 && r.stdout.includes("deno");
  } catch { // no `ps`: any live process with that pid counts, erring on the side of leaving things alone
    return (await sh("sh", ["-c", `kill -0 ${pid}`]).catch(() => ({ code: 1 }))).code === 0;
  }
}

/** Removes namespaces (killing what runs in them), bridges and veths of earlier runs that died; returns their names. */
export async function cleanLeftovers(): Promise<string[]> {
  const live = await liveRuns();
  const removed: string[] = [];
  for (const line of (await ipQuiet("netns", "list")).split("\n")) {
    const m = /^(pcn([0-9a-f]{4})-\d+)/.exec(line);
    if (!m || live.has(m[2])) continue;
    for (const pid of (await ipQuiet("netns", "pids", m[1])).split(/\s+/).filter(Boolean)) {
      try {
        Deno.kill(Number(pid), "SIGKILL");
      } catch { /* gone */ }
    }
    await ipQuiet("netns", "del", m[1]);
    removed.push(m[1]);
  }
  for (const line of (await ipQuiet("-o", "link", "show")).split("\n")) {
    const m = /^\d+:\s+(pc(?:br|v)([0-9a-f]{4})[^:@\s]*)/.exec(line);
    if (!m || live.has(m[2])) continue;
    await ipQuiet("link", "del", m[1]);
    removed.push(m[1]);
  }
  return removed;
}

/** One RPC relay process inside a namespace. */
class Relay {
  #proc: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, (reply: RelayReply) => void>();
  #next = 1;
  readonly done: Promise<unknown>;

  constructor(ns: string) {
    const proc = this.#proc = new Deno.Command("ip", {
      args: [...inNs(ns, "--allow-read", "--allow-net=127.0.0.1"), SELF, "relay"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = proc.stdin.getWriter();
    const reading = (async () => {
      for await (const line of lines(proc.stdout)) {
        const reply = JSON.parse(line) as RelayReply;
        this.#pending.get(reply.id)?.(reply);
        this.#pending.delete(reply.id);
      }
    })();
    this.done = Promise.all([reading.catch(() => {}), proc.status]);
  }

  async call(dataDir: string, method: string, params: unknown[]): Promise<unknown> {
    const id = this.#next++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = await new Promise<RelayReply>((resolve, reject) => {
      this.#pending.set(id, resolve);
      timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new NoNode(`no RPC answer in ${RPC_TIMEOUT_MS} ms from ${dataDir} (${method})`));
      }, RPC_TIMEOUT_MS);
      this.#writer.write(new TextEncoder().encode(JSON.stringify({ id, dataDir, method, params }) + "\n"))
        .catch(reject);
    }).finally(() => clearTimeout(timer));
    if (!reply.error) return reply.result;
    if (reply.error.kind === "nonode") throw new NoNode(reply.error.message);
    throw new RpcError(reply.error.code ?? 0, reply.error.message);
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* gone */ }
    }, 2000);
    await this.done;
    clearTimeout(timer);
  }
}

interface RelayReply {
  id: number;
  result?: unknown;
  error?: { kind: "nonode" | "rpc"; code?: number; message: string };
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    const parts = buf.split("\n");
    buf = parts.pop()!;
    yield* parts.filter((l) => l !== "");
  }
}

/** One host of the LAN: a namespace, its cable (the veth end on the bridge) and the node running in it. */
export interface LanHost extends RpcNode {
  /** 1-based number. */
  n: number;
  /** `host N`. */
  name: string;
  /** Namespace name. */
  ns: string;
  /** The veth end in the root namespace, plugged into the bridge: the cable. */
  veth: string;
  /** `10.200.X.n:18765`: where the node listens and what the others dial. */
  listen: string;
  dataDir: string;
  tracker: string;
  /** Where the node writes the SuperPeers it learned (`server_tracker.regtest.txt` beside `tracker`). */
  learned: string;
  /** The node's stderr lines so far. */
  log: string[];
  /** True from start until killed or exited. */
  alive: boolean;
  /** Calls the node's RPC from inside the namespace. */
  rpc<T = Record<string, unknown>>(method: string, params?: unknown[]): Promise<T>;
  /** Runs the real CLI subcommand inside the namespace, e.g. `["send", addr, "1", "--json"]`. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Signals the node process (SIGKILL by default). */
  kill(signal?: Deno.Signal): void;
}

interface HostState extends LanHost {
  relay: Relay;
  proc?: Deno.ChildProcess;
  exited?: Promise<Deno.CommandStatus>;
  reader?: Promise<void>;
}

/** How `Lan.create` builds the LAN. */
export interface LanOptions {
  /** Hosts listed in every tracker copy (default: all); the others are unknown until they speak. */
  trackerHosts?: number;
}

/** A LAN of `hosts` namespaces on a bridge, with a temporary folder for the nodes' data. */
export class Lan {
  readonly rid: string;
  /** Third octet of every address: 10.200.<octet>.n. */
  readonly octet: number;
  readonly root: string;
  readonly bridge: string;
  #hosts: HostState[] = [];
  #scripts: Deno.ChildProcess[] = [];
  #partitioned = false;

  private constructor(rid: string, octet: number, root: string) {
    this.rid = rid;
    this.octet = octet;
    this.root = root;
    this.bridge = `pcbr${rid}`;
  }

  /** Removes leftovers of crashed runs, then builds the bridge, namespaces, cables and tracker copies. */
  static async create(hosts = 4, opts: LanOptions = {}): Promise<Lan> {
    await cleanLeftovers();
    let rid = randomRid();
    while ((await liveRuns()).has(rid)) rid = randomRid();
    await claim(rid);
    const root = await Deno.makeTempDir({ prefix: "pc-lan-" });
    await claim(rid, root);
    const lan = new Lan(rid, 1 + Math.floor(Math.random() * 250), root);
    try {
      await lan.#build(hosts, opts.trackerHosts ?? hosts);
    } catch (e) {
      await lan.cleanup();
      throw e;
    }
    return lan;
  }

  /** Every host, in order (index 0 is host 1). */
  get hosts(): LanHost[] {
    return this.#hosts;
  }

  /** Host `n` (1-based). */
  host(n: number): LanHost {
    return this.#hosts[n - 1];
  }

  async #build(count: number, trackerHosts: number): Promise<void> {
    await ip("link", "add", this.bridge, "type", "bridge");
    await ip("link", "set", this.bridge, "up");
    const listens = Array.from({ length: count }, (_, i) => `10.200.${this.octet}.${i + 1}:${NODE_PORT}`);
    for (let n = 1; n <= count; n++) {
      const ns = `pcn${this.rid}-${n}`, veth = `pcv${this.rid}-${n}`;
      await ip("netns", "add", ns);
      await ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("link", "set", veth, "master", this.bridge, "up");
      await ip("-n", ns, "addr", "add", `10.200.${this.octet}.${n}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
      const dataDir = `${this.root}/h${n}`;
      await Deno.mkdir(dataDir);
      // Each host its own copy of one tracker file, host 1 first.
      const tracker = `${dataDir}/server_tracker.txt`;
      await Deno.writeTextFile(
        tracker,
        listens.slice(0, trackerHosts).map((l) => l.replace(":", " ") + "\n").join(""),
      );
      const relay = new Relay(ns);
      const dirArgs = ["--network", "regtest", "--data-dir", dataDir];
      const host: HostState = {
        n,
        name: `host ${n}`,
        ns,
        veth,
        listen: listens[n - 1],
        dataDir,
        tracker,
        learned: `${dataDir}/server_tracker.regtest.txt`,
        log: [],
        alive: false,
        relay,
        rpc: (method, params = []) => relay.call(dataDir, method, params) as never,
        cli: (args) =>
          sh("ip", [...inNs(ns, "--allow-read", "--allow-net=127.0.0.1"), CLI, ...args, ...dirArgs]),
        kill: (signal = "SIGKILL") => {
          if (signal === "SIGKILL") host.alive = false;
          try {
            host.proc?.kill(signal);
          } catch { /* gone */ }
        },
      };
      this.#hosts.push(host);
    }
  }

  /** Starts host `n`'s node in its namespace (with `extraArgs`, e.g. `--discover`) and waits until its RPC answers. */
  async start(n: number, extraArgs: string[] = []): Promise<LanHost> {
    const h = this.#hosts[n - 1];
    // `ip netns exec` execs deno in place, so the child's pid is the node's own: kill() hits it directly.
    const p = spawnNode({
      prefix: ["ip", "netns", "exec", h.ns],
      listen: h.listen,
      dataDir: h.dataDir,
      tracker: h.tracker,
      args: ["--rpc-port", "0", ...extraArgs],
    }, h.log);
    h.proc = p.proc;
    h.exited = p.exited;
    h.reader = p.read;
    h.alive = true;
    // A restart's old process may end after the new one started: only the current one's end counts.
    const proc = h.proc, ended = () => h.proc === proc && (h.alive = false);
    p.exited.then(ended, ended);
    await waitFor(
      async () => !h.alive || (await h.rpc("status"), true),
      20_000,
      () => `host ${n} to come up:\n${h.log.join("\n")}`,
      { everyMs: 100 },
    );
    if (!h.alive) throw new Error(`host ${n} exited before its RPC answered:\n${h.log.join("\n")}`);
    return h;
  }

  /** Starts host 1 (the tracker's first line), then hosts 2..`upTo` at once. */
  async startAll(upTo = this.#hosts.length): Promise<void> {
    await this.start(1);
    await Promise.all(this.#hosts.slice(1, upTo).map((h) => this.start(h.n)));
  }

  /**
   * Runs `script` with `args` as a plain process in host `n`'s namespace (instead of a node): network
   * access only inside the LAN, read access for its imports. Killed by `cleanup`; stdout is returned.
   */
  run(n: number, script: string, args: string[]): { proc: Deno.ChildProcess; stdout: Promise<string> } {
    const h = this.#hosts[n - 1];
    const proc = new Deno.Command("ip", {
      args: [...inNs(h.ns, "--allow-read", "--allow-net"), script, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#scripts.push(proc);
    const stdout = new Response(proc.stdout).text();
    return { proc, stdout };
  }

  /**
   * Gives host `n` `count` extra addresses (10.200.<octet>.200 and up) that it can send from but nobody can
   * reach: they sit on its loopback, and its LAN interface neither answers ARP for them nor names them in its
   * own ARP requests, so a dial to one hangs until it times out. Returns them.
   */
  async deadAddresses(n: number, count: number): Promise<string[]> {
    const h = this.#hosts[n - 1];
    const ips = Array.from({ length: count }, (_, i) => `10.200.${this.octet}.${200 + i}`);
    for (const a of ips) await ip("-n", h.ns, "addr", "add", `${a}/32`, "dev", "lo");
    const conf = "/proc/sys/net/ipv4/conf/eth0";
    const r = await sh("ip", [
      "netns",
      "exec",
      h.ns,
      "sh",
      "-c",
      `echo 1 > ${conf}/arp_ignore && echo 2 > ${conf}/arp_announce`,
    ]);
    if (r.code !== 0) throw new IpCommandFailed(`cannot hide the dead addresses: ${r.stderr.trim()}`);
    return ips;
  }

  /** Pulls host `n`'s cable: its veth end on the bridge goes down. */
  async cableDown(n: number): Promise<void> {
    await ip("link", "set", this.#hosts[n - 1].veth, "down");
  }

  /** Plugs host `n`'s cable back in. */
  async cableUp(n: number): Promise<void> {
    await ip("link", "set", this.#hosts[n - 1].veth, "up");
  }

  /** Splits the LAN: hosts `side` move to a second bridge, so they reach each other but no other host. */
  async partition(side: number[]): Promise<void> {
    if (!this.#partitioned) {
      await ip("link", "add", `${this.bridge}p`, "type", "bridge");
      await ip("link", "set", `${this.bridge}p`, "up");
      this.#partitioned = true;
    }
    for (const n of side) await ip("link", "set", this.#hosts[n - 1].veth, "master", `${this.bridge}p`);
  }

  /** Ends a partition: every host back on the one bridge. */
  async heal(): Promise<void> {
    for (const h of this.#hosts) await ip("link", "set", h.veth, "master", this.bridge);
  }

  /** Kills every process, removes namespaces, links and the folder. Safe to call twice. */
  async cleanup(): Promise<void> {
    for (const p of this.#scripts) {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
    }
    await Promise.all(this.#scripts.map((p) => p.status.catch(() => {})));
    for (const h of this.#hosts) h.kill("SIGKILL");
    await Promise.all(this.#hosts.map((h) => h.exited?.catch(() => {})));
    await Promise.all(this.#hosts.map((h) => h.reader));
    await Promise.all(this.#hosts.map((h) => h.relay.close()));
    for (const h of this.#hosts) await ipQuiet("netns", "del", h.ns);
    for (const h of this.#hosts) await ipQuiet("link", "del", h.veth); // gone with its peer, normally
    await ipQuiet("link", "del", this.bridge);
    if (this.#partitioned) await ipQuiet("link", "del", `${this.bridge}p`);
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
    await Deno.remove(`${STATE_DIR}/${this.rid}.pid`).catch(() => {});
  }
}

/** The relay: forwards RPC calls from stdin to nodes reached on this namespace's 127.0.0.1. */
async function relayMain(): Promise<void> {
  const enc = new TextEncoder();
  const out = Deno.stdout.writable.getWriter();
  const calls: Promise<void>[] = [];
  for await (const line of lines(Deno.stdin.readable)) {
    const { id, dataDir, method, params } = JSON.parse(line);
    calls.push((async () => {
      let reply: RelayReply;
      try {
        reply = { id, result: await callRpc(dataDir, method, params) };
      } catch (e) {
        if (e instanceof NoNode) reply = { id, error: { kind: "nonode", message: e.message } };
        else if (e instanceof RpcError) {
          reply = { id, error: { kind: "rpc", code: e.code, message: e.message } };
        } else reply = { id, error: { kind: "rpc", message: String(e) } };
      }
      await out.write(enc.encode(JSON.stringify(reply) + "\n"));
    })());
  }
  await Promise.all(calls);
  await out.close();
}

if (import.meta.main && Deno.args[0] === "relay") await relayMain();
