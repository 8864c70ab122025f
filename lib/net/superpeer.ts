/**
 * A SuperPeer's duties: admitting Peers (`admit`, with eviction and `full` answers), its roster, the mesh of
 * SuperPeers (accepting, dialling within a budget, keeping its degree, pruning), publishing its own signed
 * directory entry, the probe that heals partitions, and the once-a-second care that may decide it steps down.
 * `Network` keeps the links, their states and the role and makes every change to them; this class keeps what
 * a SuperPeer remembers (roster, own sequence, mesh dials) and reaches the rest through `SuperPeerHooks`.
 * @module
 */
import type { AddressBook } from "./address_book.ts";
import { normalizeAddress } from "./address_book.ts";
import {
  DIR_HEARTBEAT_MS,
  DIR_PEER_SAMPLE,
  DIR_PUBLISH_MIN_MS,
  DIR_PUBLISH_STEP,
  LIST_PAGE,
  MESH_FULL_UP_TO,
  MESH_REDIRECT_DEPTH,
  MESH_REDIRECT_FANOUT,
  OWN_BOOK_SAMPLE,
} from "./config.ts";
import { DialBudget } from "./dial_budget.ts";
import type { Directory } from "./directory.ts";
import { type DirectoryGossip, sendPaged } from "./gossip.ts";
import { entryMessage, type NodeIdentity } from "./identity.ts";
import { isLegacy, type Link } from "./link.ts";
import { type AskResult, entryOf, type Intent, type LinkState } from "./link_state.ts";
import type { PeerEntry, SuperPeerEntry, WelcomeMessage } from "./messages.ts";
import type { NetworkEvent } from "./network.ts";
import { answerJoin, evictionVictim, planMesh, shouldDemote, stillChosen } from "./overlay.ts";
import type { Clock } from "./transport.ts";
import { toHex } from "../crypto/hex.ts";

/** A Peer this SuperPeer serves, with its link's state. */
export type Member = [Link, Extract<LinkState, { kind: "member" }>];

/** What a SuperPeer's duties need of the network: its links by kind, asking, and the changes `Network` makes. */
export interface SuperPeerHooks {
  /** Proven node ids of the mesh links that relayed a new block to this SuperPeer (evidence, not a claim). */
  meshDelivered(): ReadonlySet<string>;
  /** What `link` is for, when it is a mesh link: what it relayed and when. */
  meshState(link: Link): Extract<LinkState, { kind: "mesh" }> | undefined;
  /** This node's id. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** Where SuperPeers were heard of, greeted and served. */
  readonly book: AddressBook;
  /** The directory this SuperPeer keeps and its gossip. */
  readonly gossip: DirectoryGossip;
  /** Signs our own directory entry. */
  readonly identity: NodeIdentity;
  /** Peers this SuperPeer serves at most. */
  readonly capacity: number;
  /** True when the owner gave fixed addresses (`connect`): the tracker file is not read again. */
  readonly fixedAddresses: boolean;
  /** The address others dial to reach this node. */
  advertise(): string;
  /** True once the network is stopping. */
  stopping(): boolean;
  /** True while this node is a SuperPeer. */
  isSuperPeer(): boolean;
  /** Every open link. */
  links(): Link[];
  /** The Peers this SuperPeer serves. */
  members(): Member[];
  /** This SuperPeer's mesh links. */
  meshLinks(): Link[];
  /** Sets what `link` is for. */
  setState(link: Link, state: LinkState): void;
  /** Forgets `link` (it is being closed; its close is not mourned). */
  forget(link: Link): void;
  /** Dials `addr` and asks it for `intent`. */
  ask(addr: string, intent: Intent): Promise<AskResult>;
  /** `link` is up and greeted: relay may start on it. */
  relayReady(link: Link): void;
  /** Rewrites the tracker file's lead soon. */
  writeTracker(): void;
  /** Steps down to a Peer. */
  demote(reason: string): void;
  /** Tells the owner. */
  emit(e: NetworkEvent): void;
}

