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
 * functions in `overlay.ts`. This class keeps the state (links, their states, the role), makes the role
 * changes and dispatches messages; the parts that carry the overlay (`joining.ts`, `superpeer.ts`,
 * `peer_side.ts`, `handshake.ts`, `gossip.ts`, `relay.ts`) are wired to it in `wiring.ts`.
 * @module
 */
import { AddressBook, type TrackerLead } from "./address_book.ts";
import { BAN_THRESHOLD, BanList } from "./ban.ts";
import {
  JITTER_SHARE,
  MESH_CHECK_DELAY_MS,
  MESH_TICK_MS,
  type NetworkTimings,
  resolveNetworkConfig,
  WATCH_TICK_MS,
} from "./config.ts";
import { Directory } from "./directory.ts";
import type { DirectoryGossip } from "./gossip.ts";
import type { Joining } from "./joining.ts";
import type { Handshake } from "./handshake.ts";
import type { SuperPeerDuties } from "./superpeer.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
import type { Discover } from "./discovery.ts";
import type { LedgerPort } from "./ledger_port.ts";
import type { Link, LinkSet } from "./link.ts";
import {
  formatHostPort,
  type HostPort,
  type Message,
  type PeerEntry,
  PROTOCOL_VERSION,
  type SuperPeerEntry,
} from "./messages.ts";
import { isLoopback } from "./overlay.ts";
import type { PeerSide } from "./peer_side.ts";
import type { Relay } from "./relay.ts";
import type { TrackerFile } from "./tracker.ts";
import { type Clock, every, type Listener, systemClock, tcpTransport, type Transport } from "./transport.ts";
import { normalizeAddress } from "./address_book.ts";
import { type NodeIdentity, removalMessage, type SignatureCheck } from "./identity.ts";
import { type ResolvedOptions, wireNetwork } from "./wiring.ts";
import { toHex } from "../crypto/hex.ts";

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
  #state = new Map<Link, LinkState>();
  #bans: BanList;
  #book: AddressBook;
  #listener?: Listener;
  #advertise = "";
  #role: RoleState = { kind: "joining" };
  #stopping = false;
  #timers: (() => void)[] = [];
  /** The parts that carry the overlay, wired to this network by `wireNetwork` (what each does: `NetworkParts`). */
  #links: LinkSet;
  #relay: Relay;
  #gossip: DirectoryGossip;
  #joiner: Joining;
  #sp: SuperPeerDuties;
  #peer: PeerSide;
  #handshake: Handshake;

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
    const parts = wireNetwork({
      nodeId: this.nodeId,
      opts: this.#opts,
      clock: this.#clock,
      random: this.#random,
      transport: this.#transport,
      ledger,
      bans: this.#bans,
      book: this.#book,
      state: this.#state,
      role: () => this.#role,
      setRole: (role) => void (this.#role = role),
      advertise: () => this.#advertise,
      stopping: () => this.#stopping,
      onMessage: (link, msg) => this.#onMessage(link, msg),
      onClose: (link) => this.#onClose(link),
      misbehaved: (link, score, reason) => this.#misbehaved(link, score, reason),
      news: (link, kind) => this.#news(link, kind),
      promote: (reason) => this.#promote(reason),
      demote: (reason) => this.#demote(reason),
      emit: (e) => this.#emit(e),
      trackerLead: () => this.#trackerLead(),
      jitter: (ms) => this.#jitter(ms),
      directory: () => this.directory(),
    });
    this.#links = parts.links;
    this.#relay = parts.relay;
    this.#gossip = parts.gossip;
    this.#joiner = parts.joiner;
    this.#sp = parts.sp;
    this.#peer = parts.peer;
    this.#handshake = parts.handshake;
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

  /** This node's links that carry blocks: its Peers, its SuperPeers (not one on trial), its mesh links. */
  linkInfo(): LinkInfo[] {
    const out: LinkInfo[] = [];
    const r = this.#role;
    for (const [link, s] of this.#state) {
      if (s.kind !== "member" && s.kind !== "superpeer" && s.kind !== "mesh") continue;
      if (s.kind === "superpeer" && r.kind === "peer" && link !== r.primary && link !== r.backup) continue;
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
    return this.#role.kind === "superpeer" ? this.#dir.entries() : this.#peer.directory();
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
      every(this.#clock, WATCH_TICK_MS, () => this.#peer.watchTick()),
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
    if ([...this.#state.values()].some((s) => s.kind === "member")) return this.#sp.meetFound(addrs);
    for (const a of addrs) this.#book.add(a, "heard");
    await this.#demote("found SuperPeers on this LAN");
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
    if (this.#role.kind === "peer" && !this.#role.backup) this.#peer.seekSecond();
    if (this.#role.kind === "superpeer") this.#sp.tick(now);
    else this.#peer.expireViews(now);
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
      case "members":
        return this.#peer.onMembers(s, msg);
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
        this.#peer.sawFrame(link, s, msg.type);
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
    if (s?.kind === "superpeer" && kind === "block") this.#peer.newBlock(link);
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
    if (s.kind === "superpeer") this.#peer.superPeerGone(link, s);
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
