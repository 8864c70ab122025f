/**
 * A bounded HTTP/1.1 server for the node's HTTP ports (the explorer and the RPC), so that no client can take
 * the node down through them. `Deno.serve` (2.9.6) has no connection cap and no header timeout, and exits the
 * process when accepting fails (EMFILE); `node:http`'s server stops accepting for good after EMFILE. So this
 * server owns its accept loop (`Deno.listen`) and parses requests with `http-parser-js` (vendored in
 * `vendor/`, so that starting a node loads no npm package):
 * - connections are capped in all and per remote address; at a cap, the oldest connection that has no request
 *   in progress (an idle keep-alive or one still sending its headers) makes room, so an attacker's idle
 *   sockets cannot lock an honest client out; with no such connection the new one is closed. The per-address
 *   cap keeps an attacker on one address to that many slots: clients on other addresses never lose theirs;
 *   on the attacker's own address (e.g. loopback shared with it) a re-dialling flood can crowd them out;
 * - a request's headers must arrive within `headersTimeoutMs` of the connection (or of the previous response,
 *   then within `idleTimeoutMs`), its body within `bodyTimeoutMs` of its headers, each write within
 *   `writeTimeoutMs`: a slow client is closed, however it trickles;
 * - headers and bodies have a size; a bad request gets a 4xx and the connection is closed;
 * - when accepting fails (EMFILE, ENFILE and the like) it says so once, closes its oldest idle connection to
 *   free a descriptor, backs off and keeps accepting (said at most once a minute).
 * A response whose type is `text/event-stream` is streamed until either side ends it (the event stream's own
 * limits are the caller's); any other body is sent whole with its length.
 * @module
 */
import { Buffer } from "node:buffer";
// @ts-types="./vendor/http_parser.d.ts"
import { HTTPParser } from "./vendor/http_parser.js";

/** Limits and address of a `BoundedServer`. */
export interface BoundedServerOptions {
  /** Name in log lines, e.g. "explorer". */
  name: string;
  /** Interface to listen on. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** Connections open at most (default 256). */
  maxConnections?: number;
  /** Connections from one remote address at most (default 64). */
  maxPerAddress?: number;
  /** A new connection's request headers must be complete within this, ms (default 10 s). */
  headersTimeoutMs?: number;
  /** After a response, the next request's headers must be complete within this, ms (default 5 s). */
  idleTimeoutMs?: number;
  /** A request's body must be complete within this of its headers, ms (default 10 s). */
  bodyTimeoutMs?: number;
  /** Each write of a response must be taken by the client within this, ms (default 10 s). */
  writeTimeoutMs?: number;
  /**
   * A connection with no request in progress may be closed to make room only once it has been idle this long,
   * ms (default 0). Above 0, a flood of new connections cannot churn out one that has just arrived, but the
   * newcomer is refused instead while every idle one is younger: measured with one re-dialling attacker on
   * the honest client's own address, 1 s made honest requests fail more often, not less, so it is off.
   */
  evictAfterMs?: number;
  /** Request line and headers, bytes at most (default 16 KiB). */
  maxHeaderBytes?: number;
  /** A request body, bytes at most (default 1 MiB). */
  maxBodyBytes?: number;
  /** Where log lines go (default `console.error`). */
  log?: (line: string) => void;
  /**
   * Headers of the server's own answers (a malformed or too large request, a handler's fault: 4xx and 500),
   * e.g. the security headers the handler's answers carry (default none).
   */
  headers?: Record<string, string>;
  /** Answers each request. */
  handler: BoundedHandler;
}

/** The limits alone, as callers pass them on (tests lower the timeouts). */
export type BoundedLimits = Partial<
  Omit<BoundedServerOptions, "name" | "hostname" | "port" | "handler" | "headers">
>;

/** Answers one request; `remote` is the client's address. A throw becomes a 500. */
export type BoundedHandler = (req: Request, remote: string) => Response | Promise<Response>;

/** What a `BoundedServer` has done (for tests, the bench and `/metrics`). */
export interface BoundedServerStats {
  /** Connections open now. */
  open: number;
  /** Connections accepted so far. */
  accepted: number;
  /** New connections closed at once because a cap was reached and nothing idle could make room. */
  refused: number;
  /** Idle connections closed to make room for a new one (or to free a descriptor). */
  evicted: number;
  /** Connections closed because headers, body or a write took too long. */
  timedOut: number;
  /** Failed accepts (EMFILE and the like). */
  acceptErrors: number;
  /** Requests answered. */
  requests: number;
}

