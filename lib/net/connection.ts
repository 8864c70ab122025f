/**
 * One framed, schema-checked link to another node over a `Stream`: a read loop, a bounded and
 * serialised write queue, ping/pong liveness, a message rate limit and an idempotent close. It moves
 * typed messages only; what they mean is the caller's business.
 * @module
 */

import { MALFORMED_SCORE } from "./ban.ts";
import {
  CONNECT_TOOL_TIMEOUT_MS,
  DEFAULT_TIMINGS,
  LINK_FLUSH_MS,
  LINK_MAX_QUEUED_BYTES,
  LINK_RATE,
} from "./config.ts";
import {
  decodeFrameText,
  encodeFrame,
  encodeFrameText,
  FrameDecoder,
  FrameError,
  type FrameObject,
} from "./frame.ts";
import { countFrame } from "../runtime/metrics.ts";
import { type HostPort, type Message, MessageError, parseMessage } from "./messages.ts";
import {
  type Clock,
  ConnectError,
  type FrameChannel,
  type Stream,
  systemClock,
  tcpTransport,
  type TimerId,
} from "./transport.ts";

import { turns } from "../runtime/turns.ts";

export { ConnectError };

/** Misbehaviour scores reported through `onMisbehaviour` (a `BanList` bans at `BAN_THRESHOLD`). */
export const MISBEHAVIOUR = { frame: MALFORMED_SCORE, message: MALFORMED_SCORE, rate: 10 } as const;

/** Tunables of a `Connection`; every field has a default. */
export interface ConnectionOptions {
  /** Called for each message in arrival order (never for ping/pong); a returned promise is awaited. */
  onMessage?: (msg: Message, conn: Connection) => void | Promise<void>;
  /** Called once when the peer sent something malformed or flooded us, just before the close. */
  onMisbehaviour?: (score: number, reason: string, conn: Connection) => void;
  /** Interval between pings in ms (default `DEFAULT_TIMINGS.pingIntervalMs`). */
  pingIntervalMs?: number;
  /** Close when no frame has arrived for this long, in ms (default `DEFAULT_TIMINGS.deadAfterMs`). */
  deadAfterMs?: number;
  /** Close when unsent bytes exceed this: the peer reads too slowly (default `LINK_MAX_QUEUED_BYTES`, 16 MiB). */
  maxQueuedBytes?: number;
  /** Token bucket size: messages accepted in a burst (default `LINK_RATE.burst`, 2000). */
  rateBurst?: number;
  /** Token bucket refill in messages per second (default `LINK_RATE.perSecond`, 500). */
  ratePerSecond?: number;
  /** Time and timers (default the system clock). */
  clock?: Clock;
  /** Random numbers in [0, 1) for ping nonces (default `Math.random`). */
  random?: () => number;
}

/** Small frames are coalesced into writes of up to this many bytes. */
const WRITE_BATCH = 64 * 1024;
/** Buffered bytes above which the next frame is parsed only in its turn (lib/turns.ts). */
const LARGE_FRAME = 64 * 1024;

/** A framed message link; starts reading as soon as it is constructed. */
export class Connection {
  /** Resolves with the close reason once the link is closed and its loops have stopped, whoever closed it. */
  readonly closed: Promise<string>;
  /** The far end's address as the transport reports it. */
  readonly remote: HostPort;
  /** Last measured ping round trip in ms, or `undefined` before the first pong. */
  rttMs: number | undefined;
  /** Messages received and delivered (ping/pong included). */
  received = 0;

