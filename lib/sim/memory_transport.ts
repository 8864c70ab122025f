/**
 * An in-memory LAN for the simulation: a `Transport` per virtual host (10.x.y.z), streams between them with
 * modelled latency, and what the world does to hosts — kill, freeze, partition — with counters of everything
 * sent.
 *
 * The model: every write is one message that arrives after a base latency (uniform in [min, max], seeded)
 * plus its size at the sender's link speed, and a host sends one message after another (a SuperPeer sending a
 * block to 1,000 peers waits for its own wire). Each direction of a stream delivers in order. There is no
 * backpressure: writes complete at once and the bytes are counted.
 *
 * Failures, as a node sees them:
 * - dialling an address nobody listens on (unknown, killed, or not listening) is refused after a round trip;
 * - a killed host (SIGKILL) drops what is sent to it; the far end of each of its streams reads what the host
 *   had already sent, then end-of-stream; the killed side's code never runs again (its reads never return);
 * - a frozen host (SIGSTOP, a pulled cable) sends and receives nothing and sends no FIN: traffic to and from
 *   it waits, and dials to it time out; on thaw the waiting traffic flows, in order;
 * - a partition into groups stalls traffic between groups the same way (dials across it time out) until healed.
 * @module
 */
import { type TextFrame, textToFrame } from "../net/frame.ts";
import type { HostPort } from "../net/messages.ts";
import {
  type Clock,
  ConnectError,
  type FrameChannel,
  type Listener,
  type Stream,
  type Transport,
} from "../net/transport.ts";
import type { Random } from "./random.ts";
import type { VirtualClock } from "./virtual_clock.ts";

/** How the LAN behaves. */
export interface LanModel {
  /** Smallest one-way latency of a message, ms. */
  minLatencyMs: number;
  /** Largest one-way latency of a message, ms (each message draws uniformly in between). */
  maxLatencyMs: number;
  /** Each host's link speed in bits per second: a message occupies the sender's wire for size / speed. */
  bitsPerSecond: number;
}

/** A switched gigabit LAN: 0.2–0.5 ms per message plus size at 1 Gbit/s. */
export const GIGABIT_LAN: LanModel = { minLatencyMs: 0.2, maxLatencyMs: 0.5, bitsPerSecond: 1e9 };

/** The port every simulated node listens on. */
export const SIM_PORT = 8765;
/** First port handed to the dialling side of a stream. */
const EPHEMERAL_PORT = 49152;
/** Bytes of a SYN or SYN-ACK, for its latency. */
const HANDSHAKE_BYTES = 60;

/** Frames and bytes by frame type (indexes into `MemoryNet.frameTypes`). */
export interface FrameCounts {
  /** Frames per type index. */
  frames: number[];
  /** Bytes (length prefix included) per type index. */
  bytes: number[];
}

/** What one host sent and received, and its dial outcomes. */
export interface HostStats {
  /** Frames written, by type. */
  tx: FrameCounts;
  /** Frames delivered to it, by type. */
  rx: FrameCounts;
  /** Dials started. */
  dials: number;
  /** Dials refused (nobody listening). */
  refused: number;
  /** Dials that timed out (a frozen or partitioned target). */
  timedOut: number;
}

type HostState = "up" | "frozen" | "dead";

interface Host {
  readonly name: string;
  state: HostState;
  clock: Clock;
  listeners: Map<number, MemoryListener>;
  open: Set<Endpoint>;
  nextPort: number;
  /** When this host's wire is free again (virtual ms). */
  wireFreeAt: number;
  group: number;
  stats: HostStats;
}

/** A whole frame as text (`Stream.frames`), with its message type for the counters. */
interface TextItem extends TextFrame {
  readonly type: string;
}

/** A chunk in flight (raw bytes, or a whole frame as text), or null for end-of-stream. */
type Item = Uint8Array | TextItem | null;

/** What a raw reader (`read`) gets of an item: a frame sent as text comes out as its bytes. */
function asBytes(item: Item): Uint8Array | null {
  return item === null || item instanceof Uint8Array ? item : textToFrame(item);
}

/** Called once per frame with its type and size (length prefix included). */
type CountFrame = (type: string, bytes: number) => void;

/** Counts whole frames in a byte stream (4-byte length, then JSON whose first key is "type"), however split. */
class FrameCounter {
  readonly #onFrame: CountFrame;
  #hdr = 0;
  #hdrLen = 0;
  #left = 0;
  #size = 0;
  #pos = 0;
  #type = "";
  #counted = true;