/** Defaults, in one place. */
export const BOUNDED_DEFAULTS = {
  maxConnections: 256,
  maxPerAddress: 64,
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 5_000,
  bodyTimeoutMs: 10_000,
  writeTimeoutMs: 10_000,
  evictAfterMs: 0,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
  headers: {},
} as const;
if (BOUNDED_DEFAULTS.maxPerAddress > BOUNDED_DEFAULTS.maxConnections) throw new Error("per address > total");

/** Back-off after a failed accept: from MIN, doubling, to MAX. */
const ACCEPT_BACKOFF_MIN_MS = 10;
const ACCEPT_BACKOFF_MAX_MS = 1000;
/** A failing accept is logged at most this often. */
const ACCEPT_ERROR_SAY_EVERY_MS = 60_000;
/** Pipelined requests waiting behind the one being answered, at most. */
const MAX_PIPELINED = 16;
const READ_CHUNK = 16 * 1024;

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  204: "No Content",
  303: "See Other",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

interface Parsed {
  method: string;
  url: string;
  headers: [string, string][];
  keepAlive: boolean;
  body: Uint8Array[];
  bodyBytes: number;
}

class Conn {
  busy = false;
  closed = false;
  /** When it last became idle (accepted, or its last answer written), `performance.now()` ms. */
  idleSince = performance.now();
  timer?: ReturnType<typeof setTimeout>;
  constructor(readonly conn: Deno.Conn, readonly remote: string) {}
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const enc = new TextEncoder();

/** A running bounded server. */
export class BoundedServer {
  #opts: Required<BoundedServerOptions>;
  #listener: Deno.Listener;
  #conns = new Set<Conn>();
  #perAddress = new Map<string, number>();
  #tasks = new Set<Promise<void>>();
  #closing = false;
  #acceptErrorSaid = -Infinity;
  #loop: Promise<void>;
  #stats: BoundedServerStats = {
    open: 0,
    accepted: 0,
    refused: 0,
    evicted: 0,
    timedOut: 0,
    acceptErrors: 0,
    requests: 0,
  };