  readonly #conn: Stream;
  /** The stream's frames as text, when it carries them so (the simulation): no write queue, no byte codec. */
  readonly #text: FrameChannel | undefined;
  readonly #opts: Required<Omit<ConnectionOptions, "onMessage" | "onMisbehaviour">>;
  readonly #onMessage: ConnectionOptions["onMessage"];
  readonly #onMisbehaviour: ConnectionOptions["onMisbehaviour"];
  readonly #decoder = new FrameDecoder();
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #writing = false;
  #readDone: Promise<void> = Promise.resolve();
  #writeDone: Promise<void> = Promise.resolve();
  #drained: (() => void)[] = [];
  #reason: string | undefined;
  /** Set once the socket is closed; writes stop here, while `#reason` stops new sends and reads. */
  #down = false;
  #resolveClosed!: (reason: string) => void;
  #timer: TimerId | undefined;
  #tickMs: number;
  /** When the next tick is due: a tick far later than that means this process stalled. */
  #tickDue: number;
  #lastRx: number;
  #lastPing = 0;
  #pingNonce = 0;
  #pingSentAt = 0;
  #busy = false;
  #tokens: number;
  #tokensAt: number;

  /** Wraps `conn` and starts its read loop and liveness timer. */
  constructor(conn: Stream, options: ConnectionOptions = {}) {
    this.#conn = conn;
    this.#text = conn.frames;
    this.#onMessage = options.onMessage;
    this.#onMisbehaviour = options.onMisbehaviour;
    this.#opts = {
      pingIntervalMs: options.pingIntervalMs ?? DEFAULT_TIMINGS.pingIntervalMs,
      deadAfterMs: options.deadAfterMs ?? DEFAULT_TIMINGS.deadAfterMs,
      maxQueuedBytes: options.maxQueuedBytes ?? LINK_MAX_QUEUED_BYTES,
      rateBurst: options.rateBurst ?? LINK_RATE.burst,
      ratePerSecond: options.ratePerSecond ?? LINK_RATE.perSecond,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
    };
    this.closed = new Promise((resolve) => this.#resolveClosed = resolve);
    this.remote = conn.remote;
    this.#lastRx = this.#now();
    this.#tokens = this.#opts.rateBurst;
    this.#tokensAt = this.#lastRx;
    this.#lastPing = this.#lastRx;
    this.#tickMs = Math.max(1, Math.min(this.#opts.pingIntervalMs, this.#opts.deadAfterMs / 4));
    this.#tickDue = this.#lastRx + this.#tickMs;
    this.#timer = this.#opts.clock.setTimeout(() => this.#onTick(), this.#tickMs);
    this.#readDone = this.#readLoop();
  }

