/**
 * A node's role changes: promoting itself to SuperPeer (the directory its SuperPeers told it seeds its own, and
 * they are dialled again as mesh neighbours), stepping down to a Peer (its entry withdrawn, signed, its Peers
 * and mesh let go, then joining), and SuperPeers found on the LAN at the person's request. `Network` keeps the
 * role and the link states; this class changes them only through `RoleChangeHooks`.
 * @module
 */
import type { AddressBook } from "./address_book.ts";
import { Directory } from "./directory.ts";
import type { DirectoryGossip } from "./gossip.ts";
import { type NodeIdentity, removalMessage } from "./identity.ts";
import type { Joining } from "./joining.ts";
import type { Link } from "./link.ts";
import { entryOf, type LinkState, type RoleState } from "./link_state.ts";
import type { SuperPeerEntry } from "./messages.ts";
import type { NetworkEvent } from "./network_types.ts";
import type { SuperPeerDuties } from "./superpeer.ts";
import type { Clock } from "./transport.ts";
import { toHex } from "../crypto/hex.ts";

/** What a role change needs of the network: the role and link states `Network` keeps, and the parts it turns. */
export interface RoleChangeHooks {
  /** This node's id. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** This node's key: it signs the withdrawal of its own entry. */
  readonly identity: NodeIdentity;
  /** Where SuperPeers were heard of: those found on the LAN go in as heard. */
  readonly book: Pick<AddressBook, "add">;
  /** The directory a SuperPeer keeps and gossips. */
  readonly gossip: Pick<DirectoryGossip, "dir" | "reset" | "flush">;
  /** Joining: after stepping down, and the self-promotion's rate bound. */
  readonly joining: Pick<Joining, "join" | "promoted">;
  /** A SuperPeer's duties: the mesh, its entry's sequence, the SuperPeers it knows. */
  readonly duties: Pick<SuperPeerDuties, "dialMesh" | "promoted" | "nextSeq" | "others" | "meetFound">;
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
  /** The SuperPeer directory as this node knows it. */
  directory(): SuperPeerEntry[];
  /** Tells the owner. */
  emit(e: NetworkEvent): void;
}

/** Promotion, stepping down and SuperPeers found on the LAN, for the network behind `RoleChangeHooks`. */
export class RoleChange {
  #h: RoleChangeHooks;

  /** The role changes of the network behind `hooks`. */
  constructor(hooks: RoleChangeHooks) {
    this.#h = hooks;
  }

  // ---- joining ----

  /**
   * SuperPeers found on the LAN at the person's request (the menu): a SuperPeer that serves no Peer steps
   * down and joins them as a Peer (it greets them, so its tracker file names them); one that serves Peers
   * links to them instead. Resolves once the join is settled.
   */
  async joinFound(addrs: string[]): Promise<void> {
    if (this.#h.role().kind !== "superpeer" || !addrs.length || this.#h.stopping()) return;
    if ([...this.#h.states().values()].some((s) => s.kind === "member")) {
      return this.#h.duties.meetFound(addrs);
    }
    for (const a of addrs) this.#h.book.add(a, "heard");
    await this.demote("found SuperPeers on this LAN");
  }

  // ---- SuperPeer life ----

  /** Becomes a SuperPeer: seeds its directory, and dials its old SuperPeers again as mesh neighbours. */
  promote(reason: string): void {
    if (this.#h.stopping() || this.#h.role().kind === "superpeer") return;
    const old = this.#h.role();
    // What our SuperPeers told us seeds the directory we now keep ourselves.
    const seed = new Directory();
    const now = this.#h.clock.now();
    for (const e of this.#h.directory()) seed.merge(e, now);
    this.#h.gossip.reset(seed);
    this.#h.setRole({ kind: "superpeer", since: now });
    this.#h.joining.promoted(now);
    if (old.kind === "peer") {
      // Our SuperPeers still count us as their Peer: close and dial again as a SuperPeer.
      for (const l of [old.primary, old.backup]) {
        if (!l) continue;
        const listen = entryOf(l).listen;
        this.#h.forget(l);
        l.conn.close("promoted");
        this.#h.duties.dialMesh(listen);
      }
    }
    this.#h.emit({ type: "role", role: "superpeer", reason });
    this.#h.duties.promoted();
  }

  /** Steps down: tells the mesh, lets its Peers go (each keeps its other SuperPeer) and joins as a Peer. */
  async demote(reason: string): Promise<void> {
    if (this.#h.role().kind !== "superpeer") return;
    const seq = this.#h.duties.nextSeq();
    const sig = toHex(await this.#h.identity.sign(removalMessage(this.#h.nodeId, seq)));
    if (this.#h.role().kind !== "superpeer") return;
    this.#h.gossip.dir.remove(this.#h.nodeId, seq, undefined, sig);
    this.#h.gossip.flush();
    const links: Link[] = [];
    for (const [l, s] of this.#h.states()) if (s.kind === "member" || s.kind === "mesh") links.push(l);
    const others = this.#h.duties.others().map((e) => e.listen);
    this.#h.gossip.reset();
    this.#h.setRole({ kind: "joining" });
    for (const l of links) this.#h.forget(l);
    await Promise.all(links.map((l) => l.conn.close("stepping down", { flush: true })));
    await this.#h.joining.join(reason, others); // joining says "became a Peer" once, with the reason
  }
}
