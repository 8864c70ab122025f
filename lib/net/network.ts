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
import { BAN_THRESHOLD, BanList } from "./ban.ts";
import {
  JITTER_SHARE,
  MESH_CHECK_DELAY_MS,
  MESH_TICK_MS,
  type NetworkConfig,
  type NetworkTimings,
  resolveNetworkConfig,
  ROSTER_BOUND,
  WATCH_TICK_MS,
} from "./config.ts";
import { DeliveryWatch } from "./delivery.ts";
import { Directory } from "./directory.ts";
import { DirectoryGossip } from "./gossip.ts";
import { Joining } from "./joining.ts";
import { Handshake } from "./handshake.ts";
import { SuperPeerDuties } from "./superpeer.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
import type { Discover } from "./discovery.ts";
import type { LedgerPort } from "./ledger_port.ts";
import { type Link, LinkSet } from "./link.ts";
import {
  formatHostPort,
  type HostPort,
  type Message,
  type PeerEntry,
  PROTOCOL_VERSION,
  type SuperPeerEntry,
} from "./messages.ts";
import { hostGroup, isLoopback } from "./overlay.ts";
import { Relay } from "./relay.ts";
import type { TrackerFile } from "./tracker.ts";
import { type Clock, every, type Listener, systemClock, tcpTransport, type Transport } from "./transport.ts";
import { normalizeAddress } from "./address_book.ts";
import { ed25519Check, type NodeIdentity, removalMessage, type SignatureCheck } from "./identity.ts";
import { fromHex, toHex } from "../crypto/hex.ts";

