/**
 * Finding the network on a LAN without a tracker file (`run --discover`): UDP beacons on the local subnets.
 * A node looking for SuperPeers broadcasts a query naming its network and genesis block to the broadcast
 * address of each of its IPv4 subnets (never 255.255.255.255); each SuperPeer of the same network and genesis
 * answers the sender alone with its listen port. The node dials the port at the address the answer came from,
 * so a forged answer can only point at its own sender, and the overlay greets it like any other address.
 *
 * This module has the sockets and timers; the beacons' wire form and the rules as pure functions are in
 * `beacon.ts`, the limits in `config.ts`. Both sides are rate-limited: a query goes out at most once a second (later calls reuse its answers) and a
 * SuperPeer's own search backs off to once a minute; a SuperPeer answers only neighbours on its own subnets,
 * each at most a few times a second and everyone together at most `ANSWERS_PER_SECOND`. Nothing is sent or
 * bound until discovery is enabled.
 * @module
 */
import { hostOf, isLoopback } from "./address.ts";
import {
  AnswerLimiter,
  decodeBeacon,
  encodeBeacon,
  foundAddresses,
  type InterfaceAddress,
  isNeighbour,
  localSubnets,
  NONCE_DIGITS,
  type Subnet,
} from "./beacon.ts";
import {
  FIND_GRACE_MS,
  FIND_WINDOW_MS,
  INTERFACES_REREAD_MS,
  MAX_DATAGRAMS_PER_FIND,
  MIN_QUERY_GAP_MS,
  OWN_NONCES_KEPT,
  QUERY_REPEAT_MS,
  SEARCH_JITTER_SHARE,
  SERVE_FIRST_QUERY_MS,
  SERVE_MAX_QUERY_MS,
  SERVE_POLL_MS,
} from "./config.ts";
import type dgram from "node:dgram";

/** What the network asks of LAN discovery (`NetworkOptions.discover`). */
export interface Discover {
  /** Asks the LAN for SuperPeers; resolves within about a second with addresses to dial (none when off). */
  find(): Promise<string[]>;
  /** Lets the discoverer answer for `host` while it is a SuperPeer, and hand it SuperPeers it finds. */
  serve(host: DiscoverHost): void;
}

/** The node behind a discoverer. */
export interface DiscoverHost {
  /** This node's listen address while it is a SuperPeer, undefined otherwise. */
  listen(): string | undefined;
  /** SuperPeers found on the LAN while this node is one (it links to those it does not know). */
  found(addrs: string[]): void;
}

/** Settings of a `LanDiscovery`. */
export interface LanDiscoveryOptions {
  /** The network's name, as in `hello`. */
  network: string;
  /** The genesis block's hash. */
  genesis: string;
  /** The UDP port SuperPeers listen on for queries (peerchain uses the network's default port number). */
  port: number;
  /** Start enabled (`--discover`); otherwise nothing is bound or sent until `enable()`. */
  enabled?: boolean;
  /** This machine's interface addresses (default `Deno.networkInterfaces()`). */
  interfaces?: () => InterfaceAddress[];
  /** Where queries go instead of the subnets' broadcast addresses: for tests, unicast on 127.0.0.1. */
  targets?: string[];
  /** Where the sockets bind (default all interfaces; tests use 127.0.0.1). */
  bindHost?: string;
  /** Called after each search asked for by `find()` with what it found and how long it took. */
  onFind?: (found: string[], ms: number) => void;
  /** Random numbers in [0, 1) for nonces and jitter (default `Math.random`). */
  random?: () => number;
  /** The clock in ms (default `performance.now`): a test freezes it to count answers per second exactly. */
  now?: () => number;
}

/**
 * node:dgram, loaded by the first search or the first answering socket, never at start-up: it brings Deno's
 * Node compatibility layer for sockets, about 10 ms of CPU at every start, and a node searches only with
 * `--discover` or the menu's "yes".
 */
let dgramModule: Promise<typeof dgram> | undefined;
const loadDgram = (): Promise<typeof dgram> => dgramModule ??= import("node:dgram").then((m) => m.default);

/** UDP beacons on the local subnets; see the module doc. `close()` when done. */
export class LanDiscovery implements Discover {
  #o: LanDiscoveryOptions;
  #enabled: boolean;
  #closed = false;
  #host?: DiscoverHost;
  #inFlight?: Promise<string[]>;
  #lastQueryAt = -Infinity;
  #lastFound: string[] = [];
  #ownNonces: string[] = [];
  #server?: dgram.Socket;
  /** True once serving started (its socket comes when node:dgram is loaded). */
  #serving = false;
  #limiter = new AnswerLimiter();
  #pollTimer?: ReturnType<typeof setTimeout>;
  /** While this node is a SuperPeer: when it next looks for others, and the interval after that. */
  #search?: { at: number; interval: number };
  #finishers = new Set<() => void>();
  #net?: { subnets: Subnet[]; own: Set<string>; at: number };

