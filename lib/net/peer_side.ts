/**
 * A Peer's side of the overlay: a SuperPeer that took us becomes our primary or our backup (or is let go), the
 * stale-tip check's extra SuperPeer, the roster each of our SuperPeers sends, the directory as our SuperPeers
 * tell it, the watch over the two (`DeliveryWatch`: swap, replace, stale tip) and losing one of them.
 * `Network` keeps the links, their states and the role and dispatches their messages; this class keeps the
 * watch and reaches the rest through `PeerSideHooks`.
 * @module
 */
import type { AddressBook } from "./address_book.ts";
import { BEHIND_GRACE_MS, ROSTER_BOUND } from "./config.ts";
import { DeliveryWatch } from "./delivery.ts";
import type { Joining } from "./joining.ts";
import type { Link } from "./link.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
import type { MembersMessage, SuperPeerEntry } from "./messages.ts";
import type { NetworkEvent } from "./network.ts";
import { hostGroup, isLoopback, lagsBehind } from "./overlay.ts";
import type { Clock } from "./transport.ts";

/** The messages that carry a block: a SuperPeer sending any of them is delivering (`DeliveryWatch`). */
const BLOCK_FRAMES: ReadonlySet<string> = new Set(["block", "blocks", "cmpctblock", "blocktxn"]);

/** One of our SuperPeers' links, with its state. */
type SuperPeerState = Extract<LinkState, { kind: "superpeer" }>;

/** What a Peer's side needs of the network: the role and link states `Network` keeps, and joining. */
export interface PeerSideHooks {
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** Where SuperPeers were heard of, greeted and served. */
  readonly book: AddressBook;
  /** Peers a SuperPeer serves at most here: it bounds the rosters we keep. */
  readonly capacity: number;
  /** Joining: the second SuperPeer, the stale-tip check, failover. */
  readonly joining: Pick<Joining, "seekSecond" | "staleTip" | "markDead" | "lostAll">;
  /** True once the network is stopping. */
  stopping(): boolean;
  /** Where this node stands now. */
  role(): RoleState;
  /** Changes where this node stands. */
  setRole(role: RoleState): void;
  /** What each link is for. */
  states(): ReadonlyMap<Link, LinkState>;
  /** Forgets `link` (it is being closed; its close is not mourned). */
  forget(link: Link): void;
  /** This node's tip's chain work. */
  tipWork(): bigint;
  /** `link` is up and greeted: relay may start on it. */
  relayReady(link: Link): void;
  /** Rewrites the tracker file's lead soon. */
  writeTracker(): void;
  /** Tells the owner. */
  emit(e: NetworkEvent): void;
}

/** A Peer's dealings with its SuperPeers, for the network behind `PeerSideHooks`. */
export class PeerSide {
  #h: PeerSideHooks;
  /** A Peer's watch over its two SuperPeers: frozen, not delivering, stale tip. */
  #watch: DeliveryWatch;
  /** Links made ready for relay here (`relayReady` once each: a kept trial's link is not announced to twice). */
  #ready = new WeakSet<Link>();
  /** Our tip's work when we first watched each of our SuperPeers' links (`#lagging`). */
  #workAtLink = new WeakMap<Link, bigint>();

