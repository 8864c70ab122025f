/**
 * Links: connections to other nodes with the handshake done (or under way). Each side sends `hello` with a
 * fresh nonce, then a `proof` of its node id over both ids and both nonces (`identity.ts`); only a proven
 * hello is the link's `hello`, so a link's node id is a fact. A link knows its connection, its direction and
 * both hellos; what a link is *for* (a member, our SuperPeer, a mesh link) is the network's business and kept
 * by the network in a map of its own.
 * @module
 */
import { hostGroup } from "./address.ts";
import type { Connection, ConnectionOptions } from "./connection.ts";
import { Connection as Conn, MISBEHAVIOUR } from "./connection.ts";
import {
  type HelloMessage,
  LEGACY_PROTOCOL_VERSION,
  type Message,
  parseHostPort,
  PROTOCOL_VERSION,
} from "./messages.ts";
import { fromHex, toHex } from "../crypto/hex.ts";
import { freshNonce, type NodeIdentity, proofMessage, type SignatureCheck } from "./identity.ts";
import type { Clock, Stream, Transport } from "./transport.ts";

/**
 * Why a hello that passed the network's checks is still refused on this link, or undefined: a node of the
 * current protocol must send a nonce (it proves its id), and one of `LEGACY_PROTOCOL_VERSION` may only dial
 * us to be served, never be dialled by us (we would be asking it to serve us, or to link as a SuperPeer).
 */
export function helloRefusal(
  hello: HelloMessage,
  inbound: boolean,
): { code: string; reason: string } | undefined {
  if (hello.protocol === LEGACY_PROTOCOL_VERSION) {
    return inbound ? undefined : {
      code: "protocol",
      reason: `protocol ${hello.protocol} may only join as a Peer until it upgrades to ${PROTOCOL_VERSION}`,
    };
  }
  if (hello.nonce === undefined) {
    return {
      code: "protocol",
      reason: `hello without a nonce: protocol ${PROTOCOL_VERSION} proves node ids`,
    };
  }
  return undefined;
}

/** True for a link to a node of the previous protocol (`LEGACY_PROTOCOL_VERSION`): a Peer that proved no id. */
export function isLegacy(link: { readonly hello?: HelloMessage }): boolean {
  return link.hello?.protocol === LEGACY_PROTOCOL_VERSION;
}

/** One link and what we know of its far end. */
export interface Link {
  /** The framed connection. */
  readonly conn: Connection;
  /** True when the far end dialled us. */
  readonly inbound: boolean;
  /** When the link was opened (clock ms). */
  readonly openedAt: number;
  /** The far end's hello, once received, accepted and its node id proven. */
  hello?: HelloMessage;
  /** The code of a `reject` it sent before its hello. */
  rejectCode?: string;
  /** The tip hash our own hello announced on this link. */
  sentTip?: string;
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
  /** Our hello but for its nonce, which each link gets fresh. */
  myHello: () => Omit<HelloMessage, "type" | "nonce">;
  /** Why a hello is refused (a reject is sent and the link closed), or undefined. */
  checkHello: (hello: HelloMessage) => { code: string; reason: string } | undefined;
  /** This node's key, which signs our proofs. */
  identity: NodeIdentity;
  /** Checks the far end's proof. */
  checkSignature: SignatureCheck;
}

interface Internal extends Link {
  greeted: Promise<HelloMessage | null>;
  resolveHello: (h: HelloMessage | null) => void;
  /** The hello we sent, nonce included. */
  mine: Omit<HelloMessage, "type"> & { nonce: string };
  /** The far end's hello, accepted but not proven yet. */
  claimed?: HelloMessage & { nonce: string };
}