  /** A discoverer; inert until enabled. */
  constructor(opts: LanDiscoveryOptions) {
    this.#o = opts;
    this.#enabled = !!opts.enabled;
  }

  /** True once enabled. */
  get enabled(): boolean {
    return this.#enabled && !this.#closed;
  }

  /** Turns discovery on (the menu's "yes"): from now on it answers and searches. */
  enable(): void {
    if (this.#enabled || this.#closed) return;
    this.#enabled = true;
    if (this.#host) this.#startServing();
  }

  /** Asks the LAN for SuperPeers (see `Discover.find`). */
  async find(): Promise<string[]> {
    if (!this.enabled) return [];
    const t0 = this.#now();
    const found = await this.#find();
    try {
      this.#o.onFind?.([...found], Math.round(this.#now() - t0));
    } catch { /* an observer's bug must not break discovery */ }
    return found;
  }

  /** Registers the node; while enabled, answers queries while it is a SuperPeer and searches now and then. */
  serve(host: DiscoverHost): void {
    this.#host = host;
    if (this.enabled) this.#startServing();
  }

  /** Closes the sockets and timers; a search under way ends with what it has. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pollTimer);
    for (const finish of [...this.#finishers]) finish();
    try {
      this.#server?.close();
    } catch { /* already closed */ }
    this.#server = undefined;
  }

  /** One search at a time, at most one a `MIN_QUERY_GAP_MS`: a caller in between gets the last answers. */
  #find(): Promise<string[]> {
    if (this.#inFlight) return this.#inFlight;
    if (this.#now() - this.#lastQueryAt < MIN_QUERY_GAP_MS) {
      return Promise.resolve([...this.#lastFound]);
    }
    this.#lastQueryAt = this.#now();
    this.#inFlight = this.#query().then((found) => {
      this.#lastFound = found;
      this.#inFlight = undefined;
      return [...found];
    });
    return this.#inFlight;
  }

