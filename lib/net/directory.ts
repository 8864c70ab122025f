/**
 * The SuperPeer directory: which SuperPeers exist, where they listen and how loaded they say they are.
 * Each SuperPeer publishes its own entry with a rising sequence number; entries travel as changes
 * (added, updated, removed), newer replaces older, and an entry nobody refreshes expires. An entry that
 * expired or was removed is not taken back at the same (or an older) sequence: a dead SuperPeer's last entry,
 * still held by others and sent again in every full list a new link exchanges, would otherwise come back with
 * a fresh time to live each time and never leave the network. What an entry says is a claim: it decides only
 * whom to dial, never whom to trust, and a dial checks it.
 * @module
 */
import {
  DIR_MAX,
  DIR_MAX_PER_SOURCE,
  DIR_MAX_SEQ_AHEAD_MS,
  DIR_REFRESH_MS,
  DIR_SUM_BUCKETS,
  DIR_SUM_BUCKETS_MAX,
  DIR_TTL_MS,
  MESH_FULL_UP_TO,
} from "./config.ts";
import type { SuperPeerEntry } from "./messages.ts";

/** What a merge did: a SuperPeer not known before, a newer entry of a known one, or nothing. */
export type MergeResult = "new" | "newer" | undefined;

interface Slot {
  entry: SuperPeerEntry;
  expiresAt: number;
  /** The link (or other source) it came from, so gossip does not send it straight back. */
  from: unknown;
  /** The sequence number of the version last put out as news. */
  announced: number;
}

/** Changes waiting to be gossiped, with where each came from. */
export interface Changes {
  /** New or newer entries. */
  add: { entry: SuperPeerEntry; from: unknown }[];
  /** Removed entries; `sig` when the SuperPeer itself withdrew it (only those travel on). */
  remove: { nodeId: string; seq: number; from: unknown; sig?: string }[];
}

/**
 * A bounded, expiring map of SuperPeer entries with an outbox of changes. Bounded in total and per source:
 * one source (a link) holds at most `maxPerSource` entries, its stalest giving way to its newest, and when the
 * directory is full the noisiest source (the one holding the most entries) loses its stalest first, so one
 * flooding link cannot push out what the others said.
 */
export class Directory {
  #slots = new Map<string, Slot>();
  #outbox = new Map<string, { entry?: SuperPeerEntry; seq: number; from: unknown; sig?: string }>();
  /** Entries held per source. */
  #perSource = new Map<unknown, number>();
  #max: number;
  #maxPerSource: number;
  /**
   * The sequence of each entry that expired or was removed: a copy at that sequence or older is not taken
   * again (only the SuperPeer's next entry is). At most `max`, the oldest forgotten first.
   */
  #gone = new Map<string, number>();
  /** Every entry, made on first use after a change (`all`). */
  #all: readonly SuperPeerEntry[] | undefined;
  #version = 0;
  /** No entry (but the one `expire` keeps) expires before this: a lower bound, made exact by each scan. */
  #nextExpiry = Infinity;
  /**
   * Per bucket of `DIR_SUM_BUCKETS_MAX` (`bucketOf`), the XOR of `claimsHash` over its entries: kept as entries
   * come and go, and folded for a summary of fewer buckets.
   */
  #sums = new Uint32Array(DIR_SUM_BUCKETS_MAX);

  /** An empty directory holding at most `max` entries, and at most `maxPerSource` from one source. */
  constructor(max = DIR_MAX, maxPerSource = Math.min(DIR_MAX_PER_SOURCE, max)) {
    this.#max = max;
    this.#maxPerSource = maxPerSource;
  }

  /** Entries held now that came from `from`. */
  heldFrom(from: unknown): number {
    return this.#perSource.get(from) ?? 0;
  }

  /** Number of SuperPeers known. */
  get size(): number {
    return this.#slots.size;
  }

