/**
 * The address book: every address this node has heard of, what it learned by dialling each, and the
 * tracker file it keeps (like bcoin's `hostlist.js` and btcd's `addrmgr`). Addresses others tell us about
 * are only candidates; the tracker file lists only SuperPeers this node dialled and that answered its join or
 * mesh in a proven handshake, those that served it (relayed a block or transaction) before the others, plus
 * the file's own lines it has not disproved, so no peer's word (a role claimed in `hello`, a directory
 * entry) can rewrite it.
 * @module
 */
import { SerialQueue } from "../runtime/serial_queue.ts";
import { ADDRESS_BOOK_MAX, TRACKER_MAX, TRACKER_WRITE_MS } from "./config.ts";
import { formatHostPort, type HostPort, parseHostPort } from "./messages.ts";
import type { TrackerFile } from "./tracker.ts";
import type { Clock } from "./transport.ts";

/** How an address was learned. */
export type AddressSource = "tracker" | "connect" | "heard";

interface Entry {
  addr: string;
  source: AddressSource;
  /** When we last dialled it and it proved its key in a hello as a SuperPeer (undefined: never). */
  greetedAt?: number;
  /** When we last dialled it and it answered our join or mesh with a welcome (undefined: never). */
  welcomedAt?: number;
  /** When it last relayed a block or transaction to us on such a link (undefined: never). */
  servedAt?: number;
  /** When it last delivered a block new to us on such a link, pushed or downloaded (undefined: never). */
  deliveredAt?: number;
  /** Failed dials since it last answered. */
  failures: number;
  /** Insertion order, for stable ordering. */
  seq: number;
}

/** Normalises `host:port`, `host port` or `[v6]:port` to one spelling (IPv6 bracketed); undefined if bad. */
export function normalizeAddress(addr: string): string | undefined {
  try {
    return formatHostPort(parseHostPort(addr, { allowSpace: true }));
  } catch {
    return undefined;
  }
}

/**
 * What leads the tracker file: `self`, this node when it is a SuperPeer, then `primary`, the SuperPeer it is
 * a Peer of (only once that one has served it).
 */
export interface TrackerLead {
  /** This node's own address, when it is a SuperPeer. */
  self?: string;
  /** The address this node dialled its current primary SuperPeer at, when it is a Peer. */
  primary?: string;
}

/** Remembered addresses and the tracker file. */
export class AddressBook {
  #entries = new Map<string, Entry>();
  #tracker: TrackerFile;
  #clock: Clock;
  #max: number;
  #seq = 0;
  #lead: TrackerLead = {};
  #writeTimer: unknown;
  #writing = new SerialQueue();
  #lastWritten = "";
  #lastWriteAt = -Infinity;

  /** An empty book over `tracker`. */
  constructor(tracker: TrackerFile, clock: Clock, max = ADDRESS_BOOK_MAX) {
    this.#tracker = tracker;
    this.#clock = clock;
    this.#max = max;
  }

  /** Reads the tracker file into the book; returns its addresses in file order. */
  async load(): Promise<string[]> {
    const { addrs, stored } = await this.#tracker.read();
    const out = addrs.map(formatHostPort);
    for (const a of out) this.add(a, "tracker");
    // What the file it writes holds (a learned file holds less than what was read with it).
    this.#lastWritten = (stored ?? addrs).map(formatHostPort).join("\n");
    return out;
  }

  /** Number of addresses. */
  get size(): number {
    return this.#entries.size;
  }

  /** Remembers `addr` (normalised; bad ones are ignored); returns its normal spelling. */
  add(addr: string, source: AddressSource): string | undefined {
    const a = normalizeAddress(addr);
    if (!a) return undefined;
    const e = this.#entries.get(a);
    if (e) {
      // A tracker or --connect line outranks hearsay.
      if (source !== "heard") e.source = source;
      return a;
    }
    this.#entries.set(a, { addr: a, source, failures: 0, seq: this.#seq++ });
    this.#evict();
    return a;
  }

  /** We dialled `addr` and it proved its node id in a hello that says SuperPeer (for whom to dial first). */
  greeted(addr: string): void {
    const a = this.add(addr, "heard");
    if (!a) return;
    const e = this.#entries.get(a)!;
    e.greetedAt = this.#clock.now();
    e.failures = 0;
  }

