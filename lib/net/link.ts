/**
 * Links: greeted connections to other nodes, with the `hello` handshake and what the network layer
 * remembers about each (its hello, whether it is a member of our hub, where it redirected us).
 * @module
 */
import type { Connection, ConnectionOptions } from "./connection.ts";
import { Connection as Conn, MISBEHAVIOUR } from "./connection.ts";
import { type HelloMessage, type Message, parseHostPort, type PeerEntry } from "./messages.ts";
import type { Clock, Stream, Transport } from "./transport.ts";

/** One link and what we know of its far end. */
export interface Link {
  /** The framed connection. */
  readonly conn: Connection;
  /** True when the far end dialled us. */
  readonly inbound: boolean;
  /** The far end's hello, once received and accepted. */
  hello?: HelloMessage;
  /** True while it is a Peer of ours (we are its hub). */
  member: boolean;
  /** Set when our hub told us to move: its close is then no failure. */
  yielded: boolean;
  /** Where a Peer redirected us (`yield`). */
  redirect?: string;
  /** The code of a `reject` it sent. */
  rejectCode?: string;
  /** Our own hello on this link: both ends judge a meeting of hubs from the same two hellos. */
  sentHello?: Omit<HelloMessage, "type">;
  /** The role our own hello announced on this link. */
  sentRole?: "peer" | "superpeer";
  /** The tip hash our own hello announced on this link. */
  sentTip?: string;
  /** A peer list that arrived before we had taken this link as our hub's (the hub sends it on admission). */
  earlyPeers?: readonly PeerEntry[];
}

/** Callbacks and timings shared by all links. */
export interface LinkSetOptions {
  pingIntervalMs: number;
  deadAfterMs: number;
  transport: Transport;
  clock: Clock;
  random: () => number;
  onMessage: (link: Link, msg: Message) => Promise<void> | void;
  onMisbehaviour: (link: Link, score: number, reason: string) => void;
  onClose: (link: Link) => void;
  myHello: () => Omit<HelloMessage, "type">;
  /** Why a hello is refused (a reject is sent and the link closed), or undefined. */
  checkHello: (hello: HelloMessage) => { code: string; reason: string } | undefined;
}

interface Internal extends Link {
  greeted: Promise<HelloMessage | null>;
  resolveHello: (h: HelloMessage | null) => void;
}

/** The set of open links. */
export class LinkSet {
  #opts: LinkSetOptions;
  #byConn = new Map<Connection, Internal>();

  constructor(opts: LinkSetOptions) {
    this.#opts = opts;
  }

  /** Open links. */
  get size(): number {
    return this.#byConn.size;
  }

  /** Links still waiting for the far end's hello, oldest first. */
  waiting(): Link[] {
    return [...this.#byConn.values()].filter((l) => !l.hello);
  }

  /** Links whose hello was accepted. */
  greeted(): Link[] {
    return [...this.#byConn.values()].filter((l) => l.hello);
  }

  /** Options for `connect()` so its Connection reports to this set. */
  connOptions(): ConnectionOptions {
    return {
      pingIntervalMs: this.#opts.pingIntervalMs,
      deadAfterMs: this.#opts.deadAfterMs,
      clock: this.#opts.clock,
      random: this.#opts.random,
      onMessage: (msg, conn) => this.#dispatch(conn, msg),
      onMisbehaviour: (score, reason, conn) => {
        const link = this.#byConn.get(conn);
        if (link) this.#opts.onMisbehaviour(link, score, reason);
      },
    };
  }

  /** Wraps an accepted stream. */
  adopt(socket: Stream, inbound: boolean): Link {
    return this.wrap(new Conn(socket, this.connOptions()), inbound);
  }

  /** Registers a Connection made with `connOptions()` and sends our hello. */
  wrap(conn: Connection, inbound: boolean): Link {
    let resolveHello!: (h: HelloMessage | null) => void;
    const greeted = new Promise<HelloMessage | null>((r) => resolveHello = r);
    const link: Internal = { conn, inbound, member: false, yielded: false, greeted, resolveHello };
    this.#byConn.set(conn, link);
    conn.closed.then(() => {
      this.#byConn.delete(conn);
      link.resolveHello(null);
      this.#opts.onClose(link);
    });
    const hello = this.#opts.myHello();
    link.sentHello = hello;
    link.sentRole = hello.role;
    link.sentTip = hello.tip.hash;
    conn.send({ type: "hello", ...hello });
    return link;
  }

  /**
   * Dials `addr` ("host:port" or "host port") and waits for its hello: null when the address is bad or
   * nobody answers; otherwise the link and the hello (null when refused or silent).
   */
  async dial(addr: string, connectTimeoutMs: number, helloTimeoutMs: number): Promise<
    { link: Link; hello: HelloMessage | null } | null
  > {
    let conn: Connection;
    try {
      const hp = parseHostPort(addr, { allowSpace: true });
      conn = new Conn(await this.#opts.transport.dial(hp, connectTimeoutMs), this.connOptions());
    } catch {
      return null;
    }
    const link = this.wrap(conn, false);
    return { link, hello: await this.greet(link, helloTimeoutMs) };
  }

  /** Where a Peer we dialled sends us: it answers with a redirect or a reject, then closes (cut after `ms`). */
  async redirectOf(link: Link, ms: number): Promise<string | undefined> {
    const clock = this.#opts.clock;
    let timer: unknown;
    await Promise.race([
      link.conn.closed,
      new Promise((r) => timer = clock.setTimeout(() => r(undefined), ms)),
    ]);
    clock.clearTimeout(timer);
    await link.conn.close("no redirect");
    return link.redirect;
  }

  /** Waits for the far end's accepted hello; null (and the link closed) on refusal, silence or close. */
  async greet(link: Link, timeoutMs: number): Promise<HelloMessage | null> {
    const clock = this.#opts.clock;
    let timer: unknown;
    const timeout = new Promise<null>((r) => timer = clock.setTimeout(() => r(null), timeoutMs));
    const hello = await Promise.race([(link as Internal).greeted, timeout]);
    clock.clearTimeout(timer);
    if (!hello) {
      await link.conn.close(link.conn.isClosed ? "closed" : "no hello");
      return null;
    }
    return hello;
  }

  async #dispatch(conn: Connection, msg: Message): Promise<void> {
    const link = this.#byConn.get(conn);
    if (!link) return;
    if (!link.hello) {
      if (msg.type === "reject") {
        link.rejectCode = msg.code;
        return;
      }
      if (msg.type !== "hello") {
        this.#opts.onMisbehaviour(link, MISBEHAVIOUR.message, `${msg.type} before hello`);
        conn.close("no hello");
        return;
      }
      const refusal = this.#opts.checkHello(msg);
      if (refusal) {
        conn.send({ type: "reject", ...refusal });
        link.rejectCode = refusal.code;
        await conn.close(`refused: ${refusal.reason}`, { flush: true });
        return;
      }
      link.hello = msg;
      link.resolveHello(msg);
      return;
    }
    if (msg.type === "hello") return; // one per link
    await this.#opts.onMessage(link, msg);
  }

  /** Closes every link. */
  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.#byConn.keys()].map((c) => c.close(reason)));
  }
}