/** What a SuperPeer does for its Peers and the mesh, for the network behind `SuperPeerHooks`. */
export class SuperPeerDuties {
  #h: SuperPeerHooks;
  /** When this SuperPeer last handed out a promotion (`answerJoin` rate-limits them). */
  #lastPromotion = -Infinity;
  /** Since when this SuperPeer serves no Peer, if it serves none. */
  #lowSince: number | undefined;
  #ownSeq = 0;
  #ownPublished = { load: -1, peers: -1, at: -Infinity };
  #meshDialing = new Set<string>();
  /** The directory's addresses, normalised, as of a directory version (the probe asks every few seconds). */
  #listens: { dir?: Directory; version: number; addrs: Set<string> } = { version: -1, addrs: new Set() };
  /** Each entry's address, normalised once ("" when it is none). */
  #normalized = new WeakMap<SuperPeerEntry, string>();
  /** Mesh dials: a global rate, and no address dialled again within `MESH_REDIAL_MS`. */
  #meshDialBudget = new DialBudget();
  /** True once a block new to this node came over its mesh (`shouldDemote`). */
  #blocksFlow = false;
  /** Node ids of the SuperPeers `maintainMesh` chose to dial (its own choice, not another node's word). */
  #chosen = new Set<string>();
  /** A SuperPeer's Peers in the order it admitted them: sent to each, who walk it if this one dies. */
  #roster: PeerEntry[] = [];
  /**
   * True while our Peers hold our roster: only while we are the only SuperPeer, since only then would they
   * need it (with others about, a Peer that loses us has them). Keeping every Peer's copy current otherwise
   * would cost each join a message to every Peer.
   */
  #rosterShared = false;

  /** Duties for the network behind `hooks`. */
  constructor(hooks: SuperPeerHooks) {
    this.#h = hooks;
  }

  /** This node just became a SuperPeer: its idle time starts over, its entry goes out, its mesh forms. */
  promoted(): void {
    this.#lowSince = undefined;
    this.publish(true);
    this.#h.writeTracker();
    this.maintainMesh();
    // The directory it inherited is its SuperPeers' word: its own book's SuperPeers are dialled too, so those
    // that told it (accomplices naming only each other) do not make up its whole mesh.
    for (const a of this.#h.book.own(OWN_BOOK_SAMPLE)) {
      if (a !== this.#h.advertise()) void this.dialMesh(a);
    }
  }

  get #dir() {
    return this.#h.gossip.dir;
  }

  /** Directory entries other than our own. */
  others(): SuperPeerEntry[] {
    return this.#dir.entries().filter((e) => e.nodeId !== this.#h.nodeId);
  }

  /** A `join` on `link`; `holds`: the SuperPeer a Peer asking for a backup has, not one to point it to. */
  admit(link: Link, primary: boolean, holds?: string): void {
    const legacy = isLegacy(link);
    if (legacy && this.#h.members().some(([l]) => l.hello?.nodeId === entryOf(link).nodeId)) {
      // An unproven (protocol 2) id replaces nobody: it could be anyone's.
      link.conn.send({ type: "reject", code: "id", reason: "a node with this id is served here already" });
      link.conn.close("legacy id in use", { flush: true });
      return;
    }
    const members = this.#h.members();
    const delivered = this.#h.meshDelivered();
    let answer = answerJoin({
      members: members.length,
      capacity: this.#h.capacity,
      others: this.others(),
      now: this.#h.clock.now(),
      lastPromotion: this.#lastPromotion,
      skip: holds === undefined ? [entryOf(link).nodeId] : [entryOf(link).nodeId, holds],
      delivered: (e) => delivered.has(e.nodeId),
    }, this.#h.random);
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
      if (answer.promote) this.#lastPromotion = this.#h.clock.now();
      link.conn.send({ type: "full", try: answer.try, promote: answer.promote });
      link.conn.close("full", { flush: true });
      return;
    }
    const peer = entryOf(link);
    // A node that rejoins (a new link, same proven id) replaces its old link, and a legacy link claiming it.
    for (const [l] of this.#h.members()) {
      if (l.hello?.nodeId === peer.nodeId) {
        this.#dropMember(l);
        l.conn.close("replaced");
      }
    }
    this.#h.setState(link, { kind: "member", primary, lastBlock: 0, lastTx: 0 });
    // A legacy Peer is served but never on the roster: no one is to wait for it, or join it, as a successor.
    if (!legacy) {
      this.#roster = [...this.#roster.filter((p) => p.nodeId !== peer.nodeId), peer];
      this.#rosterShared ||= this.others().length === 0;
    }
    // The roster so far, in join order, always: every Peer then holds a prefix of one order, so all that lost
    // their SuperPeers at once agree on its first live Peer as successor, whether or not they heard later joins.
    this.#sendWelcome(link, this.#roster);
    if (this.#rosterShared && !legacy) {
      for (const [l] of this.#h.members()) {
        if (l !== link) l.conn.send({ type: "members", add: [peer], remove: [] });
      }
    }
    this.#h.emit({ type: "peer-joined", peer });
    this.publish();
    this.#h.relayReady(link);
  }

