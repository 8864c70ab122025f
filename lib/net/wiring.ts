/**
 * How a `Network` is put together: the parts that carry the overlay (`LinkSet`, `Relay`, `DirectoryGossip`,
 * `Joining`, `SuperPeerDuties`, `PeerSide`, `Handshake`, `RoleChange`), each given its narrow hooks over one
 * `NetworkCore`, what the network shares of itself. `Network` keeps the state (links, their states, the role)
 * and dispatches messages; this module only connects the parts to it and to each other.
 * @module
 */
import type { AddressBook, TrackerLead } from "./address_book.ts";
import type { BanList } from "./ban.ts";
import type { NetworkConfig, NetworkTimings } from "./config.ts";
import { DirectoryGossip } from "./gossip.ts";
import { Handshake } from "./handshake.ts";
import { ed25519Check } from "./identity.ts";
import { Joining } from "./joining.ts";
import type { LedgerPort } from "./ledger_port.ts";
import { type Link, LinkSet } from "./link.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
import type { Message, SuperPeerEntry } from "./messages.ts";
import type { NetworkEvent, NetworkOptions } from "./network_types.ts";
import { PeerSide } from "./peer_side.ts";
import { Relay } from "./relay.ts";
import { RoleChange } from "./role_change.ts";
import { type Member, SuperPeerDuties } from "./superpeer.ts";
import type { Clock, Transport } from "./transport.ts";
import { fromHex } from "../crypto/hex.ts";

/** `NetworkOptions` once resolved: the timings and the capacity always set (`NetworkConfig`). */
export type ResolvedOptions = Omit<NetworkOptions, keyof NetworkTimings | "maxPeers"> & NetworkConfig;

/** What a `Network` shares with its parts: its settings and state, and the changes only it makes. */
export interface NetworkCore {
  /** This node's id. */
  readonly nodeId: string;
  /** The owner's options, every number resolved. */
  readonly opts: ResolvedOptions;
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** Streams and listeners. */
  readonly transport: Transport;
  /** What blocks and transactions are worth. */
  readonly ledger: LedgerPort;
  /** Misbehaviour scores and bans. */
  readonly bans: BanList;
  /** Where SuperPeers were heard of, greeted and served. */
  readonly book: AddressBook;
  /** What each link is for: the network's own map, which the parts change only through their hooks. */
  readonly state: Map<Link, LinkState>;
  /** Where this node stands now. */
  role(): RoleState;
  /** Changes where this node stands. */
  setRole(role: RoleState): void;
  /** The address others dial to reach this node. */
  advertise(): string;
  /** True once the network is stopping. */
  stopping(): boolean;
  /** A greeted link's message, to dispatch. */
  onMessage(link: Link, msg: Message): Promise<void>;
  /** A link closed. */
  onClose(link: Link): void;
  /** A link misbehaved: scored, perhaps banned and cut. */
  misbehaved(link: Link, score: number, reason: string): void;
  /** A link relayed something new to us. */
  news(link: Link, kind: "block" | "tx"): void;
  /** Tells the owner. */
  emit(e: NetworkEvent): void;
  /** What leads the tracker file now. */
  trackerLead(): TrackerLead;
  /** `ms` give or take `JITTER_SHARE`. */
  jitter(ms: number): number;
  /** The SuperPeer directory as this node knows it. */
  directory(): SuperPeerEntry[];
}

/** The parts of a `Network`, wired to its core and to each other. */
export interface NetworkParts {
  /** The open links. */
  readonly links: LinkSet;
  /** Blocks and transactions: pushing, asking, sync. */
  readonly relay: Relay;
  /** The directory a SuperPeer keeps and gossips, and the gossip of its changes. */
  readonly gossip: DirectoryGossip;
  /** Joining, the second SuperPeer, failover. */
  readonly joiner: Joining;
  /** A SuperPeer's duties: admitting, the mesh, publishing. */
  readonly sp: SuperPeerDuties;
  /** A Peer's dealings with its SuperPeers: primary and backup, rosters, the watch, losing one. */
  readonly peer: PeerSide;
  /** Hellos, inbound sockets, asking. */
  readonly handshake: Handshake;
  /** Promotion, stepping down, SuperPeers found on the LAN. */
  readonly roles: RoleChange;
}

