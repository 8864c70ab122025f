/**
 * Misbehaviour scores per host: a host whose score reaches the threshold is banned, then starts again from
 * zero. A ban names the proven node key where the link had one (banned for 24 h by default: a hello with that
 * key is refused) plus the host, whose own ban is short (`HOST_BAN_MS`), so an address that DHCP gives to
 * another machine (another key) is not locked out for a day; the short host ban still slows a machine that
 * makes fresh keys. Scores live in memory; bans can be kept in a file (`BanList.open`),
 * rewritten atomically whenever one starts or is lifted, so a restart does not set a hostile host free.
 * @module
 */
import { hostGroup } from "./address.ts";
import { readTextIfExists, writeFileAtomic } from "../runtime/atomic_file.ts";
import { BAN } from "../consensus/policy.ts";
import { SerialQueue } from "../runtime/serial_queue.ts";

/** Score at which a host is banned: the ledger's `BAN`, so a block or transaction scored `BAN` bans at once. */
export const BAN_THRESHOLD = BAN;
/**
 * Score of malformed or out-of-protocol input: a frame or message that does not parse, a block or transaction
 * that does not decode, a request or reply no honest node sends. Scores never decay: the fifth bans the host.
 */
export const MALFORMED_SCORE = 20;
/** Hosts a `BanList` remembers by default. */
const MAX_ENTRIES = 10_000;
/** Default ban length of a proven key (and of a manual host ban): 24 hours in ms. */
const BAN_DURATION_MS = 24 * 60 * 60 * 1000;
/** Default ban length of a host for misbehaviour, in ms (never longer than the list's ban length). */
export const HOST_BAN_MS = 10 * 60 * 1000;
/** The longest node key a bans file may name (an Ed25519 public key is 64 hex digits). */
const MAX_KEY_CHARS = 128;
/** The longest host a bans file may name (as long as a wire address may be, `host:port` included). */
const MAX_HOST_CHARS = 300;

/** Tunables of a `BanList`. */
export interface BanListOptions {
  /** Clock in ms (default `Date.now`); inject a fake one in tests. */
  now?: () => number;
  /** Ban length in ms of a proven key and of a manual host ban (default 24 h). */
  banMs?: number;
  /** Ban length in ms of a host for misbehaviour (default the shorter of `HOST_BAN_MS` and `banMs`). */
  hostBanMs?: number;
  /** Score at which a host is banned (default `BAN_THRESHOLD`). */
  threshold?: number;
  /** Most hosts remembered; the oldest unbanned entries are forgotten first (default 10,000). */
  maxEntries?: number;
}

interface Entry {
  score: number;
  bannedUntil: number;
}

/** One host, one key: an IPv4 address, an IPv6 /64 (`hostGroup`: lowercased, brackets stripped), a name. */
function key(host: string): string {
  return hostGroup(host.trim());
}

/**
 * One ban: a host, or a proven node key (`nodeId`, with the host it misbehaved from), and its end (ms since
 * the epoch, per the list's clock).
 */
export interface Ban {
  /** The host: an IPv4 address or an IPv6 /64 (`hostGroup`: lowercase, no brackets), or a name as written. */
  host: string;
  /** The proven node key banned, when the ban is of a key. */
  nodeId?: string;
  /** When the ban ends. */
  until: number;
}

/** What a bans file holds. */
interface BansFile {
  version: 1;
  bans: Ban[];
}

