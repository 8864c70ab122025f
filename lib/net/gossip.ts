/**
 * Directory gossip: merging the signed entries and withdrawals a link sends, batching this node's directory
 * changes for its mesh neighbours and its Peers. Past a full mesh, news reaches mesh neighbours as digests they
 * pull from (`ihave`/`iwant`, lib/net/dir_gossip.ts) and each Peer hears a sample of the directory, so what one
 * SuperPeer sends per change does not grow with the number of SuperPeers; every link's gossip is read within a
 * budget of entries and bytes. `Network` owns the links and the role; this class owns the
 * directory a SuperPeer keeps and what is still to be sent from it, and reaches the rest only through
 * `GossipHooks`.
 * @module
 */
import {
  DIR_GOSSIP_LARGE_MS,
  DIR_GOSSIP_MS,
  DIR_MAX_SEQ_AHEAD_MS,
  DIR_MEMBER_REFRESH_MS,
  DIR_OVER_BUDGET_SCORE,
  DIR_PEER_REFRESH,
  DIR_REFRESH_MS,
  DIR_SYNC_GAP_MS,
  LIST_PAGE,
  MESH_FULL_UP_TO,
} from "./config.ts";
import { MALFORMED_SCORE } from "./ban.ts";
import { GossipBudget, LinkKnowledge, WantList } from "./dir_gossip.ts";
import { Directory } from "./directory.ts";
import { sample } from "./overlay.ts";
import { entryMessage, removalMessage } from "./identity.ts";
import type { Link } from "./link.ts";
import type { Digest, Removal, SuperPeerEntry } from "./messages.ts";
import type { Clock } from "./transport.ts";

/** What directory gossip needs of the network: the role, the links by kind, signature checks, scoring. */
export interface GossipHooks {
  /** This node's id: its own entry is its alone to write. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1) (the samples Peers hear). */
  readonly random: () => number;
  /** True while this node is a SuperPeer (only a SuperPeer forwards what it merges). */
  isSuperPeer(): boolean;
  /** The directory a Peer keeps of what its SuperPeer on `link` says, or undefined when `link` is none. */
  viewOf(link: Link): Directory | undefined;
  /** True when `link` is a Peer this node serves (a Peer may not send directory entries). */
  isMember(link: Link): boolean;
  /** True when `link` is one of this SuperPeer's mesh links (digests and wants travel only there). */
  isMesh(link: Link): boolean;
  /** This SuperPeer's mesh links. */
  meshLinks(): Link[];
  /** The links of the Peers this SuperPeer serves. */
  memberLinks(): Link[];
  /** True when `sig` (hex) is `nodeId`'s signature of `message`. */
  checkSig(nodeId: string, sig: string, message: Uint8Array<ArrayBuffer>): Promise<boolean>;
  /** A link sent something refused, with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
  /** Entries about SuperPeers new to this node were merged. */
  heardNew(): void;
}

/** The directory a SuperPeer keeps and gossips, and the changes its Peers have not heard of yet. */
export class DirectoryGossip {
  #hooks: GossipHooks;
  /** The directory a SuperPeer keeps and gossips; a Peer's view is what its own SuperPeers tell it. */
  #dir = new Directory();
  #gossipTimer: unknown;
  /** Withdrawals our Peers have not heard of yet (past a full mesh they hear them in batches). */
  #memberRemovals = new Map<string, Removal>();
  #lastMemberRefresh = 0;
  /** When our own entry last went to our Peers with a refresh. */
  #ownToMembersAt = -Infinity;
  /** Each link's budget of directory gossip to read (entries and bytes). */
  #budgets = new WeakMap<Link, GossipBudget>();
  /** Entries asked of mesh neighbours (`iwant`) and not received yet. */
  #wants = new WantList();
  /** Which entry versions each link holds or was offered: each is announced on a link once. */
  #known = new LinkKnowledge();
  /** New mesh links still to be sent our summary, one every `DIR_SYNC_GAP_MS`, and when the next may go. */
  #syncQueue: Link[] = [];
  #syncAt = -Infinity;
  #syncTimer: unknown;
  /** Mesh links whose summary was answered: each is answered once. */
  #summaryAnswered = new WeakSet<Link>();
  /** Mesh links our summary went to, or is queued for: each gets one. */
  #summarySent = new WeakSet<Link>();

