/**
 * The overlay's rules as plain functions of what a node itself observed: whom a full SuperPeer points a
 * newcomer to, when it hands out a promotion, which inbound link makes room, how many SuperPeers to mesh
 * with, when a lightly loaded SuperPeer steps down, and which SuperPeer a Peer takes as its second. None
 * of them lets another node's claim about itself take anything away from this node.
 * @module
 */
import {
  DEMOTE_AFTER_MS,
  DEMOTE_MIN_OTHERS,
  EVICTION_PROTECT,
  JOIN_TRY,
  LOW_WATER_DIVISOR,
  MAX_LINKS_PER_HOST,
  MESH_DEGREE,
  MESH_FULL_UP_TO,
  PROMOTE_COOLDOWN_MS,
} from "./config.ts";
import type { SuperPeerEntry } from "./messages.ts";

/** True for 127.0.0.0/8, ::1 and localhost: many nodes of one machine share such an address. */
export function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

/** Picks `n` items of `items` at random (a partial Fisher–Yates shuffle of a copy). */
export function sample<T>(items: readonly T[], n: number, random: () => number): T[] {
  const a = [...items];
  const k = Math.min(n, a.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

/** True when a SuperPeer's entry says it has room for one more Peer. */
function hasRoom(e: SuperPeerEntry): boolean {
  return e.load < e.capacity;
}

/** What a SuperPeer answers a `join`. */
export type JoinAnswer =
  | { kind: "admit" }
  | { kind: "full"; try: string[]; promote: boolean };

/**
 * A `join` reaches a SuperPeer with `members` of `capacity` Peers: admit it, or point it to the least loaded
 * SuperPeers that say they have room (`JOIN_TRY`), never one in `skip`; when none does, tell it to become a
 * SuperPeer itself, at most once per `PROMOTE_COOLDOWN_MS`, so capacity grows by one SuperPeer at a time
 * rather than by a stampede. `skip` holds the asker (a SuperPeer that just stepped down lingers in directories
 * with room: pointed to itself, it was turned away and promoted itself again, over and over) and the
 * SuperPeer a Peer asking for its backup already holds.
 */
export function answerJoin(
  s: {
    members: number;
    capacity: number;
    others: readonly SuperPeerEntry[];
    now: number;
    lastPromotion: number;
    skip?: readonly string[];
  },
  random: () => number,
): JoinAnswer {
  if (s.members < s.capacity) return { kind: "admit" };
  const open = s.others.filter((e) => hasRoom(e) && !s.skip?.includes(e.nodeId));
  // The least loaded first (ties at random): the fuller ones may have filled up since they last said.
  const roomy = sample(open, open.length, random)
    .sort((a, b) => a.load / a.capacity - b.load / b.capacity);
  const tries = roomy.slice(0, JOIN_TRY).map((e) => e.listen);
  return {
    kind: "full",
    try: tries,
    promote: tries.length === 0 && s.now - s.lastPromotion >= PROMOTE_COOLDOWN_MS,
  };
}

/** An inbound link as eviction sees it. */
export interface EvictionCandidate<T = unknown> {
  /** The link. */
  id: T;
  /** The far end's address; loopback addresses form no group (many honest nodes share one). */
  host: string;
  /** When it was opened (ms). */
  since: number;
  /** Its last ping round trip (ms), if measured. */
  pingMs?: number;
  /** When it last relayed a new block to us (ms, 0: never). */
  lastBlock: number;
  /** When it last relayed a new transaction to us (ms, 0: never). */
  lastTx: number;
}

/**
 * The member to evict so a newcomer from a different address can join a full SuperPeer, after Bitcoin
 * Core's `SelectNodeToEvict`: protect the members that relayed blocks or transactions most recently and
 * those with the lowest measured ping; among the rest, evict the newest link of the address holding the most
 * links — but only if that address holds more than one, so an honest Peer alone on its machine is never
 * pushed out (a full SuperPeer redirects newcomers instead). Core also protects the longest-connected half;
 * here that would shield an attacker who simply came first, and the one-link rule already protects honest
 * old links.
 */
export function evictionVictim<T>(
  members: readonly EvictionCandidate<T>[],
  newcomerHost: string,
): T | undefined {
  let rest = [...members];
  const protect = (key: (c: EvictionCandidate<T>) => number | undefined, n: number, highest: boolean) => {
    const keep = new Set(
      rest.filter((c) => (key(c) ?? 0) > 0).sort((a, b) => (highest ? -1 : 1) * (key(a)! - key(b)!))
        .slice(0, n),
    );
    rest = rest.filter((c) => !keep.has(c));
  };
  protect((c) => c.lastBlock, EVICTION_PROTECT.blocks, true);
  protect((c) => c.lastTx, EVICTION_PROTECT.txs, true);
  protect((c) => c.pingMs, EVICTION_PROTECT.ping, false);
  const groups = new Map<string, EvictionCandidate<T>[]>();
  for (const c of rest) {
    if (isLoopback(c.host)) continue;
    groups.set(c.host, [...(groups.get(c.host) ?? []), c]);
  }
  let worst: EvictionCandidate<T>[] = [];
  for (const g of groups.values()) if (g.length > worst.length) worst = g;
  if (worst.length < 2 || worst[0].host === newcomerHost) return undefined;
  return worst.reduce((a, b) => b.since > a.since ? b : a).id;
}

/** True when `host` already holds as many links as one address may (loopback is not limited). */
export function overHostLimit(host: string, linksFromHost: number): boolean {
  return !isLoopback(host) && linksFromHost >= MAX_LINKS_PER_HOST;
}

/**
 * Which SuperPeers to dial and which mesh links to close: all of them while the SuperPeers number at most
 * `MESH_FULL_UP_TO`; past that, below `MESH_DEGREE.low` random ones up to `target`, above `high` the
 * surplus.
 */
export function planMesh(
  linked: readonly string[],
  others: readonly SuperPeerEntry[],
  random: () => number,
): { dial: SuperPeerEntry[]; drop: string[] } {
  const linkedSet = new Set(linked);
  const unlinked = others.filter((e) => !linkedSet.has(e.nodeId));
  if (others.length + 1 <= MESH_FULL_UP_TO) return { dial: unlinked, drop: [] };
  if (linked.length < MESH_DEGREE.low) {
    return { dial: sample(unlinked, MESH_DEGREE.target - linked.length, random), drop: [] };
  }
  // Only the surplus goes: pruning all the way down to the target would push the neighbours it leaves
  // below their own low bound, and their dials would push others over theirs.
  if (linked.length > MESH_DEGREE.high) {
    return { dial: [], drop: sample(linked, linked.length - MESH_DEGREE.high, random) };
  }
  return { dial: [], drop: [] };
}

/**
 * True when a SuperPeer should step down: its own load stayed under capacity ÷ `LOW_WATER_DIVISOR` since
 * `lowSince` for `DEMOTE_AFTER_MS` plus a random part of half that (so two do not step down together), at
 * least `DEMOTE_MIN_OTHERS` other SuperPeers linked to it have room (a Peer's two SuperPeers are two: its
 * Peers', and its own once it is a Peer), and together room for two links of each of its Peers and of itself.
 * Else the one stepping down would find no second, be told to add capacity, promote itself again and step
 * down again, for good. Promotion happens only when every SuperPeer is full, so the
 * gap between a quarter and full is the hysteresis.
 */
export function shouldDemote(
  s: {
    load: number;
    capacity: number;
    lowSince: number | undefined;
    now: number;
    linkedOthers: readonly SuperPeerEntry[];
  },
  random: () => number,
): boolean {
  if (s.lowSince === undefined || s.load * LOW_WATER_DIVISOR >= s.capacity) return false;
  if (s.now - s.lowSince < DEMOTE_AFTER_MS * (1 + random() / 2)) return false;
  const roomy = s.linkedOthers.filter(hasRoom);
  if (roomy.length < DEMOTE_MIN_OTHERS) return false;
  const room = roomy.reduce((sum, e) => sum + e.capacity - e.load, 0);
  return room >= 2 * (s.load + 1);
}

/** A second SuperPeer for a Peer: a random one with room, else any, never one in `exclude` (node ids). */
export function chooseSecond(
  entries: readonly SuperPeerEntry[],
  exclude: ReadonlySet<string>,
  random: () => number,
): SuperPeerEntry | undefined {
  const open = entries.filter((e) => !exclude.has(e.nodeId));
  const roomy = open.filter(hasRoom);
  const pool = roomy.length ? roomy : open;
  return pool.length ? pool[Math.floor(random() * pool.length)] : undefined;
}

/**
 * Who takes over when a Peer's only SuperPeer is gone and no other is known: the first Peer of the lost
 * SuperPeer's roster (join order) that is not known dead. Every Peer computes the same answer from the same
 * roster, so the successor promotes itself and the others dial it; nobody votes or waits.
 */
export function successor<T extends { nodeId: string }>(
  roster: readonly T[],
  dead: ReadonlySet<string>,
): T | undefined {
  return roster.find((p) => !dead.has(p.nodeId));
}
