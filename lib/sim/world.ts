/**
 * A simulated LAN of real `Network` nodes: N instances of the network code over the memory transport and one
 * virtual clock, each with its own in-memory tracker file copied from one shared list, a `SimLedger`, and a
 * seeded random source, so a seed replays a run exactly. The world starts, kills (SIGKILL), stops, freezes
 * and partitions nodes, mines blocks and measures what the network did: how many networks there are, how
 * long joining took, how far and fast a block spread, how many frames that cost, how many links a node holds.
 *
 * It uses only the network's public surface (constructor options, `start`, `stop`, `relayBlock`, `role`,
 * `primary`, `linkCount`, `onEvent`'s `role` events); links and traffic are read from the transport, blocks from
 * the ledgers, so the world keeps working when the network's insides change.
 * @module
 */
import { BanList } from "../net/ban.ts";
import type { NetworkTimings } from "../net/config.ts";
import { Network, type NetworkEvent, type Role } from "../net/network.ts";
import type { HostPort } from "../net/messages.ts";
import type { TrackerContents, TrackerFile } from "../net/tracker.ts";
import { type LanModel, MemoryNet, SIM_PORT } from "./memory_transport.ts";
import { SimKeys } from "./sim_keys.ts";
import { type SybilAnswers, SybilBand, type SybilFlood } from "./sybil.ts";
import { type Random, randomInt, seededRandom } from "./random.ts";
import { sample } from "../net/overlay.ts";
import { BlockStore, type SimBlock, SimLedger } from "./sim_ledger.ts";
import { type NodeClock, VirtualClock } from "./virtual_clock.ts";

/**
 * What a world may choose of every node's `Network`: its timings and the Peers a SuperPeer serves. The world
 * sets node id, address, tracker, transport, clock, bans, random and events itself.
 */
export interface WorldNetworkOptions extends Partial<NetworkTimings> {
  /** Peers a SuperPeer serves at most (default `DEFAULT_MAX_PEERS`). */
  maxPeers?: number;
}

/** Settings of a world. */
export interface WorldOptions {
  /** Seeds every random choice: node ids, latencies, churn, each network's `random`. */
  seed: number;
  /** What every node's `Network` is given besides what the world sets itself (`WorldNetworkOptions`). */
  network?: WorldNetworkOptions;
  /** The LAN model (default `GIGABIT_LAN`). */
  lan?: Partial<LanModel>;
  /** The clock's step quantum in ms (default `DEFAULT_QUANTUM_MS`). */
  quantumMs?: number;
  /** The shared tracker file lists the addresses of this many first nodes (default 8). */
  trackerSeeds?: number;
  /** Hears every node's events too (the world counts them either way). */
  onEvent?: (node: SimNode, e: NetworkEvent) => void;
}

/** Where a simulated node is in its life. */
export type NodeState = "new" | "up" | "frozen" | "stopping" | "stopped" | "killed";

/** One simulated machine. */
export interface SimNode {
  /** Position in `World.nodes`: also fixes its address. */
  readonly index: number;
  /** Its node id. */
  readonly id: string;
  /** Its virtual IPv4 address. */
  readonly host: string;
  /** `host:port`, as it advertises itself. */
  readonly listen: string;
  /** Its ledger (kept after death, for the record). */
  readonly ledger: SimLedger;
  /** Its clock. */
  readonly clock: NodeClock;
  /** Its network while it exists (dropped when it dies, so the garbage collector can take it). */
  net: Network | undefined;
  /** Where it is in its life. */
  state: NodeState;
  /** Virtual ms at `start()`. */
  startedAt: number;
  /** Virtual ms of its first `role` event, and that role. */
  firstRole?: { at: number; role: Role };
  /**
   * Virtual ms of its first link in the overlay: to a SuperPeer (`superpeer-linked`), or as a SuperPeer to
   * another (`mesh-linked`) or to a Peer it serves (`peer-joined`).
   */
  linkedAt?: number;
}

/** Networks among live nodes: connected components of the graph of streams open at both ends. */
export interface Components {
  /** How many networks. */
  count: number;
  /** Nodes in the largest. */
  largest: number;
  /** Live nodes with no open stream at all. */
  isolated: number;
}