  /** A counter reporting each frame to `onFrame`, as soon as its type is known. */
  constructor(onFrame: CountFrame) {
    this.#onFrame = onFrame;
  }

  /** Feeds the next bytes of the stream. */
  push(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.#left === 0) {
        this.#hdr = this.#hdr * 256 + chunk[i++];
        if (++this.#hdrLen < 4) continue;
        this.#left = this.#hdr;
        this.#size = 4 + this.#hdr;
        this.#hdr = this.#hdrLen = this.#pos = 0;
        this.#type = "";
        this.#counted = false;
        if (this.#left === 0) this.#count("?");
        continue;
      }
      const end = i + Math.min(this.#left, n - i);
      this.#left -= end - i;
      while (!this.#counted && i < end) this.#scan(chunk[i++]);
      i = end;
      if (this.#left === 0 && !this.#counted) this.#count("?");
    }
  }

  /** Reads the body's start: `{"type":"` then the type up to the closing quote. */
  #scan(byte: number): void {
    const p = this.#pos++;
    if (p < TYPE_PREFIX.length) {
      if (byte !== TYPE_PREFIX[p]) this.#count("?");
    } else if (byte === 0x22) this.#count(this.#type || "?");
    else if (p - TYPE_PREFIX.length >= 32 || byte < 0x20 || byte > 0x7e) this.#count("?");
    else this.#type += String.fromCharCode(byte);
  }

  #count(type: string): void {
    this.#counted = true;
    this.#onFrame(type, this.#size);
  }
}

const TYPE_PREFIX = new TextEncoder().encode('{"type":"');

/**
 * One end of an in-memory stream. It carries raw bytes (`read`/`write`) and whole frames as text (`frames`, what
 * a `Connection` uses): a frame's bytes are never made unless a raw reader asks for them, but each frame is
 * counted and occupies the wire for its full size on the wire.
 */
class Endpoint implements Stream, FrameChannel {
  readonly remote: HostPort;
  readonly host: Host;
  peer!: Endpoint;
  readonly #net: MemoryNet;
  #inbox: Item[] = [];
  #reader: ((v: Item) => void) | undefined;
  /** Closed by its own side (`close()` or the host's death). */
  closed = false;
  /** End-of-stream has been read: later reads return null too. */
  #eof = false;
  /** Outgoing: scheduled, not yet arrived, in order. */
  inflight: Item[] = [];
  /** Outgoing: arrived while the path was blocked; flows again on thaw or heal. */
  held: Item[] = [];
  /** Arrival time of the last scheduled outgoing item: later ones never overtake it. */
  lastArrival = 0;
  /** Virtual ms when the stream was set up. */
  readonly openedAt: number;
  /** Counts what this end writes, and what is delivered to it, into its host's stats. */
  readonly txCounter: FrameCounter;
  readonly rxCounter: FrameCounter;
  readonly deliverNext: () => void;

  constructor(net: MemoryNet, host: Host, remote: HostPort, openedAt: number) {
    this.#net = net;
    this.host = host;
    this.remote = remote;
    this.openedAt = openedAt;
    this.deliverNext = () => net.deliver(this);
    this.txCounter = new FrameCounter((type, bytes) => net.count(host.stats.tx, type, bytes));
    this.rxCounter = new FrameCounter((type, bytes) => net.count(host.stats.rx, type, bytes));
  }

  /** Frames as text on this stream (what a `Connection` uses). */
  get frames(): FrameChannel {
    return this;
  }

  read(): Promise<Uint8Array | null> {
    return this.readFrame().then(asBytes);
  }