/** The parts of the network behind `core`, each given its hooks; nothing starts until the network does. */
export function wireNetwork(core: NetworkCore): NetworkParts {
  const { nodeId, opts, clock, random, book, state } = core;
  const checkSignature = opts.checkSignature ?? ed25519Check;
  const members = (): Member[] => {
    const out: Member[] = [];
    for (const [l, s] of state) if (s.kind === "member") out.push([l, s]);
    return out;
  };
  const meshLinks = (): Link[] => {
    const out: Link[] = [];
    for (const [l, s] of state) if (s.kind === "mesh") out.push(l);
    return out;
  };
  const links: LinkSet = new LinkSet({
    pingIntervalMs: opts.pingIntervalMs,
    deadAfterMs: opts.deadAfterMs,
    transport: core.transport,
    clock,
    random,
    onMessage: (link, msg) => core.onMessage(link, msg),
    onMisbehaviour: (link, score, reason) => core.misbehaved(link, score, reason),
    onClose: (link) => core.onClose(link),
    myHello: () => handshake.hello(),
    checkHello: (hello) => handshake.checkHello(hello),
    identity: opts.identity,
    checkSignature,
  });
  const relay: Relay = new Relay(core.ledger, {
    misbehaved: (link, score, reason) => core.misbehaved(link, score, reason),
    news: (link, kind) => core.news(link, kind),
    delivered: (link) => {
      const s = state.get(link);
      if ((s?.kind === "superpeer" || s?.kind === "mesh") && s.addr !== undefined) book.delivered(s.addr);
      peer.delivered(link);
    },
    now: () => clock.now(),
  });
  const gossip: DirectoryGossip = new DirectoryGossip({
    nodeId,
    clock,
    random,
    isSuperPeer: () => core.role().kind === "superpeer",
    viewOf: (link) => {
      const s = state.get(link);
      return s?.kind === "superpeer" ? s.dir : undefined;
    },
    isMember: (link) => state.get(link)?.kind === "member",
    isMesh: (link) => state.get(link)?.kind === "mesh",
    meshLinks,
    memberLinks: () => members().map(([l]) => l),
    checkSig: (nodeId, sig, message) => checkSignature(nodeId, fromHex(sig), message),
    misbehaved: (link, score, reason) => core.misbehaved(link, score, reason),
    heardNew: () => {
      if (core.role().kind === "superpeer") sp.maintainMesh();
      const r = core.role();
      if (r.kind === "peer" && !r.backup) peer.seekSecond();
    },
  });
  const joiner: Joining = new Joining({
    nodeId,
    clock,
    random,
    book,
    discover: opts.discover,
    deadAfterMs: opts.deadAfterMs,
    advertise: () => core.advertise(),
    stopping: () => core.stopping(),
    role: () => core.role(),
    ask: (addr, intent) => handshake.ask(addr, intent),
    took: (link, reason, anyHost) => peer.tookSuperPeer(link, reason, anyHost),
    extra: (link) => peer.extraSuperPeer(link),
    tipHeight: () => core.ledger.tip().height,
    starved: () => peer.starved(),
    release: (link, reason) => {
      state.delete(link);
      link.conn.close(reason);
    },
    directory: () => core.directory(),
    promote: (reason) => roles.promote(reason),
    dialMesh: (addr) => void sp.dialMesh(addr),
    jitter: (ms) => core.jitter(ms),
  });
  const sp: SuperPeerDuties = new SuperPeerDuties({
    nodeId,
    clock,
    random,
    book,
    gossip,
    identity: opts.identity,
    capacity: opts.capacity,
    fixedAddresses: opts.connect !== undefined,
    advertise: () => core.advertise(),
    stopping: () => core.stopping(),
    isSuperPeer: () => core.role().kind === "superpeer",
    links: () => links.all(),
    members,
    meshLinks,
    meshState: (link) => {
      const st = state.get(link);
      return st?.kind === "mesh" ? st : undefined;
    },
    meshDelivered: () => {
      const ids = new Set<string>();
      for (const [l, st] of state) {
        if (st.kind === "mesh" && st.lastBlock > 0) ids.add(entryOf(l).nodeId);
      }
      return ids;
    },
    setState: (link, s) => void state.set(link, s),
    forget: (link) => void state.delete(link),
    ask: (addr, intent) => handshake.ask(addr, intent),
    relayReady: (link) => relay.afterHandshake(link, link.hello!),
    writeTracker: () => book.scheduleWrite(core.trackerLead()),
    demote: (reason) => void roles.demote(reason),
    emit: (e) => core.emit(e),
  });
  const peer: PeerSide = new PeerSide({
    clock,
    random,
    book,
    capacity: opts.capacity,
    joining: joiner,
    stopping: () => core.stopping(),
    role: () => core.role(),
    setRole: (role) => core.setRole(role),
    states: () => state,
    forget: (link) => void state.delete(link),
    tipWork: () => core.ledger.tip().work,
    relayReady: (link) => relay.afterHandshake(link, link.hello!),
    writeTracker: () => book.scheduleWrite(core.trackerLead()),
    emit: (e) => core.emit(e),
  });
  const handshake: Handshake = new Handshake({
    nodeId,
    clock,
    random,
    ledger: core.ledger,
    bans: core.bans,
    book,
    links,
    capacity: opts.capacity,
    connectTimeoutMs: opts.connectTimeoutMs,
    advertise: () => core.advertise(),
    stopping: () => core.stopping(),
    role: () => core.role(),
    states: () => state,
    setState: (link, s) => void state.set(link, s),
    others: () => sp.others(),
    admit: (link, primary, holds) => sp.admit(link, primary, holds),
    acceptMesh: (link) => sp.acceptMesh(link),
    mergeEntries: (entries, from) => gossip.mergeEntries(entries, from),
    misbehaved: (link, score, reason) => core.misbehaved(link, score, reason),
  });
  const roles: RoleChange = new RoleChange({
    nodeId,
    clock,
    identity: opts.identity,
    book,
    gossip,
    joining: joiner,
    duties: sp,
    stopping: () => core.stopping(),
    role: () => core.role(),
    setRole: (role) => core.setRole(role),
    states: () => state,
    forget: (link) => void state.delete(link),
    directory: () => core.directory(),
    emit: (e) => core.emit(e),
  });
  return { links, relay, gossip, joiner, sp, peer, handshake, roles };
}