  /** Gossip for the network behind `hooks`. */
  constructor(hooks: GossipHooks) {
    this.#hooks = hooks;
  }

  /** The directory this node keeps (while a SuperPeer) and gossips. */
  get dir(): Directory {
    return this.#dir;
  }

  /** Starts over with `dir` (a new role: promoted with what our SuperPeers told us, or stepped down). */
  reset(dir: Directory = new Directory()): void {
    this.#dir = dir;
  }

  /** Stops the batch and sync timers. */
  stop(): void {
    this.#hooks.clock.clearTimeout(this.#gossipTimer);
    this.#hooks.clock.clearTimeout(this.#syncTimer);
    this.#syncQueue = [];
  }

  /** Drops `nodeId`'s entry (observed dead or gone elsewhere) and tells the others. */
  drop(nodeId: string): void {
    const e = this.#dir.get(nodeId);
    if (e && nodeId !== this.#hooks.nodeId && this.#dir.remove(nodeId, e.seq)) this.schedule();
  }

  /** A `superpeers` message on `link`: its signed entries merged, its signed withdrawals acted on. */
  async onSuperpeers(link: Link, add: readonly SuperPeerEntry[], remove: readonly Removal[]): Promise<void> {
    if (this.#hooks.isMember(link)) {
      return this.#hooks.misbehaved(link, MALFORMED_SCORE, "a Peer sent directory entries");
    }
    const view = this.#hooks.viewOf(link);
    await this.mergeEntries(add, link);
    // Only a SuperPeer can withdraw its own entry: an unsigned or forged removal is not acted on.
    for (const { nodeId, seq, sig } of remove) {
      if (nodeId === this.#hooks.nodeId || seq > this.#hooks.clock.now() + DIR_MAX_SEQ_AHEAD_MS) continue;
      const held = view ?? this.#dir;
      if ((held.get(nodeId)?.seq ?? Infinity) > seq) continue; // unknown, or a newer entry known
      if (!sig || !await this.#checkSig(nodeId, sig, removalMessage(nodeId, seq))) {
        this.#hooks.misbehaved(link, MALFORMED_SCORE, "a removal not signed by its node");
        continue;
      }
      if (view) view.remove(nodeId, seq, link, sig);
      else if (this.#dir.remove(nodeId, seq, link, sig)) this.schedule();
    }
    if (view) view.takeChanges();
  }

  /**
   * Merges entries `from` a link: each counts only when signed by the SuperPeer it describes (`entryMessage`).
   * Cheap checks first (ours, too far ahead, not newer than what we hold), then the signature, one at a time;
   * a forged or unsigned entry scores its sender and changes nothing.
   */
  async mergeEntries(entries: readonly SuperPeerEntry[], from: Link): Promise<void> {
    // A Peer keeps what each of its SuperPeers says apart; a SuperPeer merges into the directory it gossips.
    const dir = this.#hooks.viewOf(from) ?? this.#dir;
    let changed = false, fresh = false, forged = 0;
    for (const e of this.#charge(from, entries, "entries")) {
      const caughtUp = this.#wants.done(e.nodeId);
      this.#known.note(from, e.nodeId, e.seq);
      // Our own entry is ours alone to write; a forged one is refused.
      if (e.nodeId === this.#hooks.nodeId) continue;
      const now = this.#hooks.clock.now();
      if (e.seq > now + DIR_MAX_SEQ_AHEAD_MS || (dir.get(e.nodeId)?.seq ?? -1) >= e.seq) continue;
      if (!e.sig || !await this.#checkSig(e.nodeId, e.sig, entryMessage(e))) {
        forged++;
        continue;
      }
      const r = dir.merge(e, this.#hooks.clock.now(), from, false, caughtUp);
      if (r) changed = true;
      if (r === "new") fresh = true;
    }
    if (forged) {
      this.#hooks.misbehaved(from, MALFORMED_SCORE, `${forged} directory entries not signed by their node`);
    }
    if (dir !== this.#dir) dir.takeChanges(); // a Peer forwards nothing
    else if (changed) this.schedule();
    if (fresh) this.#hooks.heardNew();
  }

  /** Batches directory changes: a few at once while SuperPeers are few, a second's worth past a full mesh. */
  schedule(): void {
    if (this.#gossipTimer !== undefined) return;
    this.#gossipTimer = this.#hooks.clock.setTimeout(() => {
      this.#gossipTimer = undefined;
      this.flush();
    }, this.#dir.size <= MESH_FULL_UP_TO ? DIR_GOSSIP_MS : DIR_GOSSIP_LARGE_MS);
  }

  /**
   * Sends the directory's changes to mesh neighbours (not back where they came from): in full while SuperPeers
   * are few, past that as a digest the neighbour pulls from, so each entry crosses to a SuperPeer once rather
   * than once per neighbour; and each version is announced on a link once, never to a link that announced it
   * to us (`LinkKnowledge`), so a link carries a digest of it once, not once each way. Our Peers hear every change at once while SuperPeers are few; past that
   * withdrawals and a sample every `DIR_MEMBER_REFRESH_MS`. A Peer forwards nothing.
   */
  flush(): void {
    const changes = this.#dir.takeChanges();
    if (!this.#hooks.isSuperPeer()) return;
    const small = this.#dir.size <= MESH_FULL_UP_TO;
    for (const link of this.#hooks.meshLinks()) {
      const add = changes.add.filter((c) => c.from !== link).map((c) => c.entry)
        .filter((e) => small || this.#offer(link, e));
      const remove = changes.remove.filter((c) => c.from !== link && c.sig).map(({ nodeId, seq, sig }) => ({
        nodeId,
        seq,
        sig,
      }));
      if (small) sendPaged(link, add, remove);
      else {
        sendDigest(link, add);
        sendPaged(link, [], remove);
      }
    }
    // While SuperPeers are few, our Peers hear every change at once. Past that, every SuperPeer's Peers would
    // hear of every promotion and load change in the network, which grows with the network times the
    // SuperPeers: they hear withdrawals in one batch, with a sample of the directory, every
    // `DIR_MEMBER_REFRESH_MS` instead (their dials check what they hear).
    const add = changes.add.map((c) => c.entry);
    // Only withdrawals signed by their SuperPeer travel; our own observations of a death stay ours.
    const remove = changes.remove.filter((c) => c.sig).map(({ nodeId, seq, sig }) => ({ nodeId, seq, sig }));
    if (small) {
      if (add.length || remove.length) {
        for (const l of this.#hooks.memberLinks()) sendPaged(l, add, remove);
      }
      return;
    }
    for (const e of add) this.#memberRemovals.delete(e.nodeId);
    for (const r of remove) this.#memberRemovals.set(r.nodeId, r);
  }

  /**
   * What a Peer is told of the directory: while SuperPeers are few, all of it; past that our own entry and a
   * random sample of `n` others (a Peer needs a few live SuperPeers to choose a second from and to fail over
   * to, not all of them: what it costs does not grow with the number of SuperPeers).
   */
  peerView(n: number): SuperPeerEntry[] {
    const all = this.#dir.all();
    if (all.length <= MESH_FULL_UP_TO) return [...all];
    const own = this.#dir.get(this.#hooks.nodeId);
    return [...(own ? [own] : []), ...sampleExcept(all, n, this.#hooks.nodeId, this.#hooks.random)];
  }

  /**
   * A digest on `link` (`ihave`): asks for the entries it names that this node lacks or holds older, each of
   * one neighbour at a time. Only mesh neighbours send digests.
   */
  onIHave(link: Link, entries: readonly Digest[], sync = false): void {
    if (!this.#hooks.isMesh(link)) {
      if (this.#hooks.isMember(link)) this.#hooks.misbehaved(link, MALFORMED_SCORE, "a Peer sent a digest");
      return;
    }
    const now = this.#hooks.clock.now();
    const offered = this.#charge(link, entries, "digests")
      .filter((d) => d.nodeId !== this.#hooks.nodeId && d.seq <= now + DIR_MAX_SEQ_AHEAD_MS);
    for (const d of offered) this.#known.note(link, d.nodeId, d.seq);
    const ids = this.#wants.pick(offered, (id) => this.#dir.get(id)?.seq, now, sync);
    for (let i = 0; i < ids.length; i += LIST_PAGE) {
      link.conn.send({ type: "iwant", ids: ids.slice(i, i + LIST_PAGE) });
    }
  }

  /**
   * A mesh link formed past a full mesh: this node's summary (`dirsum`) goes to the far end, which offers what
   * differs. Summaries leave one link at a time, `DIR_SYNC_GAP_MS` apart: a SuperPeer that has just promoted
   * (its directory a sample) forms all its mesh links at once, and its first neighbour's offer fills it in before
   * the next neighbour compares, so the whole directory is offered to it about once, not once per link.
   */
  syncWith(link: Link): void {
    if (this.#summarySent.has(link)) return;
    this.#summarySent.add(link);
    this.#syncQueue.push(link);
    this.#pumpSync();
  }

  #pumpSync(): void {
    if (this.#syncTimer !== undefined) return;
    const now = this.#hooks.clock.now();
    while (this.#syncQueue.length && now >= this.#syncAt) {
      const link = this.#syncQueue.shift()!;
      if (link.conn.isClosed || !this.#hooks.isMesh(link)) continue;
      link.conn.send({ type: "dirsum", buckets: this.#dir.summary() });
      this.#syncAt = now + DIR_SYNC_GAP_MS;
    }
    if (!this.#syncQueue.length) return;
    this.#syncTimer = this.#hooks.clock.setTimeout(() => {
      this.#syncTimer = undefined;
      this.#pumpSync();
    }, this.#syncAt - now);
  }

  /**
   * A mesh neighbour's summary (`dirsum`): a digest of our entries in the buckets where its summary differs
   * from ours, from which it pulls what it lacks. Answered once per link (a link forms once), and charged to the
   * link's budget as one digest per bucket. A node whose directory is still small sent its entries in full, not a
   * summary: it sends one now, so the far end (past a full mesh) offers it what it lacks too.
   */
  onDirSum(link: Link, buckets: string): void {
    if (!this.#hooks.isMesh(link)) {
      if (this.#hooks.isMember(link)) this.#hooks.misbehaved(link, MALFORMED_SCORE, "a Peer sent a summary");
      return;
    }
    if (this.#summaryAnswered.has(link)) return;
    this.#summaryAnswered.add(link);
    const count = buckets.length / 8;
    const cost = Array.from({ length: count }, () => ({ nodeId: "", seq: 0 }));
    if (this.#charge(link, cost, "summary buckets").length < cost.length) return;
    // All of what differs, even what went to this link before: a summary is how a link repairs what it missed.
    const differing = this.#dir.inBuckets(this.#dir.differing(buckets), count);
    for (const e of differing) this.#known.note(link, e.nodeId, e.seq);
    sendDigest(link, differing, true);
    this.syncWith(link);
  }

  /** A mesh neighbour's `iwant`: the entries it names that this node holds, within its budget. */
  onIWant(link: Link, ids: readonly string[]): void {
    if (!this.#hooks.isMesh(link)) {
      if (this.#hooks.isMember(link)) {
        this.#hooks.misbehaved(link, MALFORMED_SCORE, "a Peer asked for entries");
      }
      return;
    }
    const asked = this.#charge(link, ids.map((nodeId) => ({ nodeId, seq: 0 })), "wants");
    const held = asked.map((d) => this.#dir.get(d.nodeId)).filter((e) => e !== undefined);
    for (const e of held) this.#known.note(link, e.nodeId, e.seq);
    sendPaged(link, held, []);
  }

  /**
   * Charges `items` of a directory message from `link` to its budget (`GossipBudget`, made on first use): the
   * prefix that fits is read; the rest is dropped unread and the link scored.
   */
  #charge<T extends SuperPeerEntry | Digest>(link: Link, items: readonly T[], what: string): readonly T[] {
    const now = this.#hooks.clock.now();
    let b = this.#budgets.get(link);
    if (!b) this.#budgets.set(link, b = new GossipBudget(now));
    const n = b.charge(items, now);
    if (n === items.length) return items;
    this.#hooks.misbehaved(
      link,
      DIR_OVER_BUDGET_SCORE,
      `${items.length - n} directory ${what} over the link's budget, dropped unread`,
    );
    return items.slice(0, n);
  }

  /** True (and noted) when `link` is not known to hold `e` or newer: an entry version is offered on a link once. */
  #offer(link: Link, e: SuperPeerEntry): boolean {
    if (this.#known.knows(link, e.nodeId, e.seq)) return false;
    this.#known.note(link, e.nodeId, e.seq);
    return true;
  }

  /** Past a full mesh: our Peers hear the batched changes once `DIR_MEMBER_REFRESH_MS` has passed. */
  refreshMembersIfDue(now: number): void {
    if (now - this.#lastMemberRefresh >= DIR_MEMBER_REFRESH_MS) this.#refreshMembers(now);
  }

  #refreshMembers(now: number): void {
    this.#lastMemberRefresh = now;
    // While SuperPeers are few our Peers heard every change at once.
    if (this.#dir.size <= MESH_FULL_UP_TO) return;
    const remove = [...this.#memberRemovals.values()];
    this.#memberRemovals.clear();
    // Each Peer a sample of its own: together they know the whole directory, each at a cost that does not grow.
    // Our own entry goes with it only every `DIR_REFRESH_MS`, to keep it from expiring (the live link says more
    // of us than the entry does).
    const own = now - this.#ownToMembersAt >= DIR_REFRESH_MS ? this.#dir.get(this.#hooks.nodeId) : undefined;
    if (own) this.#ownToMembersAt = now;
    for (const l of this.#hooks.memberLinks()) {
      const others = sampleExcept(this.#dir.all(), DIR_PEER_REFRESH, this.#hooks.nodeId, this.#hooks.random);
      sendPaged(l, own ? [own, ...others] : others, remove);
    }
  }

  #checkSig(nodeId: string, sig: string, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
    return this.#hooks.checkSig(nodeId, sig, message);
  }
}

/**
 * `n` distinct entries of `all` drawn at random, none of them `skip`'s: `n` draws, without copying `all` (a
 * SuperPeer draws a sample for every Peer it welcomes and refreshes, from a directory of hundreds).
 */
export function sampleExcept(
  all: readonly SuperPeerEntry[],
  n: number,
  skip: string,
  random: () => number,
): SuperPeerEntry[] {
  const eligible = all.length - (all.some((e) => e.nodeId === skip) ? 1 : 0);
  if (n >= eligible) return sample(all.filter((e) => e.nodeId !== skip), n, random);
  const picked = new Set<number>();
  const out: SuperPeerEntry[] = [];
  while (out.length < n) {
    // A taken draw moves on to the next free entry: n draws in all, whatever `random` returns.
    let i = Math.min(all.length - 1, Math.floor(random() * all.length));
    while (picked.has(i) || all[i].nodeId === skip) i = (i + 1) % all.length;
    picked.add(i);
    out.push(all[i]);
  }
  return out;
}

/** Announces entries as a digest (ids and sequence numbers), in pages; `sync`: the answer to a summary. */
export function sendDigest(link: Link, entries: readonly SuperPeerEntry[], sync = false): void {
  for (let i = 0; i < entries.length; i += LIST_PAGE) {
    link.conn.send({
      type: "ihave",
      entries: entries.slice(i, i + LIST_PAGE).map(({ nodeId, seq }) => ({ nodeId, seq })),
      ...(sync ? { sync } : {}),
    });
  }
}

/** Sends directory changes in pages. */
export function sendPaged(link: Link, add: SuperPeerEntry[], remove: Removal[]): void {
  for (let i = 0; i < Math.max(add.length, remove.length); i += LIST_PAGE) {
    link.conn.send({
      type: "superpeers",
      add: add.slice(i, i + LIST_PAGE),
      remove: remove.slice(i, i + LIST_PAGE),
    });
  }
}