  #now(): number {
    return this.#opts.clock.now();
  }

  /** True once `close` has begun. */
  get isClosed(): boolean {
    return this.#reason !== undefined;
  }

  /** Bytes queued but not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Queues `msg`; returns false if the link is closed. Throws `FrameError` only for a message too
   * large to frame (a caller bug). Closes with reason "slow" when the queue bound is exceeded.
   */
  send(msg: Message): boolean {
    if (this.#reason !== undefined) return false;
    if (this.#text) {
      // The stream takes whole frames at once: nothing queues here.
      const f = encodeFrameText(msg);
      countFrame("sent", msg.type, f.bytes);
      this.#text.writeFrame(f, msg.type);
      return true;
    }
    const frame = encodeFrame(msg);
    countFrame("sent", msg.type, frame.length);
    this.#queue.push(frame);
    this.#queuedBytes += frame.length;
    if (this.#queuedBytes > this.#opts.maxQueuedBytes) {
      this.close("slow");
      return false;
    }
    if (!this.#writing) this.#writeDone = this.#writeLoop();
    return true;
  }

  /** Resolves once everything queued so far is written, or the link closes, or `timeoutMs` passes. */
  flush(timeoutMs = LINK_FLUSH_MS): Promise<void> {
    if (this.#queuedBytes === 0 && !this.#writing) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.#drained.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Closes the link; later calls do nothing and return the same promise. With `flush`, queued
   * frames (such as a `reject`) get up to `flushMs` to leave first.
   */
  close(reason: string, options: { flush?: boolean; flushMs?: number } = {}): Promise<string> {
    if (this.#reason !== undefined) return this.closed;
    this.#reason = reason;
    this.#opts.clock.clearTimeout(this.#timer);
    if (options.flush && this.#queuedBytes > 0) {
      this.flush(options.flushMs ?? LINK_FLUSH_MS).then(() => this.#shutdown(reason));
    } else {
      this.#shutdown(reason);
    }
    return this.closed;
  }

  #shutdown(reason: string): void {
    if (this.#down) return;
    this.#down = true;
    this.#conn.close();
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const d of this.#drained.splice(0)) d();
    // Resolve only once both loops have returned, so a closed Connection has no pending socket ops. A read
    // loop busy in our own handler (or waiting its turn) does no socket op and returns as soon as it is
    // back: waiting for it would deadlock a handler that closes its own link and awaits that.
    const reading = this.#busy ? Promise.resolve() : this.#readDone;
    Promise.all([reading, this.#writeDone]).then(() => this.#resolveClosed(reason));
  }

  #misbehaved(score: number, reason: string): void {
    if (this.#reason !== undefined) return;
    try {
      this.#onMisbehaviour?.(score, reason, this);
    } catch { /* a throwing callback is the caller's bug; the read loop must still end cleanly */ }
    this.close(reason);
  }

  async #readLoop(): Promise<void> {
    try {
      while (this.#reason === undefined) {
        const chunk = this.#text ? await this.#text.readFrame() : await this.#conn.read();
        if (chunk === null) return void this.close("eof");
        if (!(chunk instanceof Uint8Array)) {
          if (!await this.#onFrame(decodeFrameText(chunk.json), chunk.bytes)) return;
          continue;
        }
        this.#decoder.push(chunk);
        for (;;) {
          // Parsing a large frame takes milliseconds: on the real clock it waits for a turn of the event loop
          // (lib/turns.ts), so frames from many links are not parsed back to back.
          if (this.#decoder.buffered > LARGE_FRAME && this.#opts.clock === systemClock && !turns.free()) {
            await this.#waitTurn();
          }
          const f = this.#decoder.next();
          if (f === undefined) break;
          if (!await this.#onFrame(f, this.#decoder.lastFrameBytes)) return;
        }
      }
    } catch (e) {
      if (e instanceof FrameError) this.#misbehaved(MISBEHAVIOUR.frame, `frame: ${e.message}`);
      else if (e instanceof MessageError) this.#misbehaved(MISBEHAVIOUR.message, `message: ${e.message}`);
      else this.close(this.#reason ?? closeReason(e));
    }
  }

  /** One whole frame of `bytes` arrived: checked against its schema and delivered; false once reading stops. */
  async #onFrame(f: FrameObject, bytes: number): Promise<boolean> {
    if (this.#reason !== undefined) return false;
    // Only whole frames prove liveness: a peer trickling one byte at a time is not alive.
    this.#lastRx = this.#now();
    if (!this.#takeToken()) {
      this.#misbehaved(MISBEHAVIOUR.rate, "rate");
      return false;
    }
    const msg = parseMessage(f);
    countFrame("received", msg.type, bytes);
    await this.#deliver(msg);
    return true;
  }

  /** Waits for a turn to parse a large frame; the wait is ours, not the peer's silence. */
  async #waitTurn(): Promise<void> {
    this.#busy = true;
    try {
      await turns.next(this.#decoder.buffered);
    } finally {
      this.#busy = false;
      this.#lastRx = this.#now();
    }
  }

  async #deliver(msg: Message): Promise<void> {
    this.received++;
    if (msg.type === "ping") {
      this.send({ type: "pong", nonce: msg.nonce });
      return;
    }
    if (msg.type === "pong") {
      if (msg.nonce === this.#pingNonce) this.rttMs = this.#now() - this.#pingSentAt;
      return;
    }
    if (!this.#onMessage) return;
    this.#busy = true;
    try {
      await this.#onMessage(msg, this);
    } catch (e) {
      // A throwing handler is our own bug, not the peer's: close without blaming it.
      this.close(`handler: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.#busy = false;
      // Time spent in our handler must not count as the peer's silence.
      this.#lastRx = this.#now();
    }
  }

  async #writeLoop(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#down) {
        const batch = this.#takeBatch();
        for (let off = 0; off < batch.length;) off += await this.#conn.write(batch.subarray(off));
        if (!this.#down) this.#queuedBytes -= batch.length;
      }
    } catch (e) {
      this.close(this.#reason ?? closeReason(e));
    } finally {
      this.#writing = false;
      if (this.#queue.length === 0 || this.#down) {
        for (const d of this.#drained.splice(0)) d();
      }
    }
  }

  #takeBatch(): Uint8Array {
    const first = this.#queue.shift()!;
    if (first.length >= WRITE_BATCH || this.#queue.length === 0) return first;
    let size = first.length, n = 0;
    while (n < this.#queue.length && size + this.#queue[n].length <= WRITE_BATCH) {
      size += this.#queue[n++].length;
    }
    if (n === 0) return first;
    const out = new Uint8Array(size);
    out.set(first);
    let off = first.length;
    for (const f of this.#queue.splice(0, n)) {
      out.set(f, off);
      off += f.length;
    }
    return out;
  }

  #takeToken(): boolean {
    const now = this.#now();
    const refill = ((now - this.#tokensAt) / 1000) * this.#opts.ratePerSecond;
    this.#tokens = Math.min(this.#opts.rateBurst, this.#tokens + refill);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #onTick(): void {
    if (this.#reason !== undefined) return;
    this.#timer = this.#opts.clock.setTimeout(() => this.#onTick(), this.#tickMs);
    const now = this.#now();
    // A tick over half the deadline late: this process stalled (a large block written to disk), and the far
    // end's frames may be waiting unread in the socket. The stall is not its silence (a SuperPeer that stalled for
    // the deadline dropped every Peer it had at once): count it as heard from a ping interval ago, so it is
    // pinged now and has the rest of the deadline to answer.
    if (now - this.#tickDue > this.#opts.deadAfterMs / 2) {
      this.#lastRx = Math.max(this.#lastRx, now - this.#opts.pingIntervalMs);
    }
    this.#tickDue = now + this.#tickMs;
    if (!this.#busy && now - this.#lastRx > this.#opts.deadAfterMs) return void this.close("timeout");
    // Ping only a quiet link: frames from the far end already prove it alive, and its pings keep ours
    // quiet, so a link carries about one ping and one pong per interval rather than two of each.
    if (
      now - this.#lastPing >= this.#opts.pingIntervalMs && now - this.#lastRx >= this.#opts.pingIntervalMs
    ) {
      this.#lastPing = now;
      this.#pingNonce = Math.floor(this.#opts.random() * 2 ** 32);
      this.#pingSentAt = now;
      this.send({ type: "ping", nonce: this.#pingNonce });
    }
  }
}

/** Names a transport error as a close reason; EOF-like errors are ordinary closes. */
function closeReason(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionReset) return "reset";
  if (e instanceof Deno.errors.BrokenPipe) return "broken-pipe";
  if (e instanceof Deno.errors.Interrupted || e instanceof Deno.errors.BadResource) return "closed";
  if (e instanceof Deno.errors.UnexpectedEof) return "eof";
  return `error: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

/** Dials `hostname:port` over TCP with a timeout and wraps the socket; throws `ConnectError`. */
export async function connect(
  hostname: string,
  port: number,
  options: ConnectionOptions & { timeoutMs?: number } = {},
): Promise<Connection> {
  const { timeoutMs = CONNECT_TOOL_TIMEOUT_MS, ...connOptions } = options;
  return new Connection(await tcpTransport.dial({ hostname, port }, timeoutMs), connOptions);
}
