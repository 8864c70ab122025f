/**
 * The peer-to-peer network: a super-peer overlay (Yang & Garcia-Molina 2003; Gnutella's ultrapeers). Every
 * node listens, so any node can be promoted at once. A SuperPeer serves up to `maxPeers` Peers and links to
 * the other SuperPeers (a full mesh while few, a bounded-degree mesh past that); a Peer holds two SuperPeers
 * when two exist, a primary and a backup, so losing one costs it nothing and it finds a new second at once.
 * A full SuperPeer points a newcomer to one with room, or tells it to become a SuperPeer and link to the
 * mesh, so capacity grows and nobody is turned away into a network of its own; lightly loaded SuperPeers
 * step down again. The SuperPeer directory and each SuperPeer's roster travel as changes.
 *
 * No node steps down, redirects its Peers or rewrites its tracker because of what another node says about
 * itself: roles in hellos only choose what to ask, the tracker lists only SuperPeers this node greeted, and
 * two SuperPeers that meet simply link up. The network moves blocks and transactions and asks the ledger
 * (a `LedgerPort`) what they are worth; it never decides consensus. The rules themselves are plain
 * functions in `overlay.ts`; this class keeps the state and does the talking.
 * @module
 */
import { AddressBook, type TrackerLead } from "./address_book.ts";
import { BAN_THRESHOLD, BanList, MALFORMED_SCORE } from "./ban.ts";
import {
  HANDSHAKE_TIMEOUT_MS,
  JITTER_SHARE,
  MAX_WAITING_LINKS,
  MESH_CHECK_DELAY_MS,
  MESH_DEGREE,
  MESH_TICK_MS,
  type NetworkConfig,
  type NetworkTimings,
  resolveNetworkConfig,
  ROSTER_BOUND,
} from "./config.ts";
import { Directory } from "./directory.ts";
import { DirectoryGossip } from "./gossip.ts";
import { Joining } from "./joining.ts";
import { SuperPeerDuties } from "./superpeer.ts";
import { type AskResult, entryOf, type Intent, type LinkState, type RoleState } from "./link_state.ts";
import type { Discover } from "./discovery.ts";
import type { LedgerPort } from "./ledger_port.ts";
import { type Link, LinkSet } from "./link.ts";
import {
  formatHostPort,
  type HelloMessage,
  type HostPort,
  MAX_ADDRS,
  type Message,
  MIN_PROTOCOL_VERSION,
  type PeerEntry,
  PROTOCOL_VERSION,
  type SuperPeerEntry,
} from "./messages.ts";
import { isLoopback, type MeshCandidate, meshEvictionVictim, overHostLimit, sample } from "./overlay.ts";
import { Relay } from "./relay.ts";
import type { TrackerFile } from "./tracker.ts";
import { type Clock, every, type Listener, systemClock, tcpTransport, type Transport } from "./transport.ts";
import { normalizeAddress } from "./address_book.ts";
import { ed25519Check, type NodeIdentity, removalMessage, type SignatureCheck } from "./identity.ts";
import { fromHex, toHex } from "../crypto/hex.ts";

/** A node's role in the overlay. */
export type Role = "peer" | "superpeer";

/** What the network tells its owner. */
export type NetworkEvent =
  | { type: "role"; role: Role; reason: string }
  | { type: "superpeer-linked" | "superpeer-lost"; peer: PeerEntry; primary: boolean }
  | { type: "peer-joined" | "peer-left"; peer: PeerEntry }
  | { type: "mesh-linked" | "mesh-lost"; peer: PeerEntry }
  | { type: "misbehaviour"; host: string; score: number; reason: string };

/** One of this node's links as the status and the menu show it. */
export interface LinkInfo extends PeerEntry {
  /** What the link is: a Peer we serve, one of our SuperPeers, or a SuperPeer mesh link. */
  kind: "member" | "superpeer" | "mesh";
  /** Primary (true) or backup (false) for member and superpeer links. */
  primary: boolean;
  /** True when the far end dialled us. */
  inbound: boolean;
  /** Last ping round trip in ms, if measured. */
  pingMs?: number;
}