/** How one block spread. */
export interface BlockSpread {
  /** Its height. */
  height: number;
  /** Nodes that were live when it was mined and still are. */
  live: number;
  /** Of those, how many have it. */
  reached: number;
  /** Hops from the miner of each node reached (the miner excluded; unknown senders left out). */
  hops: number[];
  /** Virtual ms from mining to arrival at each node reached (the miner excluded). */
  ms: number[];
  /** Frames written per live node from mining until it had spread (or the wait ended), all types. */
  framesPerNode: number;
  /** Of those, `block` frames. */
  blockFramesPerNode: number;
}

/** A mined block waiting to be measured. */
export interface Mined {
  /** The block. */
  block: SimBlock;
  /** Where it was mined. */
  miner: SimNode;
  /** Virtual ms when it was mined. */
  t0: number;
  /** Nodes live then. */
  liveThen: Set<SimNode>;
  /** Frames written on the LAN so far (all types, and `block`). */
  framesBefore: { all: number; block: number };
}

/** What a `churn` did so far. */
export interface Churn {
  /** New nodes started. */
  joined: number;
  /** Nodes SIGKILLed. */
  killed: number;
  /** Nodes stopped gracefully. */
  stopped: number;
}

/** Counts of what the nodes reported. */
export interface EventCounts {
  /** `role` events. */
  roles: number;
  /** `superpeer-lost` events: a Peer lost one of its SuperPeers. */
  superPeerLost: number;
  /** `misbehaviour` events: in an honest simulation, each one is a bug. */
  misbehaviour: number;
  /** The first few misbehaviour reasons. */
  misbehaviourSamples: string[];
  /** Errors thrown by `start()` or `stop()`. */
  errors: string[];
}

/** Honest nodes of one capture count (`World.captured`). */
export interface Capture {
  /** Live honest nodes. */
  honest: number;
  /** Of those, nodes whose every overlay link (SuperPeers, mesh neighbours, Peers) goes to an attacker. */
  captured: number;
  /** Of those, nodes holding no overlay link at all. */
  alone: number;
}

