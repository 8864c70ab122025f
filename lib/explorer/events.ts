/**
 * Server-Sent Events to browsers, so that no browser can hold up the node: each message is encoded once and
 * shared by every client; each client has a queue bounded in messages and bytes, drained only when its
 * connection asks for more (the stream is pulled, never pushed). A message with a key replaces the queued one
 * with the same key (the newest map, mempool or page section is all a slow client needs); when unkeyed
 * messages overflow the queue they are dropped for one `lagged` event; a client that has taken nothing for
 * `stallMs` is closed. The number of clients is bounded, in all and per remote host.
 * @module
 */
import { isLoopback } from "../net/address.ts";

/** Who gets a message: API clients (JSON events) or dashboards (page sections). */
export type Audience = "json" | "html";

/** Limits of an `EventStreams`. */
export interface SseLimits {
  /** Clients at most (default 128). */
  maxClients?: number;
  /** Clients from one non-loopback host at most (default 16). */
  maxPerHost?: number;
  /** Queued messages per client at most (default 64). */
  maxQueue?: number;
  /** Queued bytes per client at most (default 512 KiB). */
  maxQueueBytes?: number;
  /** A client that takes nothing for this long while messages wait is closed, ms (default 30 s). */
  stallMs?: number;
  /** An idle client gets a comment line this often, so dead connections are found, ms (default 15 s). */
  keepaliveMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/** One encoded message; `key` makes it replace a queued message with the same key. */
export interface SseMessage {
  /** The encoded `event:`/`data:` lines. */
  bytes: Uint8Array;
  /** Coalescing key, if any. */
  key?: string;
}

const enc = new TextEncoder();

/**
 * Encodes one event. `data` must be one line (JSON is).
 * @example sseMessage("block", JSON.stringify({ height: 1 })).bytes.length > 0
 */
export function sseMessage(event: string, data: string, key?: string): SseMessage {
  return { bytes: enc.encode(`event: ${event}\ndata: ${data}\n\n`), key };
}

const KEEPALIVE = { bytes: enc.encode(": keepalive\n\n") };

class Client {
  queue: SseMessage[] = [];
  bytes = 0;
  /** When the oldest waiting message was queued (null while nothing waits). */
  waitingSince: number | null = null;
  lastSent: number;
  wake: (() => void) | null = null;
  controller!: ReadableStreamDefaultController<Uint8Array>;
  closed = false;
  dropped = 0;
  constructor(readonly host: string, readonly audience: Audience, now: number) {
    this.lastSent = now;
  }
}

/** The clients of `/events` and what waits for each. */
export class EventStreams {
  #clients = new Set<Client>();
  #limits: Required<Omit<SseLimits, "now">>;
  #now: () => number;
  #timer?: ReturnType<typeof setInterval>;

  /**
   * The streams of `/events`, none open yet; `start()` runs their sweeps.
   * @example const streams = new EventStreams({ maxClients: 64 });
   */
  constructor(limits: SseLimits = {}) {
    this.#limits = {
      maxClients: limits.maxClients ?? 128,
      maxPerHost: limits.maxPerHost ?? 16,
      maxQueue: limits.maxQueue ?? 64,
      maxQueueBytes: limits.maxQueueBytes ?? 512 * 1024,
      stallMs: limits.stallMs ?? 30_000,
      keepaliveMs: limits.keepaliveMs ?? 15_000,
    };
    this.#now = limits.now ?? Date.now;
  }

  /** Sweeps (stalled clients, keep-alives) every few seconds until `close()`. */
  start(): void {
    this.#timer ??= setInterval(() => this.sweep(), Math.min(5000, this.#limits.keepaliveMs));
  }

  /** Open connections. */
  get size(): number {
    return this.#clients.size;
  }

