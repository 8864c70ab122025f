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
 * functions in `overlay.ts`. This class keeps the state (links, their states, the role) and dispatches
 * messages; the parts that carry the overlay (`joining.ts`, `superpeer.ts`, `peer_side.ts`, `role_change.ts`,
 * `handshake.ts`, `gossip.ts`, `relay.ts`) are wired to it in `wiring.ts`. The types its owner gives and sees
 * are in `network_types.ts`.
 * @module
 */
import { AddressBook, normalizeAddress, type TrackerLead } from "./address_book.ts";
import { isLoopback } from "./address.ts";
import { BAN_THRESHOLD, BanList } from "./ban.ts";
import {
  JITTER_SHARE,
  MESH_CHECK_DELAY_MS,
  MESH_TICK_MS,
  resolveNetworkConfig,
  WATCH_TICK_MS,
} from "./config.ts";
import type { DirectoryGossip } from "./gossip.ts";
import type { Joining } from "./joining.ts";
import type { Handshake } from "./handshake.ts";
import type { SuperPeerDuties } from "./superpeer.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
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
import type { PeerSide } from "./peer_side.ts";
import type { Relay } from "./relay.ts";
import type { RoleChange } from "./role_change.ts";
import { type Clock, every, type Listener, systemClock, tcpTransport, type Transport } from "./transport.ts";
import { type ResolvedOptions, wireNetwork } from "./wiring.ts";
import type { LinkInfo, NetworkEvent, NetworkOptions, Role } from "./network_types.ts";
export type { LinkInfo, NetworkEvent, NetworkOptions, Role };

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
  #roles: RoleChange;

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
    this.#roles = parts.roles;
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
    return this.#role.kind === "superpeer" ? this.#gossip.dir.entries() : this.#peer.directory();
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
   * down and joins them as a Peer; one that serves Peers links to them instead (`RoleChange.joinFound`).
   * Resolves once the join is settled.
   */
  joinFound(addrs: string[]): Promise<void> {
    return this.#roles.joinFound(addrs);
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
        return this.#gossip.onIHave(link, msg.entries, msg.sync);
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