/** The virtual IPv4 address of node `index`: 10.0.0.1, 10.0.0.2, ... */
export function hostOf(index: number): string {
  const n = index + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

/** An in-memory tracker file: each simulated machine has its own copy. */
export function memoryTracker(initial: readonly HostPort[]): TrackerFile & { addrs: readonly HostPort[] } {
  const t = {
    addrs: [...initial] as readonly HostPort[],
    read: (): Promise<TrackerContents> => Promise.resolve({ addrs: [...t.addrs], warnings: [] }),
    write: (addrs: readonly HostPort[]): Promise<void> => {
      t.addrs = [...addrs];
      return Promise.resolve();
    },
  };
  return t;
}

/** The simulated LAN and its nodes. */
export class World {
  /** The shared virtual clock. */
  readonly clock: VirtualClock;
  /** The memory transport. */
  readonly lan: MemoryNet;
  /** Every block, shared by the ledgers. */
  readonly blocks: BlockStore;
  /** Every node ever created, in creation order. */
  readonly nodes: SimNode[] = [];
  /** What the nodes reported. */
  readonly events: EventCounts = {
    roles: 0,
    superPeerLost: 0,
    misbehaviour: 0,
    misbehaviourSamples: [],
    errors: [],
  };
  readonly #opts: WorldOptions;
  readonly #tracker: HostPort[];
  readonly #ids: Random;
  readonly #secrets: Random;
  /** Every node's key: ids are proven in each handshake, as on a real LAN. */
  readonly keys: SimKeys = new SimKeys();
  readonly #pick: Random;
  readonly #byId = new Map<string, SimNode>();
  #live = 0;

  /** An empty world; add nodes with `addNodes` or `startNodes`. */
  constructor(opts: WorldOptions) {
    this.#opts = opts;
    this.clock = new VirtualClock({ quantumMs: opts.quantumMs });
    this.lan = new MemoryNet(this.clock, seededRandom(opts.seed, "lan"), opts.lan);
    this.blocks = new BlockStore(this.clock);
    this.#ids = seededRandom(opts.seed, "node ids");
    this.#secrets = seededRandom(opts.seed, "node keys");
    this.#pick = seededRandom(opts.seed, "world");
    const seeds = opts.trackerSeeds ?? 8;
    this.#tracker = Array.from({ length: seeds }, (_, i) => ({ hostname: hostOf(i), port: SIM_PORT }));
  }

  /** The world's own random source (for scenario choices), seeded apart from everything else. */
  get random(): Random {
    return this.#pick;
  }

  /** Nodes live now (running or frozen). */
  get liveCount(): number {
    return this.#live;
  }

  /** Live nodes (running or frozen), in creation order. */
  live(): SimNode[] {
    return this.nodes.filter(isLive);
  }

  /** Running (live and not frozen) nodes. */
  running(): SimNode[] {
    return this.nodes.filter((n) => n.state === "up");
  }

  /** The node with this id. */
  node(id: string): SimNode | undefined {
    return this.#byId.get(id);
  }

  /**
   * Adds `k` Sybil SuperPeers (lib/sim/sybil.ts), each with its own key, on one host (10.254.0.1, ports from
   * `SIM_PORT`) or on `k` hosts (10.253.x.y), knowing the shared tracker file's addresses; each starts at
   * `startAt` virtual ms from now. They are not in `nodes`: every figure of the world counts honest nodes only.
   */
  addSybils(
    k: number,
    opts: {
      oneHost: boolean;
      startAt?: number;
      answers?: SybilAnswers;
      meshTarget?: number;
      hijack?: boolean;
      flood?: SybilFlood;
      /** The tip every Sybil's hello claims (default the genesis block, with its work). */
      claimTip?: { hash: string; height: number; work: string };
    },
  ): SybilBand {
    const band = new SybilBand(opts);
    const genesis = this.blocks.genesis;
    // By default each claims the genesis tip with its true work: level with a fresh honest node, so its hello
    // alone does not give it away before the first block.
    const level = new SimLedger(this.blocks, "sybil", this.clock).tip();
    const chain = {
      network: "regtest" as const,
      genesis: genesis.hash,
      tip: opts.claimTip ?? { hash: genesis.hash, height: 0, work: level.work.toString(16) },
    };
    const seeds = this.#tracker.map((a) => `${a.hostname}:${a.port}`);
    let minted = 0;
    for (let i = 0; i < k; i++) {
      const host = opts.oneHost ? "10.254.0.1" : `10.253.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`;
      let id = "";
      do {
        id = "5b";
        for (let j = 0; j < 4; j++) id += randomInt(this.#ids, 0x10000).toString(16).padStart(4, "0");
      } while (this.#byId.has(id) || band.has(id));
      const clock = this.clock.forNode();
      const s = band.add({
        identity: this.keys.identity(id, randomInt(this.#secrets, 0x100000000)),
        checkSignature: this.keys.check,
        host,
        port: opts.oneHost ? SIM_PORT + i : SIM_PORT,
        transport: this.lan.transport(host, clock),
        clock,
        random: seededRandom(this.#opts.seed, `sybil ${i}`),
        chain,
        seeds,
        mint: () =>
          this.keys.identity(
            `flood-${minted++}`,
            randomInt(this.#secrets, 0x100000000),
          ),
      });
      this.clock.setTimeout(() => {
        s.start().catch((e) => this.events.errors.push(`sybil ${s.listen}: ${(e as Error).message}`));
      }, opts.startAt ?? 0);
    }
    return band;
  }

  /**
   * Live honest nodes whose every overlay link goes to a node `isAttacker` names: a Peer whose SuperPeers are
   * all attackers, or a SuperPeer whose mesh neighbours are all attackers and that serves no Peer.
   */
  captured(isAttacker: (nodeId: string) => boolean): Capture {
    let honest = 0, captured = 0, alone = 0;
    for (const n of this.live()) {
      honest++;
      const links = n.net?.linkInfo() ?? [];
      if (!links.length) alone++;
      else if (links.every((l) => isAttacker(l.nodeId))) captured++;
    }
    return { honest, captured, alone };
  }

  /**
   * Creates a node (not started): the next address, a fresh id, its own tracker copy, ledger and clock. `at`
   * puts it on a given host and port instead (several nodes on one machine), with options of its own.
   */
  addNode(at: { host?: string; port?: number; network?: WorldNetworkOptions } = {}): SimNode {
    const index = this.nodes.length;
    const host = at.host ?? hostOf(index), port = at.port ?? SIM_PORT;
    let id = "";
    do {
      id = "";
      for (let i = 0; i < 4; i++) id += randomInt(this.#ids, 0x10000).toString(16).padStart(4, "0");
    } while (this.#byId.has(id));
    const clock = this.clock.forNode();
    const ledger = new SimLedger(this.blocks, id, this.clock);
    const node: SimNode = {
      index,
      id,
      host,
      listen: `${host}:${port}`,
      ledger,
      clock,
      net: undefined,
      state: "new",
      startedAt: NaN,
    };
    node.net = new Network(ledger, {
      ...this.#opts.network,
      ...at.network,
      identity: this.keys.identity(id, randomInt(this.#secrets, 0x100000000)),
      checkSignature: this.keys.check,
      bind: { hostname: host, port },
      tracker: memoryTracker(this.#tracker),
      transport: this.lan.transport(host, clock),
      clock,
      bans: new BanList({ now: () => clock.now() }), // bans expire in virtual time too
      random: seededRandom(this.#opts.seed, `node ${index}`),
      onEvent: (e) => this.#onEvent(node, e),
    });
    this.nodes.push(node);
    this.#byId.set(id, node);
    return node;
  }

  /** Starts a created node now. */
  start(node: SimNode): void {
    if (node.state !== "new") throw new Error(`node ${node.index} was already started`);
    node.state = "up";
    node.startedAt = this.clock.elapsed;
    this.#live++;
    node.net!.start().catch((e) => this.#error(node, "start", e));
  }

  /** Creates `n` nodes and schedules their starts evenly over `spreadMs` from now; returns them. */
  startNodes(n: number, spreadMs: number): SimNode[] {
    const made: SimNode[] = [];
    for (let i = 0; i < n; i++) {
      const node = this.addNode();
      made.push(node);
      this.clock.setTimeout(() => this.start(node), n > 1 ? (spreadMs * i) / (n - 1) : 0);
    }
    return made;
  }

  /** SIGKILL: the node's timers stop, its streams end abruptly, its address refuses dials. */
  kill(node: SimNode): void {
    if (!isLive(node) && node.state !== "stopping") return;
    if (isLive(node)) this.#live--;
    this.#gone(node, "killed");
  }

  /** A graceful stop (`Network.stop()`); the machine goes away once it has finished. */
  stop(node: SimNode): void {
    if (node.state !== "up") return;
    node.state = "stopping";
    this.#live--;
    const net = node.net!;
    net.stop().catch((e) => this.#error(node, "stop", e)).finally(() => {
      if (node.state === "stopping") this.#gone(node, "stopped");
    });
  }

  /** SIGSTOP or a pulled cable: the node runs nothing, and nothing reaches it or leaves it. */
  freeze(node: SimNode): void {
    if (node.state !== "up") return;
    node.state = "frozen";
    node.clock.freeze();
    this.lan.freeze(node.host);
  }

  /** Lets a frozen node run again. */
  thaw(node: SimNode): void {
    if (node.state !== "frozen") return;
    node.state = "up";
    this.lan.thaw(node.host);
    node.clock.thaw();
  }

  /** Cuts the LAN into groups (unlisted nodes form one more group). */
  partition(groups: readonly SimNode[][]): void {
    this.lan.partition(groups.map((g) => g.map((n) => n.host)));
  }

  /** Ends the partition. */
  heal(): void {
    this.lan.heal();
  }

  /**
   * Schedules churn over the next `forMs`: `joinsPerMinute` new machines start (new addresses, the shared
   * tracker file) and `leavesPerMinute` running nodes leave, each one killed (with probability `killShare`)
   * or stopped gracefully. Events are spread evenly, each at a seeded random point of its slot. The counts in
   * the returned object fill in as the clock runs.
   */
  churn(opts: { joinsPerMinute: number; leavesPerMinute: number; forMs: number; killShare: number }): Churn {
    const done: Churn = { joined: 0, killed: 0, stopped: 0 };
    const slots = (perMinute: number) => Math.round((perMinute * opts.forMs) / 60_000);
    const schedule = (count: number, fn: () => void) => {
      const slot = opts.forMs / Math.max(1, count);
      for (let i = 0; i < count; i++) this.clock.setTimeout(fn, (i + this.#pick()) * slot);
    };
    schedule(slots(opts.joinsPerMinute), () => {
      this.start(this.addNode());
      done.joined++;
    });
    schedule(slots(opts.leavesPerMinute), () => {
      const running = this.running();
      if (running.length === 0) return;
      const victim = running[randomInt(this.#pick, running.length)];
      if (this.#pick() < opts.killShare) {
        this.kill(victim);
        done.killed++;
      } else {
        this.stop(victim);
        done.stopped++;
      }
    });
    return done;
  }

  /** SIGKILLs the `k` SuperPeers with the most open streams now; returns them. */
  killSuperPeers(k: number): SimNode[] {
    const victims = this.busiest(this.superPeers()).slice(0, k);
    for (const v of victims) this.kill(v);
    return victims;
  }

  /** Freezes `count` running nodes: the busiest SuperPeer first when `superPeerFirst`, the rest at random. */
  freezeSome(count: number, superPeerFirst: boolean): SimNode[] {
    const chosen: SimNode[] = [];
    if (superPeerFirst) {
      const sp = this.busiest(this.superPeers().filter((n) => n.state === "up"))[0];
      if (sp) chosen.push(sp);
    }
    const rest = this.running().filter((n) => !chosen.includes(n));
    chosen.push(...sample(rest, count - chosen.length, this.#pick));
    for (const n of chosen) this.freeze(n);
    return chosen;
  }

  /** Splits the live nodes at random into `groups` groups of about equal size and partitions the LAN so. */
  partitionAtRandom(groups: number): SimNode[][] {
    const shuffled = sample(this.live(), this.#live, this.#pick);
    const out: SimNode[][] = Array.from({ length: groups }, () => []);
    shuffled.forEach((n, i) => out[i % groups].push(n));
    this.partition(out);
    return out;
  }

  /** Live nodes whose network says it is a SuperPeer. */
  superPeers(): SimNode[] {
    return this.live().filter((n) => n.net?.role === "superpeer");
  }

  /** Live nodes by open streams, most first (ties by creation order). */
  busiest(nodes: SimNode[] = this.live()): SimNode[] {
    const links = new Map(nodes.map((n) => [n, this.lan.openStreams(n.host)]));
    return [...nodes].sort((a, b) => links.get(b)! - links.get(a)! || a.index - b.index);
  }

  /** Mines a block at `miner` (default: a random running node) and relays it from there. */
  mine(miner?: SimNode): Mined {
    const running = this.running();
    const m = miner ?? running[randomInt(this.#pick, running.length)];
    if (!m || m.state !== "up") throw new Error("no running node to mine on");
    const t = this.lan.totals();
    const framesBefore = { all: sumFrames(t), block: t.block?.frames ?? 0 };
    const block = m.ledger.mine();
    m.net!.relayBlock(block.bytes);
    return { block, miner: m, t0: this.clock.elapsed, liveThen: new Set(this.live()), framesBefore };
  }

  /** Runs until every node live now has `mined`'s block, or `maxMs` has passed; returns whether all had it. */
  async waitForBlock(mined: Mined, maxMs: number): Promise<boolean> {
    const { block } = mined;
    let lastFull = -Infinity;
    return await this.clock.until(() => {
      if (block.arrivals.size < this.#live) return false;
      // A full check costs O(N): at most once per virtual millisecond.
      if (this.clock.elapsed - lastFull < 1) return false;
      lastFull = this.clock.elapsed;
      return this.nodes.every((n) => !isLive(n) || n.ledger.knows(block.hash));
    }, maxMs);
  }

  /** How `mined`'s block has spread among the nodes live both when it was mined and now. */
  spread(mined: Mined): BlockSpread {
    const { block, miner, t0, liveThen } = mined;
    const nodes = [...liveThen].filter(isLive);
    const hopsOf = this.#hopCounter(block, miner);
    const hops: number[] = [], ms: number[] = [];
    let reached = 0;
    for (const n of nodes) {
      const a = block.arrivals.get(n.id);
      if (!a) continue;
      reached++;
      if (n === miner) continue;
      ms.push(a.t - t0);
      const h = hopsOf(n.id);
      if (h !== undefined) hops.push(h);
    }
    const t = this.lan.totals();
    const live = Math.max(1, this.#live);
    return {
      height: block.height,
      live: nodes.length,
      reached,
      hops,
      ms,
      framesPerNode: (sumFrames(t) - mined.framesBefore.all) / live,
      blockFramesPerNode: ((t.block?.frames ?? 0) - mined.framesBefore.block) / live,
    };
  }

  /**
   * Networks among live nodes: components of the graph of streams open at both ends for at least
   * `minLinkAgeMs` (default 1 s, so a probe of a few milliseconds does not join two networks).
   */
  components(minLinkAgeMs = 1000): Components {
    const live = this.live();
    const index = new Map(live.map((n, i) => [n.host, i]));
    const parent = live.map((_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) i = parent[i] = parent[parent[i]];
      return i;
    };
    const linked = new Set<number>();
    this.lan.forEachLink((a, b) => {
      const i = index.get(a), j = index.get(b);
      if (i === undefined || j === undefined) return;
      linked.add(i).add(j);
      parent[find(i)] = find(j);
    }, minLinkAgeMs);
    const sizes = new Map<number, number>();
    for (let i = 0; i < live.length; i++) sizes.set(find(i), (sizes.get(find(i)) ?? 0) + 1);
    return {
      count: sizes.size,
      largest: Math.max(0, ...sizes.values()),
      isolated: live.length - linked.size,
    };
  }

  /**
   * Live nodes reachable from `from` over streams open at both ends between live honest nodes (links to
   * hosts outside `nodes`, such as Sybils, carry nothing here), `from` included.
   */
  reachable(from: SimNode): Set<SimNode> {
    const byHost = new Map(this.live().map((n) => [n.host, n]));
    const next = new Map<string, string[]>();
    this.lan.forEachLink((a, b) => {
      if (!byHost.has(a) || !byHost.has(b)) return;
      (next.get(a) ?? next.set(a, []).get(a)!).push(b);
      (next.get(b) ?? next.set(b, []).get(b)!).push(a);
    });
    const seen = new Set<string>([from.host]);
    const todo = [from.host];
    while (todo.length) {
      for (const h of next.get(todo.pop()!) ?? []) {
        if (!seen.has(h)) (seen.add(h), todo.push(h));
      }
    }
    return new Set([...seen].map((h) => byHost.get(h)!).filter((n) => n !== undefined));
  }

  /** Most open streams on any live node (transport), and most greeted links (`linkCount`). */
  mostLinks(): { streams: number; greeted: number } {
    let streams = 0, greeted = 0;
    for (const n of this.live()) {
      streams = Math.max(streams, this.lan.openStreams(n.host));
      greeted = Math.max(greeted, n.net?.linkCount ?? 0);
    }
    return { streams, greeted };
  }

  /** Live nodes lacking any of `blocks`. */
  missing(blocks: readonly SimBlock[]): SimNode[] {
    return this.live().filter((n) => blocks.some((b) => !n.ledger.knows(b.hash)));
  }

  #onEvent(node: SimNode, e: NetworkEvent): void {
    this.#opts.onEvent?.(node, e);
    switch (e.type) {
      case "role":
        this.events.roles++;
        node.firstRole ??= { at: this.clock.elapsed, role: e.role };
        return;
      case "superpeer-linked": // a Peer holds a SuperPeer
      case "mesh-linked": // a SuperPeer holds another
      case "peer-joined": // a SuperPeer serves a Peer
        node.linkedAt ??= this.clock.elapsed;
        return;
      case "superpeer-lost":
        this.events.superPeerLost++;
        return;
      case "misbehaviour":
        if (this.events.misbehaviour++ < 10) {
          this.events.misbehaviourSamples.push(`${node.host} about ${e.host}: ${e.reason} (${e.score})`);
        }
        return;
      default:
        return;
    }
  }

  #error(node: SimNode, what: string, e: unknown): void {
    this.events.errors.push(`${node.host} ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  /** The machine goes away: its timers stop, its address refuses dials, its network is dropped. */
  #gone(node: SimNode, state: "killed" | "stopped"): void {
    node.clock.kill();
    this.lan.kill(node.host);
    node.state = state;
    node.net = undefined;
  }

  /** Hops from the miner for each node, following `from` (the sender's id) back to the miner. */
  #hopCounter(block: SimBlock, miner: SimNode): (id: string) => number | undefined {
    const memo = new Map<string, number | undefined>([[miner.id, 0]]);
    const hopsOf = (id: string): number | undefined => {
      if (memo.has(id)) return memo.get(id);
      const path: string[] = [];
      let cur: string | undefined = id, base: number | undefined;
      while (cur !== undefined) {
        if (memo.has(cur)) {
          base = memo.get(cur);
          break;
        }
        if (path.includes(cur)) break; // a loop cannot happen: each node connects a block once
        path.push(cur);
        cur = block.arrivals.get(cur)?.from;
      }
      for (let i = path.length - 1; i >= 0; i--) {
        base = base === undefined ? undefined : base + 1;
        memo.set(path[i], base);
      }
      return memo.get(id);
    };
    return hopsOf;
  }
}

function isLive(n: SimNode): boolean {
  return n.state === "up" || n.state === "frozen";
}

function sumFrames(t: Record<string, { frames: number }>): number {
  let s = 0;
  for (const v of Object.values(t)) s += v.frames;
  return s;
}
