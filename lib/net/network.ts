/**
 * The peer-to-peer network: Peer and SuperPeer roles, the ordered peer list, successor election when the hub
 * dies, merging of hubs that meet, relay and block sync. It moves blocks and transactions and asks the ledger
 * (a `LedgerPort`) what they are worth; it never decides consensus itself.
 *
 * Topology: a star. Every node listens, so any node can be promoted at once. A Peer keeps one link, to the
 * hub; the SuperPeer keeps one link per Peer and relays between them.
 * @module
 */
import { BanList } from "./ban.ts";
import { MAX_INV, type Message, type PeerEntry } from "./messages.ts";
import { type HelloMessage, type HostPort, parseHostPort, PROTOCOL_VERSION } from "./messages.ts";
import type { TrackerFile } from "./tracker.ts";
import {
  type Clock,
  every,
  type Listener,
  sleep,
  systemClock,
  tcpTransport,
  type Transport,
} from "./transport.ts";
import { type Link, LinkSet } from "./link.ts";
import { Relay } from "./relay.ts";
import type { LedgerPort } from "./ledger_port.ts";

/** What the network tells its owner. */
export type NetworkEvent =
  | { type: "role"; role: Role; hub: PeerEntry; reason: string }
  | { type: "peers"; peers: PeerEntry[] }
  | { type: "peer-joined" | "peer-left"; peer: PeerEntry }
  | { type: "hub-lost"; hub: PeerEntry }
  | { type: "misbehaviour"; host: string; score: number; reason: string };

/** A node's role. */
export type Role = "peer" | "superpeer";

/** Settings of a `Network`. */
export interface NetworkOptions {
  /** This node's id (printable ASCII, no spaces, at most 64). */
  nodeId: string;
  /** Where to listen. Port 0 picks a free one. */
  bind: HostPort;
  /** The `host:port` others should dial; defaults to `advertiseHost` (or the bound host) and the bound port. */
  advertise?: string;
  /** The host others should dial when binding all interfaces. */
  advertiseHost?: string;
  /** The tracker list: read at start, rewritten from every peer list. */
  tracker: TrackerFile;
  /** Streams and listeners (default TCP). */
  transport?: Transport;
  /** Time and timers (default the system clock). */
  clock?: Clock;
  /** Random numbers in [0, 1) (default `Math.random`); seeded in the simulation. */
  random?: () => number;
  /** Addresses to try instead of the tracker's. */
  connect?: string[];
  /** Connect timeout in ms (default 1000). */
  connectTimeoutMs?: number;
  /** Ping interval in ms (default 2000). */
  pingIntervalMs?: number;
  /** A link with no frame for this long is dead, in ms (default 8000). */
  deadAfterMs?: number;
  /** How often a hub probes remembered addresses for other hubs, in ms (default 3000). */
  probeIntervalMs?: number;
  /** Most simultaneous links (default 64). */
  maxLinks?: number;
  /** Receives events; must not throw. */
  onEvent?: (e: NetworkEvent) => void;
}

const HELLO_TIMEOUT_MS = 3000;
const WAKE_TICK_MS = 250;
/** Links that have not said hello yet, at most (an honest node says it within milliseconds). */
const MAX_WAITING_LINKS = 16;
const MAX_REMEMBERED = 50;

/** Orders hubs that meet: the one promoted earlier stays, ties by node id. */
/**
 * Orders hubs that meet: the one with more peers stays (a hub cut off by a pulled cable has none left),
 * then the one promoted earlier, then the smaller node id. Both ends decide from the same two hellos.
 */
function outranks(a: HubRank, b: HubRank): boolean {
  if (a.members !== b.members) return a.members > b.members;
  const sa = a.since ?? Infinity, sb = b.since ?? Infinity;
  return sa !== sb ? sa < sb : a.nodeId < b.nodeId;
}

/** What `outranks` compares, as carried in `hello`. */
type HubRank = Pick<HelloMessage, "members" | "since" | "nodeId">;