  readFrame(): Promise<Item> {
    if (this.#inbox.length > 0) return Promise.resolve(this.#take());
    if (this.closed && this.host.state !== "dead") return Promise.resolve(null);
    if (this.#eof) return Promise.resolve(null);
    // A killed host's reads never return: its code is gone.
    return new Promise((resolve) => this.#reader = resolve);
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.closed) {
      if (this.host.state === "dead") return Promise.resolve(bytes.length);
      return Promise.reject(new Deno.errors.BadResource("stream is closed"));
    }
    this.#net.send(this, bytes.slice());
    return Promise.resolve(bytes.length);
  }

  writeFrame(frame: TextFrame, type: string): void {
    if (!this.closed) this.#net.send(this, { json: frame.json, bytes: frame.bytes, type });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.host.open.delete(this);
    this.#net.send(this, null);
    if (this.#reader) {
      const r = this.#reader;
      this.#reader = undefined;
      r(null);
    }
  }

  /** An item arrived from the far end. */
  receive(item: Item): void {
    if (this.closed) return; // gone: the kernel would answer with RST, which the sender also sees as the end
    if (this.#eof) return;
    if (this.#reader) {
      const r = this.#reader;
      this.#reader = undefined;
      if (item === null) this.#eof = true;
      r(item);
    } else this.#inbox.push(item);
  }

  #take(): Item {
    const item = this.#inbox.shift()!;
    if (item === null) {
      this.#eof = true;
      this.#inbox.length = 0;
    }
    return item;
  }

  /** The host died: tell the far end (after what is already on the wire), never return from reads. */
  kill(): void {
    if (this.closed) return;
    this.closed = true;
    this.#inbox.length = 0;
    this.#net.send(this, null);
  }
}

/** Incoming streams on one host and port. */
class MemoryListener implements Listener {
  readonly addr: HostPort;
  readonly #host: Host;
  #queue: Endpoint[] = [];
  #waiter: ((r: IteratorResult<Stream>) => void) | undefined;
  #closed = false;

  constructor(host: Host, addr: HostPort) {
    this.#host = host;
    this.addr = addr;
  }

  /** A new stream arrived. */
  push(s: Endpoint): void {
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: s, done: false });
    } else this.#queue.push(s);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#host.listeners.get(this.addr.port) === this) this.#host.listeners.delete(this.addr.port);
    for (const s of this.#queue.splice(0)) s.close();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  /** The host died: stop accepting, and never wake the accept loop again. */
  kill(): void {
    this.#closed = true;
    this.#queue = [];
    this.#waiter = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<Stream> {
    return {
      next: () => {
        if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift()!, done: false });
        if (this.#closed) {
          return this.#host.state === "dead"
            ? new Promise(() => {})
            : Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => this.#waiter = resolve);
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** A frame-type breakdown: type name to frames and bytes. */
export type FrameTotals = Record<string, { frames: number; bytes: number }>;

/**
 * The simulated LAN.
 * @example
 * ```ts
 * import { VirtualClock } from "./virtual_clock.ts";
 * import { MemoryNet } from "./memory_transport.ts";
 * import { seededRandom } from "./random.ts";
 * const clock = new VirtualClock();
 * const lan = new MemoryNet(clock, seededRandom(1, "lan"));
 * const a = lan.transport("10.0.0.1"), b = lan.transport("10.0.0.2");
 * const listener = b.listen({ hostname: "10.0.0.2", port: 8765 });
 * const dialled = a.dial({ hostname: "10.0.0.2", port: 8765 }, 1000);
 * await clock.advance(5);
 * const stream = await dialled;
 * if (stream.remote.hostname !== "10.0.0.2") throw new Error("wrong peer");
 * listener.close();
 * ```
 */
export class MemoryNet {
  /** The LAN model in use. */
  readonly lan: LanModel;
  /** Frame type names; counters are indexed by position here. */
  readonly frameTypes: string[] = [];
  readonly #clock: VirtualClock;
  readonly #random: Random;
  readonly #hosts = new Map<string, Host>();
  readonly #typeIndex = new Map<string, number>();
  /** Sending endpoints with held items. */
  readonly #stalled = new Set<Endpoint>();
  #partitioned = false;

  /** A LAN on `clock`, with latencies drawn from `random`. */
  constructor(clock: VirtualClock, random: Random, lan: Partial<LanModel> = {}) {
    this.#clock = clock;
    this.#random = random;
    this.lan = { ...GIGABIT_LAN, ...lan };
  }

  /**
   * The transport of host `hostname` (brought up, or back up after a kill); its own timers (dial timeouts,
   * connection completions) run on `clock`, so they stop with the node's clock.
   */
  transport(hostname: string, clock: Clock = this.#clock): Transport {
    let host = this.#hosts.get(hostname);
    if (!host || host.state === "dead") {
      host = {
        name: hostname,
        state: "up",
        clock,
        listeners: new Map(),
        open: new Set(),
        nextPort: EPHEMERAL_PORT,
        wireFreeAt: 0,
        group: 0,
        stats: host?.stats ?? { tx: counts(), rx: counts(), dials: 0, refused: 0, timedOut: 0 },
      };
      this.#hosts.set(hostname, host);
    }
    const h = host;
    return {
      listen: (addr) => this.#listen(h, addr),
      dial: (addr, timeoutMs) => this.#dial(h, addr, timeoutMs),
    };
  }

  /** SIGKILL: every stream of the host ends abruptly, its listeners vanish, its dials never complete. */
  kill(hostname: string): void {
    const h = this.#hosts.get(hostname);
    if (!h || h.state === "dead") return;
    h.state = "dead";
    for (const l of h.listeners.values()) l.kill();
    h.listeners.clear();
    for (const e of h.open) e.kill();
    h.open.clear();
    // What it sent before dying still arrives: a killed process's kernel flushes its sockets.
    this.#release();
  }

  /** SIGSTOP or a pulled cable: nothing in or out until `thaw`; no end-of-stream is sent. */
  freeze(hostname: string): void {
    const h = this.#hosts.get(hostname);
    if (h?.state === "up") h.state = "frozen";
  }

  /** Lets a frozen host's traffic flow again (what waited arrives first, in order). */
  thaw(hostname: string): void {
    const h = this.#hosts.get(hostname);
    if (h?.state !== "frozen") return;
    h.state = "up";
    this.#release();
  }

  /**
   * Splits the LAN: hosts in different groups cannot reach each other (traffic stalls, dials time out);
   * hosts not listed form one more group together.
   */
  partition(groups: readonly (readonly string[])[]): void {
    for (const h of this.#hosts.values()) h.group = 0;
    groups.forEach((g, i) => {
      for (const name of g) {
        const h = this.#hosts.get(name);
        if (h) h.group = i + 1;
      }
    });
    this.#partitioned = true;
  }

  /** Ends a partition: stalled traffic flows, in order. */
  heal(): void {
    for (const h of this.#hosts.values()) h.group = 0;
    this.#partitioned = false;
    this.#release();
  }

  /** "up", "frozen" or "dead", or undefined for an address never used. */
  state(hostname: string): HostState | undefined {
    return this.#hosts.get(hostname)?.state;
  }

  /** A host's counters (kept across its death and restart). */
  stats(hostname: string): HostStats | undefined {
    return this.#hosts.get(hostname)?.stats;
  }

  /** Streams the host has open (neither end closed by this host; the far end may have closed already). */
  openStreams(hostname: string): number {
    return this.#hosts.get(hostname)?.open.size ?? 0;
  }

  /**
   * Calls `edge(a, b)` once per stream between two different hosts (a's name < b's) that both ends hold open
   * and that is at least `minAgeMs` old (so a probe that lasts a few milliseconds is no link).
   */
  forEachLink(edge: (a: string, b: string) => void, minAgeMs = 0): void {
    const born = this.#clock.elapsed - minAgeMs;
    for (const h of this.#hosts.values()) {
      if (h.state === "dead") continue;
      for (const e of h.open) {
        const far = e.peer.host;
        if (!e.peer.closed && far !== h && h.name < far.name && e.openedAt <= born) edge(h.name, far.name);
      }
    }
  }

  /** All frames sent on the LAN so far, by type (`direction` "tx": as written; "rx": as delivered). */
  totals(direction: "tx" | "rx" = "tx"): FrameTotals {
    const out: FrameTotals = {};
    for (const h of this.#hosts.values()) {
      const c = h.stats[direction];
      c.frames.forEach((f, i) => {
        const t = (out[this.frameTypes[i]] ??= { frames: 0, bytes: 0 });
        t.frames += f;
        t.bytes += c.bytes[i];
      });
    }
    return out;
  }

  /** Dials started, refused and timed out, over all hosts. */
  dialTotals(): { dials: number; refused: number; timedOut: number } {
    const out = { dials: 0, refused: 0, timedOut: 0 };
    for (const h of this.#hosts.values()) {
      out.dials += h.stats.dials;
      out.refused += h.stats.refused;
      out.timedOut += h.stats.timedOut;
    }
    return out;
  }

  /** Internal: queues `item` from `from` to its peer, after the modelled latency and behind earlier items. */
  send(from: Endpoint, item: Item): void {
    const host = from.host;
    let size = HANDSHAKE_BYTES;
    if (item instanceof Uint8Array) (size = item.length, from.txCounter.push(item));
    else if (item !== null) (size = item.bytes, this.count(host.stats.tx, item.type, item.bytes));
    const now = this.#clock.elapsed;
    const wire = (size * 8 * 1000) / this.lan.bitsPerSecond;
    host.wireFreeAt = Math.max(now, host.wireFreeAt) + wire;
    const arrival = Math.max(host.wireFreeAt + this.#baseLatency(), from.lastArrival);
    from.lastArrival = arrival;
    from.inflight.push(item);
    this.#clock.schedule(from.deliverNext, arrival - now, undefined);
  }

  /** Internal: the oldest in-flight item of `from` has arrived at the far end (or waits, if the path is blocked). */
  deliver(from: Endpoint): void {
    const item = from.inflight.shift()!;
    if (from.held.length > 0 || this.#blocked(from.host, from.peer.host)) {
      from.held.push(item);
      this.#stalled.add(from);
      return;
    }
    this.#arrive(from.peer, item);
  }

  #arrive(to: Endpoint, item: Item): void {
    if (to.closed || to.host.state === "dead") return;
    if (item instanceof Uint8Array) to.rxCounter.push(item);
    else if (item !== null) this.count(to.host.stats.rx, item.type, item.bytes);
    to.receive(item);
  }

  #blocked(a: Host, b: Host): boolean {
    return a.state === "frozen" || b.state === "frozen" || (this.#partitioned && a.group !== b.group);
  }

  /** Sends again what waited on paths that are open now, in order, with fresh latencies. */
  #release(): void {
    for (const e of [...this.#stalled]) {
      if (this.#blocked(e.host, e.peer.host)) continue;
      this.#stalled.delete(e);
      const items = e.held;
      e.held = [];
      const now = this.#clock.elapsed;
      for (const item of items) {
        const arrival = Math.max(now + this.#baseLatency(), e.lastArrival);
        e.lastArrival = arrival;
        e.inflight.push(item);
        this.#clock.schedule(e.deliverNext, arrival - now, undefined);
      }
    }
  }

  #baseLatency(): number {
    const { minLatencyMs: lo, maxLatencyMs: hi } = this.lan;
    return lo + this.#random() * (hi - lo);
  }

  /** Internal: adds one frame of `type` to `c`. */
  count(c: FrameCounts, type: string, bytes: number): void {
    let i = this.#typeIndex.get(type);
    if (i === undefined) {
      i = this.frameTypes.length;
      this.frameTypes.push(type);
      this.#typeIndex.set(type, i);
    }
    c.frames[i] = (c.frames[i] ?? 0) + 1;
    c.bytes[i] = (c.bytes[i] ?? 0) + bytes;
  }

  #listen(h: Host, addr: HostPort): Listener {
    if (h.state === "dead") throw new Deno.errors.BadResource(`host ${h.name} is down`);
    if (addr.hostname !== h.name && addr.hostname !== "0.0.0.0") {
      throw new Deno.errors.AddrNotAvailable(`${addr.hostname} is not an address of host ${h.name}`);
    }
    let port = addr.port;
    if (port === 0) {
      port = SIM_PORT;
      while (h.listeners.has(port)) port++;
    }
    if (h.listeners.has(port)) throw new Deno.errors.AddrInUse(`${h.name}:${port} is in use`);
    const l = new MemoryListener(h, { hostname: h.name, port });
    h.listeners.set(port, l);
    return l;
  }

  #dial(h: Host, addr: HostPort, timeoutMs: number): Promise<Stream> {
    if (h.state === "dead") return new Promise(() => {});
    h.stats.dials++;
    return new Promise<Stream>((resolve, reject) => {
      let done = false;
      const fail = (why: string) => {
        if (done) return;
        done = true;
        h.clock.clearTimeout(timer);
        reject(new ConnectError(`cannot connect to ${addr.hostname}:${addr.port}: ${why}`));
      };
      const timer = h.clock.setTimeout(() => {
        if (done) return;
        h.stats.timedOut++;
        fail(`timed out after ${timeoutMs} ms`);
      }, timeoutMs);
      const synLatency = this.#baseLatency();
      this.#clock.schedule(
        () => {
          if (done || h.state === "dead") return;
          const t = this.#hosts.get(addr.hostname);
          if (t && this.#blocked(h, t)) return; // the SYN is lost: the dialler times out
          const listener = t?.state === "up" ? t.listeners.get(addr.port) : undefined;
          if (!t || !listener) {
            h.clock.setTimeout(() => {
              if (done) return;
              h.stats.refused++;
              fail("connection refused");
            }, this.#baseLatency());
            return;
          }
          const now = this.#clock.elapsed;
          const client = new Endpoint(this, h, { hostname: t.name, port: addr.port }, now);
          const server = new Endpoint(this, t, { hostname: h.name, port: h.nextPort++ }, now);
          if (h.nextPort > 65535) h.nextPort = EPHEMERAL_PORT;
          client.peer = server;
          server.peer = client;
          h.open.add(client);
          t.open.add(server);
          listener.push(server);
          h.clock.setTimeout(() => {
            if (done) return client.close();
            done = true;
            h.clock.clearTimeout(timer);
            resolve(client);
          }, this.#baseLatency());
        },
        synLatency,
        undefined,
      );
    });
  }
}

function counts(): FrameCounts {
  return { frames: [], bytes: [] };
}