  /**
   * We dialled `addr` and it answered our join or mesh with a welcome after proving its node id: a SuperPeer
   * that exists, not only its role claimed in `hello`. It goes in the tracker file, before the others once
   * it also `served` us.
   */
  welcomed(addr: string): void {
    this.greeted(addr);
    const a = normalizeAddress(addr);
    const e = a && this.#entries.get(a);
    if (e) e.welcomedAt = this.#clock.now();
  }

  /**
   * A SuperPeer we `welcomed` at `addr` relayed a block or transaction to us on that link. Returns true when
   * that is its first service (it moves up in the tracker file, worth a write soon).
   */
  served(addr: string): boolean {
    const a = normalizeAddress(addr);
    const e = a && this.#entries.get(a);
    if (!e || e.welcomedAt === undefined) return false;
    const first = e.servedAt === undefined;
    e.servedAt = this.#clock.now();
    return first;
  }

  /** A SuperPeer we `welcomed` at `addr` delivered a block new to us on that link (pushed or downloaded). */
  delivered(addr: string): void {
    const a = normalizeAddress(addr);
    const e = a && this.#entries.get(a);
    if (e && e.welcomedAt !== undefined) e.deliveredAt = this.#clock.now();
  }

  /** True when a SuperPeer we welcomed at `addr` delivered a block new to us there (evidence it has blocks). */
  hasDelivered(addr: string): boolean {
    const a = normalizeAddress(addr);
    return !!a && this.#entries.get(a)?.deliveredAt !== undefined;
  }

  /** A dial to `addr` failed, or it was no SuperPeer. */
  failed(addr: string): void {
    const a = normalizeAddress(addr);
    const e = a && this.#entries.get(a);
    if (e) e.failures++;
  }

  /** True when `addr` answered as a SuperPeer to us at some point. */
  wasGreeted(addr: string): boolean {
    const a = normalizeAddress(addr);
    return !!a && this.#entries.get(a)?.greetedAt !== undefined;
  }