  /** The entry of `nodeId`, or undefined. */
  get(nodeId: string): SuperPeerEntry | undefined {
    return this.#slots.get(nodeId)?.entry;
  }

  /** Every entry. */
  entries(): SuperPeerEntry[] {
    return [...this.all()];
  }

  /** Every entry, as one array shared until the next change (not to be changed by the caller). */
  all(): readonly SuperPeerEntry[] {
    return this.#all ??= [...this.#slots.values()].map((s) => s.entry);
  }

  /** Counts the changes to the entries held: equal versions, equal entries. */
  get version(): number {
    return this.#version;
  }

  /**
   * The directory's summary: per bucket of node ids, a hash of what its entries claim (ids, addresses,
   * capacities, room), as `buckets` × 8 hex digits (`summaryBuckets` unless given). Sequence numbers are left
   * out: heartbeats stay with the neighbours (`DIR_REFRESH_MS`), so two SuperPeers that agree on every claim hold
   * different sequences.
   */
  summary(buckets: number = summaryBuckets(this.size)): string {
    let out = "";
    for (const h of this.#folded(buckets)) out += h.toString(16).padStart(8, "0");
    return out;
  }

  /**
   * The buckets whose hash differs between this directory's summary and `other` (a valid summary, of
   * `other.length / 8` buckets: the sender's count, which `inBuckets` is then given).
   */
  differing(other: string): Set<number> {
    const out = new Set<number>();
    const mine = this.#folded(other.length / 8);
    for (let b = 0; b < mine.length; b++) {
      if (parseInt(other.slice(8 * b, 8 * b + 8), 16) !== mine[b]) out.add(b);
    }
    return out;
  }

  /** The entries whose node id falls in one of `buckets` of a summary of `count` buckets. */
  inBuckets(buckets: ReadonlySet<number>, count = DIR_SUM_BUCKETS): SuperPeerEntry[] {
    const out: SuperPeerEntry[] = [];
    for (const [id, s] of this.#slots) if (buckets.has(bucketOf(id, count))) out.push(s.entry);
    return out;
  }

  /** The bucket sums for a summary of `count` buckets (a power of two up to `DIR_SUM_BUCKETS_MAX`). */
  #folded(count: number): Uint32Array {
    if (count === DIR_SUM_BUCKETS_MAX) return this.#sums;
    const out = new Uint32Array(count);
    for (let b = 0; b < DIR_SUM_BUCKETS_MAX; b++) out[b & (count - 1)] ^= this.#sums[b];
    return out;
  }

  /**
   * Takes `entry` if it is new or newer than ours; `now` bounds how far ahead its sequence may be, so a
   * forged entry cannot pin a SuperPeer's slot for long. `from` is remembered for gossip. `own`: the entry is
   * this node's own (its room and load are news to its neighbours; another SuperPeer's are not, see below).
   * `caughtUp`: pulled from a summary's answer, so what this node missed rather than a change, and (past a full
   * mesh) not news: the mesh heard it when it changed, and a node catching up does not flood it again.
   */
  merge(entry: SuperPeerEntry, now: number, from?: unknown, own = false, caughtUp = false): MergeResult {
    if (entry.seq > now + DIR_MAX_SEQ_AHEAD_MS) return undefined;
    if ((this.#gone.get(entry.nodeId) ?? -1) >= entry.seq) return undefined; // expired or removed: not again
    this.#gone.delete(entry.nodeId);
    const old = this.#slots.get(entry.nodeId);
    if (old && old.entry.seq >= entry.seq) return undefined;
    if (old) this.#count(old.from, -1);
    // Its source at its bound: that source's stalest entry gives way.
    if (this.heldFrom(from) >= this.#maxPerSource) this.#dropStalestOf(from);
    // While SuperPeers are few every change is news. Past that, a heartbeat or a load change that leaves room
    // as it was is news only every `DIR_REFRESH_MS`: it refreshes this node's copy and goes no further, so
    // heartbeats and loads stay local and cost no SuperPeer a message per SuperPeer. Room appearing or running
    // out travels one hop: our own is news to our neighbours (who point joiners to the neighbours that have
    // room), another SuperPeer's stays here. Only a new SuperPeer, a new address or capacity, a withdrawal and
    // the refresh cross the whole mesh: room flips with every join, and flooding it would cost each SuperPeer
    // a message for every join anywhere. A new SuperPeer crosses the mesh once it serves a Peer: one that serves
    // none (most promote for a moment while joiners find room, then step down) is news to its neighbours only,
    // until it serves or its refresh is due, so SuperPeers that come and go idle do not flood every SuperPeer.
    const news = this.#slots.size <= MESH_FULL_UP_TO || (!caughtUp && (
      (old
        ? own
          ? changedClaims(old.entry, entry)
          : changedPlace(old.entry, entry) || startsServing(old.entry, entry)
        : own || entry.load > 0) ||
      entry.seq - (old?.announced ?? entry.seq) >= DIR_REFRESH_MS
    ));
    const announced = news || !old ? entry.seq : old.announced;
    const held = this.#slots.get(entry.nodeId);
    if (held) this.#sum(held.entry);
    this.#slots.set(entry.nodeId, { entry, expiresAt: now + DIR_TTL_MS, from, announced });
    this.#nextExpiry = Math.min(this.#nextExpiry, now + DIR_TTL_MS);
    this.#sum(entry);
    this.#changed();
    this.#count(from, 1);
    if (news) this.#outbox.set(entry.nodeId, { entry, seq: entry.seq, from });
    if (!old) this.#evict();
    return old ? "newer" : "new";
  }

  /**
   * Drops `nodeId` unless we know a newer entry than `seq`; true when it was dropped. `sig`: the SuperPeer's
   * own withdrawal (checked by the caller), which gossip forwards; without it the drop is ours alone.
   */
  remove(nodeId: string, seq: number, from?: unknown, sig?: string): boolean {
    const old = this.#slots.get(nodeId);
    if (!old || old.entry.seq > seq) return false;
    this.#delete(nodeId);
    this.#bury(nodeId, old.entry.seq);
    this.#outbox.set(nodeId, { seq, from, sig });
    return true;
  }

  /** Drops entries not refreshed in time (never `keep`, our own), as removals to gossip; returns their ids. */
  expire(now: number, keep?: string): string[] {
    const gone: string[] = [];
    // Nothing can have expired before the earliest expiry seen at the last scan (expiries only move later, and
    // a new entry's is noted): most calls, once a second on every SuperPeer, need no scan of the directory.
    if (now < this.#nextExpiry) return gone;
    let next = Infinity;
    for (const [id, s] of this.#slots) {
      if (id === keep) continue;
      if (s.expiresAt <= now) {
        this.#delete(id);
        this.#bury(id, s.entry.seq);
        this.#outbox.set(id, { seq: s.entry.seq, from: undefined });
        gone.push(id);
      } else if (s.expiresAt < next) next = s.expiresAt;
    }
    this.#nextExpiry = next;
    return gone;
  }

  /** Keeps `nodeId` alive without a new entry (we hold a live link to it). */
  touch(nodeId: string, now: number): void {
    const s = this.#slots.get(nodeId);
    if (s) s.expiresAt = now + DIR_TTL_MS;
  }

  /** Takes the changes made since the last call. */
  takeChanges(): Changes {
    const out: Changes = { add: [], remove: [] };
    for (const [nodeId, c] of this.#outbox) {
      if (c.entry) out.add.push({ entry: c.entry, from: c.from });
      else out.remove.push({ nodeId, seq: c.seq, from: c.from, sig: c.sig });
    }
    this.#outbox.clear();
    return out;
  }

  /** Remembers that `nodeId`'s entry up to `seq` is gone (bounded: the oldest memory goes first). */
  #bury(nodeId: string, seq: number): void {
    this.#gone.delete(nodeId);
    this.#gone.set(nodeId, seq);
    if (this.#gone.size > this.#max) this.#gone.delete(this.#gone.keys().next().value!);
  }

  #evict(): void {
    if (this.#slots.size <= this.#max) return;
    // Full: the noisiest source's stalest entry goes.
    let noisiest: unknown, most = 0;
    for (const [from, n] of this.#perSource) {
      if (n > most) [noisiest, most] = [from, n];
    }
    this.#dropStalestOf(noisiest);
  }

  /** Drops the entry from `from` closest to expiry (the stalest news it gave). */
  #dropStalestOf(from: unknown): void {
    let victim: string | undefined, soonest = Infinity;
    for (const [id, s] of this.#slots) {
      if (s.from === from && s.expiresAt < soonest) [victim, soonest] = [id, s.expiresAt];
    }
    if (victim !== undefined) this.#delete(victim);
  }

  #delete(nodeId: string): void {
    const s = this.#slots.get(nodeId);
    if (!s) return;
    this.#sum(s.entry);
    this.#slots.delete(nodeId);
    this.#changed();
    this.#count(s.from, -1);
  }

  #changed(): void {
    this.#all = undefined;
    this.#version++;
  }

