/**
 * Misbehaviour scores per host, kept in memory: a host whose score reaches the threshold is banned
 * for a while (24 h by default), then starts again from zero.
 * @module
 */

/** Score at which a host is banned. */
export const BAN_THRESHOLD = 100;
/** Default ban length: 24 hours in ms. */
export const BAN_DURATION_MS = 24 * 60 * 60 * 1000;

/** Tunables of a `BanList`. */
export interface BanListOptions {
  /** Clock in ms (default `Date.now`); inject a fake one in tests. */
  now?: () => number;
  /** Ban length in ms (default 24 h). */
  banMs?: number;
  /** Score at which a host is banned (default 100). */
  threshold?: number;
  /** Most hosts remembered; the oldest unbanned entries are forgotten first (default 10,000). */
  maxEntries?: number;
}

interface Entry {
  score: number;
  bannedUntil: number;
}

/** Lowercases and strips IPv6 brackets so one host has one key. */
function key(host: string): string {
  const h = host.trim().toLowerCase();
  return h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
}

/** In-memory ban scores with expiry. */
export class BanList {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #banMs: number;
  readonly #threshold: number;
  readonly #max: number;

  /** Creates an empty list. */
  constructor(options: BanListOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#banMs = options.banMs ?? BAN_DURATION_MS;
    this.#threshold = options.threshold ?? BAN_THRESHOLD;
    this.#max = options.maxEntries ?? 10_000;
  }

  /** Adds `score` to `host`; returns true when the host is banned afterwards. */
  add(host: string, score: number): boolean {
    const k = key(host);
    const e = this.#live(k) ?? { score: 0, bannedUntil: 0 };
    if (e.bannedUntil > 0) return true;
    e.score += Math.max(0, score);
    if (e.score >= this.#threshold) e.bannedUntil = this.#now() + this.#banMs;
    this.#entries.delete(k); // re-insert so Map order tracks recency for eviction
    this.#entries.set(k, e);
    this.#evict();
    return e.bannedUntil > 0;
  }

  /** Bans `host` outright for `ms` (default the list's ban length). */
  ban(host: string, ms: number = this.#banMs): void {
    const k = key(host);
    this.#entries.delete(k);
    this.#entries.set(k, { score: this.#threshold, bannedUntil: this.#now() + ms });
    this.#evict();
  }

  /** Forgets `host`'s score and any ban. */
  unban(host: string): void {
    this.#entries.delete(key(host));
  }

  /** True while `host` is banned. */
  isBanned(host: string): boolean {
    return (this.#live(key(host))?.bannedUntil ?? 0) > 0;
  }

  /** Current score of `host` (0 once a ban has expired). */
  score(host: string): number {
    return this.#live(key(host))?.score ?? 0;
  }

  /** Hosts banned now, with the time (per the list's clock) each ban ends. */
  banned(): { host: string; until: number }[] {
    const out: { host: string; until: number }[] = [];
    for (const k of [...this.#entries.keys()]) {
      const e = this.#live(k);
      if (e && e.bannedUntil > 0) out.push({ host: k, until: e.bannedUntil });
    }
    return out;
  }

  /** The entry for `k`, dropping it first if its ban has expired. */
  #live(k: string): Entry | undefined {
    const e = this.#entries.get(k);
    if (e && e.bannedUntil > 0 && e.bannedUntil <= this.#now()) {
      this.#entries.delete(k);
      return undefined;
    }
    return e;
  }

  #evict(): void {
    if (this.#entries.size <= this.#max) return;
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      if (e.bannedUntil === 0) this.#entries.delete(k);
    }
    // Everyone left is banned: drop the oldest bans rather than grow without bound.
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) return;
      this.#entries.delete(k);
    }
  }
}