  /** The Peer's side of the network behind `hooks`. */
  constructor(hooks: PeerSideHooks) {
    this.#h = hooks;
    this.#watch = new DeliveryWatch({
      clock: hooks.clock,
      random: hooks.random,
      pair: () => {
        const r = this.#h.role();
        return r.kind === "peer" ? r : undefined;
      },
    });
  }

  /** A SuperPeer took us (`link` welcomed our join): it becomes our primary, our backup, or one too many. */
  tookSuperPeer(link: Link, reason: string, anyHost = false): void {
    const s = this.#h.states().get(link);
    if (s?.kind !== "superpeer") return;
    const r = this.#h.role();
    if (r.kind === "joining") {
      this.#h.setRole({ kind: "peer", primary: link, backup: null });
      if (!s.primary) this.#setPrimary(link, true);
      this.#h.emit({ type: "role", role: "peer", reason });
    } else if (
      r.kind === "peer" && !r.backup && entryOf(r.primary).nodeId !== entryOf(link).nodeId &&
      (anyHost || !sameHost(r.primary, link))
    ) {
      r.backup = link;
      if (s.primary) this.#setPrimary(link, false);
    } else {
      // One too many, or a second on the primary's machine: one machine's many keys must not hold both of a
      // Peer's SuperPeers; `seekSecond` looks elsewhere first and comes back to that host only if none other.
      this.#h.forget(link);
      link.conn.close("not needed");
      if (r.kind === "peer" && !r.backup) this.seekSecond();
      return;
    }
    this.#h.emit({ type: "superpeer-linked", peer: entryOf(link), primary: this.#isPrimary(link) });
    this.#relayReady(link); // a stale-tip trial's link already is (`extraSuperPeer`): our inventory went once
    this.#h.writeTracker();
    this.seekSecond();
  }

  /**
   * The stale-tip check's extra SuperPeer took us: on trial. Its hello's claim of more work only lets the
   * download from it begin; once it delivered a block we lacked (`DeliveryWatch.trial`) it takes the backup's
   * place, else it is let go.
   */
  async extraSuperPeer(link: Link): Promise<"kept" | "level" | "failed"> {
    if (this.#h.role().kind !== "peer" || this.#h.states().get(link)?.kind !== "superpeer" || !link.hello) {
      return "level";
    }
    if (BigInt("0x" + link.hello.tip.work) <= this.#h.tipWork()) return "level";
    this.#relayReady(link);
    if (!(await this.#watch.trial(link))) return "failed";
    const r = this.#h.role();
    if (r.kind !== "peer" || this.#h.states().get(link)?.kind !== "superpeer") return "level";
    if (r.backup) {
      const old = r.backup;
      r.backup = null;
      this.#h.forget(old);
      old.conn.close("stale tip: another SuperPeer has newer blocks");
      this.#h.emit({ type: "superpeer-lost", peer: entryOf(old), primary: false });
    }
    this.tookSuperPeer(link, "stale tip", true);
    return "kept";
  }

  /** A block new to us came from `link`, pushed or downloaded: it ends a trial (`DeliveryWatch.delivered`). */
  delivered(link: Link): void {
    this.#watch.delivered(link);
  }

  /** True while no SuperPeer of ours has delivered a block yet (`DeliveryWatch.starved`). */
  starved(): boolean {
    return this.#watch.starved();
  }

  /** A Peer with one SuperPeer takes a second when another exists (`Joining.seekSecond`). */
  seekSecond(): void {
    void this.#h.joining.seekSecond();
  }

  /** Lets relay start on `link` (its download, our pending transactions' inventory), once per link. */
  #relayReady(link: Link): void {
    if (this.#ready.has(link)) return;
    this.#ready.add(link);
    this.#h.relayReady(link);
  }

  #isPrimary(link: Link): boolean {
    const r = this.#h.role();
    return r.kind === "peer" && r.primary === link;
  }

  /** Tells a SuperPeer of ours whether it is now our primary. */
  #setPrimary(link: Link, primary: boolean): void {
    const s = this.#h.states().get(link);
    if (s?.kind !== "superpeer") return;
    s.primary = primary;
    link.conn.send({ type: "primary", primary });
  }

  /**
   * What a Peer saw of its two SuperPeers decides (`judgeSuperPeers`): a frozen primary swaps with the backup
   * at once, one that delivers none of the blocks the other delivers is replaced; with no new block for
   * `STALE_TIP_MS`, one more SuperPeer of its own book is tried.
   */
  watchTick(): void {
    const r = this.#h.role();
    if (r.kind !== "peer" || this.#h.stopping()) return;
    for (const l of [r.primary, r.backup]) if (l) this.#workAt(l);
    const verdict = this.#watch.tick();
    if (verdict === "swap" && r.backup) {
      const [old, next] = [r.primary, r.backup];
      r.primary = next;
      r.backup = old;
      this.#watch.reset(old);
      this.#watch.reset(next);
      this.#setPrimary(next, true);
      this.#setPrimary(old, false);
      this.#h.emit({ type: "superpeer-linked", peer: entryOf(next), primary: true });
      this.#h.writeTracker();
    } else if (verdict === "replace-primary" || verdict === "replace-backup") {
      const link = verdict === "replace-primary" ? r.primary : r.backup!;
      link.conn.close("delivered none of the blocks the other SuperPeer delivered");
    } else if (
      r.backup && (this.#lagging(r.backup) || (this.#lagging(r.primary) && !this.#lagging(r.backup, 0)))
    ) {
      // One lags behind our tip and relays nothing (`lagsBehind`): replaced, the backup first (so the Peer keeps
      // a SuperPeer); a lagging primary once its backup is level with us or relays (not merely new).
      const link = this.#lagging(r.backup) ? r.backup : r.primary;
      link.conn.close("behind our tip, and relayed no block");
    } else if (this.#watch.stale()) {
      void this.#h.joining.staleTip();
    }
  }

  /** Our tip's work when this watch first saw `link` as one of our SuperPeers. */
  #workAt(link: Link): bigint {
    let work = this.#workAtLink.get(link);
    if (work === undefined) this.#workAtLink.set(link, work = this.#h.tipWork());
    return work;
  }

  /**
   * True when our SuperPeer on `link` lagged behind our tip when we took it and relayed nothing since
   * (`lagsBehind`; with `graceMs` 0, behind whatever its age). Our tip as it was then (first seen here, within a tick of the link): a block we mined or
   * received later is not one it failed to relay.
   */
  #lagging(link: Link, graceMs = BEHIND_GRACE_MS): boolean {
    if (!link.hello) return false;
    const work = this.#workAt(link);
    return lagsBehind({
      claimedWork: BigInt("0x" + link.hello.tip.work),
      tipWork: work,
      linkedMs: this.#h.clock.now() - link.openedAt + BEHIND_GRACE_MS - graceMs,
      relayed: this.#watch.relayed(link),
    });
  }

  /**
   * A frame came on `link` in state `s`: a block frame in any form from one of our SuperPeers is delivering;
   * on a mesh link it is noted (`relayedAt`) for the mesh rules (`planMesh`), which this dispatch also feeds.
   */
  sawFrame(link: Link, s: LinkState, type: string): void {
    // A block frame in any form: whole, a batch, or compact (its header, then the transactions it lacked).
    if (!BLOCK_FRAMES.has(type)) return;
    if (s.kind === "superpeer") this.#watch.blockFrame(link);
    else if (s.kind === "mesh") s.relayedAt = this.#h.clock.now();
  }

  /** One of our SuperPeers relayed a block new to us. */
  newBlock(link: Link): void {
    this.#watch.newBlock(link);
  }

  /** A SuperPeer's roster changed: its Peers in join order, which we walk if it dies. */
  onMembers(s: LinkState, msg: MembersMessage): void {
    if (s.kind !== "superpeer") return;
    if (msg.reset) s.roster = [];
    for (const p of msg.add) {
      if (s.roster.some((x) => x.nodeId === p.nodeId)) continue;
      s.roster.push(p);
      this.#h.book.add(p.listen, "heard");
    }
    if (msg.remove.length) s.roster = s.roster.filter((p) => !msg.remove.includes(p.nodeId));
    // A roster is bounded by the SuperPeer's capacity; a longer one is a lie we need not keep.
    const kept = ROSTER_BOUND.perCapacity * this.#h.capacity + ROSTER_BOUND.slack;
    if (s.roster.length > kept) s.roster.length = kept;
  }

  /**
   * The SuperPeer directory as a Peer knows it: the union of what its SuperPeers tell it, so it forgets what a
   * SuperPeer it no longer holds told it.
   */
  directory(): SuperPeerEntry[] {
    const view = new Map<string, SuperPeerEntry>();
    for (const s of this.#h.states().values()) {
      if (s.kind !== "superpeer") continue;
      for (const e of s.dir.entries()) {
        const old = view.get(e.nodeId);
        if (!old || old.seq < e.seq) view.set(e.nodeId, e);
      }
    }
    return [...view.values()];
  }

  /** A SuperPeer's view, as its Peer keeps it, expires too: deaths are no longer gossiped unsigned. */
  expireViews(now: number): void {
    for (const s of this.#h.states().values()) {
      if (s.kind !== "superpeer") continue;
      s.dir.expire(now);
      s.dir.takeChanges(); // a Peer forwards nothing
    }
  }

  /** One of our SuperPeers is gone: the backup becomes primary and we look for a new second at once. */
  superPeerGone(link: Link, s: SuperPeerState): void {
    const r = this.#h.role();
    if (r.kind !== "peer") return;
    const dead = entryOf(link);
    this.#h.joining.markDead(dead.nodeId);
    if (r.primary !== link && r.backup !== link) return; // one on trial, or one too many: never ours
    this.#h.emit({ type: "superpeer-lost", peer: dead, primary: r.primary === link });
    if (r.backup === link) r.backup = null;
    else if (r.primary === link) {
      if (!r.backup) {
        this.#h.setRole({ kind: "joining" });
        this.#h.joining.lostAll(dead, s.roster, s.dir.entries());
        return;
      }
      r.primary = r.backup;
      r.backup = null;
      this.#setPrimary(r.primary, true);
    }
    this.#h.writeTracker();
    this.seekSecond();
  }
}

/** True when two links' far ends share a host group (an IPv4 address or an IPv6 /64) other than loopback. */
function sameHost(a: Link, b: Link): boolean {
  const h = a.conn.remote.hostname;
  return !isLoopback(h) && hostGroup(h) === hostGroup(b.conn.remote.hostname);
}
