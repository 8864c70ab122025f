/**
 * Serving what peers ask for (`getdata`, `getblocks`) without letting one peer, or forty, take the node over.
 * Each link, and all of them together, have a byte budget that refills over time; every item served takes its
 * turn (lib/turns.ts) with every other link's, and the turn passes on through the event loop, so honest traffic
 * waits at most a few milliseconds behind any amount of serving. Serving stops when the link closes or cannot keep up with its send
 * queue, and a single request is answered up to a byte budget.
 * @module
 */
import { turns } from "../runtime/turns.ts";
import type { Link } from "./link.ts";

/** Bytes one `getdata` is answered with, at most (four full blocks); the rest is reported `notfound`. */
export const SERVE_REQUEST_BYTES = 4_000_000;
/** Bytes served to one link per second, on average. */
const SERVE_LINK_BYTES_PER_S = 8_000_000;
/** Bytes one link may be served in a burst. */
export const SERVE_LINK_BURST = 16_000_000;
/**
 * Bytes served to all links together per second, and in a burst. Each megabyte served costs some 8 MB of
 * allocations (hex, JSON, frame) and the collections that follow: forty links asking at once must not add up.
 */
export const SERVE_TOTAL_BYTES_PER_S = 16_000_000, SERVE_TOTAL_BURST = 24_000_000;
/** A link with more than this queued for sending gets nothing more until it reads (closed at `LINK_MAX_QUEUED_BYTES`). */
export const SEND_QUEUE_LIMIT = 8 * 1024 * 1024;
/** How long a reply that must not be dropped (a `blocks` batch) waits for a slow link to drain, in ms. */
const DRAIN_WAIT_MS = 10_000;
/** ... checking the link's send queue this often, in ms. */
const DRAIN_POLL_MS = 50;
/** Longest run of serving before the turn passes on, in ms. */
const SERVE_SLICE_MS = 4;

interface Budget {
  tokens: number;
  at: number;
}

/** What became of a request. */
export interface Served {
  /** Ids not served: unknown, or over the request's byte budget. */
  unserved: string[];
  /** True when serving stopped because the link closed or fell behind: send it nothing more. */
  stopped: boolean;
}

/** Turns and budgets for serving, shared by every link. */
export class ServeQueue {
  #budgets = new WeakMap<Link, Budget>();
  #total: Budget;
  /** One slice of serving per turn of the event loop, links in order of asking. */
  #turns = turns;
  #now: () => number;

  /** A queue; `now` (ms) is injectable for tests. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#total = { tokens: SERVE_TOTAL_BURST, at: now() };
  }

  /**
   * Serves `ids` to `link`: `read` finds an item's bytes, `send` queues them. Duplicates must already be gone.
   */
  async serve(
    link: Link,
    ids: readonly string[],
    read: (id: string) => Uint8Array | undefined,
    send: (bytes: Uint8Array) => void,
  ): Promise<Served> {
    const unserved: string[] = [];
    let sent = 0, i = 0;
    while (i < ids.length) {
      await this.#withinBudget(link);
      if (!this.#turns.free()) await this.#turns.next(SERVE_REQUEST_BYTES); // the large lane
      const end = performance.now() + SERVE_SLICE_MS;
      const budget = this.#budget(link), total = this.#totalBudget();
      while (i < ids.length && budget.tokens >= 0 && total.tokens >= 0 && performance.now() < end) {
        if (this.#behind(link)) return { unserved, stopped: true };
        const id = ids[i++];
        const bytes = read(id);
        if (!bytes) {
          unserved.push(id);
          continue;
        }
        if (sent > 0 && sent + bytes.length > SERVE_REQUEST_BYTES) {
          unserved.push(id, ...ids.slice(i));
          return { unserved, stopped: false };
        }
        send(bytes);
        sent += bytes.length;
        budget.tokens -= bytes.length;
        total.tokens -= bytes.length;
      }
    }
    return { unserved, stopped: this.#behind(link) };
  }

  /**
   * Runs `reply` (which sends one message and returns its bytes) in `link`'s turn, once the link has room in its
   * send queue (a sync's next batch is worth waiting for, up to `DRAIN_WAIT_MS`); false when it was not run.
   */
  async serveOne(link: Link, reply: () => number): Promise<boolean> {
    for (
      const end = Date.now() + DRAIN_WAIT_MS;
      this.#behind(link) && !link.conn.isClosed && Date.now() < end;
    ) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    await this.#withinBudget(link);
    if (!this.#turns.free()) await this.#turns.next(SERVE_REQUEST_BYTES); // the large lane
    if (this.#behind(link)) return false;
    const size = reply();
    this.#budget(link).tokens -= size;
    this.#totalBudget().tokens -= size;
    return true;
  }

  #behind(link: Link): boolean {
    return link.conn.isClosed || link.conn.queuedBytes > SEND_QUEUE_LIMIT;
  }

  #budget(link: Link): Budget {
    let b = this.#budgets.get(link);
    if (!b) this.#budgets.set(link, b = { tokens: SERVE_LINK_BURST, at: this.#now() });
    return this.#refill(b, SERVE_LINK_BYTES_PER_S, SERVE_LINK_BURST);
  }

  #totalBudget(): Budget {
    return this.#refill(this.#total, SERVE_TOTAL_BYTES_PER_S, SERVE_TOTAL_BURST);
  }

  #refill(b: Budget, perSecond: number, burst: number): Budget {
    const now = this.#now();
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    return b;
  }

  /** Waits until `link`'s budget and the total are out of debt (a large item may overdraw them once). */
  async #withinBudget(link: Link): Promise<void> {
    while (!link.conn.isClosed) {
      const wait = Math.max(
        -this.#budget(link).tokens / SERVE_LINK_BYTES_PER_S,
        -this.#totalBudget().tokens / SERVE_TOTAL_BYTES_PER_S,
      );
      if (wait <= 0) return;
      await new Promise((r) => setTimeout(r, Math.ceil(wait * 1000)));
    }
  }
}
