/**
 * The network's seam to the outside world: byte streams, listening, dialling, time and chance. The real
 * node uses TCP, the system clock and `Math.random`; the simulation (`deno task sim`) and in-process tests
 * give the same `Network` code an in-memory transport, a virtual clock and a seeded random source.
 * @module
 */
import { ACCEPT_RETRY_MS } from "./config.ts";
import type { TextFrame } from "./frame.ts";
import type { HostPort } from "./messages.ts";

/** A byte stream to another node: what a `Connection` needs of a socket. */
export interface Stream {
  /** The far end's address. */
  readonly remote: HostPort;
  /**
   * The next bytes, or null at the end of the stream. The returned view is only valid until the next call:
   * the caller copies what it keeps.
   */
  read(): Promise<Uint8Array | null>;
  /** Writes some of `bytes`; resolves with how many were taken. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes both directions; a pending `read` ends. Idempotent. */
  close(): void;
  /**
   * Present on a stream that can carry whole frames as their JSON text (the simulation's memory transport): a
   * `Connection` then skips the byte layer of the codec (UTF-8, length prefixes, reassembly), which the
   * simulation does not measure, and still parses and checks every message as it arrives. Absent on TCP.
   */
  readonly frames?: FrameChannel;
}

/** Whole frames as text on a stream (`Stream.frames`). */
export interface FrameChannel {
  /** Sends one frame (its message `type` is for the transport's counters); dropped once the stream is closed. */
  writeFrame(frame: TextFrame, type: string): void;
  /**
   * The next thing the far end sent: a whole frame as text, bytes it wrote raw (to be decoded as a byte
   * stream), or null at the end of the stream.
   */
  readFrame(): Promise<TextFrame | Uint8Array | null>;
}

/** Incoming streams on a bound address. */
export interface Listener extends AsyncIterable<Stream> {
  /** The bound address (the port chosen when 0 was asked for). */
  readonly addr: HostPort;
  /** Stops listening; the iteration ends. */
  close(): void;
}

/** Opens streams and listeners. */
export interface Transport {
  /** Binds `addr` (port 0: any free port). Throws like `Deno.listen` (`Deno.errors.AddrInUse`, ...). */
  listen(addr: HostPort): Listener;
  /** Opens a stream to `addr`, or throws once `timeoutMs` has passed or the far end refused. */
  dial(addr: HostPort, timeoutMs: number): Promise<Stream>;
}

/** A timer handle from a `Clock`: opaque, only given back to the same clock. */
export type TimerId = unknown;

/** Time as the network sees it. */
export interface Clock {
  /** Milliseconds since some fixed origin (only differences matter, and `Date.now` order for logs). */
  now(): number;
  /** Calls `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer (unknown or fired ids are ignored). */
  clearTimeout(id: TimerId | undefined): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Calls `fn` every `ms` on `clock` until the returned function is called. */
export function every(clock: Clock, ms: number, fn: () => void): () => void {
  let id: TimerId | undefined, stopped = false;
  const tick = () => {
    if (stopped) return;
    id = clock.setTimeout(tick, ms);
    fn();
  };
  id = clock.setTimeout(tick, ms);
  return () => {
    stopped = true;
    clock.clearTimeout(id);
  };
}

/**
 * Bytes read from a socket at a time. A pending read pins its buffer, and a SuperPeer holds many links that
 * are idle most of the time: a link reads into a small buffer, a larger one while reads keep filling it
 * (a block download), and back to small once they do not.
 */
const TCP_READ_SMALL = 4 * 1024, TCP_READ_LARGE = 64 * 1024;

/** Wraps a TCP socket as a `Stream` (no delay, keep-alive). */
export function tcpStream(conn: Deno.Conn): Stream {
  const addr = conn.remoteAddr as Deno.NetAddr;
  if ("setNoDelay" in conn) {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
      (conn as Deno.TcpConn).setKeepAlive(true);
    } catch { /* the socket may already be gone; the read loop will notice */ }
  }
  let buf = new Uint8Array(TCP_READ_SMALL);
  let closed = false;
  return {
    remote: { hostname: addr.hostname, port: addr.port },
    read: async () => {
      const n = await conn.read(buf);
      if (n === null) return null;
      const got = buf.subarray(0, n);
      // The caller copies what it keeps before the next read, so the next read may use another buffer.
      if (n === buf.length && buf.length < TCP_READ_LARGE) buf = new Uint8Array(TCP_READ_LARGE);
      else if (n < TCP_READ_SMALL && buf.length > TCP_READ_SMALL) buf = new Uint8Array(TCP_READ_SMALL);
      return got;
    },
    write: (bytes) => conn.write(bytes),
    close: () => {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed by the other side */ }
    },
  };
}

/** A dial that failed or timed out. */
export class ConnectError extends Error {
  /** Creates a connect error naming the address. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectError";
  }
}

/** TCP through Deno. */
export const tcpTransport: Transport = {
  listen(addr) {
    const l = Deno.listen({ hostname: addr.hostname, port: addr.port, transport: "tcp" });
    const bound = l.addr as Deno.NetAddr;
    return {
      addr: { hostname: bound.hostname, port: bound.port },
      close: () => {
        try {
          l.close();
        } catch { /* already closed */ }
      },
      async *[Symbol.asyncIterator]() {
        for (;;) {
          let conn: Deno.Conn;
          try {
            conn = await l.accept();
          } catch (e) {
            if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
            // Out of file descriptors or a reset during accept: keep listening, after a breath.
            await new Promise((r) => setTimeout(r, ACCEPT_RETRY_MS));
            continue;
          }
          yield tcpStream(conn);
        }
      },
    };
  },
  async dial(addr, timeoutMs) {
    // A plain timer rather than AbortSignal.timeout, so it is cleared at once and leaks nothing.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const conn = await Deno.connect({
        hostname: addr.hostname,
        port: addr.port,
        transport: "tcp",
        signal: abort.signal,
      });
      return tcpStream(conn);
    } catch (e) {
      const why = abort.signal.aborted
        ? `timed out after ${timeoutMs} ms`
        : e instanceof Error
        ? e.message
        : String(e);
      throw new ConnectError(`cannot connect to ${addr.hostname}:${addr.port}: ${why}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  },
};