/** Settings of a `Network`. */
export interface NetworkOptions extends Partial<NetworkTimings> {
  /** This node's key: its node id, proven in every handshake (`loadOrCreateIdentity`, `generateIdentity`). */
  identity: NodeIdentity;
  /** Checks other nodes' proofs (default Ed25519, ids being public keys; the simulation brings its own). */
  checkSignature?: SignatureCheck;
  /** Where to listen. Port 0 picks a free one. */
  bind: HostPort;
  /** The `host:port` others should dial; defaults to `advertiseHost` (or the bound host) and the bound port. */
  advertise?: string;
  /** The host others should dial when binding all interfaces. */
  advertiseHost?: string;
  /** The tracker list: read at start, rewritten from the SuperPeers this node greeted. */
  tracker: TrackerFile;
  /** Addresses to try instead of the tracker's. */
  connect?: string[];
  /** Peers this node serves at most as a SuperPeer (default `DEFAULT_MAX_PEERS`). */
  maxPeers?: number;
  /** Misbehaviour scores and bans (default: a fresh in-memory list). */
  bans?: BanList;
  /** Streams and listeners (default TCP). */
  transport?: Transport;
  /** Time and timers (default the system clock). */
  clock?: Clock;
  /** Random numbers in [0, 1) (default `Math.random`); seeded in the simulation. */
  random?: () => number;
  /** Receives events; must not throw. */
  onEvent?: (e: NetworkEvent) => void;
  /**
   * LAN discovery (`run --discover`): asked when no remembered address took us, before promoting; answers
   * for us while we are a SuperPeer. Off when absent.
   */
  discover?: Discover;
}

/** `NetworkOptions` once resolved: the timings and the capacity always set (`NetworkConfig`). */
type ResolvedOptions = Omit<NetworkOptions, keyof NetworkTimings | "maxPeers"> & NetworkConfig;

/** A node's place in the network. Create, then `start()`; `stop()` when done. */
export class Network {
  /** This node's id, as sent in `hello` and proven there: its public key. */
  readonly nodeId: string;
  /** The owner's options with every number resolved once (`resolveNetworkConfig`): the one place they are read. */
  #opts: ResolvedOptions;
  #clock: Clock;
  #random: () => number;
  #transport: Transport;
  #ledger: LedgerPort;
  #links: LinkSet;
  #state = new Map<Link, LinkState>();
  #relay: Relay;
  #bans: BanList;
  #book: AddressBook;
  /** The directory a SuperPeer keeps and gossips, and the gossip of its changes. */
  #gossip: DirectoryGossip;
  #listener?: Listener;
  #advertise = "";
  #role: RoleState = { kind: "joining" };
  #stopping = false;
  /** Joining, the second SuperPeer, failover. */
  #joiner: Joining;
  /** A SuperPeer's duties: admitting, the mesh, publishing. */
  #sp: SuperPeerDuties;
  #timers: (() => void)[] = [];