  /**
   * Listens at once (throws `Deno.errors.AddrInUse` when the port is taken) and serves `opts.handler`.
   * @example const s = new BoundedServer({ name: "demo", hostname: "127.0.0.1", port: 0, handler: () => new Response("hi") }); await s.close();
   */
  constructor(opts: BoundedServerOptions) {
    this.#opts = { ...BOUNDED_DEFAULTS, log: (l) => console.error(l), ...opts };
    this.#listener = Deno.listen({ hostname: opts.hostname, port: opts.port, transport: "tcp" });
    this.#loop = this.#acceptLoop();
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Counts so far. */
  stats(): BoundedServerStats {
    return { ...this.#stats, open: this.#conns.size };
  }

  /** Stops accepting, closes every connection and waits for their tasks. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const c of [...this.#conns]) this.#kill(c);
    await this.#loop;
    await Promise.allSettled([...this.#tasks]);
  }

  async #acceptLoop(): Promise<void> {
    let backoff = ACCEPT_BACKOFF_MIN_MS;
    while (!this.#closing) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#closing) return;
        this.#stats.acceptErrors++;
        const now = Date.now();
        if (now - this.#acceptErrorSaid >= ACCEPT_ERROR_SAY_EVERY_MS) {
          this.#acceptErrorSaid = now;
          this.#opts.log(
            `${this.#opts.name}: cannot accept connections (${e instanceof Error ? e.message : e}): ` +
              `closing idle ones and retrying (${this.#stats.acceptErrors} failed accepts so far; said once a minute)`,
          );
        }
        // A descriptor freed: try again at once. Nothing to free: wait, longer each time.
        if (this.#evictIdle(undefined, 0)) continue;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, ACCEPT_BACKOFF_MAX_MS);
        continue;
      }
      backoff = ACCEPT_BACKOFF_MIN_MS;
      this.#admit(conn);
    }
  }

  #admit(conn: Deno.Conn): void {
    this.#stats.accepted++;
    const remote = (conn.remoteAddr as Deno.NetAddr).hostname ?? "";
    const fits =
      ((this.#perAddress.get(remote) ?? 0) < this.#opts.maxPerAddress || this.#evictIdle(remote)) &&
      (this.#conns.size < this.#opts.maxConnections || this.#evictIdle());
    if (!fits || this.#closing) {
      this.#stats.refused++;
      try {
        conn.close();
      } catch { /* gone */ }
      return;
    }
    const c = new Conn(conn, remote);
    this.#conns.add(c);
    this.#perAddress.set(remote, (this.#perAddress.get(remote) ?? 0) + 1);
    const task = this.#serve(c).finally(() => {
      this.#drop(c);
      this.#tasks.delete(task);
    });
    this.#tasks.add(task);
  }

  /**
   * Closes the oldest connection with no request in progress for `minIdleMs` (from `remote` if given); false
   * if there is none.
   */
  #evictIdle(remote?: string, minIdleMs = this.#opts.evictAfterMs): boolean {
    const before = performance.now() - minIdleMs;
    for (const c of this.#conns) {
      if (c.busy || c.closed || (remote !== undefined && c.remote !== remote) || c.idleSince > before) {
        continue;
      }
      this.#stats.evicted++;
      this.#kill(c);
      return true;
    }
    return false;
  }

  #kill(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    clearTimeout(c.timer);
    try {
      c.conn.close();
    } catch { /* already closed */ }
  }

  #drop(c: Conn): void {
    this.#kill(c);
    if (!this.#conns.delete(c)) return;
    const n = (this.#perAddress.get(c.remote) ?? 1) - 1;
    if (n > 0) this.#perAddress.set(c.remote, n);
    else this.#perAddress.delete(c.remote);
  }

  /** Closes `c` unless disarmed within `ms`. */
  #arm(c: Conn, ms: number): void {
    clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      this.#stats.timedOut++;
      this.#kill(c);
    }, ms);
  }

  async #serve(c: Conn): Promise<void> {
    const parser = new HTTPParser(HTTPParser.REQUEST);
    parser.maxHeaderSize = this.#opts.maxHeaderBytes;
    const ready: Parsed[] = [];
    let current: Parsed | null = null;
    let continueWanted = false;
    parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
      // http-parser-js passes one info object, or positional arguments once anything read `kOnExecute`.
      const info = (args.length === 1 ? args[0] : {
        headers: args[2],
        method: args[3],
        url: args[4],
        shouldKeepAlive: args[8],
      }) as { headers: string[]; method: number; url: string; shouldKeepAlive: boolean };
      const headers: [string, string][] = [];
      let length = 0;
      // The parser counts header bytes only across reads; headers that came in one read are counted here.
      let size = info.url.length;
      for (const h of info.headers) size += h.length + 2;
      if (size > this.#opts.maxHeaderBytes) throw new HttpError(431, "the request's headers are too large");
      for (let i = 0; i + 1 < info.headers.length; i += 2) {
        const name = info.headers[i].toLowerCase();
        headers.push([name, info.headers[i + 1]]);
        if (name === "content-length") length = Number(info.headers[i + 1]);
        if (name === "transfer-encoding") throw new HttpError(501, "chunked request bodies are not accepted");
        if (name === "expect" && info.headers[i + 1].toLowerCase() === "100-continue") continueWanted = true;
      }
      if (length > this.#opts.maxBodyBytes) {
        throw new HttpError(413, `the body may have ${this.#opts.maxBodyBytes} bytes at most`);
      }
      current = {
        method: HTTPParser.methods[info.method] ?? "UNKNOWN",
        url: info.url,
        headers,
        keepAlive: info.shouldKeepAlive,
        body: [],
        bodyBytes: 0,
      };
      if (length > 0) this.#arm(c, this.#opts.bodyTimeoutMs);
      return 0;
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer, offset: number, length: number) => {
      if (!current) return;
      current.bodyBytes += length;
      if (current.bodyBytes > this.#opts.maxBodyBytes) throw new HttpError(413, "the body is too large");
      current.body.push(new Uint8Array(chunk.subarray(offset, offset + length)));
    };
    parser[HTTPParser.kOnMessageComplete] = () => {
      if (!current) return;
      ready.push(current);
      current = null;
      if (ready.length > MAX_PIPELINED) throw new HttpError(503, "too many pipelined requests");
    };

    const buf = new Uint8Array(READ_CHUNK);
    this.#arm(c, this.#opts.headersTimeoutMs);
    try {
      while (!c.closed) {
        const n = await c.conn.read(buf);
        if (n === null) return;
        let out: number | Error;
        try {
          out = parser.execute(Buffer.from(buf.buffer, 0, n));
        } catch (e) {
          out = e instanceof Error ? e : new Error(String(e));
        }
        if (out instanceof Error) {
          const status = out instanceof HttpError ? out.status : /header size/.test(out.message) ? 431 : 400;
          await this.#write(
            c,
            plain(status, out instanceof HttpError ? out.message : "malformed request", this.#opts.headers),
          );
          return;
        }
        if (continueWanted && current !== null) {
          continueWanted = false;
          await this.#write(c, enc.encode("HTTP/1.1 100 Continue\r\n\r\n"));
        }
        while (ready.length && !c.closed) {
          const req = ready.shift()!;
          clearTimeout(c.timer);
          c.busy = true;
          const keep = await this.#respond(c, req);
          c.busy = false;
          c.idleSince = performance.now();
          this.#stats.requests++;
          if (!keep || this.#closing) return;
          this.#arm(c, this.#opts.idleTimeoutMs);
        }
      }
    } catch {
      // The connection was closed under a read or write (timeout, eviction, shutdown, reset): nothing to say.
    }
  }

  /** Answers `req` on `c`; true when the connection stays open for another request. */
  async #respond(c: Conn, req: Parsed): Promise<boolean> {
    let res: Response;
    let request: Request;
    try {
      if (!req.url.startsWith("/")) throw new HttpError(400, "the request target must be a path");
      // The URL names the Host header's host, as with Deno.serve; a Host that is no plain name or address
      // gives "localhost" (the handler reads the header itself). The path is never resolved against it.
      const host = req.headers.find(([k]) => k === "host")?.[1] ?? "";
      const base = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
        ? host
        : "localhost";
      const body = req.bodyBytes > 0 && req.method !== "GET" && req.method !== "HEAD"
        ? concatBytes(req.body)
        : null;
      request = new Request(`http://${base}${req.url}`, { method: req.method, headers: req.headers, body });
    } catch (e) {
      await this.#write(
        c,
        plain(e instanceof HttpError ? e.status : 400, "malformed request", this.#opts.headers),
      );
      return false;
    }
    try {
      res = await this.#opts.handler(request, c.remote);
    } catch (e) {
      this.#opts.log(`${this.#opts.name}: ${e instanceof Error ? e.message : e}`);
      res = new Response("internal error\n", {
        status: 500,
        headers: { ...this.#opts.headers, "content-type": "text/plain; charset=utf-8" },
      });
    }
    const streaming = (res.headers.get("content-type") ?? "").startsWith("text/event-stream") && res.body;
    let head = `HTTP/1.1 ${res.status} ${REASONS[res.status] ?? ""}\r\n`;
    for (const [k, v] of res.headers) {
      if (k !== "content-length" && k !== "connection" && k !== "transfer-encoding") head += `${k}: ${v}\r\n`;
    }
    if (streaming) {
      await this.#write(c, enc.encode(head + "connection: close\r\n\r\n"));
      if (req.method === "HEAD") {
        await res.body!.cancel();
        return false;
      }
      await this.#stream(c, res.body!);
      return false;
    }
    const body = new Uint8Array(await res.arrayBuffer());
    const keep = req.keepAlive && !this.#closing;
    head += `content-length: ${body.length}\r\n${keep ? "" : "connection: close\r\n"}\r\n`;
    const headBytes = enc.encode(head);
    if (req.method === "HEAD") await this.#write(c, headBytes);
    else await this.#write(c, concatBytes([headBytes, body]));
    return keep;
  }

  /** Copies `body` to `c` until it ends, the client goes away or a write is not taken in time. */
  async #stream(c: Conn, body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    // Whatever the client sends now is dropped; its end (or a reset) ends the stream.
    const sink = new Uint8Array(1024);
    const watch = (async () => {
      try {
        while (!c.closed && (await c.conn.read(sink)) !== null) { /* drop */ }
      } catch { /* closed */ }
      reader.cancel().catch(() => {});
    })();
    try {
      while (!c.closed) {
        const { value, done } = await reader.read();
        if (done) break;
        await this.#write(c, value);
      }
    } finally {
      reader.cancel().catch(() => {});
      this.#kill(c);
      await watch;
    }
  }

  async #write(c: Conn, bytes: Uint8Array): Promise<void> {
    const timer = setTimeout(() => {
      this.#stats.timedOut++;
      this.#kill(c);
    }, this.#opts.writeTimeoutMs);
    try {
      for (let at = 0; at < bytes.length;) at += await c.conn.write(bytes.subarray(at));
    } finally {
      clearTimeout(timer);
    }
  }
}

function plain(status: number, message: string, headers: Record<string, string> = {}): Uint8Array {
  const body = enc.encode(message + "\n");
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return concatBytes([
    enc.encode(
      `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n${extra}content-type: text/plain; charset=utf-8\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    ),
    body,
  ]);
}

/** The bytes of `parts`, one after another, in one new array (a response's head and body, a body's chunks). */
export function concatBytes(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