/** A node's place in the network. Create, then `start()`; `stop()` when done. */
export class Network {
  /** This node's id, as sent in `hello`. */
  readonly nodeId: string;
  #opts:
    & Required<Omit<NetworkOptions, "advertise" | "advertiseHost" | "connect" | "onEvent">>
    & NetworkOptions;
  #clock: Clock;
  #ledger: LedgerPort;
  #links: LinkSet;
  #relay: Relay;
  #bans = new BanList();
  #listener?: Listener;
  #advertise = "";
  #role: Role = "peer";
  #since: number | null = null;
  #hubLink: Link | null = null;
  #hub: PeerEntry | null = null;
  #members = new Map<string, Link>();
  #peers: PeerEntry[] = [];
  #remembered: string[] = [];
  #stopping = false;
  #joining = false;
  #probeTimer?: unknown;
  #stopWake?: () => void;
  #lastTick = 0;
  #trackerWrite: Promise<void> = Promise.resolve();

  /**
   * A network for `ledger`; nothing happens until `start()`.
   * @example const net = new Network(ledger, { nodeId, bind: { hostname: "127.0.0.1", port: 0 }, trackerPath });
   */
  constructor(ledger: LedgerPort, opts: NetworkOptions) {
    this.nodeId = opts.nodeId;
    this.#ledger = ledger;
    this.#opts = {
      connectTimeoutMs: 1000,
      pingIntervalMs: 2000,
      deadAfterMs: 8000,
      probeIntervalMs: 3000,
      maxLinks: 64,
      transport: tcpTransport,
      clock: systemClock,
      random: Math.random,
      // An option given as `undefined` (the CLI passes timings it was not told) keeps its default:
      // a spread would copy the undefined over it and turn every deadline into NaN.
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as NetworkOptions,
    };
    this.#clock = this.#opts.clock;
    this.#links = new LinkSet({
      pingIntervalMs: this.#opts.pingIntervalMs,
      deadAfterMs: this.#opts.deadAfterMs,
      transport: this.#opts.transport,
      clock: this.#clock,
      random: this.#opts.random,
      onMessage: (link, msg) => this.#onMessage(link, msg),
      onMisbehaviour: (link, score, reason) => this.#misbehaved(link, score, reason),
      onClose: (link) => this.#onClose(link),
      myHello: () => this.#hello(),
      checkHello: (hello) => this.#checkHello(hello),
    });
    this.#relay = new Relay(ledger, (link, score, reason) => this.#misbehaved(link, score, reason));
  }

  /** The current role. */
  get role(): Role {
    return this.#role;
  }

  /** The current hub (this node when it is the SuperPeer), or null while looking for one. */
  get hub(): PeerEntry | null {
    return this.#hub;
  }

  /** The last peer list: the hub first, then peers by join time. */
  get peers(): readonly PeerEntry[] {
    return this.#peers;
  }

  /** The address others dial to reach this node. */
  get listen(): string {
    return this.#advertise;
  }

  /** Number of open, greeted links. */
  get linkCount(): number {
    return this.#links.greeted().length;
  }

  /** Listens, then joins the network through the tracker (or `connect`), or becomes the SuperPeer. */
  async start(): Promise<void> {
    this.#listener = this.#opts.transport.listen(this.#opts.bind);
    const bound = this.#listener.addr;
    const host = this.#opts.advertiseHost ?? bound.hostname;
    this.#advertise = this.#opts.advertise ?? `${host.includes(":") ? `[${host}]` : host}:${bound.port}`;
    this.#acceptLoop(this.#listener);
    this.#lastTick = this.#clock.now();
    this.#stopWake = every(this.#clock, WAKE_TICK_MS, () => this.#checkWake());
    const tracker = this.#opts.connect ??
      (await this.#opts.tracker.read()).addrs.map((a) => `${a.hostname}:${a.port}`);
    this.#remember(tracker);
    await this.#join(tracker.filter((a) => a !== this.#advertise), null, "start");
  }

  /** Closes every link and the listener. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#clock.clearTimeout(this.#probeTimer);
    this.#stopWake?.();
    this.#listener?.close();
    await this.#links.closeAll("shutdown");
    await this.#trackerWrite;
  }

  /** Sends a block this node accepted to every link but `except`. */
  relayBlock(bytes: Uint8Array, except?: Link): void {
    this.#relay.pushBlock(bytes, this.#targets(except));
  }

  /** Sends a transaction this node accepted to every link but `except`. */
  relayTx(bytes: Uint8Array, except?: Link): void {
    this.#relay.pushTx(bytes, this.#targets(except));
  }

  #targets(except?: Link): Link[] {
    const all = this.#role === "superpeer"
      ? [...this.#members.values()]
      : this.#hubLink
      ? [this.#hubLink]
      : [];
    return all.filter((l) => l !== except);
  }

  #hello(): Omit<HelloMessage, "type"> {
    const tip = this.#ledger.tip();
    return {
      protocol: PROTOCOL_VERSION,
      network: this.#ledger.network,
      genesis: this.#ledger.genesis,
      nodeId: this.nodeId,
      listen: this.#advertise,
      address: this.#ledger.walletAddress,
      tip: { hash: tip.hash, height: tip.height, work: tip.work.toString(16) },
      role: this.#role,
      since: this.#since,
      members: this.#role === "superpeer" ? this.#members.size : 0,
    };
  }

  /** Why a hello is refused, or undefined when it is welcome. */
  #checkHello(h: HelloMessage): { code: string; reason: string } | undefined {
    if (h.network !== this.#ledger.network) {
      return { code: "network", reason: `this node is on ${this.#ledger.network}, not ${h.network}` };
    }
    if (h.genesis !== this.#ledger.genesis) return { code: "genesis", reason: "different genesis block" };
    if (h.protocol < 1) return { code: "protocol", reason: `protocol ${h.protocol} is not supported` };
    if (h.nodeId === this.nodeId) return { code: "self", reason: "connected to myself" };
    return undefined;
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for await (const conn of listener) {
      const host = conn.remote.hostname;
      // Silent sockets must not lock honest peers out: past a few, the oldest silent one makes room.
      const waiting = this.#links.waiting();
      if (waiting.length >= MAX_WAITING_LINKS) waiting[0].conn.close("no hello: making room");
      if (this.#stopping || this.#links.size >= this.#opts.maxLinks || this.#bans.isBanned(host)) {
        conn.close();
        continue;
      }
      this.#onInbound(this.#links.adopt(conn, true));
    }
  }

  async #onInbound(link: Link): Promise<void> {
    const hello = await this.#links.greet(link, HELLO_TIMEOUT_MS);
    if (!hello) return;
    this.#remember([hello.listen ?? ""]);
    if (link.sentRole !== this.#role) {
      // Our role changed after our hello went out: the dialer acts on the role it saw, so make it dial again.
      link.conn.send({ type: "reject", code: "electing", reason: "role changed; retry" });
      await link.conn.close("role changed during handshake", { flush: true });
      return;
    }
    if (this.#role === "superpeer") {
      if (hello.role === "superpeer") return this.#meetHub(link, hello);
      return this.#admit(link, hello);
    }
    // A Peer is no hub: send the dialer to ours, or ask it to retry while we are looking for one.
    if (this.#hub && this.#hubLink) link.conn.send({ type: "yield", hub: this.#hub.listen });
    else link.conn.send({ type: "reject", code: "electing", reason: "looking for a hub; retry shortly" });
    await link.conn.close("redirected", { flush: true });
  }

  #admit(link: Link, hello: HelloMessage): void {
    const listen = hello.listen ?? formatRemote(link);
    const old = this.#members.get(hello.nodeId);
    if (old) {
      this.#members.delete(hello.nodeId);
      old.conn.close("replaced");
    }
    link.member = true;
    this.#members.set(hello.nodeId, link);
    this.#emit({ type: "peer-joined", peer: { nodeId: hello.nodeId, listen } });
    this.#broadcastPeers();
    this.#relay.afterHandshake(link, hello);
  }

  /** Two hubs met: the one that ranks lower steps down and joins the other with its peers. */
  async #meetHub(link: Link, hello: HelloMessage): Promise<void> {
    if (outranks(link.sentHello ?? this.#hello(), hello)) {
      // We stay; the other hub computes the same and comes back as a Peer.
      await link.conn.close("merge: other hub yields", { flush: true });
      return;
    }
    await link.conn.close("merge: yielding", { flush: true });
    await this.#yieldTo(hello.listen ?? formatRemote(link), "merged into an older hub");
  }

  /** Steps down: tells our peers where to go, then joins `hub`. */
  async #yieldTo(hub: string, reason: string): Promise<void> {
    if (this.#role === "superpeer") {
      this.#clock.clearTimeout(this.#probeTimer);
      const members = [...this.#members.values()];
      this.#members.clear();
      for (const m of members) m.conn.send({ type: "yield", hub });
      await Promise.all(members.map((m) => m.conn.close("yield", { flush: true })));
      this.#role = "peer";
      this.#since = null;
      this.#hub = null;
    }
    await this.#join([hub], null, reason);
  }

  /**
   * Finds a hub among `candidates` in order, following redirects; promotes this node when it comes first
   * (skipping `deadHub`) or nobody answers.
   */
  async #join(candidates: string[], deadHub: PeerEntry | null, reason: string): Promise<void> {
    if (this.#joining || this.#stopping) return;
    this.#joining = true;
    try {
      for (const addr of candidates) {
        if (this.#stopping) return;
        if (addr === this.#advertise) {
          if (deadHub) return this.#promote(`successor of ${deadHub.nodeId}`);
          continue;
        }
        if (await this.#tryCandidate(addr, deadHub, reason)) return;
      }
      this.#promote(candidates.length ? "no hub answered" : "no hub known");
    } finally {
      this.#joining = false;
    }
  }

  /** Tries one candidate until it is our hub, redirects to a live hub, or is found dead. */
  async #tryCandidate(addr: string, deadHub: PeerEntry | null, reason: string): Promise<boolean> {
    const deadline = this.#clock.now() + this.#opts.deadAfterMs + 2000;
    let target = addr, redirects = 0;
    while (!this.#stopping && this.#clock.now() < deadline) {
      const r = await this.#dial(target);
      if (r === "dead") return false;
      if (r === "joined") {
        this.#emit({ type: "role", role: "peer", hub: this.#hub!, reason });
        return true;
      }
      if (r.redirect && r.redirect !== deadHub?.listen && r.redirect !== this.#advertise && redirects < 3) {
        target = r.redirect;
        redirects++;
        continue;
      }
      // Alive but not a hub yet (it has not noticed the old hub's death): give it a moment.
      await sleep(this.#clock, this.#jitter(150));
    }
    return false;
  }

  /** Dials `addr` and joins it if it is a hub. */
  async #dial(addr: string): Promise<"dead" | "joined" | { redirect?: string }> {
    const r = await this.#links.dial(addr, this.#opts.connectTimeoutMs, HELLO_TIMEOUT_MS);
    if (!r) return "dead";
    const { link, hello } = r;
    if (!hello) return link.rejectCode === "electing" ? {} : "dead";
    this.#remember([hello.listen ?? ""]);
    if (hello.role === "superpeer") {
      this.#hubLink = link;
      this.#hub = { nodeId: hello.nodeId, listen: hello.listen ?? addr };
      this.#role = "peer";
      this.#since = null;
      this.#relay.afterHandshake(link, hello);
      if (link.earlyPeers) this.#setPeers([...link.earlyPeers]);
      return "joined";
    }
    return { redirect: await this.#links.redirectOf(link, HELLO_TIMEOUT_MS) };
  }

  #promote(reason: string): void {
    if (this.#stopping) return;
    this.#role = "superpeer";
    this.#since = this.#clock.now();
    this.#hub = { nodeId: this.nodeId, listen: this.#advertise };
    this.#hubLink = null;
    this.#emit({ type: "role", role: "superpeer", hub: this.#hub, reason });
    this.#broadcastPeers();
    this.#scheduleProbe();
  }

  #broadcastPeers(): void {
    const peers: PeerEntry[] = [{ nodeId: this.nodeId, listen: this.#advertise }];
    for (const [nodeId, link] of this.#members) {
      peers.push({ nodeId, listen: link.hello?.listen ?? formatRemote(link) });
    }
    for (const link of this.#members.values()) link.conn.send({ type: "peers", peers, hub: this.nodeId });
    this.#setPeers(peers);
  }

  #setPeers(peers: PeerEntry[]): void {
    this.#peers = peers;
    this.#remember(peers.map((p) => p.listen));
    this.#emit({ type: "peers", peers });
    const ordered = [...new Set([...peers.map((p) => p.listen), ...this.#remembered])].slice(
      0,
      MAX_REMEMBERED,
    );
    const addrs: HostPort[] = [];
    for (const a of ordered) {
      try {
        addrs.push(parseHostPort(a));
      } catch { /* not dialable: leave it out */ }
    }
    this.#trackerWrite = this.#trackerWrite.then(() => this.#opts.tracker.write(addrs)).catch(() => {});
  }

  #remember(addrs: string[]): void {
    for (const a of addrs) {
      if (!a || a === this.#advertise || this.#remembered.includes(a)) continue;
      this.#remembered.push(a);
      if (this.#remembered.length > MAX_REMEMBERED) this.#remembered.shift();
    }
  }

  /** A hub periodically dials remembered addresses that are not its peers, so split networks find each other. */
  #scheduleProbe(delay = this.#jitter(this.#opts.probeIntervalMs)): void {
    this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = this.#clock.setTimeout(async () => {
      if (this.#role !== "superpeer" || this.#stopping) return;
      const mine = new Set([...this.#members.values()].map((l) => l.hello?.listen));
      for (const addr of this.#remembered) {
        if (mine.has(addr) || this.#role !== "superpeer" || this.#stopping || this.#joining) continue;
        const r = await this.#dialProbe(addr);
        if (r) break;
      }
      if (this.#role === "superpeer") this.#scheduleProbe();
    }, delay);
  }

  /**
   * Notices that this process was frozen (SIGSTOP, a sleeping laptop) for longer than peers wait: they
   * have elected a successor meanwhile, so a hub gives up its seniority and probes at once, and yields
   * when it meets the new hub instead of taking the network back.
   */
  #checkWake(): void {
    const now = this.#clock.now(), gap = now - this.#lastTick;
    this.#lastTick = now;
    if (gap > this.#opts.deadAfterMs && this.#role === "superpeer") {
      this.#since = now;
      this.#scheduleProbe(0);
    }
  }

  /** Dials `addr` as a hub; true when that changed our role. */
  async #dialProbe(addr: string): Promise<boolean> {
    const r = await this.#links.dial(addr, this.#opts.connectTimeoutMs, HELLO_TIMEOUT_MS);
    if (!r?.hello) return false;
    const { link, hello } = r;
    if (hello.role === "superpeer") {
      await this.#meetHub(link, hello);
      return this.#role === "peer";
    }
    const redirect = await this.#links.redirectOf(link, HELLO_TIMEOUT_MS);
    if (!redirect || redirect === this.#advertise) return false;
    this.#remember([redirect]);
    return await this.#dialProbe(redirect); // try the hub it named straight away
  }

  async #onMessage(link: Link, msg: Message): Promise<void> {
    switch (msg.type) {
      case "peers":
        if (link === this.#hubLink) this.#setPeers([...msg.peers]);
        // The hub sends the list as soon as it admits us, which can be before `#dial` adopts the link.
        else if (!link.member) link.earlyPeers = msg.peers;
        return;
      case "yield":
        if (link === this.#hubLink) {
          link.yielded = true;
          this.#hubLink = null;
          link.conn.close("hub yielded");
          await this.#join(
            [msg.hub, ...this.#peers.map((p) => p.listen)],
            this.#hub,
            "hub merged into another",
          );
        } else link.redirect = msg.hub;
        return;
      case "reject":
        link.rejectCode = msg.code;
        return;
      default:
        await this.#relay.handle(link, msg, () => this.#targets(link));
    }
  }

  #onClose(link: Link): void {
    if (this.#stopping) return;
    if (link.member && link.hello) {
      const nodeId = link.hello.nodeId;
      if (this.#members.get(nodeId) === link) {
        this.#members.delete(nodeId);
        this.#emit({ type: "peer-left", peer: { nodeId, listen: link.hello.listen ?? "" } });
        this.#broadcastPeers();
      }
      return;
    }
    if (link === this.#hubLink && !link.yielded) {
      const dead = this.#hub!;
      this.#hubLink = null;
      this.#hub = null;
      this.#emit({ type: "hub-lost", hub: dead });
      const list = this.#peers.length ? this.#peers.map((p) => p.listen) : this.#remembered;
      this.#join(list.filter((a) => a !== dead.listen), dead, `failover from ${dead.nodeId}`);
    }
  }

  #misbehaved(link: Link, score: number, reason: string): void {
    const host = link.conn.remote?.hostname ?? "?";
    this.#emit({ type: "misbehaviour", host, score, reason });
    // Many nodes may share a loopback address: there a misbehaving link is cut, never the whole host.
    if (!isLoopback(host) && score > 0) this.#bans.add(host, score);
    if (score >= 100 || this.#bans.isBanned(host)) link.conn.close(`misbehaviour: ${reason}`);
  }

  #jitter(ms: number): number {
    return Math.round(ms * (0.7 + this.#opts.random() * 0.6));
  }

  #emit(e: NetworkEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch { /* an observer's bug must not break the network */ }
  }
}

function formatRemote(link: Link): string {
  const r = link.conn.remote;
  return r ? `${r.hostname}:${r.port}` : "unknown:0";
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

export { MAX_INV };
