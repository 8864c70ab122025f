/**
 * The overlay's rules as plain functions of what a node itself observed: whom a full SuperPeer points a
 * newcomer to, when it hands out a promotion, which inbound link makes room, how many SuperPeers to mesh
 * with, when a lightly loaded SuperPeer steps down, and which SuperPeer a Peer takes as its second. None
 * of them lets another node's claim about itself take anything away from this node.
 * @module
 */
import {
  BEHIND_GRACE_MS,
  DEMOTE_AFTER_MS,
  DEMOTE_MIN_OTHERS,
  EVICTION_PROTECT,
  FROZEN_SILENT_MS,
  JOIN_TRY,
  MAX_LINKS_PER_HOST,
  MESH_DEGREE,
  MESH_FULL_UP_TO,
  MESH_OUTBOUND_MIN,
  MESH_PROTECT_OLDEST,
  MESH_RELAY_GRACE_MS,
  PROMOTE_COOLDOWN_MS,
  REPLACE_AFTER_MISSES,
  SECOND_STALL_MS,
  TURNED_AWAY_AFTER,
} from "./config.ts";
import type { SuperPeerEntry } from "./messages.ts";
import { hostGroup, hostOf, isLoopback } from "./address.ts";

export { hostGroup, isLoopback };

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

/**
 * `items` best first by `rank` (lower first: what this node saw of each), at random among equals: evidence
 * orders, chance breaks ties.
 */
