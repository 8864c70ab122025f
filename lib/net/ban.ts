/**
 * Misbehaviour scores per host: a host whose score reaches the threshold is banned for a while (24 h by
 * default), then starts again from zero. Scores live in memory; bans can be kept in a file (`BanList.open`),
 * rewritten atomically whenever one starts or is lifted, so a restart does not set a hostile host free.
 * @module
 */
import { writeFileAtomic } from "../atomic_file.ts";
import { BAN } from "../consensus/policy.ts";
import { SerialQueue } from "../serial_queue.ts";

/** Score at which a host is banned: the ledger's `BAN`, so a block or transaction scored `BAN` bans at once. */
export const BAN_THRESHOLD = BAN;
/**
 * Score of malformed or out-of-protocol input: a frame or message that does not parse, a block or transaction
 * that does not decode, a request or reply no honest node sends. Scores never decay: the fifth bans the host.
 */
export const MALFORMED_SCORE = 20;
/** Hosts a `BanList` remembers by default. */
const MAX_ENTRIES = 10_000;
/** Default ban length: 24 hours in ms. */
const BAN_DURATION_MS = 24 * 60 * 60 * 1000;

/** Tunables of a `BanList`. */
export interface BanListOptions {
  /** Clock in ms (default `Date.now`); inject a fake one in tests. */
  now?: () => number;
  /** Ban length in ms (default 24 h). */
  banMs?: number;
  /** Score at which a host is banned (default `BAN_THRESHOLD`). */
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

/** What a bans file holds: each ban's host and its end (ms since the epoch, per the list's clock). */
interface BansFile {
  version: 1;
  bans: { host: string; until: number }[];
}

/** Ban scores with expiry, in memory; with a file when opened with `BanList.open`. */
export class BanList {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #banMs: number;
  readonly #threshold: number;
  readonly #max: number;
  #path?: string;
  #saving = new SerialQueue();
  #dirty = false;
  #saveError?: Error;

  /**
   * A list that keeps its bans in `path` (a JSON file): the bans in it that have not expired are loaded now,
   * and every ban started or lifted later is written back atomically. A missing file is an empty list; an
   * unreadable one is kept aside as `path.bad` (nothing is lost) and the list starts empty.
   * @example const bans = await BanList.open(`${dataDir}/bans.json`);
   */
  static async open(path: string, options: BanListOptions = {}): Promise<BanList> {
    const list = new BanList(options);
    let text: string | undefined;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    if (text !== undefined) {
      const bans = parseBans(text);
      if (bans) {
        const now = list.#now();
        for (const b of bans) {
          if (b.until > now) {
            list.#entries.set(key(b.host), { score: list.#threshold, bannedUntil: b.until });
          }
        }
        list.#evict();
      } else await Deno.rename(path, `${path}.bad`);
    }
    list.#path = path;
    return list;
  }

  /** Creates an empty list. */
  constructor(options: BanListOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#banMs = options.banMs ?? BAN_DURATION_MS;
    this.#threshold = options.threshold ?? BAN_THRESHOLD;
    this.#max = options.maxEntries ?? MAX_ENTRIES;
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
    if (e.bannedUntil > 0) this.#save();
    return e.bannedUntil > 0;
  }

  /** Bans `host` outright for `ms` (default the list's ban length). */
  ban(host: string, ms: number = this.#banMs): void {
    const k = key(host);
    this.#entries.delete(k);
    this.#entries.set(k, { score: this.#threshold, bannedUntil: this.#now() + ms });
    this.#evict();
    this.#save();
  }

  /** Forgets `host`'s score and any ban. */
  unban(host: string): void {
    const k = key(host);
    const wasBanned = (this.#entries.get(k)?.bannedUntil ?? 0) > 0;
    this.#entries.delete(k);
    if (wasBanned) this.#save();
  }

  /**
   * Resolves once every ban change so far is in the file (at once without one). After a failed write it
   * writes again (memory still holds every ban); rejects with the error if that write fails too.
   */
  async flush(): Promise<void> {
    await this.#saving.idle();
    if (this.#saveError) {
      this.#save();
      await this.#saving.idle();
    }
    if (this.#saveError) throw this.#saveError;
  }

  /** Writes the bans soon; changes that come meanwhile share one write. */
  #save(): void {
    if (!this.#path || this.#dirty) return;
    this.#dirty = true;
    const path = this.#path;
    this.#saving.run(async () => {
      this.#dirty = false;
      const file: BansFile = { version: 1, bans: this.banned() };
      try {
        await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(file, null, 1) + "\n"));
        this.#saveError = undefined;
      } catch (e) {
        this.#saveError = e instanceof Error ? e : new Error(String(e)); // the bans still hold in memory
      }
    });
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

/** The bans in a bans file's text, or undefined when it is not one. */
function parseBans(text: string): { host: string; until: number }[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const f = v as Partial<BansFile> | null;
  if (typeof f !== "object" || f === null || f.version !== 1 || !Array.isArray(f.bans)) return undefined;
  return f.bans.filter((b): b is { host: string; until: number } =>
    typeof b === "object" && b !== null && typeof b.host === "string" && b.host.length > 0 &&
    b.host.length <= 300 && Number.isSafeInteger(b.until)
  );
}
