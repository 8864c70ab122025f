/**
 * Directory gossip: merging the signed entries and withdrawals a link sends, batching this node's directory
 * changes for its mesh neighbours and its Peers. `Network` owns the links and the role; this class owns the
 * directory a SuperPeer keeps and what is still to be sent from it, and reaches the rest only through
 * `GossipHooks`.
 * @module
 */
import {
  DIR_GOSSIP_LARGE_MS,
  DIR_GOSSIP_MS,
  DIR_LINK_BUDGET,
  DIR_MAX_SEQ_AHEAD_MS,
  DIR_MEMBER_REFRESH_MS,
  LIST_PAGE,
  MESH_FULL_UP_TO,
} from "./config.ts";
import { MALFORMED_SCORE } from "./ban.ts";
import { TokenBucket } from "./dial_budget.ts";
import { Directory } from "./directory.ts";
import { entryMessage, removalMessage } from "./identity.ts";
import type { Link } from "./link.ts";
import type { Removal, SuperPeerEntry } from "./messages.ts";
import type { Clock } from "./transport.ts";

/** What directory gossip needs of the network: the role, the links by kind, signature checks, scoring. */
export interface GossipHooks {
  /** This node's id: its own entry is its alone to write. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** True while this node is a SuperPeer (only a SuperPeer forwards what it merges). */
  isSuperPeer(): boolean;
  /** The directory a Peer keeps of what its SuperPeer on `link` says, or undefined when `link` is none. */
  viewOf(link: Link): Directory | undefined;
  /** True when `link` is a Peer this node serves (a Peer may not send directory entries). */
  isMember(link: Link): boolean;
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
  /** Directory changes our Peers have not heard of yet (past a full mesh they hear them in batches). */
  #memberRefresh = new Set<string>();
  #memberRemovals = new Map<string, Removal>();
  #lastMemberRefresh = 0;
  /** Each link's budget of directory entries to check. */
  #entryBudgets = new WeakMap<Link, TokenBucket>();

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

  /** Stops the batch timer. */
  stop(): void {
    this.#hooks.clock.clearTimeout(this.#gossipTimer);
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
    let changed = false, fresh = false, forged = 0, over = 0;
    const budget = this.#entryBudget(from);
    for (const e of entries) {
      // Our own entry is ours alone to write; a forged one is refused.
      if (e.nodeId === this.#hooks.nodeId) continue;
      const now = this.#hooks.clock.now();
      if (e.seq > now + DIR_MAX_SEQ_AHEAD_MS || (dir.get(e.nodeId)?.seq ?? -1) >= e.seq) continue;
      if (!budget.take(now)) {
        over++;
        continue;
      }
      if (!e.sig || !await this.#checkSig(e.nodeId, e.sig, entryMessage(e))) {
        forged++;
        continue;
      }
      const r = dir.merge(e, this.#hooks.clock.now(), from);
      if (r) changed = true;
      if (r === "new") fresh = true;
    }
    if (forged) {
      this.#hooks.misbehaved(from, MALFORMED_SCORE, `${forged} directory entries not signed by their node`);
    }
    if (over) {
      this.#hooks.misbehaved(from, 0, `${over} directory entries over the link's budget, dropped unread`);
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
   * Sends the directory's changes: every change to mesh neighbours (not back where it came from); to our
   * Peers only SuperPeers new to them and removals at once, load updates every `DIR_MEMBER_REFRESH_MS`.
   * A Peer forwards nothing.
   */
  flush(): void {
    const changes = this.#dir.takeChanges();
    if (!this.#hooks.isSuperPeer()) return;
    for (const link of this.#hooks.meshLinks()) {
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
      if (add.length || remove.length) {
        for (const l of this.#hooks.memberLinks()) sendPaged(l, add, remove);
      }
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

  /** Past a full mesh: our Peers hear the batched changes once `DIR_MEMBER_REFRESH_MS` has passed. */
  refreshMembersIfDue(now: number): void {
    if (now - this.#lastMemberRefresh >= DIR_MEMBER_REFRESH_MS) this.#refreshMembers(now);
  }

  #refreshMembers(now: number): void {
    this.#lastMemberRefresh = now;
    const add = [...this.#memberRefresh].map((id) => this.#dir.get(id)).filter((e) => e !== undefined);
    const remove = [...this.#memberRemovals.values()];
    this.#memberRefresh.clear();
    this.#memberRemovals.clear();
    if (add.length || remove.length) { for (const l of this.#hooks.memberLinks()) sendPaged(l, add, remove); }
  }

  /** The directory entry budget of `link` (`DIR_LINK_BUDGET`), made on first use. */
  #entryBudget(link: Link): TokenBucket {
    let b = this.#entryBudgets.get(link);
    if (!b) {
      b = new TokenBucket(DIR_LINK_BUDGET.burst, DIR_LINK_BUDGET.perSecond, this.#hooks.clock.now());
      this.#entryBudgets.set(link, b);
    }
    return b;
  }

  #checkSig(nodeId: string, sig: string, message: Uint8Array<ArrayBuffer>): Promise<boolean> {
    return this.#hooks.checkSig(nodeId, sig, message);
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