/** Ban scores with expiry, in memory; with a file when opened with `BanList.open`. */
export class BanList {
  readonly #entries = new Map<string, Entry>();
  /** Banned node keys: the host each misbehaved from, and the ban's end. */
  readonly #keys = new Map<string, { host: string; until: number }>();
  readonly #now: () => number;
  readonly #banMs: number;
  readonly #hostBanMs: number;
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
    const text = await readTextIfExists(path);
    if (text !== undefined) {
      const bans = parseBans(text);
      if (bans) {
        const now = list.#now();
        for (const b of bans) {
          if (b.until <= now) continue;
          if (b.nodeId !== undefined) list.#keys.set(b.nodeId, { host: key(b.host), until: b.until });
          else list.#entries.set(key(b.host), { score: list.#threshold, bannedUntil: b.until });
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
    this.#hostBanMs = options.hostBanMs ?? Math.min(HOST_BAN_MS, this.#banMs);
    this.#threshold = options.threshold ?? BAN_THRESHOLD;
    this.#max = options.maxEntries ?? MAX_ENTRIES;
  }

  /**
   * Adds `score` to `host`, whose link proved `nodeId` if given; returns true when the host or that key is
   * banned afterwards. At the threshold the host is banned for the host ban length and the key, if any, for
   * the full ban length.
   */
  add(host: string, score: number, nodeId?: string): boolean {
    const k = key(host);
    if (nodeId !== undefined && this.isKeyBanned(nodeId)) return true;
    const e = this.#live(k) ?? { score: 0, bannedUntil: 0 };
    if (e.bannedUntil > 0 && nodeId === undefined) return true;
    e.score += Math.max(0, score);
    if (e.score >= this.#threshold) {
      if (e.bannedUntil === 0) e.bannedUntil = this.#now() + this.#hostBanMs;
      if (nodeId !== undefined) {
        this.#keys.delete(nodeId);
        this.#keys.set(nodeId, { host: k, until: this.#now() + this.#banMs });
      }
    }
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

  /** Forgets `host`'s score and any ban of it or of a key that misbehaved from it. */
  unban(host: string): void {
    const k = key(host);
    let wasBanned = (this.#entries.get(k)?.bannedUntil ?? 0) > 0;
    this.#entries.delete(k);
    for (const [id, b] of [...this.#keys]) {
      if (b.host === k) wasBanned = !!this.#keys.delete(id);
    }
    if (wasBanned) this.#save();
  }

  /** True while the node key `nodeId` is banned (a hello with it is refused). */
  isKeyBanned(nodeId: string): boolean {
    const b = this.#keys.get(nodeId);
    if (b && b.until <= this.#now()) this.#keys.delete(nodeId);
    return (this.#keys.get(nodeId)?.until ?? 0) > 0;
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

  /** True while `host` itself is banned (a connection from it is refused before any hello). */
  isBanned(host: string): boolean {
    return (this.#live(key(host))?.bannedUntil ?? 0) > 0;
  }

  /** Current score of `host` (0 once a ban has expired). */
  score(host: string): number {
    return this.#live(key(host))?.score ?? 0;
  }

  /**
   * Bans now: hosts, then node keys (with the host each misbehaved from), with the time (per the list's
   * clock) each ends.
   */
  banned(): Ban[] {
    const out: Ban[] = [];
    for (const k of [...this.#entries.keys()]) {
      const e = this.#live(k);
      if (e && e.bannedUntil > 0) out.push({ host: k, until: e.bannedUntil });
    }
    for (const id of [...this.#keys.keys()]) {
      if (this.isKeyBanned(id)) {
        out.push({ host: this.#keys.get(id)!.host, nodeId: id, until: this.#keys.get(id)!.until });
      }
    }
    return out;
  }

  /** True while `host` or a key that misbehaved from it is banned (what `banned()` lists for it). */
  isListed(host: string): boolean {
    const k = key(host);
    return this.banned().some((b) => b.host === k);
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
    for (const id of this.#keys.keys()) {
      if (this.#keys.size <= this.#max) break;
      this.#keys.delete(id); // the oldest key bans first
    }
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
function parseBans(text: string): Ban[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const f = v as Partial<BansFile> | null;
  if (typeof f !== "object" || f === null || f.version !== 1 || !Array.isArray(f.bans)) return undefined;
  return f.bans.filter((b): b is Ban =>
    typeof b === "object" && b !== null && typeof b.host === "string" && b.host.length > 0 &&
    b.host.length <= MAX_HOST_CHARS && Number.isSafeInteger(b.until) &&
    (b.nodeId === undefined ||
      (typeof b.nodeId === "string" && b.nodeId.length > 0 && b.nodeId.length <= MAX_KEY_CHARS))
  );
}