export function byEvidence<T>(items: readonly T[], rank: (x: T) => number, random: () => number): T[] {
  const ranks = new Map<T, number>();
  for (const x of items) ranks.set(x, rank(x));
  return sample(items, items.length, random).sort((a, b) => ranks.get(a)! - ranks.get(b)!);
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
 * SuperPeers that say they have room (`JOIN_TRY`, at most one per host, those that `delivered` blocks to
 * this SuperPeer first, a claimed room only breaking ties), never one in `skip`; when none does, tell it to become a
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
    delivered?: (e: SuperPeerEntry) => boolean;
  },
  random: () => number,
): JoinAnswer {
  if (s.members < s.capacity) return { kind: "admit" };
  const open = s.others.filter((e) => hasRoom(e) && !s.skip?.includes(e.nodeId));
  // What this SuperPeer saw first (`delivered`: a mesh link that relayed it a block), then the least loaded
  // as they claim (ties at random): the claim only orders SuperPeers that nothing else tells apart.
  const seen = (e: SuperPeerEntry) => s.delivered?.(e) ? 0 : 1;
  const roomy = sample(open, open.length, random)
    .sort((a, b) => seen(a) - seen(b) || a.load / a.capacity - b.load / b.capacity);
  // One per host: a machine holding many keys (a Sybil band on one host) fills one place of the list.
  const tries: string[] = [];
  const hosts = new Set<string>();
  for (const e of roomy) {
    if (tries.length >= JOIN_TRY) break;
    const h = hostGroup(hostOf(e.listen));
    if (hosts.has(h) && !isLoopback(hostOf(e.listen))) continue;
    hosts.add(h);
    tries.push(e.listen);
  }
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

/** A mesh link as eviction sees it. */
export interface MeshCandidate<T = unknown> {
  /** The link. */
  id: T;
  /** The far end's address. */
  host: string;
  /** When it was opened (ms). */
  since: number;
  /** True when the far end dialled us (our own dials are never evicted). */
  inbound: boolean;
  /** When it last relayed a new block to us (ms, 0: never). */
  lastBlock: number;
}

/**
 * The mesh link to close so a newcomer gets a socket: never one we dialled, never one that relayed a block,
 * never the `MESH_PROTECT_OLDEST` oldest; of the rest, the youngest of the host group holding the most.
 * Loopback is a group like any other here (it is exempt from per-host limits, not from eviction), so links
 * from one machine that say they are SuperPeers and relay nothing cannot hold every slot.
 */
export function meshEvictionVictim<T>(mesh: readonly MeshCandidate<T>[]): T | undefined {
  const oldest = new Set([...mesh].sort((a, b) => a.since - b.since).slice(0, MESH_PROTECT_OLDEST));
  const rest = mesh.filter((c) => c.inbound && c.lastBlock === 0 && !oldest.has(c));
  const groups = new Map<string, MeshCandidate<T>[]>();
  for (const c of rest) groups.set(hostGroup(c.host), [...(groups.get(hostGroup(c.host)) ?? []), c]);
  let worst: MeshCandidate<T>[] = [];
  for (const g of groups.values()) if (g.length > worst.length) worst = g;
  if (!worst.length) return undefined;
  return worst.reduce((a, b) => b.since > a.since ? b : a).id;
}

/** True when `host` already holds as many links as one address may (loopback is not limited). */
export function overHostLimit(host: string, linksFromHost: number): boolean {
  return !isLoopback(host) && linksFromHost >= MAX_LINKS_PER_HOST;
}

/** What a SuperPeer itself saw of its mesh links and of the SuperPeers it may dial (`planMesh`). */
export interface MeshEvidence {
  /**
   * Node ids of the mesh links this node dialled by its own choice (`planMesh`'s), oldest first; not those
   * another node named (a redirect, a `full` answer's list): Sybils name only each other.
   */
  chosen: readonly string[];
  /** Node ids of the mesh links that relayed blocks to this node (a block frame of any kind). */
  delivered: ReadonlySet<string>;
  /** Orders SuperPeers to dial, lower first (what this node's book says of each: served it, greeted, hearsay). */
  rank?: (e: SuperPeerEntry) => number;
}

/**
 * Which SuperPeers to dial and which mesh links to close: all of them while the SuperPeers number at most
 * `MESH_FULL_UP_TO`; past that, below `MESH_DEGREE.low` random ones up to `target`, above `high` the
 * surplus. With `evidence`, links others opened or named do not count alone: below `MESH_OUTBOUND_MIN` links
 * it chose itself or that delivered a block, it dials more (whatever its degree), choosing by `rank` (evidence
 * first, at random within), and the surplus it closes is never one of its first `MESH_OUTBOUND_MIN` chosen
 * nor one that delivered a block. A band of Sybils dialling a SuperPeer, or naming each other to it, can fill
 * its other slots, never its own choice.
 */
export function planMesh(
  linked: readonly string[],
  others: readonly SuperPeerEntry[],
  random: () => number,
  evidence?: MeshEvidence,
): { dial: SuperPeerEntry[]; drop: string[] } {
  const linkedSet = new Set(linked);
  const unlinked = others.filter((e) => !linkedSet.has(e.nodeId));
  if (others.length + 1 <= MESH_FULL_UP_TO) return { dial: unlinked, drop: [] };
  const choose = (n: number) =>
    evidence?.rank
      ? byEvidence(unlinked, evidence.rank, random).slice(0, Math.max(0, n))
      : sample(unlinked, n, random);
  const chosen = evidence ? evidence.chosen.filter((id) => linkedSet.has(id)) : [];
  const proven = new Set([...chosen, ...linked.filter((id) => evidence?.delivered.has(id))]);
  const ownShort = evidence ? MESH_OUTBOUND_MIN - proven.size : 0;
  if (linked.length < MESH_DEGREE.low) {
    return { dial: choose(Math.max(MESH_DEGREE.target - linked.length, ownShort)), drop: [] };
  }
  const dial = choose(ownShort);
  // Only the surplus goes: pruning all the way down to the target would push the neighbours it leaves
  // below their own low bound, and their dials would push others over theirs.
  if (linked.length > MESH_DEGREE.high) {
    const kept = new Set([...chosen.slice(0, MESH_OUTBOUND_MIN), ...(evidence?.delivered ?? [])]);
    const spare = linked.filter((id) => !kept.has(id));
    return { dial, drop: sample(spare, linked.length - MESH_DEGREE.high, random) };
  }
  return { dial, drop: [] };
}

/** A mesh link this SuperPeer chose to dial (`stillChosen`). */
export interface ChosenLink {
  /** The far end's proven node id. */
  nodeId: string;
  /** When the link opened (ms). */
  since: number;
  /** Whether it sent this node a block frame of any kind. */
  relayed: boolean;
}

/**
 * The links a SuperPeer chose that still count as its choice (`MeshEvidence.chosen`), oldest first: one that
 * relayed no block frame though a block new to this node came over the mesh (`newestBlock`, ms) more than
 * `MESH_RELAY_GRACE_MS` after it opened was a wrong choice (a Sybil relays nothing), so at most
 * `MESH_OUTBOUND_MIN` more are dialled per block.
 */
export function stillChosen(links: readonly ChosenLink[], newestBlock: number): string[] {
  return links.filter((l) => l.relayed || newestBlock <= l.since + MESH_RELAY_GRACE_MS)
    .sort((a, b) => a.since - b.since).map((l) => l.nodeId);
}

/** A mesh link as the step-down rule sees it: whom it proved to be, from which host, since when. */
export interface HeldLink {
  /** The far end's proven node id. */
  nodeId: string;
  /** The far end's socket address. */
  host: string;
  /** When this node's link to it opened (ms). */
  since: number;
  /** Whether its directory entry says it has room: a claim, which can only keep this node in place. */
  roomy?: boolean;
  /** Whether it sent this node a block frame of any kind (evidence that it relays blocks). */
  relayed?: boolean;
}

/**
 * True when an idle SuperPeer should step down. It acts only on what it saw itself, never on what other
 * SuperPeers claim of their room: it serves no Peer at all (a SuperPeer never steps down while it serves
 * Peers, so no capture of the overlay can start by pushing it out of its own cluster), it has been idle since
 * `idleSince` for `DEMOTE_AFTER_MS` plus a random part of half that (so two do not step down together), and
 * it has itself held links to at least `DEMOTE_MIN_OTHERS` other SuperPeers (distinct proven keys, on distinct
 * hosts where its links come from two or more) for `DEMOTE_AFTER_MS` each: as a Peer it then finds the two it
 * needs, and two fresh links from one attacker's machine cannot talk it down. What the others say of their
 * room may only keep it in place (two of those it held must say they have room, or as a Peer it would be
 * turned away and promote itself again): a claim can veto a step down, never cause one. Once blocks came
 * over its mesh (`blocksFlow`), it steps down only while one of its links relays them: among Sybils that relay
 * nothing, it would take its SuperPeers from them.
 */
export function shouldDemote(
  s: {
    load: number;
    idleSince: number | undefined;
    now: number;
    mesh: readonly HeldLink[];
    /** True once blocks came to this node over its mesh: then it steps down only beside one that relays. */
    blocksFlow?: boolean;
  },
  random: () => number,
): boolean {
  if (s.load > 0 || s.idleSince === undefined) return false;
  // Among links that relay nothing (Sybils all), a Peer would take its SuperPeers from them.
  if (s.blocksFlow && !s.mesh.some((l) => l.relayed)) return false;
  if (s.now - s.idleSince < DEMOTE_AFTER_MS * (1 + random() / 2)) return false;
  const held = s.mesh.filter((l) => s.now - l.since >= DEMOTE_AFTER_MS);
  const keys = new Set(held.map((l) => l.nodeId));
  if (keys.size < DEMOTE_MIN_OTHERS) return false;
  if (new Set(held.filter((l) => l.roomy !== false).map((l) => l.nodeId)).size < DEMOTE_MIN_OTHERS) {
    return false;
  }
  const groups = new Set(s.mesh.map((l) => hostGroup(l.host)));
  if (groups.size < 2) return true; // one machine's nodes (a loopback test, one host): keys are all we have
  return new Set(held.map((l) => hostGroup(l.host))).size >= DEMOTE_MIN_OTHERS;
}

/** A SuperPeer a Peer may take as its second: an entry, or an address from its own book (no id known yet). */
export interface SecondCandidate {
  /** Where it listens. */
  listen: string;
  /** Its node id, when an entry names it. */
  nodeId?: string;
}

/**
 * A second SuperPeer for a Peer, never one in `exclude` (node ids or addresses). Evidence first, claims last:
 * - never on its primary's host (`primaryHost`, loopback aside) while it knows a SuperPeer on another host
 *   (even one excluded for now): one machine's many keys (a Sybil band) must not hold both of a Peer's
 *   SuperPeers;
 * - then one that delivered to this node before (`served`), then one it greeted (`greeted`);
 * - the addresses it knows independently of its primary (`ownBook`: its tracker file and the SuperPeers it
 *   greeted, which its primary cannot have chosen for it) stand beside its primary's hearsay (`entries`), so a
 *   primary that names only its accomplices does not choose its backup alone;
 * - what entries claim of their room only breaks ties, and then at random, so a liar claiming capacity
 *   10,000 does not sort first.
 */
export function chooseSecond(
  entries: readonly SuperPeerEntry[],
  exclude: ReadonlySet<string>,
  random: () => number,
  evidence: {
    greeted?: (listen: string) => boolean;
    served?: (listen: string) => boolean;
    primaryHost?: string;
    ownBook?: readonly string[];
  } = {},
): SecondCandidate | undefined {
  const named = new Set(entries.map((e) => e.listen));
  let open: (SecondCandidate & { room: boolean })[] = [
    ...entries.filter((e) => !exclude.has(e.nodeId) && !exclude.has(e.listen)).map((e) => ({
      listen: e.listen,
      nodeId: e.nodeId,
      room: hasRoom(e),
    })),
    ...(evidence.ownBook ?? []).filter((a) => !exclude.has(a) && !named.has(a)).map((
      a,
    ) => ({
      listen: a,
      room: false,
    })),
  ];
  const group = evidence.primaryHost === undefined ? undefined : hostGroup(evidence.primaryHost);
  // Another host exists when anything this node knows (chosen before or not) lives elsewhere: then a backup on
  // the primary's host is never the answer, even while the others are excluded for a while.
  const elsewhere = group !== undefined && [...entries.map((e) => e.listen), ...(evidence.ownBook ?? [])]
    .some((a) => hostGroup(hostOf(a)) !== group);
  const sameHost = (a: string) =>
    group !== undefined && !isLoopback(hostOf(a)) && hostGroup(hostOf(a)) === group;
  if (elsewhere) open = open.filter((c) => !sameHost(c.listen));
  if (!open.length) return undefined;
  const rank = (c: (typeof open)[number]) =>
    (evidence.served?.(c.listen) ? 0 : 8) + (evidence.greeted?.(c.listen) ? 0 : 4) +
    (c.room ? 0 : 1);
  const best = Math.min(...open.map(rank));
  const pool = open.filter((c) => rank(c) === best);
  const pick = pool[Math.floor(random() * pool.length)];
  return pick.nodeId === undefined ? { listen: pick.listen } : { listen: pick.listen, nodeId: pick.nodeId };
}

/** A SuperPeer that turned this node away in a proven handshake: its proven key and its socket's host. */
export interface Refusal {
  /** Its proven node id. */
  nodeId: string;
  /** Its socket address. */
  host: string;
  /** The tip height its hello claimed (a claim: it only tells a stale Peer where blocks may be). */
  height?: number;
}

/**
 * True when refusals are evidence enough that capacity is short: `TURNED_AWAY_AFTER` distinct proven keys,
 * on as many distinct hosts where the SuperPeers this node reached (`reachedHosts`) sit on two or more. A
 * `promote` hint from one node never suffices: two keys one liar made on one machine do not, where two
 * machines answered.
 */
export function turnedAwayEnough(refusals: readonly Refusal[], reachedHosts: readonly string[]): boolean {
  const keys = new Set(refusals.map((r) => r.nodeId));
  if (keys.size < TURNED_AWAY_AFTER) return false;
  if (new Set(reachedHosts.map(hostGroup)).size < 2) return true;
  return new Set(refusals.map((r) => hostGroup(r.host))).size >= TURNED_AWAY_AFTER;
}

/**
 * True when a SuperPeer's refusal (`full` in a proven handshake, nowhere else to point) counts towards a Peer
 * adding capacity: unless its own newest signed entry this node holds (`entry`) says it has room. A refusal its
 * own entry contradicts (a liar that claims room and turns everyone away, to talk Peers into promoting, issue
 * 19's forced promotion and eclipse) does not count. Its claim can only withhold the count, never grant one: a
 * SuperPeer this node holds no entry of (an honest one past a full mesh, or all of them for a Peer whose
 * primary names only its accomplices) counts as its proven refusal says.
 */
export function refusalCounts(entry: SuperPeerEntry | undefined): boolean {
  return entry === undefined || !hasRoom(entry);
}

/**
 * True when a Peer seeking its second SuperPeer may add capacity itself, never on a `promote` answer alone: one
 * came this round (`hinted`: a SuperPeer handing out a promotion at its own rate, so the Peers of one full
 * network do not all promote at once), and the refusals that count (`counted`, see `refusalCounts`) are
 * `turnedAwayEnough` (distinct proven keys, on distinct hosts where the SuperPeers it reached, `reachedHosts`,
 * its primary's included, sit on two or more); or every SuperPeer it could pick turned it away this round
 * (`exhausted`: with one other SuperPeer known, its refusal is every refusal there is), its own primary's signed
 * entry says it is full too (`primary`: every SuperPeer it knows is full, as for a lone full SuperPeer's next
 * joiner), and it has sought a second for `SECOND_STALL_MS` (`seekingMs`). While its primary has room, the
 * network still has a place for a newcomer, and a promotion would only make an idle SuperPeer that steps down
 * again.
 */
export function mayAddCapacity(s: {
  counted: readonly Refusal[];
  hinted: boolean;
  reachedHosts: readonly string[];
  exhausted?: boolean;
  primary?: SuperPeerEntry;
  seekingMs?: number;
}): boolean {
  if (!s.hinted || !s.counted.length) return false;
  if (
    s.exhausted && s.primary !== undefined && !hasRoom(s.primary) && (s.seekingMs ?? 0) >= SECOND_STALL_MS
  ) return true;
  return turnedAwayEnough(s.counted, s.reachedHosts);
}

/**
 * Where a Peer's stale-tip check looks for blocks, best first, at most `max` addresses, never one in `exclude`
 * (node ids or addresses): the SuperPeers of its own book that delivered a block to it before (`delivered`),
 * then the rest of its own book (`ownBook`: tracker lines and SuperPeers it greeted, known without its
 * SuperPeers' word), then its directory's signed entries; within each, at random. Those on the hosts of the
 * SuperPeers it holds (`heldHosts`, which brought it no block) come after all others: one machine's many keys
 * are one source. Nothing here is believed: each must deliver a block before it is kept.
 */
export function staleTipOrder(
  ownBook: readonly string[],
  entries: readonly SuperPeerEntry[],
  exclude: ReadonlySet<string>,
  evidence: { delivered: (listen: string) => boolean; heldHosts: readonly string[] },
  max: number,
  random: () => number,
): string[] {
  const own = new Set(ownBook);
  const fromEntries = entries.filter((e) => !exclude.has(e.nodeId) && !own.has(e.listen)).map((e) =>
    e.listen
  );
  const all = [...new Set([...ownBook, ...fromEntries])].filter((a) => !exclude.has(a));
  const held = new Set(evidence.heldHosts.filter((h) => !isLoopback(h)).map(hostGroup));
  const rank = (a: string) =>
    (held.has(hostGroup(hostOf(a))) ? 4 : 0) +
    (evidence.delivered(a) ? 0 : own.has(a) ? 1 : 2);
  return sample(all, all.length, random).sort((a, b) => rank(a) - rank(b)).slice(0, max);
}

/**
 * Whom a Peer that lost its only SuperPeer dials, in order: the SuperPeers it greeted before (`greeted`: proven
 * to exist), then a random sample of the other entries, `max` addresses in all. Entries are hearsay: however
 * many there are, the dials stay bounded.
 */
export function failoverOrder(
  entries: readonly SuperPeerEntry[],
  greeted: (e: SuperPeerEntry) => boolean,
  max: number,
  random: () => number,
): { greeted: string[]; rest: string[] } {
  const first = sample(entries.filter(greeted), max, random).map((e) => e.listen);
  const rest = sample(entries.filter((e) => !greeted(e)), max - first.length, random).map((e) => e.listen);
  return { greeted: first, rest };
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

/**
 * True when a Peer's SuperPeer lags behind or relays nothing: its hello said its chain had less work
 * (`claimedWork`) than this node's tip has now (`tipWork`, which this node verified), it has been linked for
 * `BEHIND_GRACE_MS` (`linkedMs`), and it sent no block frame of any kind since (`relayed`). Its claim only
 * counts against it (a liar claiming the genesis tip), never for it: one claiming our tip is judged on the
 * blocks it delivers (`judgeSuperPeers`). An honest SuperPeer a block behind receives that block within the
 * grace and relays it.
 */
export function lagsBehind(
  v: { claimedWork: bigint; tipWork: bigint; linkedMs: number; relayed: boolean },
): boolean {
  return v.claimedWork < v.tipWork && v.linkedMs >= BEHIND_GRACE_MS && !v.relayed;
}

/** What a Peer itself saw of one of its two SuperPeers. */
export interface DeliveryView {
  /** ms since any frame came from it (a ping's answer included). */
  silentMs: number;
  /** Blocks in a row the other SuperPeer delivered new to us while this one sent no block within the bound. */
  misses: number;
  /** False when it has sent no block frame at all since we took it (undefined: not known). */
  relayed?: boolean;
}

/** What a Peer does with its two SuperPeers: keep them, swap them, or replace one. */
export type SuperPeerVerdict = "keep" | "swap" | "replace-primary" | "replace-backup";

/**
 * Judges a Peer's two SuperPeers on what it saw, never on what they say:
 * - the primary sent nothing for `FROZEN_SILENT_MS` (its probe unanswered) while the backup was heard within
 *   that time: frozen, so they swap at once (the backup's answer is the evidence; silence alone, which this
 *   node's own stall also produces, never suffices);
 * - one missed `REPLACE_AFTER_MISSES` blocks in a row that the other delivered, or one block while it never
 *   sent a block frame at all since we took it (`relayed` false): it is replaced (a SuperPeer that answers
 *   pings and relays nothing, a Sybil, does not keep its place by answering);
 * - otherwise both stay. An honest busy primary sends frames all the time and delivers the blocks, so no rule
 *   fires on it.
 */
export function judgeSuperPeers(primary: DeliveryView, backup: DeliveryView): SuperPeerVerdict {
  if (primary.silentMs >= FROZEN_SILENT_MS && backup.silentMs < FROZEN_SILENT_MS) return "swap";
  // One that never sent a block frame at all since we took it gets no second chance: an honest SuperPeer sends
  // every block to its Peers within the bound; one that relayed before may have been slow once.
  const out = (v: DeliveryView) => v.misses >= (v.relayed === false ? 1 : REPLACE_AFTER_MISSES);
  if (out(primary) && backup.misses === 0) return "replace-primary";
  if (out(backup) && primary.misses === 0) return "replace-backup";
  return "keep";
}
