/**
 * Pipelined block download: one link (the lead) names the blocks after our locator (`gethashes`, answered by
 * `hashes`: ids only, no bodies), then the bodies are asked (`getdata`) ahead in a window from every link that
 * may have them, and connected in chain order while the next ones travel. Evidence decides who serves: a link
 * that answers `notfound` for blocks it was asked, or sends a body that is refused, is dropped from the sync
 * and scored; one that delivers nothing for `SYNC_SLOW_MS` is dropped; their share of the window is asked of
 * the others. What a link claims (its hello's work) only makes it a candidate.
 * @module
 */
import { MALFORMED_SCORE } from "./ban.ts";
import type { LedgerPort } from "./ledger_port.ts";
import type { Link } from "./link.ts";
import { MAX_HASHES, MAX_INV, MAX_LOCATOR } from "./messages.ts";

/** Blocks asked ahead of the next one to connect, at most: in flight and arrived together. */
export const SYNC_WINDOW = 128;
/** Bytes of arrived blocks waiting for their turn, at most: one past it (not the next to connect) is dropped and asked again. */
export const SYNC_WINDOW_BYTES = 32_000_000;
/** Blocks one link has in flight at most. */
export const SYNC_PER_LINK = 32;
/** A link with blocks in flight (or a lead with hashes asked) that delivered nothing for this long is dropped, in ms. */
export const SYNC_SLOW_MS = 4_000;
/** A body refused once is asked of another link; refused this often, the sync gives up on that chain. */
const SYNC_MAX_ATTEMPTS = 2;
/** The score of a lead that answers `notfound` for blocks it named itself in a sync (it offered a chain it lacks). */
export const SYNC_LIE_SCORE = 10;

if (SYNC_PER_LINK > SYNC_WINDOW || SYNC_PER_LINK > MAX_INV) {
  throw new Error("a link's share fits the window and a getdata");
}

/** What the sync asks of the relay around it. */
export interface SyncHooks {
  /** A link sent something refused with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
  /** The clock in ms. */
  now(): number;
  /** The sync ended (level with the lead, or given up). */
  finished(): void;
  /** A block `link` sent connected, new to this node. */
  connected?(link: Link): void;
}

/** A link the sync may ask for bodies. */
interface Source {
  /** Blocks asked of it and not delivered. */
  inflight: number;
  /** When it last delivered a block (or was first asked), ms. */
  last: number;
}

/** One download at a time, from many links. */
export class BlockSync {
  #ledger: LedgerPort;
  #hooks: SyncHooks;
  /** The link whose hashes we follow; undefined when not syncing. */
  #lead?: Link;
  /** When the lead was asked for hashes and has not answered yet, ms. */
  #hashesAskedAt?: number;
  /** The last hash the lead named, while it may have more. */
  #moreAfter?: string;
  /** Blocks to connect, in chain order; the first `SYNC_WINDOW` are the window. */
  #want: string[] = [];
  #inflight = new Map<string, Link>();
  #arrived = new Map<string, { bytes: Uint8Array; link: Link }>();
  #arrivedBytes = 0;
  #attempts = new Map<string, number>();
  #sources = new Map<Link, Source>();
  /** Links that must not serve this sync (dropped: slow or lying). */
  #dropped = new Set<Link>();
  #draining = false;
  #progressed = false;
  /** The lead's answer named blocks we lack (evidence of a download, not a claim). */
  #named = false;
  /** A link that announced blocks we lack while another sync ran: synced from next. */
  #again?: Link;

  constructor(ledger: LedgerPort, hooks: SyncHooks) {
    this.#ledger = ledger;
    this.#hooks = hooks;
  }

  /** True while a download is under way. */
  get active(): boolean {
    return this.#lead !== undefined;
  }