  /**
   * A network for `ledger`; nothing happens until `start()`.
   * @example const net = new Network(ledger, { nodeId, bind: { hostname: "127.0.0.1", port: 0 }, tracker });
   */
  constructor(ledger: LedgerPort, opts: NetworkOptions) {
    this.nodeId = opts.identity.nodeId;
    this.#ledger = ledger;
    this.#opts = { ...opts, ...resolveNetworkConfig(opts) };
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#transport = opts.transport ?? tcpTransport;
    this.#bans = opts.bans ?? new BanList();
    this.#book = new AddressBook(opts.tracker, this.#clock);
    this.#links = new LinkSet({
      pingIntervalMs: this.#opts.pingIntervalMs,
      deadAfterMs: this.#opts.deadAfterMs,
      transport: this.#transport,
      clock: this.#clock,
      random: this.#random,
      onMessage: (link, msg) => this.#onMessage(link, msg),
      onMisbehaviour: (link, score, reason) => this.#misbehaved(link, score, reason),
      onClose: (link) => this.#onClose(link),
      myHello: () => this.#hello(),
      checkHello: (hello) => this.#checkHello(hello),
      identity: opts.identity,
      checkSignature: opts.checkSignature ?? ed25519Check,
    });
    this.#relay = new Relay(ledger, {
      misbehaved: (link, score, reason) => this.#misbehaved(link, score, reason),
      news: (link, kind) => this.#news(link, kind),
      now: () => this.#clock.now(),
    });
    const checkSignature = opts.checkSignature ?? ed25519Check;
    this.#gossip = new DirectoryGossip({
      nodeId: this.nodeId,
      clock: this.#clock,
      isSuperPeer: () => this.#role.kind === "superpeer",
      viewOf: (link) => {
        const s = this.#state.get(link);
        return s?.kind === "superpeer" ? s.dir : undefined;
      },
      isMember: (link) => this.#state.get(link)?.kind === "member",
      meshLinks: () => this.#meshLinks(),
      memberLinks: () => this.#members().map(([l]) => l),
      checkSig: (nodeId, sig, message) => checkSignature(nodeId, fromHex(sig), message),
      misbehaved: (link, score, reason) => this.#misbehaved(link, score, reason),
      heardNew: () => {
        if (this.#role.kind === "superpeer") this.#sp.maintainMesh();
        if (this.#role.kind === "peer" && !this.#role.backup) this.#seekSecond();
      },
    });
    this.#joiner = new Joining({
      nodeId: this.nodeId,
      clock: this.#clock,
      random: this.#random,
      book: this.#book,
      discover: opts.discover,
      deadAfterMs: this.#opts.deadAfterMs,
      advertise: () => this.#advertise,
      stopping: () => this.#stopping,
      role: () => this.#role,
      ask: (addr, intent) => this.#ask(addr, intent),
      took: (link, reason) => this.#tookSuperPeer(link, reason),
      release: (link, reason) => {
        this.#state.delete(link);
        link.conn.close(reason);
      },
      directory: () => this.directory(),
      promote: (reason) => this.#promote(reason),
      dialMesh: (addr) => void this.#sp.dialMesh(addr),
      jitter: (ms) => this.#jitter(ms),
    });
    this.#sp = new SuperPeerDuties({
      nodeId: this.nodeId,
      clock: this.#clock,
      random: this.#random,
      book: this.#book,
      gossip: this.#gossip,
      identity: opts.identity,
      capacity: this.#opts.capacity,
      fixedAddresses: opts.connect !== undefined,
      advertise: () => this.#advertise,
      stopping: () => this.#stopping,
      isSuperPeer: () => this.#role.kind === "superpeer",
      links: () => this.#links.all(),
      members: () => this.#members(),
      meshLinks: () => this.#meshLinks(),
      setState: (link, state) => void this.#state.set(link, state),
      forget: (link) => void this.#state.delete(link),
      ask: (addr, intent) => this.#ask(addr, intent),
      relayReady: (link) => this.#relay.afterHandshake(link, link.hello!),
      writeTracker: () => this.#book.scheduleWrite(this.#trackerLead()),
      demote: (reason) => void this.#demote(reason),
      emit: (e) => this.#emit(e),
    });
  }

  /** The directory this node keeps while a SuperPeer (`DirectoryGossip` holds it). */
  get #dir(): Directory {
    return this.#gossip.dir;
  }

  // ---- what others read ----

  /** The current role ("peer" also while looking for a SuperPeer). */
  get role(): Role {
    return this.#role.kind === "superpeer" ? "superpeer" : "peer";
  }

  /** This node's primary SuperPeer (itself when it is one), or null while looking for one. */
  get hub(): PeerEntry | null {
    const r = this.#role;
    if (r.kind === "superpeer") return { nodeId: this.nodeId, listen: this.#advertise };
    return r.kind === "peer" ? entryOf(r.primary) : null;
  }

  /** The address others dial to reach this node. */
  get listen(): string {
    return this.#advertise;
  }

  /** Number of open, greeted links. */
  get linkCount(): number {
    return this.linkInfo().length;
  }

  /** This node's links that carry blocks: its Peers, its SuperPeers, its mesh links. */
  linkInfo(): LinkInfo[] {
    const out: LinkInfo[] = [];
    for (const [link, s] of this.#state) {
      if (s.kind !== "member" && s.kind !== "superpeer" && s.kind !== "mesh") continue;
      out.push({
        ...entryOf(link),
        kind: s.kind,
        primary: s.kind === "mesh" ? false : s.primary,
        inbound: link.inbound,
        pingMs: link.conn.rttMs === undefined ? undefined : Math.round(link.conn.rttMs * 10) / 10,
      });
    }
    return out;
  }

  /** The SuperPeers this node links to: its own (as a Peer) or its mesh neighbours (as a SuperPeer). */
  get superpeers(): PeerEntry[] {
    return this.linkInfo().filter((l) => l.kind !== "member");
  }

  /**
   * The SuperPeer directory as this node knows it: a SuperPeer's own (itself included), a Peer's the union of
   * what its SuperPeers tell it, so it forgets what a SuperPeer it no longer holds told it.
   */
  directory(): SuperPeerEntry[] {
    if (this.#role.kind === "superpeer") return this.#dir.entries();
    const view = new Map<string, SuperPeerEntry>();
    for (const s of this.#state.values()) {
      if (s.kind !== "superpeer") continue;
      for (const e of s.dir.entries()) {
        const old = view.get(e.nodeId);
        if (!old || old.seq < e.seq) view.set(e.nodeId, e);
      }
    }
    return [...view.values()];
  }

  /** Nodes this node knows of: every SuperPeer and the Peers each counts as its own. */
  get networkSize(): number {
    const size = this.directory().reduce((n, e) => n + 1 + e.peers, 0);
    return Math.max(size, 1);
  }

  // ---- life cycle ----

  /** Listens, then joins the network through the tracker (or `connect`), or becomes a SuperPeer. */
  async start(): Promise<void> {
    this.#listener = this.#transport.listen(this.#opts.bind);
    this.#advertise = advertiseAddress(this.#listener.addr, this.#opts.advertise, this.#opts.advertiseHost);
    this.#acceptLoop(this.#listener);
    this.#opts.discover?.serve({
      listen: () => this.#role.kind === "superpeer" ? this.#advertise : undefined,
      found: (addrs) => this.#sp.meetFound(addrs),
    });
    if (this.#opts.connect) {
      for (const a of this.#opts.connect) this.#book.add(a, "connect");
    } else {
      await this.#book.load();
    }
    this.#timers.push(
      every(this.#clock, MESH_TICK_MS, () => this.#tick()),
      every(this.#clock, this.#opts.probeIntervalMs, () => this.#sp.probe()),
    );
    await this.#joiner.join("start");
  }

  /** Closes every link and the listener. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const stop of this.#timers) stop();
    this.#gossip.stop();
    this.#listener?.close();
    this.#book.scheduleWrite(this.#trackerLead());
    await this.#links.closeAll("shutdown");
    await this.#book.flush();
  }

  /** Sends a block this node accepted to every link but `except`. */
  relayBlock(bytes: Uint8Array, except?: Link): void {
    this.#relay.pushBlock(bytes, this.#targets(except));
  }

  /** Sends a transaction this node accepted to every link but `except`. */
  relayTx(bytes: Uint8Array, except?: Link): void {
    this.#relay.pushTx(bytes, this.#targets(except));
  }

  /** Links that carry relay: a SuperPeer's Peers and mesh, a Peer's SuperPeers. */
  #targets(except?: Link): Link[] {
    const out: Link[] = [];
    for (const [link, s] of this.#state) {
      if (link !== except && (s.kind === "member" || s.kind === "superpeer" || s.kind === "mesh")) {
        out.push(link);
      }
    }
    return out;
  }

  // ---- handshake ----

  #hello(): Omit<HelloMessage, "type"> & { since: null } {
    const tip = this.#ledger.tip();
    return {
      protocol: PROTOCOL_VERSION,
      network: this.#ledger.network,
      genesis: this.#ledger.genesis,
      nodeId: this.nodeId,
      listen: this.#advertise,
      address: this.#ledger.walletAddress,
      tip: { hash: tip.hash, height: tip.height, work: tip.work.toString(16) },
      role: this.role,
      // Protocol 1 parsers require this field; with it they read our hello and then our reject's reason.
      since: null,
    };
  }

  /** Why a hello is refused, or undefined when it is welcome. */
  #checkHello(h: HelloMessage): { code: string; reason: string } | undefined {
    if (h.network !== this.#ledger.network) {
      return { code: "network", reason: `this node is on ${this.#ledger.network}, not ${h.network}` };
    }
    if (h.genesis !== this.#ledger.genesis) return { code: "genesis", reason: "different genesis block" };
    if (h.protocol < MIN_PROTOCOL_VERSION) {
      return {
        code: "protocol",
        reason: `protocol ${h.protocol} is too old: this node speaks ${PROTOCOL_VERSION}; upgrade peerchain`,
      };
    }
    if (h.nodeId === this.nodeId) return { code: "self", reason: "connected to myself" };
    // A banned key, from whatever address (its host's own ban is short: DHCP may give it to another machine).
    if (this.#bans.isKeyBanned(h.nodeId)) return { code: "banned", reason: "this node key is banned here" };
    return undefined;
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for await (const stream of listener) {
      const host = stream.remote.hostname;
      if (this.#stopping || this.#bans.isBanned(host) || overHostLimit(host, this.#links.fromHost(host))) {
        stream.close();
        continue;
      }
      // Silent sockets must not lock honest peers out: past a few, the oldest silent one makes room.
      const waiting = this.#links.waiting();
      if (waiting.length >= MAX_WAITING_LINKS) waiting[0].conn.close("no hello: making room");
      if (this.#links.size >= this.#socketCap()) {
        // Full: a socket that has not said what it wants yet (no join, no mesh) makes room; links that
        // serve someone are never pushed out by a mere connection.
        const idle = this.#links.all().find((l) =>
          l.inbound && !l.conn.isClosed && this.#state.get(l)?.kind === "pending"
        );
        // Else an inbound mesh link that relayed no block makes room (never the oldest proven ones): links
        // that say they are SuperPeers cannot fill every slot and keep an honest newcomer out, from
        // loopback neither.
        const victim = idle ?? this.#meshVictim();
        if (!victim) {
          stream.close();
          continue;
        }
        victim.conn.close(idle ? "idle: making room" : "evicted: an idle mesh link makes room");
      }
      this.#onInbound(this.#links.adopt(stream, true));
    }
  }

  /** The inbound mesh link to evict for a newcomer, if any (`meshEvictionVictim`). */
  #meshVictim(): Link | undefined {
    const mesh: MeshCandidate<Link>[] = [];
    for (const [l, s] of this.#state) {
      if (s.kind !== "mesh" || l.conn.isClosed) continue;
      mesh.push({
        id: l,
        host: l.conn.remote.hostname,
        since: l.openedAt,
        inbound: l.inbound,
        lastBlock: s.lastBlock,
      });
    }
    return meshEvictionVictim(mesh);
  }

  /** Sockets at most: every Peer slot, room for mesh links both ways, and the handshakes under way. */
  #socketCap(): number {
    return this.#opts.capacity + 2 * MESH_DEGREE.high + MAX_WAITING_LINKS;
  }

  async #onInbound(link: Link): Promise<void> {
    this.#state.set(link, { kind: "pending" });
    const hello = await this.#links.greet(link, HANDSHAKE_TIMEOUT_MS);
    if (!hello) return;
    if (hello.listen) this.#book.add(hello.listen, "heard");
    // It must say what it wants soon; a socket that only answers pings holds no slot for long.
    this.#clock.setTimeout(() => {
      if (this.#state.get(link)?.kind === "pending") link.conn.close("no join after hello");
    }, HANDSHAKE_TIMEOUT_MS);
  }

  /** Answers what a dialler asks for after its hello. */
  async #onRequest(link: Link, msg: Message): Promise<void> {
    const r = this.#role;
    if (msg.type === "join" && r.kind === "superpeer") return this.#sp.admit(link, msg.primary, msg.holds);
    if (msg.type === "mesh" && r.kind === "superpeer" && link.hello?.role === "superpeer") {
      return this.#sp.acceptMesh(link);
    }
    if (msg.type === "join" || msg.type === "mesh" || msg.type === "getaddr") {
      if (r.kind === "joining") {
        link.conn.send({ type: "reject", code: "busy", reason: "looking for a SuperPeer; retry shortly" });
      } else {
        link.conn.send({ type: "redirect", to: this.#myAddrs() });
      }
      await link.conn.close("redirected", { flush: true });
      return;
    }
    this.#misbehaved(link, MALFORMED_SCORE, `${msg.type} before join`);
    link.conn.close(`${msg.type} before join`);
  }

  /** SuperPeers to name when redirecting: ours (as a Peer), or ourselves and some we know (as one). */
  #myAddrs(): string[] {
    const r = this.#role;
    if (r.kind === "peer") return [r.primary, r.backup].filter((l) => l).map((l) => entryOf(l!).listen);
    const others = sample(this.#sp.others(), MAX_ADDRS - 1, this.#random).map((e) => e.listen);
    return r.kind === "superpeer" ? [this.#advertise, ...others] : others;
  }

  // ---- asking others ----

  /** Dials `addr`, and once it said hello asks it for `intent` (or only for addresses if it is no SuperPeer). */
  async #ask(addr: string, intent: Intent): Promise<AskResult> {
    const r = await this.#links.dial(addr, this.#opts.connectTimeoutMs, HANDSHAKE_TIMEOUT_MS);
    if (!r?.hello) {
      if (r?.link.rejectCode === "busy") return { kind: "busy" };
      this.#book.failed(addr);
      return { kind: "dead" };
    }
    const { link, hello } = r;
    if (hello.listen) this.#book.add(hello.listen, "heard");
    const want: Intent = hello.role === "superpeer" ? intent : { kind: "getaddr" };
    if (hello.role === "superpeer") this.#book.greeted(addr);
    const result = new Promise<AskResult>((resolve) => {
      this.#state.set(link, { kind: "asking", intent: want, resolve, addr });
      link.conn.closed.then(() => resolve(link.rejectCode === "busy" ? { kind: "busy" } : { kind: "dead" }));
    });
    const timer = this.#clock.setTimeout(() => link.conn.close("no answer"), HANDSHAKE_TIMEOUT_MS);
    if (want.kind === "join") {
      link.conn.send({
        type: "join",
        primary: want.primary,
        ...(want.holds === undefined ? {} : { holds: want.holds }),
      });
    } else link.conn.send({ type: want.kind });
    const out = await result;
    this.#clock.clearTimeout(timer);
    return out;
  }

  /** The answer to something we asked for, on a link in state "asking". */
  #onAnswer(link: Link, s: Extract<LinkState, { kind: "asking" }>, msg: Message): void {
    switch (msg.type) {
      case "welcome": {
        // It proved its node id and answered our join or mesh: greeted (its role in hello alone is a claim).
        if (s.intent.kind === "join" || s.intent.kind === "mesh") this.#book.welcomed(s.addr);
        if (s.intent.kind === "join") {
          const dir = new Directory();
          this.#state.set(link, {
            kind: "superpeer",
            primary: s.intent.primary,
            roster: [...msg.members],
            dir,
            addr: s.addr,
          });
          // Fellow Peers are where a SuperPeer left alone after a failover looks for the rest (`#probe`).
          for (const p of msg.members) this.#book.add(p.listen, "heard");
        } else if (s.intent.kind === "mesh") {
          this.#state.set(link, { kind: "mesh", lastBlock: 0, lastTx: 0, addr: s.addr });
        } else return void link.conn.close("unasked welcome");
        void this.#gossip.mergeEntries(msg.superpeers, link);
        s.resolve({ kind: "linked", link });
        return;
      }
      case "full":
        s.resolve({
          kind: "full",
          try: msg.try,
          promote: msg.promote,
          by: { nodeId: entryOf(link).nodeId, host: link.conn.remote.hostname },
        });
        link.conn.close("full");
        return;
      case "redirect":
        s.resolve({ kind: "redirect", to: msg.to, superpeer: link.hello?.role === "superpeer" });
        link.conn.close("redirected");
        return;
      case "reject":
        link.rejectCode = msg.code;
        link.conn.close(`rejected: ${msg.reason}`);
        return;
      default:
        return; // pings aside, an honest SuperPeer says nothing else first
    }
  }

  // ---- joining ----

  /**
   * SuperPeers found on the LAN at the person's request (the menu): a SuperPeer that serves no Peer steps
   * down and joins them as a Peer (it greets them, so its tracker file names them); one that serves Peers
   * links to them instead. Resolves once the join is settled.
   */
  async joinFound(addrs: string[]): Promise<void> {
    if (this.#role.kind !== "superpeer" || !addrs.length || this.#stopping) return;
    if (this.#members().length) return this.#sp.meetFound(addrs);
    for (const a of addrs) this.#book.add(a, "heard");
    await this.#demote("found SuperPeers on this LAN");
  }

  /** A SuperPeer took us (`link` welcomed our join): it becomes our primary, our backup, or one too many. */
  #tookSuperPeer(link: Link, reason: string): void {
    const s = this.#state.get(link);
    if (s?.kind !== "superpeer") return;
    const r = this.#role;
    if (r.kind === "joining") {
      this.#role = { kind: "peer", primary: link, backup: null };
      if (!s.primary) this.#setPrimary(link, true);
      this.#emit({ type: "role", role: "peer", reason });
    } else if (r.kind === "peer" && !r.backup && entryOf(r.primary).nodeId !== entryOf(link).nodeId) {
      r.backup = link;
      if (s.primary) this.#setPrimary(link, false);
    } else {
      this.#state.delete(link);
      link.conn.close("not needed");
      return;
    }
    this.#emit({ type: "superpeer-linked", peer: entryOf(link), primary: this.#isPrimary(link) });
    this.#relay.afterHandshake(link, link.hello!);
    this.#book.scheduleWrite(this.#trackerLead());
    this.#seekSecond();
  }

  /** A Peer with one SuperPeer takes a second when another exists (`Joining.seekSecond`). */
  #seekSecond(): void {
    void this.#joiner.seekSecond();
  }

  #isPrimary(link: Link): boolean {
    const r = this.#role;
    return r.kind === "peer" && r.primary === link;
  }

  /** Tells a SuperPeer of ours whether it is now our primary. */
  #setPrimary(link: Link, primary: boolean): void {
    const s = this.#state.get(link);
    if (s?.kind !== "superpeer") return;
    s.primary = primary;
    link.conn.send({ type: "primary", primary });
  }

  // ---- SuperPeer life ----

  #promote(reason: string): void {
    if (this.#stopping || this.#role.kind === "superpeer") return;
    const old = this.#role;
    // What our SuperPeers told us seeds the directory we now keep ourselves.
    const seed = new Directory();
    const now = this.#clock.now();
    for (const e of this.directory()) seed.merge(e, now);
    this.#gossip.reset(seed);
    this.#role = { kind: "superpeer", since: now };
    this.#joiner.promoted(now);
    if (old.kind === "peer") {
      // Our SuperPeers still count us as their Peer: close and dial again as a SuperPeer.
      for (const l of [old.primary, old.backup]) {
        if (!l) continue;
        const listen = entryOf(l).listen;
        this.#state.delete(l);
        l.conn.close("promoted");
        this.#sp.dialMesh(listen);
      }
    }
    this.#emit({ type: "role", role: "superpeer", reason });
    this.#sp.promoted();
  }

  /** Steps down: tells the mesh, lets its Peers go (each keeps its other SuperPeer) and joins as a Peer. */
  async #demote(reason: string): Promise<void> {
    if (this.#role.kind !== "superpeer") return;
    const seq = this.#sp.nextSeq();
    const sig = toHex(await this.#opts.identity.sign(removalMessage(this.nodeId, seq)));
    if (this.#role.kind !== "superpeer") return;
    this.#dir.remove(this.nodeId, seq, undefined, sig);
    this.#gossip.flush();
    const links = [...this.#state].filter(([, s]) => s.kind === "member" || s.kind === "mesh").map(([l]) =>
      l
    );
    const others = this.#sp.others().map((e) => e.listen);
    this.#gossip.reset();
    this.#role = { kind: "joining" };
    for (const l of links) this.#state.delete(l);
    await Promise.all(links.map((l) => l.conn.close("stepping down", { flush: true })));
    await this.#joiner.join(reason, others); // joining says "became a Peer" once, with the reason
  }

  /** Once a second: expire the directory, republish our entry, keep the mesh degree, consider stepping down. */
  #tick(): void {
    const now = this.#clock.now();
    this.#joiner.expireDead(now);
    if (this.#role.kind === "peer" && !this.#role.backup) this.#seekSecond();
    if (this.#role.kind !== "superpeer") {
      // A SuperPeer's view, as its Peer keeps it, expires too: deaths are no longer gossiped unsigned.
      for (const s of this.#state.values()) {
        if (s.kind !== "superpeer") continue;
        s.dir.expire(now);
        s.dir.takeChanges(); // a Peer forwards nothing
      }
      return;
    }
    this.#sp.tick(now);
  }

  // ---- messages ----

  async #onMessage(link: Link, msg: Message): Promise<void> {
    const s = this.#state.get(link);
    if (!s) return; // a link we let go of, closing
    if (s.kind === "pending") return await this.#onRequest(link, msg);
    if (s.kind === "asking") return this.#onAnswer(link, s, msg);
    switch (msg.type) {
      case "superpeers":
        return await this.#gossip.onSuperpeers(link, msg.add, msg.remove);
      case "members": {
        if (s.kind !== "superpeer") return;
        if (msg.reset) s.roster = [];
        for (const p of msg.add) {
          if (s.roster.some((x) => x.nodeId === p.nodeId)) continue;
          s.roster.push(p);
          this.#book.add(p.listen, "heard");
        }
        if (msg.remove.length) s.roster = s.roster.filter((p) => !msg.remove.includes(p.nodeId));
        // A roster is bounded by the SuperPeer's capacity; a longer one is a lie we need not keep.
        const kept = ROSTER_BOUND.perCapacity * this.#opts.capacity + ROSTER_BOUND.slack;
        if (s.roster.length > kept) s.roster.length = kept;
        return;
      }
      case "primary":
        if (s.kind === "member" && s.primary !== msg.primary) {
          s.primary = msg.primary;
          this.#sp.publish();
        }
        return;
      case "join":
      case "mesh":
      case "getaddr":
      case "welcome":
      case "full":
      case "redirect":
        return; // handshake messages on an established link: ignored
      case "reject":
        link.rejectCode = msg.code; // "prune": a neighbour letting go of a mesh link, alive
        return;
      default:
        await this.#relay.handle(link, msg, () => this.#targets(link));
    }
  }

  /**
   * A link relayed something new to us: remembered for eviction (useful links are kept), and a SuperPeer we
   * dialled and greeted on it has served us (it may go in the tracker file).
   */
  #news(link: Link, kind: "block" | "tx"): void {
    const s = this.#state.get(link);
    if ((s?.kind === "superpeer" || s?.kind === "mesh") && s.addr !== undefined) {
      if (this.#book.served(s.addr)) this.#book.scheduleWrite(this.#trackerLead());
    }
    if (s?.kind !== "member" && s?.kind !== "mesh") return;
    if (kind === "block") s.lastBlock = this.#clock.now();
    else s.lastTx = this.#clock.now();
  }

  #onClose(link: Link): void {
    const s = this.#state.get(link);
    this.#state.delete(link);
    if (this.#stopping || !s) return;
    if (s.kind === "member") return this.#sp.memberGone(link);
    if (s.kind === "mesh") {
      const peer = entryOf(link);
      this.#emit({ type: "mesh-lost", peer });
      if (link.rejectCode !== "prune") {
        this.#clock.setTimeout(() => this.#sp.checkSuperPeer(peer), this.#jitter(MESH_CHECK_DELAY_MS));
      }
      return;
    }
    if (s.kind === "superpeer") this.#superPeerGone(link, s);
  }

  /** One of our SuperPeers is gone: the backup becomes primary and we look for a new second at once. */
  #superPeerGone(link: Link, s: Extract<LinkState, { kind: "superpeer" }>): void {
    const r = this.#role;
    if (r.kind !== "peer") return;
    const dead = entryOf(link);
    this.#joiner.markDead(dead.nodeId);
    this.#emit({ type: "superpeer-lost", peer: dead, primary: r.primary === link });
    if (r.backup === link) r.backup = null;
    else if (r.primary === link) {
      if (!r.backup) {
        this.#role = { kind: "joining" };
        this.#joiner.lostAll(dead, s.roster, s.dir.entries());
        return;
      }
      r.primary = r.backup;
      r.backup = null;
      this.#setPrimary(r.primary, true);
    }
    this.#book.scheduleWrite(this.#trackerLead());
    this.#seekSecond();
  }

  #misbehaved(link: Link, score: number, reason: string): void {
    const host = link.conn.remote.hostname;
    this.#emit({ type: "misbehaviour", host, score, reason });
    // Many nodes may share a loopback address: there a misbehaving link is cut, never the whole host.
    // The ban names the link's proven key, if it has one, beside the host.
    const banned = !isLoopback(host) && score > 0 && this.#bans.add(host, score, link.hello?.nodeId);
    if (score >= BAN_THRESHOLD || banned || this.#bans.isBanned(host)) {
      link.conn.close(`misbehaviour: ${reason}`);
    }
  }

  // ---- small helpers ----

  #members(): [Link, Extract<LinkState, { kind: "member" }>][] {
    const out: [Link, Extract<LinkState, { kind: "member" }>][] = [];
    for (const [l, s] of this.#state) if (s.kind === "member") out.push([l, s]);
    return out;
  }

  #meshLinks(): Link[] {
    const out: Link[] = [];
    for (const [l, s] of this.#state) if (s.kind === "mesh") out.push(l);
    return out;
  }

  /** Directory entries other than our own. */
  #others(): SuperPeerEntry[] {
    return this.#dir.entries().filter((e) => e.nodeId !== this.nodeId);
  }

  /** What leads the tracker file: this node when it is a SuperPeer, else its primary (once that served it). */
  #trackerLead(): TrackerLead {
    const r = this.#role;
    if (r.kind === "superpeer") return { self: this.#advertise };
    const s = r.kind === "peer" ? this.#state.get(r.primary) : undefined;
    return s?.kind === "superpeer" ? { primary: s.addr } : {};
  }

  #jitter(ms: number): number {
    return Math.round(ms * (1 - JITTER_SHARE + this.#random() * 2 * JITTER_SHARE));
  }

  #emit(e: NetworkEvent): void {
    try {
      this.#opts.onEvent?.(e);
    } catch { /* an observer's bug must not break the network */ }
  }
}

/**
 * The address others dial to reach a node bound to `bound`: `advertise` if given, else `advertiseHost` (or the
 * bound host) with the bound port; IPv6 hosts in brackets, as `parseHostPort` reads them back.
 */
export function advertiseAddress(bound: HostPort, advertise?: string, advertiseHost?: string): string {
  const own = formatHostPort({ hostname: advertiseHost ?? bound.hostname, port: bound.port });
  return normalizeAddress(advertise ?? own) ?? own;
}
