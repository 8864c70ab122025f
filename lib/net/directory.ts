/**
 * The SuperPeer directory: which SuperPeers exist, where they listen and how loaded they say they are.
 * Each SuperPeer publishes its own entry with a rising sequence number; entries travel as changes
 * (added, updated, removed), newer replaces older, and an entry nobody refreshes expires. What an entry says
 * is a claim: it decides only whom to dial, never whom to trust, and a dial checks it.
 * @module
 */
import { DIR_MAX, DIR_MAX_SEQ_AHEAD_MS, DIR_TTL_MS } from "./config.ts";
import type { SuperPeerEntry } from "./messages.ts";

/** What a merge did: a SuperPeer not known before, a newer entry of a known one, or nothing. */
export type MergeResult = "new" | "newer" | undefined;

interface Slot {
  entry: SuperPeerEntry;
  expiresAt: number;
  /** The link (or other source) it came from, so gossip does not send it straight back. */
  from: unknown;
}

/** Changes waiting to be gossiped, with where each came from. */
export interface Changes {
  /** New or newer entries. */
  add: { entry: SuperPeerEntry; from: unknown }[];
  /** Removed entries; `sig` when the SuperPeer itself withdrew it (only those travel on). */
  remove: { nodeId: string; seq: number; from: unknown; sig?: string }[];
}

/** A bounded, expiring map of SuperPeer entries with an outbox of changes. */
export class Directory {
  #slots = new Map<string, Slot>();
  #outbox = new Map<string, { entry?: SuperPeerEntry; seq: number; from: unknown; sig?: string }>();
  #max: number;

  /** An empty directory holding at most `max` entries. */
  constructor(max = DIR_MAX) {
    this.#max = max;
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
    return [...this.#slots.values()].map((s) => s.entry);
  }

  /**
   * Takes `entry` if it is new or newer than ours; `now` bounds how far ahead its sequence may be, so a
   * forged entry cannot pin a SuperPeer's slot for long. `from` is remembered for gossip.
   */
  merge(entry: SuperPeerEntry, now: number, from?: unknown): MergeResult {
    if (entry.seq > now + DIR_MAX_SEQ_AHEAD_MS) return undefined;
    const old = this.#slots.get(entry.nodeId);
    if (old && old.entry.seq >= entry.seq) return undefined;
    this.#slots.set(entry.nodeId, { entry, expiresAt: now + DIR_TTL_MS, from });
    this.#outbox.set(entry.nodeId, { entry, seq: entry.seq, from });
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
    this.#slots.delete(nodeId);
    this.#outbox.set(nodeId, { seq, from, sig });
    return true;
  }

  /** Drops entries not refreshed in time (never `keep`, our own), as removals to gossip; returns their ids. */
  expire(now: number, keep?: string): string[] {
    const gone: string[] = [];
    for (const [id, s] of this.#slots) {
      if (s.expiresAt <= now && id !== keep) {
        this.#slots.delete(id);
        this.#outbox.set(id, { seq: s.entry.seq, from: undefined });
        gone.push(id);
      }
    }
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

  #evict(): void {
    if (this.#slots.size <= this.#max) return;
    // Full: the entry closest to expiry goes (the stalest news).
    let victim: string | undefined, soonest = Infinity;
    for (const [id, s] of this.#slots) {
      if (s.expiresAt < soonest) [victim, soonest] = [id, s.expiresAt];
    }
    if (victim !== undefined) this.#slots.delete(victim);
  }
}