  /** This machine's subnets and own addresses, read at most every `INTERFACES_REREAD_MS` (interfaces come and go). */
  #localNet(): { subnets: Subnet[]; own: Set<string> } {
    const now = this.#now();
    if (this.#net && now - this.#net.at < INTERFACES_REREAD_MS) return this.#net;
    let list: InterfaceAddress[] = [];
    try {
      list = this.#o.interfaces ? this.#o.interfaces() : Deno.networkInterfaces();
    } catch { /* no permission or no interfaces: nothing to broadcast on */ }
    this.#net = {
      subnets: localSubnets(list),
      own: new Set(list.filter((i) => i.family === "IPv4").map((i) => i.address)),
      at: now,
    };
    return this.#net;
  }

  #nonce(): string {
    const random = this.#o.random ?? Math.random;
    let s = "";
    for (let i = 0; i < NONCE_DIGITS; i++) s += Math.floor(random() * 16).toString(16);
    this.#ownNonces.push(s);
    if (this.#ownNonces.length > OWN_NONCES_KEPT) this.#ownNonces.shift();
    return s;
  }

  /** Sends a query and gathers answers until `FIND_GRACE_MS` after the first, or `FIND_WINDOW_MS` in all. */
  async #query(): Promise<string[]> {
    const targets = this.#o.targets ?? this.#localNet().subnets.map((s) => s.broadcast);
    if (this.#closed || !targets.length) return [];
    const udp = await loadDgram();
    if (this.#closed) return [];
    const nonce = this.#nonce();
    const query = encodeBeacon({ kind: "query", network: this.#o.network, genesis: this.#o.genesis, nonce });
    const answers: { source: string; port: number }[] = [];
    return new Promise((resolve) => {
      const socket = udp.createSocket("udp4");
      let read = 0, done = false;
      const timers: ReturnType<typeof setTimeout>[] = [];
      const finish = () => {
        if (done) return;
        done = true;
        this.#finishers.delete(finish);
        for (const t of timers) clearTimeout(t);
        try {
          socket.close();
        } catch { /* already closed */ }
        resolve(foundAddresses(answers, this.#o.random));
      };
      this.#finishers.add(finish);
      const send = () => {
        for (const t of targets) socket.send(query, this.#o.port, t, () => {/* a lost query is retried */});
      };
      socket.on("error", finish);
      socket.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => {
        if (done || ++read > MAX_DATAGRAMS_PER_FIND) return;
        const b = decodeBeacon(msg);
        if (b?.kind !== "answer" || b.nonce !== nonce) return;
        if (b.network !== this.#o.network || b.genesis !== this.#o.genesis) return;
        if (!answers.length) timers.push(setTimeout(finish, FIND_GRACE_MS));
        answers.push({ source: rinfo.address, port: b.port });
      });
      timers.push(setTimeout(finish, FIND_WINDOW_MS));
      timers.push(setTimeout(() => !answers.length && !done && send(), QUERY_REPEAT_MS));
      try {
        socket.bind(0, this.#o.bindHost ?? "0.0.0.0", () => {
          if (done) return;
          try {
            socket.setBroadcast(true);
            send();
          } catch {
            finish();
          }
        });
      } catch {
        finish();
      }
    });
  }

  /** Binds the query port (shared with other nodes on this machine) and starts the SuperPeer's searches. */
  #startServing(): void {
    if (this.#serving || this.#closed) return;
    this.#serving = true;
    loadDgram().then((udp) => this.#listen(udp), () => {/* no UDP here: this node only dials */});
  }

  #listen(udp: typeof dgram): void {
    if (this.#closed) return;
    const server = this.#server = udp.createSocket({ type: "udp4", reuseAddr: true });
    server.on("error", () => {
      // Cannot listen (no permission, port taken without SO_REUSEADDR): this node only searches.
      try {
        server.close();
      } catch { /* already closed */ }
    });
    server.on("message", (msg: Uint8Array, rinfo: dgram.RemoteInfo) => this.#onQuery(server, msg, rinfo));
    try {
      server.bind(this.#o.port, this.#o.bindHost ?? "0.0.0.0");
    } catch { /* reported through "error" */ }
    this.#poll();
  }

  /** Answers a neighbour's query for our network while we are a SuperPeer, within the budget. */
  #onQuery(server: dgram.Socket, msg: Uint8Array, rinfo: dgram.RemoteInfo): void {
    const b = decodeBeacon(msg);
    if (b?.kind !== "query" || b.network !== this.#o.network || b.genesis !== this.#o.genesis) return;
    if (this.#ownNonces.includes(b.nonce)) return; // our own query, looped back
    const listen = this.#host?.listen();
    const port = listen === undefined ? undefined : listenPort(listen);
    if (port === undefined) return;
    const { subnets, own } = this.#localNet();
    if (!isNeighbour(rinfo.address, subnets, own)) return;
    // A node listening on loopback only can be dialled from this machine alone.
    if (isLoopback(hostOf(listen!)) && !own.has(rinfo.address)) return;
    if (!this.#limiter.allow(rinfo.address, this.#now())) return;
    const answer = encodeBeacon({ ...b, kind: "answer", port });
    try {
      server.send(answer, rinfo.port, rinfo.address, () => {/* best effort */});
    } catch { /* closed meanwhile */ }
  }

  /** While this node is a SuperPeer it looks for SuperPeers it does not know: soon, then less and less often. */
  #poll(): void {
    if (this.#closed) return;
    this.#pollTimer = setTimeout(() => this.#poll(), SERVE_POLL_MS);
    const now = this.#now();
    if (this.#host?.listen() === undefined) {
      this.#search = undefined;
      return;
    }
    this.#search ??= { at: now + this.#jitter(SERVE_FIRST_QUERY_MS), interval: SERVE_FIRST_QUERY_MS };
    if (now < this.#search.at || this.#inFlight) return;
    const s = this.#search;
    s.interval = nextSearchInterval(s.interval);
    s.at = now + this.#jitter(s.interval);
    this.#find().then((found) => {
      if (found.length && !this.#closed && this.#host?.listen() !== undefined) this.#host.found(found);
    });
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : performance.now();
  }

  #jitter(ms: number): number {
    return Math.round(
      ms * (1 - SEARCH_JITTER_SHARE + 2 * SEARCH_JITTER_SHARE * (this.#o.random ?? Math.random)()),
    );
  }
}

/** A SuperPeer's next search interval after one of `ms`: twice as long, at most `SERVE_MAX_QUERY_MS`. */
export function nextSearchInterval(ms: number): number {
  return Math.min(ms * 2, SERVE_MAX_QUERY_MS);
}

/** The port of a `host:port` or `[v6]:port` address, or undefined. */
function listenPort(addr: string): number | undefined {
  const m = /:(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}