  /**
   * Addresses worth dialling, best first: SuperPeers we greeted (latest first), then tracker and
   * `--connect` lines, then hearsay; each group by fewest recent failures. `exclude` holds normal spellings.
   */
  candidates(exclude: ReadonlySet<string> = new Set()): string[] {
    const rank = (e: Entry) => e.greetedAt !== undefined ? 0 : e.source === "heard" ? 2 : 1;
    return [...this.#entries.values()]
      .filter((e) => !exclude.has(e.addr))
      .sort((a, b) =>
        rank(a) - rank(b) || a.failures - b.failures || (b.greetedAt ?? 0) - (a.greetedAt ?? 0) ||
        a.seq - b.seq
      )
      .map((e) => e.addr);
  }

  /**
   * Addresses this node knows as SuperPeers by itself, not on any other node's word: the tracker file's and
   * `--connect` lines and those it greeted; at most `max`, best first (as `candidates`).
   */
  own(max: number): string[] {
    return this.candidates().filter((a) => {
      const e = this.#entries.get(a)!;
      return e.greetedAt !== undefined || e.source !== "heard";
    }).slice(0, max);
  }

  /** True when a SuperPeer we welcomed at `addr` relayed a block or transaction to us there. */
  wasServed(addr: string): boolean {
    const a = normalizeAddress(addr);
    return !!a && this.#entries.get(a)?.servedAt !== undefined;
  }

  /** A random remembered address outside `exclude`, failed ones less likely (for partition probes). */
  pick(exclude: ReadonlySet<string>, random: () => number): string | undefined {
    const pool = [...this.#entries.values()].filter((e) => !exclude.has(e.addr));
    if (!pool.length) return undefined;
    // Two draws, keep the one with fewer failures: dead addresses fade without being forgotten.
    const a = pool[Math.floor(random() * pool.length)], b = pool[Math.floor(random() * pool.length)];
    return (a.failures <= b.failures ? a : b).addr;
  }

  /**
   * The tracker file's contents: `lead.self` first (this node as a SuperPeer), then `lead.primary` if it
   * answered our join, then the SuperPeers we greeted that served us, most recently served first, then those
   * we greeted that have not served us yet (latest greeting first: a fresh network has no blocks), then the
   * file's own lines not yet disproved. A node that only claimed to be a SuperPeer (in `hello`, in an entry)
   * is left out, and one that served nothing never goes before one that did.
   */
  trackerLines(lead: TrackerLead = this.#lead): string[] {
    const greeted = [...this.#entries.values()].filter((e) => e.welcomedAt !== undefined);
    const served = greeted.filter((e) => e.servedAt !== undefined)
      .sort((a, b) => b.servedAt! - a.servedAt! || a.seq - b.seq).map((e) => e.addr);
    const idle = greeted.filter((e) => e.servedAt === undefined)
      .sort((a, b) => b.welcomedAt! - a.welcomedAt! || a.seq - b.seq).map((e) => e.addr);
    const primary = lead.primary === undefined ? undefined : normalizeAddress(lead.primary);
    const kept = [...this.#entries.values()]
      .filter((e) =>
        e.welcomedAt === undefined && (e.source === "tracker" || e.source === "connect") && e.failures < 3
      )
      .sort((a, b) => a.seq - b.seq).map((e) => e.addr);
    const first = [
      ...(lead.self === undefined ? [] : [normalizeAddress(lead.self)]),
      ...(primary !== undefined && greeted.some((e) => e.addr === primary) ? [primary] : []),
    ];
    const out: string[] = [];
    for (const a of [...first, ...served, ...idle, ...kept]) {
      if (a && !out.includes(a)) out.push(a);
      if (out.length >= TRACKER_MAX) break;
    }
    return out;
  }

  /**
   * Writes the tracker with `lead` first (see `trackerLines`): at once when the last write is `TRACKER_WRITE_MS` old (a new
   * SuperPeer is in the file before a second node in the same folder reads it), else coalesced after it.
   */
  scheduleWrite(lead: TrackerLead): void {
    this.#lead = { ...lead };
    if (this.#writeTimer !== undefined) return;
    const wait = this.#lastWriteAt + TRACKER_WRITE_MS - this.#clock.now();
    if (wait <= 0) return this.#writeNow();
    this.#writeTimer = this.#clock.setTimeout(() => {
      this.#writeTimer = undefined;
      this.#writeNow();
    }, wait);
  }

  /** Writes a pending tracker change now (again, if the last write failed) and waits for every write. */
  async flush(): Promise<void> {
    if (this.#writeTimer !== undefined) {
      this.#clock.clearTimeout(this.#writeTimer);
      this.#writeTimer = undefined;
      this.#writeNow();
    }
    await this.#writing.idle();
    if (this.#lastWritten !== this.trackerLines().join("\n")) {
      this.#writeNow();
      await this.#writing.idle();
    }
  }

  #writeNow(): void {
    this.#lastWriteAt = this.#clock.now();
    const lines = this.trackerLines();
    const text = lines.join("\n");
    if (text === this.#lastWritten || lines.length === 0) return;
    this.#lastWritten = text;
    const addrs: HostPort[] = lines.map((l) => parseHostPort(l));
    this.#writing.run(() => this.#tracker.write(addrs)).catch(() => {
      // Not on disk: the next write (or `flush`) must not take it for written.
      if (this.#lastWritten === text) this.#lastWritten = "";
    });
  }

  #evict(): void {
    if (this.#entries.size <= this.#max) return;
    // Forget the hearsay that failed most, then the oldest hearsay; never a greeted SuperPeer first. One scan
    // per address forgotten (a full book forgets one per address added), not a sort of the whole book.
    const greeted = (e: Entry) => e.greetedAt === undefined ? 0 : 1;
    const before = (a: Entry, b: Entry) =>
      (greeted(a) - greeted(b) ||
        (a.source === "heard" ? 0 : 1) - (b.source === "heard" ? 0 : 1) ||
        b.failures - a.failures || a.seq - b.seq) < 0;
    for (;;) {
      if (this.#entries.size <= this.#max) return;
      let victim: Entry | undefined;
      for (const e of this.#entries.values()) if (!victim || before(e, victim)) victim = e;
      this.#entries.delete(victim!.addr);
    }
  }
}