/** Misbehaviour score of a failed proof of node id: a forged or relayed identity. */
export const BAD_PROOF_SCORE = MISBEHAVIOUR.message;

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

  /** Every open link, oldest first. */
  all(): Link[] {
    return [...this.#byConn.values()];
  }

  /** Links still waiting for the far end's hello, oldest first. */
  waiting(): Link[] {
    return this.all().filter((l) => !l.hello);
  }

  /** Open links whose far end is the host `host` is on: its IPv4 address, or its IPv6 /64 (`hostGroup`). */
  fromHost(host: string): number {
    const group = hostGroup(host);
    let n = 0;
    for (const l of this.#byConn.values()) if (hostGroup(l.conn.remote.hostname) === group) n++;
    return n;
  }

  #connOptions(): ConnectionOptions {
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

  /** Wraps a stream (accepted or dialled), registers it and sends our hello. */
  adopt(stream: Stream, inbound: boolean): Link {
    const conn = new Conn(stream, this.#connOptions());
    let resolveHello!: (h: HelloMessage | null) => void;
    const greeted = new Promise<HelloMessage | null>((r) => resolveHello = r);
    const mine = { ...this.#opts.myHello(), nonce: freshNonce() };
    const link: Internal = { conn, inbound, openedAt: this.#opts.clock.now(), greeted, resolveHello, mine };
    this.#byConn.set(conn, link);
    conn.closed.then(() => {
      this.#byConn.delete(conn);
      link.resolveHello(null);
      this.#opts.onClose(link);
    });
    link.sentTip = mine.tip.hash;
    conn.send({ type: "hello", ...mine });
    return link;
  }

  /**
   * Dials `addr` ("host:port" or "host port") and waits for its hello: null when the address is bad or
   * nobody answers; otherwise the link and the hello (null when refused or silent, the link then closed).
   */
  async dial(addr: string, connectTimeoutMs: number, helloTimeoutMs: number): Promise<
    { link: Link; hello: HelloMessage | null } | null
  > {
    let stream: Stream;
    try {
      stream = await this.#opts.transport.dial(parseHostPort(addr, { allowSpace: true }), connectTimeoutMs);
    } catch {
      return null;
    }
    const link = this.adopt(stream, false);
    return { link, hello: await this.greet(link, helloTimeoutMs) };
  }

  /** Waits for the far end's accepted hello; null (and the link closed) on refusal, silence or close. */
  async greet(link: Link, timeoutMs: number): Promise<HelloMessage | null> {
    const clock = this.#opts.clock;
    let timer: unknown;
    const timeout = new Promise<null>((r) => timer = clock.setTimeout(() => r(null), timeoutMs));
    const hello = await Promise.race([(link as Internal).greeted, timeout]);
    clock.clearTimeout(timer);
    if (!hello) {
      await link.conn.close(link.conn.isClosed ? "closed" : "no hello", { flush: true });
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
      if (link.claimed) return await this.#proven(link, msg);
      if (msg.type !== "hello") {
        this.#opts.onMisbehaviour(link, MISBEHAVIOUR.message, `${msg.type} before hello`);
        conn.close("no hello");
        return;
      }
      const refusal = this.#opts.checkHello(msg) ?? helloRefusal(msg, link.inbound);
      if (refusal) return await this.#refuse(link, refusal);
      if (msg.protocol === LEGACY_PROTOCOL_VERSION) {
        // The previous protocol proves nothing: its node id and role are claims. It dialled us to be served
        // (`helloRefusal` took care of that), so it is a Peer whatever its hello says, and has no proof to give.
        const legacy: HelloMessage = { ...msg, role: "peer" };
        link.hello = legacy;
        link.resolveHello(legacy);
        return;
      }
      const claimed = msg as HelloMessage & { nonce: string };
      link.claimed = claimed;
      const mine = link.mine;
      const signature = await this.#opts.identity.sign(proofMessage({
        protocol: mine.protocol,
        network: mine.network,
        genesis: mine.genesis,
        signer: mine.nodeId,
        other: claimed.nodeId,
        signerNonce: mine.nonce,
        otherNonce: claimed.nonce,
        listen: mine.listen ?? "",
      }));
      conn.send({ type: "proof", signature: toHex(signature) });
      return;
    }
    if (msg.type === "hello" || msg.type === "proof") return; // one each per link
    await this.#opts.onMessage(link, msg);
  }

  /**
   * The far end's `proof`: its signature over its hello's fields, its id, our id and both nonces. Anything
   * else first, or a proof that fails, is scored and the link closed: the node id was not proven.
   */
  async #proven(link: Internal, msg: Message): Promise<void> {
    const claimed = link.claimed!;
    if (msg.type !== "proof") {
      this.#opts.onMisbehaviour(link, BAD_PROOF_SCORE, `${msg.type} before proof of node id`);
      await link.conn.close("no proof of node id");
      return;
    }
    const ok = await this.#opts.checkSignature(
      claimed.nodeId,
      fromHex(msg.signature),
      proofMessage({
        protocol: claimed.protocol,
        network: claimed.network,
        genesis: claimed.genesis,
        signer: claimed.nodeId,
        other: link.mine.nodeId,
        signerNonce: claimed.nonce,
        otherNonce: link.mine.nonce,
        listen: claimed.listen ?? "",
      }),
    );
    if (link.conn.isClosed) return;
    if (!ok) {
      this.#opts.onMisbehaviour(link, BAD_PROOF_SCORE, "bad proof of node id");
      return await this.#refuse(link, { code: "proof", reason: "the proof does not match the node id" });
    }
    link.hello = claimed;
    link.resolveHello(claimed);
  }

  async #refuse(link: Link, refusal: { code: string; reason: string }): Promise<void> {
    link.conn.send({ type: "reject", ...refusal });
    link.rejectCode = refusal.code;
    await link.conn.close(`refused: ${refusal.reason}`, { flush: true });
  }

  /** Closes every link. */
  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.#byConn.keys()].map((c) => c.close(reason)));
  }
}
