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
  BACKUP_RETRY_MAX_MS,
  BACKUP_RETRY_MS,
  DEFAULT_MAX_PEERS,
  DEFAULT_TIMINGS,
  DIR_GOSSIP_LARGE_MS,
  DIR_GOSSIP_MS,
  DIR_HEARTBEAT_MS,
  DIR_LINK_BUDGET,
  DIR_MAX_SEQ_AHEAD_MS,
  DIR_MEMBER_REFRESH_MS,
  DIR_PUBLISH_MIN_MS,
  FAILOVER_MAX_DIALS,
  FAILOVER_WAIT_MS,
  FOUND_WAIT_MS,
  HANDSHAKE_TIMEOUT_MS,
  JOIN_PARALLEL,
  LIST_PAGE,
  MAX_REDIRECTS,
  MAX_WAITING_LINKS,
  MESH_DEGREE,
  MESH_FULL_UP_TO,
  MESH_REDIRECT_DEPTH,
  MESH_REDIRECT_FANOUT,
  MESH_TICK_MS,
  type NetworkTimings,
  SELF_PROMOTE_MIN_MS,
  SUCCESSOR_WAIT_MS,
} from "./config.ts";
import { Directory } from "./directory.ts";
import { DialBudget, TokenBucket } from "./dial_budget.ts";
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
  type Removal,
  type SuperPeerEntry,
  type WelcomeMessage,
} from "./messages.ts";
import {
  answerJoin,
  chooseSecond,
  evictionVictim,
  failoverOrder,
  isLoopback,
  type MeshCandidate,
  meshEvictionVictim,
  overHostLimit,
  planMesh,
  type Refusal,
  sample,
  shouldDemote,
  successor,
  turnedAwayEnough,
} from "./overlay.ts";
import { Relay } from "./relay.ts";
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
import { normalizeAddress } from "./address_book.ts";
import {
  ed25519Check,
  entryMessage,
  type NodeIdentity,
  removalMessage,
  type SignatureCheck,
} from "./identity.ts";
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

/** Where this node stands: looking for SuperPeers, a Peer of one or two, or a SuperPeer. */
type RoleState =
  | { kind: "joining" }
  | { kind: "peer"; primary: Link; backup: Link | null }
  | { kind: "superpeer"; since: number };

/** What we asked a link we dialled for, once its hello came. */
type Intent = { kind: "join"; primary: boolean; holds?: string } | { kind: "mesh" } | { kind: "getaddr" };

/** What came of asking. */
type AskResult =
  | { kind: "linked"; link: Link }
  | { kind: "full"; try: readonly string[]; promote: boolean; by: Refusal }
  | { kind: "redirect"; to: readonly string[]; superpeer: boolean }
  | { kind: "busy" }
  | { kind: "dead" };

/** What each link is for; kept here, not on the link, so one owner changes it. */
type LinkState =
  | { kind: "pending" }
  | { kind: "asking"; intent: Intent; resolve: (r: AskResult) => void; addr: string }
  | { kind: "member"; primary: boolean; lastBlock: number; lastTx: number }
  | { kind: "superpeer"; primary: boolean; roster: PeerEntry[]; dir: Directory; addr: string }
  /** `addr`: where we dialled it (undefined when it dialled us). */
  | { kind: "mesh"; lastBlock: number; lastTx: number; addr?: string };

/** A node's place in the network. Create, then `start()`; `stop()` when done. */
export class Network {
  /** This node's id, as sent in `hello` and proven there: its public key. */
  readonly nodeId: string;
  #o: NetworkTimings & { maxPeers: number };
  #opts: NetworkOptions;
  #clock: Clock;
  #random: () => number;
  #transport: Transport;
  #ledger: LedgerPort;
  #links: LinkSet;
  #state = new Map<Link, LinkState>();
  #relay: Relay;
  #bans: BanList;
  #book: AddressBook;
  /** The directory a SuperPeer keeps and gossips; a Peer's view is what its own SuperPeers tell it. */
  #dir = new Directory();
  #listener?: Listener;
  #advertise = "";
  #role: RoleState = { kind: "joining" };
  /** SuperPeers recently found dead (node id → when), not to be chosen again for a while. */
  #dead = new Map<string, number>();
  #stopping = false;
  #joining = false;
  #seeking = false;
  /** How long a Peer without a second SuperPeer waits before it looks again (doubles while all are full). */
  #backupWait = BACKUP_RETRY_MS;
  #lastPromotion = -Infinity;
  /** When this node last promoted itself (`SELF_PROMOTE_MIN_MS` apart at least). */
  #lastOwnPromotion = -Infinity;
  #lowSince: number | undefined;
  #ownSeq = 0;
  #ownPublished = { load: -1, peers: -1, at: -Infinity };
  /** Directory changes our Peers have not heard of yet (past a full mesh they hear them in batches). */
  #memberRefresh = new Set<string>();
  #memberRemovals = new Map<string, Removal>();
  #lastMemberRefresh = 0;
  #gossipTimer: unknown;
  #meshDialing = new Set<string>();
  /** Mesh dials: a global rate, and no address dialled again within `MESH_REDIAL_MS`. */
  #meshDialBudget = new DialBudget();
  /** Each link's budget of directory entries to check. */
  #entryBudgets = new WeakMap<Link, TokenBucket>();
  /** A SuperPeer's Peers in the order it admitted them: sent to each, who walk it if this one dies. */
  #roster: PeerEntry[] = [];
  /**
   * True while our Peers hold our roster: only while we are the only SuperPeer, since only then would they
   * need it (with others about, a Peer that loses us has them). Keeping every Peer's copy current otherwise
   * would cost each join a message to every Peer.
   */
  #rosterShared = false;
  #timers: (() => void)[] = [];