  /** Adds `e` to its bucket's hash, or takes it out (XOR both ways). */
  #sum(e: SuperPeerEntry): void {
    this.#sums[bucketOf(e.nodeId)] ^= claimsHash(e);
  }

  #count(from: unknown, by: number): void {
    const n = (this.#perSource.get(from) ?? 0) + by;
    if (n > 0) this.#perSource.set(from, n);
    else this.#perSource.delete(from);
  }
}

/**
 * True when `b` says what joiners and SuperPeers go by differently from `a`: its address, its capacity, whether it
 * has room, or whether it serves anyone (an idle SuperPeer may step down; joiners are better sent there).
 */
function changedClaims(a: SuperPeerEntry, b: SuperPeerEntry): boolean {
  return changedPlace(a, b) || (a.load < a.capacity) !== (b.load < b.capacity) ||
    (a.load === 0) !== (b.load === 0);
}

/** True when `b` serves Peers and `a` served none: a SuperPeer idle until now is news for every SuperPeer. */
function startsServing(a: SuperPeerEntry, b: SuperPeerEntry): boolean {
  return a.load === 0 && b.load > 0;
}

/** True when `b` gives another address or capacity than `a`: news for every SuperPeer. */
function changedPlace(a: SuperPeerEntry, b: SuperPeerEntry): boolean {
  return a.listen !== b.listen || a.capacity !== b.capacity;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The summary bucket of a node id in a summary of `count` buckets (a power of two): in [0, `count`). */
export function bucketOf(nodeId: string, count: number = DIR_SUM_BUCKETS_MAX): number {
  return fnv1a(nodeId) & (count - 1);
}

/**
 * How many buckets a summary of a directory of `size` entries has: the least power of two of at least one per
 * two entries, within [`DIR_SUM_BUCKETS`, `DIR_SUM_BUCKETS_MAX`].
 */
export function summaryBuckets(size: number): number {
  let b = DIR_SUM_BUCKETS;
  while (b < DIR_SUM_BUCKETS_MAX && 2 * b < size) b *= 2;
  return b;
}

/** True when `count` is a summary's bucket count: a power of two within [`DIR_SUM_BUCKETS`, `DIR_SUM_BUCKETS_MAX`]. */
export function isSummaryBuckets(count: number): boolean {
  return Number.isInteger(count) && count >= DIR_SUM_BUCKETS && count <= DIR_SUM_BUCKETS_MAX &&
    (count & (count - 1)) === 0;
}

/** What a summary sums of an entry: the claims `changedClaims` compares, and its id. */
function claimsHash(e: SuperPeerEntry): number {
  return fnv1a(`${e.nodeId} ${e.listen} ${e.capacity} ${e.load < e.capacity} ${e.load === 0}`);
}