  /** How many clients of `audience` are open (nothing need be rendered for an audience nobody is in). */
  count(audience: Audience): number {
    let n = 0;
    for (const c of this.#clients) if (c.audience === audience) n++;
    return n;
  }

  /**
   * A new client's stream, starting with `first`; undefined when they are full (in all, or for this host).
   */
  open(host: string, audience: Audience, first: SseMessage[]): ReadableStream<Uint8Array> | undefined {
    if (this.#clients.size >= this.#limits.maxClients) return undefined;
    if (!isLoopback(host)) {
      let fromHost = 0;
      for (const c of this.#clients) if (c.host === host) fromHost++;
      if (fromHost >= this.#limits.maxPerHost) return undefined;
    }
    const client = new Client(host, audience, this.#now());
    for (const m of first) this.#queue(client, m);
    this.#clients.add(client);
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client.controller = controller;
      },
      pull: () => {
        if (client.queue.length) return this.#drain(client);
        return new Promise<void>((resolve) => {
          client.wake = () => {
            client.wake = null;
            this.#drain(client);
            resolve();
          };
        });
      },
      cancel: () => this.#remove(client),
    }, { highWaterMark: 0 });
  }

  /** Queues `message` for every client of `audience`. */
  publish(audience: Audience, message: SseMessage): void {
    for (const c of this.#clients) {
      if (c.audience !== audience || c.closed) continue;
      this.#queue(c, message);
      c.wake?.();
    }
  }

  #queue(c: Client, m: SseMessage): void {
    if (m.key !== undefined) {
      const i = c.queue.findIndex((q) => q.key === m.key);
      if (i >= 0) {
        c.bytes += m.bytes.length - c.queue[i].bytes.length;
        c.queue[i] = m;
        return;
      }
    }
    c.queue.push(m);
    c.bytes += m.bytes.length;
    c.waitingSince ??= this.#now();
    if (c.queue.length > this.#limits.maxQueue || c.bytes > this.#limits.maxQueueBytes) this.#shed(c);
  }

  /** Drops the unkeyed messages of an overflowing queue for one `lagged` event saying how many. */
  #shed(c: Client): void {
    const kept = c.queue.filter((q) => q.key !== undefined && q.key !== "lagged");
    c.dropped += c.queue.length - kept.length;
    const lagged = sseMessage("lagged", JSON.stringify({ dropped: c.dropped }), "lagged");
    c.queue = [...kept, lagged];
    c.bytes = c.queue.reduce((s, q) => s + q.bytes.length, 0);
    // Keyed messages are bounded by their number of keys; should even those overflow, the client is hopeless.
    if (c.queue.length > this.#limits.maxQueue || c.bytes > this.#limits.maxQueueBytes) this.#close(c);
  }

  #drain(c: Client): void {
    if (c.closed) return;
    const parts = c.queue;
    c.queue = [];
    c.bytes = 0;
    c.waitingSince = null;
    c.dropped = 0;
    c.lastSent = this.#now();
    const total = parts.reduce((s, p) => s + p.bytes.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p.bytes, at);
      at += p.bytes.length;
    }
    try {
      c.controller.enqueue(out);
    } catch {
      this.#remove(c);
    }
  }

  /** Closes clients that took nothing for `stallMs`; sends a keep-alive to quiet ones. */
  sweep(): void {
    const now = this.#now();
    for (const c of this.#clients) {
      if (c.waitingSince !== null && now - c.waitingSince > this.#limits.stallMs) this.#close(c);
      else if (c.queue.length === 0 && now - c.lastSent >= this.#limits.keepaliveMs) {
        this.#queue(c, KEEPALIVE);
        c.wake?.();
      }
    }
  }

  /** Queued messages and bytes of each client (for tests and the bench). */
  queues(): { messages: number; bytes: number }[] {
    return [...this.#clients].map((c) => ({ messages: c.queue.length, bytes: c.bytes }));
  }

  #close(c: Client): void {
    this.#remove(c);
    try {
      c.controller.close();
    } catch { /* already closed or errored */ }
    c.wake?.();
  }

  #remove(c: Client): void {
    c.closed = true;
    c.queue = [];
    c.bytes = 0;
    this.#clients.delete(c);
  }

  /** Closes every client and stops sweeping. */
  close(): void {
    clearInterval(this.#timer);
    for (const c of [...this.#clients]) this.#close(c);
  }
}

/** True for a loopback address (the bench and local dashboards share one): the overlay's one rule. */
export { isLoopback };