  /**
   * A network for `ledger`; nothing happens until `start()`.
   * @example const net = new Network(ledger, { nodeId, bind: { hostname: "127.0.0.1", port: 0 }, tracker });
   */
  constructor(ledger: LedgerPort, opts: NetworkOptions) {
    this.nodeId = opts.identity.nodeId;
    this.#ledger = ledger;
    this.#opts = opts;
    // An option given as `undefined` (the CLI passes timings it was not told) keeps its default.
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    this.#o = { ...DEFAULT_TIMINGS, maxPeers: DEFAULT_MAX_PEERS, ...given } as NetworkTimings & {
      maxPeers: number;
    };
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#transport = opts.transport ?? tcpTransport;
    this.#bans = opts.bans ?? new BanList();
    this.#book = new AddressBook(opts.tracker, this.#clock);
    this.#links = new LinkSet({
      pingIntervalMs: this.#o.pingIntervalMs,
      deadAfterMs: this.#o.deadAfterMs,
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
      found: (addrs) => this.#meetFound(addrs),
    });
    if (this.#opts.connect) {
      for (const a of this.#opts.connect) this.#book.add(a, "connect");
    } else {
      await this.#book.load();
    }
    this.#timers.push(
      every(this.#clock, MESH_TICK_MS, () => this.#tick()),
      every(this.#clock, this.#o.probeIntervalMs, () => this.#probe()),
    );
    await this.#join("start");
  }

  /** Closes every link and the listener. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const stop of this.#timers) stop();
    this.#clock.clearTimeout(this.#gossipTimer);
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
    return this.#o.maxPeers + 2 * MESH_DEGREE.high + MAX_WAITING_LINKS;
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
    if (msg.type === "join" && r.kind === "superpeer") return this.#admit(link, msg.primary, msg.holds);
    if (msg.type === "mesh" && r.kind === "superpeer" && link.hello?.role === "superpeer") {
      return this.#acceptMesh(link);
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
    const others = sample(this.#others(), MAX_ADDRS - 1, this.#random).map((e) => e.listen);
    return r.kind === "superpeer" ? [this.#advertise, ...others] : others;
  }

  /** A `join` on `link`; `holds`: the SuperPeer a Peer asking for a backup has, not one to point it to. */
  #admit(link: Link, primary: boolean, holds?: string): void {
    const members = this.#members();
    let answer = answerJoin({
      members: members.length,
      capacity: this.#o.maxPeers,
      others: this.#others(),
      now: this.#clock.now(),
      lastPromotion: this.#lastPromotion,
      skip: holds === undefined ? [entryOf(link).nodeId] : [entryOf(link).nodeId, holds],
    }, this.#random);
    if (answer.kind === "full") {
      const victim = evictionVictim(
        members.map(([l, s]) => ({
          id: l,
          host: l.conn.remote.hostname,
          since: l.openedAt,
          pingMs: l.conn.rttMs,
          lastBlock: s.lastBlock,
          lastTx: s.lastTx,
        })),
        link.conn.remote.hostname,
      );
      if (victim) {
        victim.conn.close("evicted: its address holds the most links");
        this.#dropMember(victim);
        answer = { kind: "admit" };
      }
    }
    if (answer.kind === "full") {
      if (answer.promote) this.#lastPromotion = this.#clock.now();
      link.conn.send({ type: "full", try: answer.try, promote: answer.promote });
      link.conn.close("full", { flush: true });
      return;
    }
    const peer = entryOf(link);
    // A node that rejoins (a new link, same id) replaces its old link.
    for (const [l] of this.#members()) {
      if (l.hello?.nodeId === peer.nodeId) {
        this.#dropMember(l);
        l.conn.close("replaced");
      }
    }
    this.#roster = [...this.#roster.filter((p) => p.nodeId !== peer.nodeId), peer];
    this.#state.set(link, { kind: "member", primary, lastBlock: 0, lastTx: 0 });
    this.#rosterShared ||= this.#others().length === 0;
    // The roster so far, in join order, always: every Peer then holds a prefix of one order, so all that lost
    // their SuperPeers at once agree on its first live Peer as successor, whether or not they heard later joins.
    this.#sendWelcome(link, this.#roster);
    if (this.#rosterShared) {
      for (const [l] of this.#members()) {
        if (l !== link) l.conn.send({ type: "members", add: [peer], remove: [] });
      }
    }
    this.#emit({ type: "peer-joined", peer });
    this.#publish();
    this.#relay.afterHandshake(link, link.hello!);
  }

  #acceptMesh(link: Link): void {
    this.#state.set(link, { kind: "mesh", lastBlock: 0, lastTx: 0 });
    this.#sendWelcome(link, []);
    if (this.#keepMesh(link)) this.#meshUp(link, false);
  }

  /**
   * Two SuperPeers that dial each other at once end up with two links: both ends keep the one dialled by
   * the smaller node id (so they close the same one) and drop the other. True when `link` is kept.
   */
  #keepMesh(link: Link): boolean {
    const id = entryOf(link).nodeId;
    const old = this.#meshLinks().find((l) => l !== link && entryOf(l).nodeId === id);
    if (!old) return true;
    const dialer = (l: Link) => l.inbound ? id : this.nodeId;
    const [keep, drop] = dialer(link) < dialer(old) ? [link, old] : [old, link];
    this.#prune(drop, "duplicate mesh link");
    return keep === link;
  }

  /** Sends `welcome` with the first pages of the directory and `roster`, then the rest as pages. */
  #sendWelcome(link: Link, roster: PeerEntry[]): void {
    const dir = this.#dir.entries();
    const welcome: WelcomeMessage = {
      type: "welcome",
      superpeers: dir.slice(0, LIST_PAGE),
      members: roster.slice(0, LIST_PAGE),
    };
    link.conn.send(welcome);
    for (let i = LIST_PAGE; i < dir.length; i += LIST_PAGE) {
      link.conn.send({ type: "superpeers", add: dir.slice(i, i + LIST_PAGE), remove: [] });
    }
    for (let i = LIST_PAGE; i < roster.length; i += LIST_PAGE) {
      link.conn.send({ type: "members", add: roster.slice(i, i + LIST_PAGE), remove: [] });
    }
  }

  /**
   * A mesh link is up. Each side's directory crosses it in full once (the other may come from a partition
   * that knew none): the side that accepted sent its own with `welcome`, the side that dialled sends it now.
   */
  #meshUp(link: Link, dialled: boolean): void {
    const peer = entryOf(link);
    this.#book.add(peer.listen, "heard");
    this.#book.scheduleWrite(this.#trackerLead());
    this.#emit({ type: "mesh-linked", peer });
    this.#relay.afterHandshake(link, link.hello!);
    if (dialled) sendPaged(link, this.#dir.entries(), []);
  }

  /**
   * Closes a mesh link we no longer want, saying so first: the far end then knows its neighbour is alive and
   * does not dial straight back (which would re-make every pruned link a moment later).
   */
  #prune(link: Link, reason: string): void {
    this.#state.delete(link);
    link.conn.send({ type: "reject", code: "prune", reason });
    link.conn.close(reason, { flush: true });
  }

  /** A mesh link closed without a prune: is that SuperPeer gone, or only the link? Asks it where it stands. */
  async #checkSuperPeer(peer: PeerEntry): Promise<void> {
    if (this.#role.kind !== "superpeer" || !this.#dir.get(peer.nodeId)) return;
    const r = await this.#ask(peer.listen, { kind: "getaddr" });
    if (r.kind === "dead" || (r.kind === "redirect" && !r.superpeer)) this.#dropFromDirectory(peer.nodeId);
  }

  // ---- asking others ----

  /** Dials `addr`, and once it said hello asks it for `intent` (or only for addresses if it is no SuperPeer). */
  async #ask(addr: string, intent: Intent): Promise<AskResult> {
    const r = await this.#links.dial(addr, this.#o.connectTimeoutMs, HANDSHAKE_TIMEOUT_MS);
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
        void this.#mergeEntries(msg.superpeers, link);
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
   * Finds SuperPeers: tries the address book's candidates (greeted SuperPeers, the tracker, then hearsay)
   * a few at a time, following `full` and `redirect` answers; when none took it, those found on the LAN
   * (`discover`), all at once. With none to take it, it becomes a SuperPeer: linked to every SuperPeer it
   * reached, so a node turned away still belongs to the same network.
   */
  async #join(reason: string, first: string[] = []): Promise<void> {
    if (this.#joining || this.#stopping || this.#role.kind !== "joining") return;
    this.#joining = true;
    try {
      const tried = new Set<string>([this.#advertise]);
      const reached: string[] = [], reachedHosts: string[] = [];
      // Addresses a full SuperPeer named as having room: turned away there too, capacity is short.
      const pointed = new Set<string>();
      // Proven SuperPeers that turned us away with nowhere else to go. A `promote` in their answer is only a
      // hint: one node (or one liar's many keys on one machine) cannot order us to promote.
      const refusals: Refusal[] = [];
      let promoteHint = false;
      const queue = [...first, ...this.#book.candidates(tried)];
      let hops = 0;
      let discover = this.#opts.discover, width = JOIN_PARALLEL, maxWaitMs: number | undefined;
      while (this.#role.kind === "joining" && !this.#stopping) {
        if (!queue.length) {
          if (!discover) break;
          // Found on the LAN: a forged answer may name a dead address, so all are dialled at once and
          // the first SuperPeer to take us ends the wait.
          const found = await discover.find();
          discover = undefined;
          queue.push(...found);
          width = Math.max(JOIN_PARALLEL, found.length);
          maxWaitMs = FOUND_WAIT_MS;
          continue;
        }
        const batch: string[] = [];
        while (queue.length && batch.length < width) {
          const a = normalizeAddress(queue.shift()!);
          if (a && !tried.has(a)) {
            tried.add(a);
            batch.push(a);
          }
        }
        if (!batch.length) continue;
        const answers = await this.#askToJoin(batch, reason, maxWaitMs);
        const next: string[] = [];
        for (const { a, r } of answers) {
          if (r.kind === "linked") continue; // taken as it came
          else if (r.kind === "full") {
            reached.push(a);
            reachedHosts.push(r.by.host);
            // A full SuperPeer that names others with room has not turned us away yet: they may take us.
            if (!r.try.length || pointed.has(a)) refusals.push(r.by);
            promoteHint ||= r.promote;
            if (hops < MAX_REDIRECTS) next.push(...r.try);
            for (const t of r.try) pointed.add(normalizeAddress(t) ?? t);
          } else if (r.kind === "redirect" && hops < MAX_REDIRECTS) next.push(...r.to);
          else if (r.kind === "busy") reached.push(a);
        }
        // Turned away by distinct SuperPeers where we were pointed to (news of each other's load is a little
        // old while the network grows) or with nowhere to go: capacity is short. Else on to the rest; once
        // every SuperPeer we could reach turned us away, the loop ends with the queue and we promote.
        if (this.#role.kind === "joining" && turnedAwayEnough(refusals, reachedHosts)) break;
        if (next.length) hops++;
        queue.unshift(...next);
      }
      if (this.#role.kind !== "joining" || this.#stopping) return;
      if (reached.length) {
        await this.#promotionRate();
        if (this.#role.kind !== "joining" || this.#stopping) return;
        this.#promote(
          promoteHint ? "every SuperPeer is full: adding capacity" : "turned away: adding capacity",
        );
        for (const a of reached) this.#dialMesh(a);
      } else this.#promote(tried.size > 1 ? "no SuperPeer answered" : "no SuperPeer known");
    } finally {
      this.#joining = false;
    }
  }

  /**
   * Asks each of `addrs` at once to take us as its Peer. A welcome is taken as it comes (the first becomes
   * primary, a later one backup); resolves with the answers so far once all are in, one took us, or
   * `maxWaitMs` passed, so one dead or silent address does not hold up a join another SuperPeer accepted.
   */
  #askToJoin(addrs: string[], reason: string, maxWaitMs?: number): Promise<{ a: string; r: AskResult }[]> {
    const answers: { a: string; r: AskResult }[] = [];
    return new Promise((resolve) => {
      const timer = maxWaitMs === undefined
        ? undefined
        : this.#clock.setTimeout(() => resolve([...answers]), maxWaitMs);
      for (const a of addrs) {
        this.#ask(a, { kind: "join", primary: true }).then((r) => {
          if (r.kind === "linked") this.#tookSuperPeer(r.link, reason);
          answers.push({ a, r });
          if (answers.length === addrs.length || r.kind === "linked") {
            this.#clock.clearTimeout(timer);
            resolve([...answers]);
          }
        });
      }
    });
  }

  /**
   * SuperPeers found on the LAN while we are one (two that started at once, or two networks that never
   * met): each is dialled for a mesh link unless we dialled and greeted it already and still know it. So a
   * neighbour that only ever dialled us is dialled once too: greeted, it may go in our tracker file and the
   * next start finds it without a search. Only dialled, never remembered: the overlay greets them first.
   */
  #meetFound(addrs: string[]): void {
    if (this.#role.kind !== "superpeer" || this.#stopping) return;
    const known = new Set(this.#dir.entries().map((e) => normalizeAddress(e.listen)));
    for (const l of this.#links.all()) if (l.hello?.listen) known.add(normalizeAddress(l.hello.listen));
    for (const found of addrs) {
      const a = normalizeAddress(found);
      if (!a || a === this.#advertise || (known.has(a) && this.#book.wasGreeted(a))) continue;
      // Greeted, it belongs in the tracker file even when the link is the duplicate the other end keeps.
      this.#dialMesh(a).then(() => this.#book.wasGreeted(a) && this.#book.scheduleWrite(this.#trackerLead()));
    }
  }

  /**
   * SuperPeers found on the LAN at the person's request (the menu): a SuperPeer that serves no Peer steps
   * down and joins them as a Peer (it greets them, so its tracker file names them); one that serves Peers
   * links to them instead. Resolves once the join is settled.
   */
  async joinFound(addrs: string[]): Promise<void> {
    if (this.#role.kind !== "superpeer" || !addrs.length || this.#stopping) return;
    if (this.#members().length) return this.#meetFound(addrs);
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

  /** A Peer with one SuperPeer takes a second when another exists, retrying until it has one. */
  async #seekSecond(): Promise<void> {
    if (this.#seeking) return;
    this.#seeking = true;
    try {
      let next: string[] = [], quick = 0;
      const refusals: Refusal[] = [];
      while (!this.#stopping) {
        const r = this.#role;
        if (r.kind !== "peer" || r.backup) return;
        const primary = entryOf(r.primary);
        let addr = next.shift();
        let pickId: string | undefined;
        if (!addr) {
          const exclude = new Set([primary.nodeId, ...this.#dead.keys()]);
          const pick = chooseSecond(this.directory(), exclude, this.#random, {
            greeted: (e) => this.#book.wasGreeted(e.listen),
            primaryHost: r.primary.conn.remote.hostname,
          });
          if (!pick) return; // one SuperPeer in all: nothing to take; a directory change calls again
          [addr, pickId] = [pick.listen, pick.nodeId];
        }
        const a = await this.#ask(addr, { kind: "join", primary: false, holds: primary.nodeId });
        if (a.kind === "linked" && pickId !== undefined && entryOf(a.link).nodeId !== pickId) {
          // Another key answers where the entry said this SuperPeer listens (an impostor, or the address
          // reused): not the one we chose, and the entry is not believed again for a while.
          this.#state.delete(a.link);
          a.link.conn.close("not the SuperPeer its entry names");
          this.#markDead(pickId);
          if (++quick <= MAX_REDIRECTS) continue;
        } else if (a.kind === "linked") {
          this.#backupWait = BACKUP_RETRY_MS;
          refusals.length = 0;
          this.#tookSuperPeer(a.link, "second SuperPeer");
        } else if (
          a.kind === "full" && (refusals.push(a.by), a.promote) && this.#role.kind === "peer" &&
          turnedAwayEnough(refusals, refusals.map((r) => r.host))
        ) {
          // Turned away by distinct proven SuperPeers (one says so, the others agree): capacity is short.
          await this.#promotionRate();
          if (this.#role.kind === "peer" && !this.#role.backup) {
            this.#promote("every SuperPeer is full: adding capacity");
          }
          return;
        } else if (a.kind === "full" && a.try.length) {
          // Straight on to the ones it says have room, rather than waiting for the next round.
          next = a.try.filter((t) => normalizeAddress(t) !== normalizeAddress(primary.listen)).slice(0, 3);
          if (++quick <= MAX_REDIRECTS) continue;
        } else if (a.kind === "dead" && pickId) {
          this.#markDead(pickId);
          if (++quick <= MAX_REDIRECTS) continue;
        }
        next = [];
        quick = 0;
        if (this.#role.kind === "peer" && !(this.#role as { backup: Link | null }).backup) {
          // Every SuperPeer full: a second is a luxury, so look again later and later (it resets on success).
          await sleep(this.#clock, this.#jitter(this.#backupWait));
          this.#backupWait = Math.min(2 * this.#backupWait, BACKUP_RETRY_MAX_MS);
        }
      }
    } finally {
      this.#seeking = false;
    }
  }

  /**
   * Our only SuperPeer is gone. First the SuperPeers this node greeted before (proven to exist) with a bounded
   * sample of the other entries, all at once and for at most `FAILOVER_WAIT_MS`; with none greeted, that
   * sample is dialled alongside the roster's successor instead of before it, since entries are hearsay (a
   * flood of made-up ones must not stall the failover). The lost SuperPeer's roster says who takes over: its
   * first live Peer promotes itself, the rest dial it.
   */
  async #lostAll(dead: PeerEntry, roster: PeerEntry[], known: SuperPeerEntry[]): Promise<void> {
    const reason = `lost SuperPeer ${dead.listen}`;
    const others = known.filter((e) =>
      e.nodeId !== dead.nodeId && e.nodeId !== this.nodeId && !this.#dead.has(e.nodeId)
    );
    const order = failoverOrder(
      others,
      (e) => this.#book.wasGreeted(e.listen),
      FAILOVER_MAX_DIALS,
      this.#random,
    );
    let hearsay: Promise<{ a: string; r: AskResult }[]> | undefined;
    // SuperPeers that answered but were full: a successor that promotes links to them.
    const reached: string[] = [];
    const note = (answers: { a: string; r: AskResult }[]) => {
      for (const { a, r } of answers) if (r.kind === "full" || r.kind === "busy") reached.push(a);
    };
    if (order.greeted.length) {
      note(await this.#askToJoin([...order.greeted, ...order.rest], reason, FAILOVER_WAIT_MS));
      if (this.#role.kind !== "joining" || this.#stopping) return;
    } else if (order.rest.length) hearsay = this.#askToJoin(order.rest, reason, SUCCESSOR_WAIT_MS);
    const gone = new Set([dead.nodeId]);
    const deadline = this.#clock.now() + this.#o.deadAfterMs + 2000;
    while (this.#role.kind === "joining" && !this.#stopping && this.#clock.now() < deadline) {
      const next = successor(roster, gone);
      if (!next || next.nodeId === this.nodeId) {
        // The successor lets the entries it dialled answer first (bounded by SUCCESSOR_WAIT_MS): one may be
        // a live SuperPeer, and then no new one is needed.
        if (hearsay) note(await hearsay);
        if (this.#role.kind !== "joining" || this.#stopping) return;
        this.#promote(`successor of ${dead.listen}`);
        for (const a of reached) this.#dialMesh(a);
        return;
      }
      const a = await this.#ask(next.listen, { kind: "join", primary: true });
      if (a.kind === "linked") return this.#tookSuperPeer(a.link, `failover from ${dead.listen}`);
      if (a.kind === "dead") {
        gone.add(next.nodeId);
        continue;
      }
      // A successor that still names the dead SuperPeer has not noticed its death yet: give it a moment.
      const elsewhere = (a.kind === "full" ? a.try : a.kind === "redirect" ? a.to : [])
        .filter((x) => normalizeAddress(x) !== normalizeAddress(dead.listen));
      if (elsewhere.length) return this.#join(`failover from ${dead.listen}`, [...elsewhere]);
      await sleep(this.#clock, this.#jitter(150));
    }
    if (this.#role.kind === "joining") await this.#join(`lost SuperPeer ${dead.listen}`);
  }

  /**
   * Waits until this node may promote itself again: at most once per `SELF_PROMOTE_MIN_MS`, so answers that
   * keep turning it away (or liars) cannot make it flap between roles.
   */
  async #promotionRate(): Promise<void> {
    const wait = this.#lastOwnPromotion + SELF_PROMOTE_MIN_MS - this.#clock.now();
    if (wait > 0) await sleep(this.#clock, wait);
  }

  /** The directory entry budget of `link` (`DIR_LINK_BUDGET`), made on first use. */
  #entryBudget(link: Link): TokenBucket {
    let b = this.#entryBudgets.get(link);
    if (!b) {
      b = new TokenBucket(DIR_LINK_BUDGET.burst, DIR_LINK_BUDGET.perSecond, this.#clock.now());
      this.#entryBudgets.set(link, b);
    }
    return b;
  }

  /** True when `sig` (hex) is `nodeId`'s signature of `message`. */
  #checkSig(nodeId: string, sig: string, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
    return (this.#opts.checkSignature ?? ed25519Check)(nodeId, fromHex(sig), message);
  }

  #markDead(nodeId: string): void {
    this.#dead.set(nodeId, this.#clock.now());
  }

  // ---- SuperPeer life ----

  #promote(reason: string): void {
    if (this.#stopping || this.#role.kind === "superpeer") return;
    const old = this.#role;
    // What our SuperPeers told us seeds the directory we now keep ourselves.
    this.#dir = new Directory();
    const now = this.#clock.now();
    for (const e of this.directory()) this.#dir.merge(e, now);
    this.#role = { kind: "superpeer", since: now };
    this.#lastOwnPromotion = now;
    this.#lowSince = undefined;
    if (old.kind === "peer") {
      // Our SuperPeers still count us as their Peer: close and dial again as a SuperPeer.
      for (const l of [old.primary, old.backup]) {
        if (!l) continue;
        const listen = entryOf(l).listen;
        this.#state.delete(l);
        l.conn.close("promoted");
        this.#dialMesh(listen);
      }
    }
    this.#emit({ type: "role", role: "superpeer", reason });
    this.#publish(true);
    this.#book.scheduleWrite(this.#trackerLead());
    this.#maintainMesh();
  }

  /** Steps down: tells the mesh, lets its Peers go (each keeps its other SuperPeer) and joins as a Peer. */
  async #demote(reason: string): Promise<void> {
    if (this.#role.kind !== "superpeer") return;
    const seq = this.#nextSeq();
    const sig = toHex(await this.#opts.identity.sign(removalMessage(this.nodeId, seq)));
    if (this.#role.kind !== "superpeer") return;
    this.#dir.remove(this.nodeId, seq, undefined, sig);
    this.#flushGossip();
    const links = [...this.#state].filter(([, s]) => s.kind === "member" || s.kind === "mesh").map(([l]) =>
      l
    );
    const others = this.#others().map((e) => e.listen);
    this.#dir = new Directory();
    this.#role = { kind: "joining" };
    for (const l of links) this.#state.delete(l);
    await Promise.all(links.map((l) => l.conn.close("stepping down", { flush: true })));
    await this.#join(reason, others); // joining says "became a Peer" once, with the reason
  }

  /** Once a second: expire the directory, republish our entry, keep the mesh degree, consider stepping down. */
  #tick(): void {
    this.#relay.tick(); // a stalled block download's share goes to other links
    const now = this.#clock.now();
    for (const [id, at] of this.#dead) if (now - at > 30_000) this.#dead.delete(id);
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
    for (const [link, s] of this.#state) if (s.kind === "mesh") this.#dir.touch(entryOf(link).nodeId, now);
    if (this.#dir.expire(now, this.nodeId).length) this.#scheduleGossip();
    this.#publish();
    this.#maintainMesh();
    this.#shareRoster();
    const load = this.#members().length;
    if (load > 0) this.#lowSince = undefined;
    else this.#lowSince ??= now;
    if (
      shouldDemote({
        load,
        idleSince: this.#lowSince,
        now,
        mesh: this.#meshLinks().map((l) => {
          const e = this.#dir.get(entryOf(l).nodeId);
          return {
            nodeId: entryOf(l).nodeId,
            host: l.conn.remote.hostname,
            since: l.openedAt,
            roomy: e !== undefined && e.load < e.capacity,
          };
        }),
      }, this.#random)
    ) this.#demote("idle, with SuperPeers of its own: stepping down");
    if (now - this.#lastMemberRefresh >= DIR_MEMBER_REFRESH_MS) this.#refreshMembers(now);
  }

  /** Now the only SuperPeer: our Peers get our whole roster (it replaces what they held); no longer: not kept. */
  #shareRoster(): void {
    const sole = this.#others().length === 0;
    if (sole && !this.#rosterShared) {
      for (const [l] of this.#members()) {
        for (let i = 0; i === 0 || i < this.#roster.length; i += LIST_PAGE) {
          l.conn.send({
            type: "members",
            add: this.#roster.slice(i, i + LIST_PAGE),
            remove: [],
            reset: i === 0,
          });
        }
      }
    }
    this.#rosterShared = sole;
  }

  #maintainMesh(): void {
    if (this.#role.kind !== "superpeer") return;
    const linked = this.#meshLinks();
    const plan = planMesh(linked.map((l) => entryOf(l).nodeId), this.#others(), this.#random);
    for (const e of plan.dial) this.#dialMesh(e.listen, e.nodeId);
    for (const id of plan.drop) {
      const l = linked.find((x) => entryOf(x).nodeId === id);
      if (l) this.#prune(l, "mesh degree");
    }
  }

  /** Dials a SuperPeer for a mesh link (once at a time per address); a dead one leaves the directory. */
  async #dialMesh(addr: string, nodeId?: string, depth = 0): Promise<void> {
    const a = normalizeAddress(addr);
    if (!a || a === this.#advertise || this.#meshDialing.has(a) || this.#role.kind !== "superpeer") return;
    if (!this.#meshDialBudget.take(a, this.#clock.now())) return;
    this.#meshDialing.add(a);
    try {
      const r = await this.#ask(a, { kind: "mesh" });
      if (r.kind === "linked") {
        // Another node now answers at that address (a restart): the old entry is gone for good.
        if (nodeId && entryOf(r.link).nodeId !== nodeId) this.#dropFromDirectory(nodeId);
        if (this.#role.kind !== "superpeer") {
          this.#state.delete(r.link);
          r.link.conn.close("no longer a SuperPeer");
        } else if (this.#keepMesh(r.link)) this.#meshUp(r.link, true);
      } else if (r.kind === "redirect") {
        for (const to of r.to) this.#book.add(to, "heard");
        // A SuperPeer asked for a mesh link takes it: whatever answers with a redirect is not the SuperPeer
        // the entry names (any more), whatever its hello claims.
        if (nodeId) this.#dropFromDirectory(nodeId);
        // Redirects are followed MESH_REDIRECT_DEPTH hops deep, to MESH_REDIRECT_FANOUT addresses, within the
        // dial budget: entries that redirect to each other cannot make this node dial without end, nor aim
        // its dials at a third party (a reflector).
        if (depth < MESH_REDIRECT_DEPTH) {
          for (const to of r.to.slice(0, MESH_REDIRECT_FANOUT)) this.#dialMesh(to, undefined, depth + 1);
        }
      } else if (r.kind === "dead" && nodeId) this.#dropFromDirectory(nodeId);
    } finally {
      this.#meshDialing.delete(a);
    }
  }

  #dropFromDirectory(nodeId: string): void {
    const e = this.#dir.get(nodeId);
    if (e && nodeId !== this.nodeId && this.#dir.remove(nodeId, e.seq)) this.#scheduleGossip();
  }

  /**
   * A SuperPeer dials one remembered address outside its directory now and then: partitions heal so. With
   * nothing left to try it reads the tracker file again: a node started later in the same folder (or an
   * edited file) names SuperPeers this one has not heard of.
   */
  async #probe(): Promise<void> {
    if (this.#role.kind !== "superpeer" || this.#stopping) return;
    const known = new Set([this.#advertise, ...this.#dir.entries().map((e) => normalizeAddress(e.listen)!)]);
    for (const l of this.#links.all()) if (l.hello?.listen) known.add(normalizeAddress(l.hello.listen)!);
    let addr = this.#book.pick(known, this.#random);
    if (!addr && !this.#opts.connect) {
      await this.#book.load().catch(() => {});
      addr = this.#book.pick(known, this.#random);
    }
    if (addr) this.#dialMesh(addr);
  }

  /**
   * Republishes our own entry when our load changed or for the heartbeat. While SuperPeers are few every
   * change goes out at once. Past that every entry floods the whole mesh, so a change goes out only when it
   * matters to others (room appeared or ran out, or the load moved by an eighth of capacity), at most every
   * `DIR_PUBLISH_MIN_MS`; the heartbeat carries the exact counts.
   */
  #publish(force = false): void {
    if (this.#role.kind !== "superpeer") return;
    const members = this.#members();
    const load = members.length, peers = members.filter(([, s]) => s.primary).length;
    const now = this.#clock.now(), last = this.#ownPublished, cap = this.#o.maxPeers;
    const small = this.#dir.size <= MESH_FULL_UP_TO;
    const step = Math.max(1, Math.floor(cap / 8));
    const flipped = (load < cap) !== (last.load < cap); // room appeared or ran out: what joiners go by
    const changed = small
      ? load !== last.load || peers !== last.peers
      : flipped || Math.abs(load - last.load) >= step || Math.abs(peers - last.peers) >= step;
    const gap = small || flipped ? 0 : DIR_PUBLISH_MIN_MS;
    if (!force && !(changed && now - last.at >= gap) && now - last.at < DIR_HEARTBEAT_MS) return;
    this.#ownPublished = { load, peers, at: now };
    const entry = { nodeId: this.nodeId, listen: this.#advertise, peers, load, capacity: this.#o.maxPeers };
    const signed = { ...entry, seq: this.#nextSeq() };
    // Signed by us, as every node checks: an entry about us counts only with our signature.
    this.#opts.identity.sign(entryMessage(signed)).then((sig) => {
      if (this.#role.kind !== "superpeer" || this.#stopping) return;
      this.#dir.merge({ ...signed, sig: toHex(sig) }, this.#clock.now(), this);
      this.#scheduleGossip();
    });
  }

  #nextSeq(): number {
    this.#ownSeq = Math.max(this.#ownSeq + 1, Math.floor(this.#clock.now()));
    return this.#ownSeq;
  }

  // ---- directory gossip ----

  /**
   * Merges entries `from` a link: each counts only when signed by the SuperPeer it describes (`entryMessage`).
   * Cheap checks first (ours, too far ahead, not newer than what we hold), then the signature, one at a time;
   * a forged or unsigned entry scores its sender and changes nothing.
   */
  async #mergeEntries(entries: readonly SuperPeerEntry[], from: Link): Promise<void> {
    const s = this.#state.get(from);
    // A Peer keeps what each of its SuperPeers says apart; a SuperPeer merges into the directory it gossips.
    const dir = s?.kind === "superpeer" ? s.dir : this.#dir;
    let changed = false, fresh = false, forged = 0, over = 0;
    const budget = this.#entryBudget(from);
    for (const e of entries) {
      // Our own entry is ours alone to write; a forged one is refused.
      if (e.nodeId === this.nodeId) continue;
      const now = this.#clock.now();
      if (e.seq > now + DIR_MAX_SEQ_AHEAD_MS || (dir.get(e.nodeId)?.seq ?? -1) >= e.seq) continue;
      if (!budget.take(now)) {
        over++;
        continue;
      }
      if (!e.sig || !await this.#checkSig(e.nodeId, e.sig, entryMessage(e))) {
        forged++;
        continue;
      }
      const r = dir.merge(e, this.#clock.now(), from);
      if (r) changed = true;
      if (r === "new") fresh = true;
    }
    if (forged) {
      this.#misbehaved(from, MALFORMED_SCORE, `${forged} directory entries not signed by their node`);
    }
    if (over) this.#misbehaved(from, 0, `${over} directory entries over the link's budget, dropped unread`);
    if (dir !== this.#dir) dir.takeChanges(); // a Peer forwards nothing
    else if (changed) this.#scheduleGossip();
    if (fresh && this.#role.kind === "superpeer") this.#maintainMesh();
    if (fresh && this.#role.kind === "peer" && !this.#role.backup) this.#seekSecond();
  }

  /** Batches directory changes: a few at once while SuperPeers are few, a second's worth past a full mesh. */
  #scheduleGossip(): void {
    if (this.#gossipTimer !== undefined) return;
    this.#gossipTimer = this.#clock.setTimeout(() => {
      this.#gossipTimer = undefined;
      this.#flushGossip();
    }, this.#dir.size <= MESH_FULL_UP_TO ? DIR_GOSSIP_MS : DIR_GOSSIP_LARGE_MS);
  }

  /**
   * Sends the directory's changes: every change to mesh neighbours (not back where it came from); to our
   * Peers only SuperPeers new to them and removals at once, load updates every `DIR_MEMBER_REFRESH_MS`.
   * A Peer forwards nothing.
   */
  #flushGossip(): void {
    const changes = this.#dir.takeChanges();
    if (this.#role.kind !== "superpeer") return;
    for (const link of this.#meshLinks()) {
      const add = changes.add.filter((c) => c.from !== link).map((c) => c.entry);
      const remove = changes.remove.filter((c) => c.from !== link && c.sig).map(({ nodeId, seq, sig }) => ({
        nodeId,
        seq,
        sig,
      }));
      sendPaged(link, add, remove);
    }
    // While SuperPeers are few, our Peers hear every change at once. Past that, every SuperPeer's Peers would
    // hear of every promotion and load change in the network, which grows with the network times the
    // SuperPeers: they hear it in one batch every `DIR_MEMBER_REFRESH_MS` instead (their dials check it).
    const add = changes.add.map((c) => c.entry);
    // Only withdrawals signed by their SuperPeer travel; our own observations of a death stay ours.
    const remove = changes.remove.filter((c) => c.sig).map(({ nodeId, seq, sig }) => ({ nodeId, seq, sig }));
    if (this.#dir.size <= MESH_FULL_UP_TO) {
      if (add.length || remove.length) { for (const [l] of this.#members()) sendPaged(l, add, remove); }
      return;
    }
    for (const e of add) {
      this.#memberRefresh.add(e.nodeId);
      this.#memberRemovals.delete(e.nodeId);
    }
    for (const r of remove) {
      this.#memberRefresh.delete(r.nodeId);
      this.#memberRemovals.set(r.nodeId, r);
    }
  }

  #refreshMembers(now: number): void {
    this.#lastMemberRefresh = now;
    const add = [...this.#memberRefresh].map((id) => this.#dir.get(id)).filter((e) => e !== undefined);
    const remove = [...this.#memberRemovals.values()];
    this.#memberRefresh.clear();
    this.#memberRemovals.clear();
    if (add.length || remove.length) { for (const [l] of this.#members()) sendPaged(l, add, remove); }
  }

  // ---- messages ----

  async #onMessage(link: Link, msg: Message): Promise<void> {
    const s = this.#state.get(link);
    if (!s) return; // a link we let go of, closing
    if (s.kind === "pending") return await this.#onRequest(link, msg);
    if (s.kind === "asking") return this.#onAnswer(link, s, msg);
    switch (msg.type) {
      case "superpeers":
        if (s.kind === "member") {
          return this.#misbehaved(link, MALFORMED_SCORE, "a Peer sent directory entries");
        }
        await this.#mergeEntries(msg.add, link);
        // Only a SuperPeer can withdraw its own entry: an unsigned or forged removal is not acted on.
        for (const { nodeId, seq, sig } of msg.remove) {
          if (nodeId === this.nodeId || seq > this.#clock.now() + DIR_MAX_SEQ_AHEAD_MS) continue;
          const held = s.kind === "superpeer" ? s.dir : this.#dir;
          if ((held.get(nodeId)?.seq ?? Infinity) > seq) continue; // unknown, or a newer entry known
          if (!sig || !await this.#checkSig(nodeId, sig, removalMessage(nodeId, seq))) {
            this.#misbehaved(link, MALFORMED_SCORE, "a removal not signed by its node");
            continue;
          }
          if (s.kind === "superpeer") s.dir.remove(nodeId, seq, link, sig);
          else if (this.#dir.remove(nodeId, seq, link, sig)) this.#scheduleGossip();
        }
        if (s.kind === "superpeer") s.dir.takeChanges();
        return;
      case "members":
        if (s.kind !== "superpeer") return;
        if (msg.reset) s.roster = [];
        for (const p of msg.add) {
          if (s.roster.some((x) => x.nodeId === p.nodeId)) continue;
          s.roster.push(p);
          this.#book.add(p.listen, "heard");
        }
        if (msg.remove.length) s.roster = s.roster.filter((p) => !msg.remove.includes(p.nodeId));
        // A roster is bounded by the SuperPeer's capacity; a longer one is a lie we need not keep.
        if (s.roster.length > 4 * this.#o.maxPeers + 100) s.roster.length = 4 * this.#o.maxPeers + 100;
        return;
      case "primary":
        if (s.kind === "member" && s.primary !== msg.primary) {
          s.primary = msg.primary;
          this.#publish();
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
    if (s.kind === "member") return this.#memberGone(link);
    if (s.kind === "mesh") {
      const peer = entryOf(link);
      this.#emit({ type: "mesh-lost", peer });
      if (link.rejectCode !== "prune") {
        this.#clock.setTimeout(() => this.#checkSuperPeer(peer), this.#jitter(300));
      }
      return;
    }
    if (s.kind === "superpeer") this.#superPeerGone(link, s);
  }

  #dropMember(link: Link): void {
    if (this.#state.get(link)?.kind !== "member") return;
    this.#state.delete(link);
    this.#memberGone(link);
  }

  #memberGone(link: Link): void {
    const peer = entryOf(link);
    this.#roster = this.#roster.filter((p) => p.nodeId !== peer.nodeId);
    if (this.#rosterShared) {
      for (const [l] of this.#members()) l.conn.send({ type: "members", add: [], remove: [peer.nodeId] });
    }
    this.#emit({ type: "peer-left", peer });
    this.#publish();
  }

  /** One of our SuperPeers is gone: the backup becomes primary and we look for a new second at once. */
  #superPeerGone(link: Link, s: Extract<LinkState, { kind: "superpeer" }>): void {
    const r = this.#role;
    if (r.kind !== "peer") return;
    const dead = entryOf(link);
    this.#markDead(dead.nodeId);
    this.#emit({ type: "superpeer-lost", peer: dead, primary: r.primary === link });
    if (r.backup === link) r.backup = null;
    else if (r.primary === link) {
      if (!r.backup) {
        this.#role = { kind: "joining" };
        this.#lostAll(dead, s.roster, s.dir.entries());
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
    return Math.round(ms * (0.7 + this.#random() * 0.6));
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

/** A link's far end as an entry: its node id and where it listens (its socket address if it gave none). */
function entryOf(link: Link): PeerEntry {
  return {
    nodeId: link.hello?.nodeId ?? "?",
    listen: link.hello?.listen ?? formatHostPort(link.conn.remote),
  };
}

/** Sends directory changes in pages. */
function sendPaged(link: Link, add: SuperPeerEntry[], remove: Removal[]): void {
  for (let i = 0; i < Math.max(add.length, remove.length); i += LIST_PAGE) {
    link.conn.send({
      type: "superpeers",
      add: add.slice(i, i + LIST_PAGE),
      remove: remove.slice(i, i + LIST_PAGE),
    });
  }
}