  /**
   * True once this download connected (or stored) a block, or its lead answered naming blocks we lack:
   * transactions wait for its end from then on (their inputs may be in those blocks; judged now, a pool of
   * payments would overflow the orphan pool and be lost). A hello that only claims more work holds back
   * nothing: a lead that never answers is dropped after `SYNC_SLOW_MS`.
   */
  get progressed(): boolean {
    return this.active && (this.#progressed || this.#named);
  }

  /** What the window holds: blocks in flight, arrived, and their bytes (for tests and bounds). */
  get window(): { inflight: number; arrived: number; bytes: number; want: number } {
    return {
      inflight: this.#inflight.size,
      arrived: this.#arrived.size,
      bytes: this.#arrivedBytes,
      want: this.#want.length,
    };
  }

  /**
   * `link` may have blocks we lack (its hello claims more work, or it pushed a block whose parent we lack):
   * it serves bodies from now on, and leads a sync if none runs.
   */
  offer(link: Link): void {
    this.#check();
    if (this.#dropped.has(link)) return;
    if (!this.#sources.has(link)) this.#sources.set(link, { inflight: 0, last: this.#hooks.now() });
    if (!this.#lead) this.#start(link);
    else if (this.#lead !== link) {
      this.#again ??= link;
      this.#fill();
    }
  }

  #start(link: Link): void {
    this.#dropped.clear();
    this.#lead = link;
    this.#progressed = false;
    this.#named = false;
    this.#askHashes(this.#ledger.locator().slice(0, MAX_LOCATOR));
  }

  #askHashes(locator: string[]): void {
    if (this.#lead!.conn.send({ type: "gethashes", locator })) this.#hashesAskedAt = this.#hooks.now();
  }

  /** A `hashes` from `link`: only the lead's answer to our `gethashes` counts. */
  onHashes(link: Link, ids: readonly string[]): void {
    if (link !== this.#lead || this.#hashesAskedAt === undefined) {
      this.#hooks.misbehaved(link, MALFORMED_SCORE, "hashes: not requested");
      return;
    }
    this.#hashesAskedAt = undefined;
    const wanted = new Set(this.#want);
    const fresh = ids.filter((id) => !wanted.has(id) && !this.#ledger.has("block", id));
    this.#want.push(...fresh);
    if (fresh.length) this.#named = true;
    // A full answer may have more after it; an answer of blocks we all hold, or none, is the end.
    this.#moreAfter = ids.length === MAX_HASHES && fresh.length ? ids[ids.length - 1] : undefined;
    this.#fill();
    this.#maybeFinish();
  }

  /**
   * A `block` from `link`: taken (true) when it is one of the window's, else left to the relay (false). Blocks
   * are connected in order as they come, as requested ones.
   */
  async onBlock(link: Link, id: string, bytes: Uint8Array): Promise<boolean> {
    if (!this.#lead || this.#arrived.has(id)) return false;
    const asked = this.#inflight.get(id);
    const at = this.#want.indexOf(id);
    if (!asked && (at < 0 || at >= SYNC_WINDOW)) return false;
    if (asked) this.#settle(id, asked);
    const s = this.#sources.get(link);
    if (s) s.last = this.#hooks.now();
    // Bounded in bytes: a block past the bound that is not the next to connect is asked again later.
    if (this.#arrivedBytes + bytes.length > SYNC_WINDOW_BYTES && at !== 0) return true;
    this.#arrived.set(id, { bytes, link });
    this.#arrivedBytes += bytes.length;
    await this.#drain();
    this.#fill();
    return true;
  }

  /**
   * A `notfound` for blocks from `link`: a source that lacks what it was asked is dropped from this sync; the
   * lead, which named those blocks itself, lied and is scored too, and the sync it led is given up.
   */
  onNotFound(link: Link, ids: readonly string[]): void {
    const lacked = ids.filter((id) => this.#inflight.get(id) === link);
    if (!lacked.length) return;
    this.#drop(link);
    if (link === this.#lead) {
      this.#hooks.misbehaved(link, SYNC_LIE_SCORE, `notfound: ${lacked.length} blocks it named in a sync`);
      return this.#giveUp();
    }
    this.#fill();
  }

  /** Connects the arrived blocks that are next in order, one at a time. */
  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#want.length && this.#arrived.has(this.#want[0])) {
        const id = this.#want[0];
        const { bytes, link } = this.#arrived.get(id)!;
        this.#arrived.delete(id);
        this.#arrivedBytes -= bytes.length;
        const v = await this.#ledger.receiveBlock(bytes, link.hello?.nodeId, true);
        if (this.#want[0] !== id) continue; // the sync was given up meanwhile
        if (v.kind === "rejected") {
          if (v.score > 0) {
            this.#hooks.misbehaved(link, v.score, `${v.code}: ${v.reason}`);
            this.#drop(link);
          }
          const tries = (this.#attempts.get(id) ?? 0) + 1;
          this.#attempts.set(id, tries);
          // Asked again of another link (a body that does not match its header is the sender's fault, not
          // the block's); refused again, the chain itself is bad: give up on it.
          if (tries >= SYNC_MAX_ATTEMPTS || v.score === 0) {
            this.#giveUp();
            return;
          }
          this.#fill();
          continue;
        }
        if (v.kind === "accepted") this.#hooks.connected?.(link);
        this.#want.shift();
        this.#attempts.delete(id);
        this.#progressed = true;
        this.#fill();
      }
    } finally {
      this.#draining = false;
    }
    this.#maybeFinish();
  }

  /** Asks the window's unasked blocks of the sources with room, the least busy first. */
  #fill(): void {
    if (!this.#lead) return;
    this.#check();
    if (!this.#lead) return;
    const asks = new Map<Link, string[]>();
    const sources = [...this.#sources].filter(([l]) => !l.conn.isClosed && !this.#dropped.has(l));
    // No one left to ask what is still wanted: the sync is over (a link that announces more starts another).
    if (!sources.length && this.#want.length && !this.#inflight.size) return this.#giveUp();
    const end = Math.min(this.#want.length, SYNC_WINDOW);
    for (let i = 0; i < end && sources.length; i++) {
      // Bytes held up to the bound: only the next block to connect is asked until some are connected.
      if (i > 0 && this.#arrivedBytes >= SYNC_WINDOW_BYTES) break;
      const id = this.#want[i];
      if (this.#inflight.has(id) || this.#arrived.has(id)) continue;
      let best: [Link, Source] | undefined;
      for (const e of sources) {
        if (e[1].inflight < SYNC_PER_LINK && (!best || e[1].inflight < best[1].inflight)) best = e;
      }
      if (!best) break;
      const [link, s] = best;
      if (s.inflight === 0) s.last = this.#hooks.now();
      s.inflight++;
      this.#inflight.set(id, link);
      const list = asks.get(link) ?? [];
      list.push(id);
      asks.set(link, list);
    }
    for (const [link, ids] of asks) link.conn.send({ type: "getdata", kind: "block", ids });
    // Keep names ahead of the window: ask the lead for the next hashes once the window reaches the list's end.
    if (this.#moreAfter && this.#hashesAskedAt === undefined && this.#want.length < 2 * SYNC_WINDOW) {
      const after = this.#moreAfter;
      this.#moreAfter = undefined;
      this.#askHashes([after, ...this.#ledger.locator().slice(0, MAX_LOCATOR - 1)]);
    }
  }

  /** Drops closed, slow and silent links; a lead that is gone ends the sync (another link may start one). */
  #check(): void {
    const now = this.#hooks.now();
    for (const [link, s] of this.#sources) {
      if (link.conn.isClosed) this.#drop(link);
      else if (s.inflight > 0 && now - s.last > SYNC_SLOW_MS) this.#drop(link);
    }
    const lead = this.#lead;
    if (!lead) return;
    const silent = this.#hashesAskedAt !== undefined && now - this.#hashesAskedAt > SYNC_SLOW_MS;
    if (lead.conn.isClosed || silent || (this.#dropped.has(lead) && !this.#want.length)) {
      this.#drop(lead);
      this.#giveUp();
    }
  }

  /** Takes `link` out of this sync; what it owed is asked of the others. */
  #drop(link: Link): void {
    this.#dropped.add(link);
    this.#sources.delete(link);
    for (const [id, l] of this.#inflight) if (l === link) this.#inflight.delete(id);
  }

  #settle(id: string, link: Link): void {
    this.#inflight.delete(id);
    const s = this.#sources.get(link);
    if (s) s.inflight = Math.max(0, s.inflight - 1);
  }

  /** Ends the sync when nothing is left to ask or connect and the lead named no more. */
  #maybeFinish(): void {
    if (!this.#lead || this.#want.length || this.#moreAfter || this.#hashesAskedAt !== undefined) return;
    this.#end();
  }

  /** Stops this sync: what it held is dropped (a block already connected stays). */
  #giveUp(): void {
    this.#want = [];
    this.#moreAfter = undefined;
    this.#hashesAskedAt = undefined;
    this.#end();
  }

  #end(): void {
    this.#lead = undefined;
    this.#inflight.clear();
    this.#arrived.clear();
    this.#arrivedBytes = 0;
    this.#attempts.clear();
    for (const s of this.#sources.values()) s.inflight = 0;
    this.#hooks.finished();
    const next = this.#again;
    this.#again = undefined;
    if (next && !next.conn.isClosed && !this.#dropped.has(next)) this.#start(next);
  }

  /** Looks for stalls (call about every second): a slow or silent link's share is asked of the others. */
  tick(): void {
    this.#fill();
  }
}