  /** A `mesh` request from a SuperPeer: welcomed with our directory, kept unless a duplicate. */
  acceptMesh(link: Link): void {
    this.#h.setState(link, { kind: "mesh", lastBlock: 0, lastTx: 0 });
    this.#sendWelcome(link, []);
    if (this.#keepMesh(link)) this.#meshUp(link, false);
  }

  /**
   * Two SuperPeers that dial each other at once end up with two links: both ends keep the one dialled by
   * the smaller node id (so they close the same one) and drop the other. True when `link` is kept.
   */
  #keepMesh(link: Link): boolean {
    const id = entryOf(link).nodeId;
    const old = this.#h.meshLinks().find((l) => l !== link && entryOf(l).nodeId === id);
    if (!old) return true;
    const dialer = (l: Link) => l.inbound ? id : this.#h.nodeId;
    const [keep, drop] = dialer(link) < dialer(old) ? [link, old] : [old, link];
    this.#prune(drop, "duplicate mesh link");
    return keep === link;
  }

  /**
   * Sends `welcome` with the directory and the first page of `roster`, then the rest as pages. While
   * SuperPeers are few, all of the directory. Past that a Peer gets a sample (`DIR_PEER_SAMPLE`), and a mesh
   * neighbour our own entry and a digest of the rest, from which it pulls what it lacks (usually little).
   */
  #sendWelcome(link: Link, roster: PeerEntry[]): void {
    const small = this.#dir.size <= MESH_FULL_UP_TO;
    const mesh = !small && roster.length === 0 && this.#h.meshLinks().includes(link);
    const own = this.#dir.get(this.#h.nodeId);
    const dir = mesh ? (own ? [own] : []) : this.#h.gossip.peerView(DIR_PEER_SAMPLE);
    const welcome: WelcomeMessage = {
      type: "welcome",
      superpeers: dir.slice(0, LIST_PAGE),
      members: roster.slice(0, LIST_PAGE),
    };
    link.conn.send(welcome);
    if (mesh) this.#h.gossip.syncWith(link);
    for (let i = LIST_PAGE; i < roster.length; i += LIST_PAGE) {
      link.conn.send({ type: "members", add: roster.slice(i, i + LIST_PAGE), remove: [] });
    }
  }

  /**
   * A mesh link is up. Each side's directory crosses it once (the other may come from a partition that knew
   * none): the side that accepted sent its own with `welcome`, the side that dialled sends it now; past a full
   * mesh as a digest, from which the other pulls what it lacks.
   */
  #meshUp(link: Link, dialled: boolean): void {
    const peer = entryOf(link);
    this.#h.book.add(peer.listen, "heard");
    this.#h.writeTracker();
    this.#h.emit({ type: "mesh-linked", peer });
    this.#h.relayReady(link);
    if (dialled && this.#dir.size > MESH_FULL_UP_TO) this.#h.gossip.syncWith(link);
    else if (dialled) sendPaged(link, this.#dir.entries(), []);
  }

  /**
   * Closes a mesh link we no longer want, saying so first: the far end then knows its neighbour is alive and
   * does not dial straight back (which would re-make every pruned link a moment later).
   */
  #prune(link: Link, reason: string): void {
    this.#h.forget(link);
    link.conn.send({ type: "reject", code: "prune", reason });
    link.conn.close(reason, { flush: true });
  }

  /** A mesh link closed without a prune: is that SuperPeer gone, or only the link? Asks it where it stands. */
  async checkSuperPeer(peer: PeerEntry): Promise<void> {
    if (!this.#h.isSuperPeer() || !this.#dir.get(peer.nodeId)) return;
    const r = await this.#h.ask(peer.listen, { kind: "getaddr" });
    if (r.kind === "dead" || (r.kind === "redirect" && !r.superpeer)) this.#h.gossip.drop(peer.nodeId);
  }

  /**
   * SuperPeers found on the LAN while we are one (two that started at once, or two networks that never
   * met): each is dialled for a mesh link unless we dialled and greeted it already and still know it. So a
   * neighbour that only ever dialled us is dialled once too: greeted, it may go in our tracker file and the
   * next start finds it without a search. Only dialled, never remembered: the overlay greets them first.
   */
  meetFound(addrs: string[]): void {
    if (!this.#h.isSuperPeer() || this.#h.stopping()) return;
    const known = new Set<string | undefined>(this.#dirListens());
    for (const l of this.#h.links()) if (l.hello?.listen) known.add(normalizeAddress(l.hello.listen));
    for (const found of addrs) {
      const a = normalizeAddress(found);
      if (!a || a === this.#h.advertise() || (known.has(a) && this.#h.book.wasGreeted(a))) continue;
      // Greeted, it belongs in the tracker file even when the link is the duplicate the other end keeps.
      this.dialMesh(a).then(() => this.#h.book.wasGreeted(a) && this.#h.writeTracker());
    }
  }

  /** Now the only SuperPeer: our Peers get our whole roster (it replaces what they held); no longer: not kept. */
  #shareRoster(): void {
    const sole = this.others().length === 0;
    if (sole && !this.#rosterShared) {
      for (const [l] of this.#h.members()) {
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

  /** The directory's addresses, normalised (made again only after the directory changed). */
  #dirListens(): ReadonlySet<string> {
    const dir = this.#dir;
    if (this.#listens.dir !== dir || this.#listens.version !== dir.version) {
      const addrs = new Set<string>();
      for (const e of dir.all()) {
        let a = this.#normalized.get(e);
        if (a === undefined) this.#normalized.set(e, a = normalizeAddress(e.listen) ?? "");
        if (a) addrs.add(a);
      }
      this.#listens = { dir, version: dir.version, addrs };
    }
    return this.#listens.addrs;
  }

  /** Keeps the mesh degree (`planMesh`): dials what is missing, prunes what is too much. */
  maintainMesh(): void {
    if (!this.#h.isSuperPeer()) return;
    const linked = this.#h.meshLinks();
    const book = this.#h.book;
    // Those that served it first (relayed a block or transaction; a greeting proves only a key, Sybils greet
    // too), then the rest at random.
    const rank = (e: SuperPeerEntry) => book.wasServed(e.listen) ? 0 : 1;
    // A link relays blocks when it sent a block frame of any kind; one it chose that relays none after a block
    // came over the mesh no longer counts as its choice (`stillChosen`).
    let newest = 0;
    const relayed = new Set<string>();
    for (const l of linked) {
      const st = this.#h.meshState(l);
      newest = Math.max(newest, st?.lastBlock ?? 0);
      if ((st?.lastBlock ?? 0) > 0) this.#blocksFlow = true;
      if ((st?.relayedAt ?? 0) > 0 || (st?.lastBlock ?? 0) > 0) relayed.add(entryOf(l).nodeId);
    }
    const chosen = stillChosen(
      linked.filter((l) => !l.inbound && this.#chosen.has(entryOf(l).nodeId)).map((l) => ({
        nodeId: entryOf(l).nodeId,
        since: l.openedAt,
        relayed: relayed.has(entryOf(l).nodeId),
      })),
      newest,
    );
    // Before any block came over its mesh nothing tells a link that relays from one that does not: the degree
    // alone decides then.
    const plan = planMesh(
      linked.map((l) => entryOf(l).nodeId),
      this.others(),
      this.#h.random,
      !this.#blocksFlow ? undefined : {
        chosen,
        delivered: relayed,
        rank,
      },
    );
    // What it chose itself (bounded by the directory): links others named it do not count as its own choice.
    const ids = new Set(linked.map((l) => entryOf(l).nodeId));
    for (const id of this.#chosen) if (!ids.has(id)) this.#chosen.delete(id);
    for (const e of plan.dial) {
      this.#chosen.add(e.nodeId);
      this.dialMesh(e.listen, e.nodeId);
    }
    for (const id of plan.drop) {
      const l = linked.find((x) => entryOf(x).nodeId === id);
      if (l) this.#prune(l, "mesh degree");
    }
  }

  /** Dials a SuperPeer for a mesh link (once at a time per address); a dead one leaves the directory. */
  async dialMesh(addr: string, nodeId?: string, depth = 0): Promise<void> {
    const a = normalizeAddress(addr);
    if (!a || a === this.#h.advertise() || this.#meshDialing.has(a) || !this.#h.isSuperPeer()) return;
    if (!this.#meshDialBudget.take(a, this.#h.clock.now())) return;
    this.#meshDialing.add(a);
    try {
      const r = await this.#h.ask(a, { kind: "mesh" });
      if (r.kind === "linked") {
        // Another node now answers at that address (a restart): the old entry is gone for good.
        if (nodeId && entryOf(r.link).nodeId !== nodeId) this.#h.gossip.drop(nodeId);
        if (!this.#h.isSuperPeer()) {
          this.#h.forget(r.link);
          r.link.conn.close("no longer a SuperPeer");
        } else if (this.#keepMesh(r.link)) this.#meshUp(r.link, true);
      } else if (r.kind === "redirect") {
        for (const to of r.to) this.#h.book.add(to, "heard");
        // A SuperPeer asked for a mesh link takes it: whatever answers with a redirect is not the SuperPeer
        // the entry names (any more), whatever its hello claims.
        if (nodeId) this.#h.gossip.drop(nodeId);
        // Redirects are followed MESH_REDIRECT_DEPTH hops deep, to MESH_REDIRECT_FANOUT addresses, within the
        // dial budget: entries that redirect to each other cannot make this node dial without end, nor aim
        // its dials at a third party (a reflector).
        if (depth < MESH_REDIRECT_DEPTH) {
          for (const to of r.to.slice(0, MESH_REDIRECT_FANOUT)) this.dialMesh(to, undefined, depth + 1);
        }
      } else if (r.kind === "dead" && nodeId) this.#h.gossip.drop(nodeId);
    } finally {
      this.#meshDialing.delete(a);
    }
  }

  /**
   * A SuperPeer dials one remembered address outside its directory now and then: partitions heal so. With
   * nothing left to try it reads the tracker file again: a node started later in the same folder (or an
   * edited file) names SuperPeers this one has not heard of.
   */
  async probe(): Promise<void> {
    if (!this.#h.isSuperPeer() || this.#h.stopping()) return;
    const known = new Set([this.#h.advertise(), ...this.#dirListens()]);
    for (const l of this.#h.links()) if (l.hello?.listen) known.add(normalizeAddress(l.hello.listen)!);
    let addr = this.#h.book.pick(known, this.#h.random);
    if (!addr && !this.#h.fixedAddresses) {
      await this.#h.book.load().catch(() => {});
      addr = this.#h.book.pick(known, this.#h.random);
    }
    if (addr) this.dialMesh(addr);
  }

  /**
   * Republishes our own entry when our load changed or for the heartbeat. While SuperPeers are few every
   * change goes out at once. Past that every entry floods the whole mesh, so a change goes out only when it
   * matters to others (room appeared or ran out, or the load moved by an eighth of capacity), at most every
   * `DIR_PUBLISH_MIN_MS`; the heartbeat carries the exact counts.
   */
  publish(force = false): void {
    if (!this.#h.isSuperPeer()) return;
    const members = this.#h.members();
    const load = members.length, peers = members.filter(([, s]) => s.primary).length;
    const now = this.#h.clock.now(), last = this.#ownPublished, capacity = this.#h.capacity;
    const small = this.#dir.size <= MESH_FULL_UP_TO;
    const step = Math.max(1, Math.floor(capacity / DIR_PUBLISH_STEP));
    const flipped = (load < capacity) !== (last.load < capacity); // room appeared or ran out: what joiners go by
    const changed = small
      ? load !== last.load || peers !== last.peers
      : flipped || Math.abs(load - last.load) >= step || Math.abs(peers - last.peers) >= step;
    const gap = small || flipped ? 0 : DIR_PUBLISH_MIN_MS;
    if (!force && !(changed && now - last.at >= gap) && now - last.at < DIR_HEARTBEAT_MS) return;
    this.#ownPublished = { load, peers, at: now };
    const entry = { nodeId: this.#h.nodeId, listen: this.#h.advertise(), peers, load, capacity };
    const signed = { ...entry, seq: this.nextSeq() };
    // Signed by us, as every node checks: an entry about us counts only with our signature.
    this.#h.identity.sign(entryMessage(signed)).then((sig) => {
      if (!this.#h.isSuperPeer() || this.#h.stopping()) return;
      this.#dir.merge({ ...signed, sig: toHex(sig) }, this.#h.clock.now(), this, true);
      this.#h.gossip.schedule();
    });
  }

  /** The next sequence number of our own entry or withdrawal: rising, and never behind our clock. */
  nextSeq(): number {
    this.#ownSeq = Math.max(this.#ownSeq + 1, Math.floor(this.#h.clock.now()));
    return this.#ownSeq;
  }

  #dropMember(link: Link): void {
    if (!this.#h.members().some(([l]) => l === link)) return;
    this.#h.forget(link);
    this.memberGone(link);
  }

  /** A Peer we served is gone: off the roster, our Peers told (while they hold it), our entry republished. */
  memberGone(link: Link): void {
    const peer = entryOf(link);
    if (!isLegacy(link)) this.#roster = this.#roster.filter((p) => p.nodeId !== peer.nodeId);
    if (this.#rosterShared && !isLegacy(link)) {
      for (const [l] of this.#h.members()) l.conn.send({ type: "members", add: [], remove: [peer.nodeId] });
    }
    this.#h.emit({ type: "peer-left", peer });
    this.publish();
  }

  /** Once a second, while a SuperPeer: expire the directory, republish, keep the mesh, consider stepping down. */
  tick(now: number): void {
    for (const link of this.#h.meshLinks()) this.#dir.touch(entryOf(link).nodeId, now);
    if (this.#dir.expire(now, this.#h.nodeId).length) this.#h.gossip.schedule();
    this.publish();
    this.maintainMesh();
    this.#shareRoster();
    const load = this.#h.members().length;
    if (load > 0) this.#lowSince = undefined;
    else this.#lowSince ??= now;
    if (
      shouldDemote({
        load,
        idleSince: this.#lowSince,
        now,
        mesh: this.#h.meshLinks().map((l) => {
          const e = this.#dir.get(entryOf(l).nodeId);
          return {
            nodeId: entryOf(l).nodeId,
            host: l.conn.remote.hostname,
            since: l.openedAt,
            roomy: e !== undefined && e.load < e.capacity,
            relayed: (this.#h.meshState(l)?.relayedAt ?? 0) > 0 || (this.#h.meshState(l)?.lastBlock ?? 0) > 0,
          };
        }),
        blocksFlow: this.#blocksFlow,
      }, this.#h.random)
    ) this.#h.demote("idle, with SuperPeers of its own: stepping down");
    this.#h.gossip.refreshMembersIfDue(now);
  }
}