/** The messages that carry a block: a SuperPeer sending any of them is delivering (`DeliveryWatch`). */
const BLOCK_FRAMES: ReadonlySet<string> = new Set(["block", "blocks", "cmpctblock", "blocktxn"]);
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
  /**
   * The far end's protocol: `LEGACY_PROTOCOL_VERSION` (2) for a Peer of the previous release, served during a
   * rolling upgrade though it proved no node id; `PROTOCOL_VERSION` otherwise.
   */
  protocol: number;
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
  /** Hellos, inbound sockets, asking. */
  #handshake: Handshake;
  #timers: (() => void)[] = [];
  /** A Peer's watch over its two SuperPeers: frozen, not delivering, stale tip. */
  #watch: DeliveryWatch;

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
      myHello: () => this.#handshake.hello(),
      checkHello: (hello) => this.#handshake.checkHello(hello),
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
      random: this.#random,
      isSuperPeer: () => this.#role.kind === "superpeer",
      viewOf: (link) => {
        const s = this.#state.get(link);
        return s?.kind === "superpeer" ? s.dir : undefined;
      },
      isMember: (link) => this.#state.get(link)?.kind === "member",
      isMesh: (link) => this.#state.get(link)?.kind === "mesh",
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
      ask: (addr, intent) => this.#handshake.ask(addr, intent),
      took: (link, reason, anyHost) => this.#tookSuperPeer(link, reason, anyHost),
      extra: (link) => this.#extraSuperPeer(link),
      tipHeight: () => this.#ledger.tip().height,
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
      meshDelivered: () => {
        const ids = new Set<string>();
        for (const [l, st] of this.#state) {
          if (st.kind === "mesh" && st.lastBlock > 0) ids.add(entryOf(l).nodeId);
        }
        return ids;
      },
      setState: (link, state) => void this.#state.set(link, state),
      forget: (link) => void this.#state.delete(link),
      ask: (addr, intent) => this.#handshake.ask(addr, intent),
      relayReady: (link) => this.#relay.afterHandshake(link, link.hello!),
      writeTracker: () => this.#book.scheduleWrite(this.#trackerLead()),
      demote: (reason) => void this.#demote(reason),
      emit: (e) => this.#emit(e),
    });
    this.#watch = new DeliveryWatch({
      clock: this.#clock,
      random: this.#random,
      pair: () => this.#role.kind === "peer" ? this.#role : undefined,
    });
    this.#handshake = new Handshake({
      nodeId: this.nodeId,
      clock: this.#clock,
      random: this.#random,
      ledger,
      bans: this.#bans,
      book: this.#book,
      links: this.#links,
      capacity: this.#opts.capacity,
      connectTimeoutMs: this.#opts.connectTimeoutMs,
      advertise: () => this.#advertise,
      stopping: () => this.#stopping,
      role: () => this.#role,
      states: () => this.#state,
      setState: (link, state) => void this.#state.set(link, state),
      others: () => this.#sp.others(),
      admit: (link, primary, holds) => this.#sp.admit(link, primary, holds),
      acceptMesh: (link) => this.#sp.acceptMesh(link),
      mergeEntries: (entries, from) => this.#gossip.mergeEntries(entries, from),
      misbehaved: (link, score, reason) => this.#misbehaved(link, score, reason),
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
  get primary(): PeerEntry | null {
    const r = this.#role;
    if (r.kind === "superpeer") return { nodeId: this.nodeId, listen: this.#advertise };
    return r.kind === "peer" ? entryOf(r.primary) : null;
  }

  /**
   * The same as `primary`, under its old name.
   * @deprecated Read `primary`; `hub` goes in 0.2.0, with the JSON alias of the same name (CHANGELOG.md).
   */
  get hub(): PeerEntry | null {
    return this.primary;
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
        protocol: link.hello?.protocol ?? PROTOCOL_VERSION,
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
    this.#handshake.acceptLoop(this.#listener);
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
      every(this.#clock, WATCH_TICK_MS, () => this.#watchTick()),
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
  #tookSuperPeer(link: Link, reason: string, anyHost = false): void {
    const s = this.#state.get(link);
    if (s?.kind !== "superpeer") return;
    const r = this.#role;
    if (r.kind === "joining") {
      this.#role = { kind: "peer", primary: link, backup: null };
      if (!s.primary) this.#setPrimary(link, true);
      this.#emit({ type: "role", role: "peer", reason });
    } else if (
      r.kind === "peer" && !r.backup && entryOf(r.primary).nodeId !== entryOf(link).nodeId &&
      (anyHost || !sameHost(r.primary, link))
    ) {
      r.backup = link;
      if (s.primary) this.#setPrimary(link, false);
    } else {
      // One too many, or a second on the primary's machine: one machine's many keys must not hold both of a
      // Peer's SuperPeers; `seekSecond` looks elsewhere first and comes back to that host only if none other.
      this.#state.delete(link);
      link.conn.close("not needed");
      if (r.kind === "peer" && !r.backup) this.#seekSecond();
      return;
    }
    this.#emit({ type: "superpeer-linked", peer: entryOf(link), primary: this.#isPrimary(link) });
    this.#relay.afterHandshake(link, link.hello!);
    this.#book.scheduleWrite(this.#trackerLead());
    this.#seekSecond();
  }

  /**
   * The stale-tip check's extra SuperPeer took us: it says it has blocks we lack (a claim, tested at once: it
   * must now deliver them or `judgeSuperPeers` replaces it), so it takes the backup's place; else it is let go.
   */
  #extraSuperPeer(link: Link): boolean {
    const r = this.#role;
    const s = this.#state.get(link);
    if (r.kind !== "peer" || s?.kind !== "superpeer" || !link.hello) return false;
    if (link.hello.tip.height <= this.#ledger.tip().height) return false;
    if (r.backup) {
      const old = r.backup;
      r.backup = null;
      this.#state.delete(old);
      old.conn.close("stale tip: another SuperPeer has newer blocks");
      this.#emit({ type: "superpeer-lost", peer: entryOf(old), primary: false });
    }
    this.#tookSuperPeer(link, "stale tip", true);
    return true;
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

  /**
   * What a Peer saw of its two SuperPeers decides (`judgeSuperPeers`): a frozen primary swaps with the backup
   * at once, one that delivers none of the blocks the other delivers is replaced; with no new block for
   * `STALE_TIP_MS`, one more SuperPeer of its own book is tried.
   */
  #watchTick(): void {
    const r = this.#role;
    if (r.kind !== "peer" || this.#stopping) return;
    const verdict = this.#watch.tick();
    if (verdict === "swap" && r.backup) {
      const [old, next] = [r.primary, r.backup];
      r.primary = next;
      r.backup = old;
      this.#watch.reset(old);
      this.#watch.reset(next);
      this.#setPrimary(next, true);
      this.#setPrimary(old, false);
      this.#emit({ type: "superpeer-linked", peer: entryOf(next), primary: true });
      this.#book.scheduleWrite(this.#trackerLead());
    } else if (verdict === "replace-primary" || verdict === "replace-backup") {
      const link = verdict === "replace-primary" ? r.primary : r.backup!;
      link.conn.close("delivered none of the blocks the other SuperPeer delivered");
    } else if (this.#watch.stale()) {
      void this.#joiner.staleTip();
    }
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
    this.#relay.tick(); // a stalled block download's share goes to other links
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
    if (s.kind === "pending") return await this.#handshake.onRequest(link, msg);
    if (s.kind === "asking") return this.#handshake.onAnswer(link, s, msg);
    switch (msg.type) {
      case "superpeers":
        return await this.#gossip.onSuperpeers(link, msg.add, msg.remove);
      case "ihave":
        return this.#gossip.onIHave(link, msg.entries);
      case "iwant":
        return this.#gossip.onIWant(link, msg.ids);
      case "dirsum":
        return this.#gossip.onDirSum(link, msg.buckets);
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
        // A block frame in any form: whole, a batch, or compact (its header, then the transactions it lacked).
        if (s.kind === "superpeer" && BLOCK_FRAMES.has(msg.type)) {
          this.#watch.blockFrame(link);
        }
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
    if (s?.kind === "superpeer" && kind === "block") this.#watch.newBlock(link);
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

/** True when two links' far ends share a host group (an IPv4 address or an IPv6 /64) other than loopback. */
function sameHost(a: Link, b: Link): boolean {
  const h = a.conn.remote.hostname;
  return !isLoopback(h) && hostGroup(h) === hostGroup(b.conn.remote.hostname);
}

/**
 * The address others dial to reach a node bound to `bound`: `advertise` if given, else `advertiseHost` (or the
 * bound host) with the bound port; IPv6 hosts in brackets, as `parseHostPort` reads them back.
 */
export function advertiseAddress(bound: HostPort, advertise?: string, advertiseHost?: string): string {
  const own = formatHostPort({ hostname: advertiseHost ?? bound.hostname, port: bound.port });
  return normalizeAddress(advertise ?? own) ?? own;
}
