/**
 * The handshake and asking: our `hello` and the check of theirs, taking inbound sockets within the caps
 * (evicting a silent socket or an idle mesh link for a newcomer), answering what a dialler asks for after its
 * hello, and dialling an address to ask for a join, a mesh link or addresses (`ask`, `onAnswer`). `Network`
 * keeps the links' states and the role; this class reaches them through `HandshakeHooks`.
 * @module
 */
import type { AddressBook } from "./address_book.ts";
import { type BanList, MALFORMED_SCORE } from "./ban.ts";
import { HANDSHAKE_TIMEOUT_MS, MAX_WAITING_LINKS, MESH_DEGREE } from "./config.ts";
import { Directory } from "./directory.ts";
import type { LedgerPort } from "./ledger_port.ts";
import { isLegacy, type Link, type LinkSet } from "./link.ts";
import { type AskResult, entryOf, type Intent, type LinkState, type RoleState } from "./link_state.ts";
import {
  type HelloMessage,
  MAX_ADDRS,
  type Message,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type SuperPeerEntry,
} from "./messages.ts";
import { type MeshCandidate, meshEvictionVictim, overHostLimit, sample } from "./overlay.ts";
import type { Clock, Listener } from "./transport.ts";

/** What the handshake needs of the network: the links and their states, the role, and where requests go. */
export interface HandshakeHooks {
  /** This node's id. */
  readonly nodeId: string;
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** The ledger's network, genesis and tip, for our hello and the check of theirs. */
  readonly ledger: LedgerPort;
  /** Misbehaviour scores and bans. */
  readonly bans: BanList;
  /** Where addresses were heard of, greeted and failed. */
  readonly book: AddressBook;
  /** This node's links. */
  readonly links: LinkSet;
  /** Peers this node serves at most as a SuperPeer (the socket cap follows from it). */
  readonly capacity: number;
  /** Dial timeout in ms. */
  readonly connectTimeoutMs: number;
  /** The address others dial to reach this node. */
  advertise(): string;
  /** True once the network is stopping. */
  stopping(): boolean;
  /** Where this node stands now. */
  role(): RoleState;
  /** What each link is for (read only: changes go through `setState`). */
  states(): ReadonlyMap<Link, LinkState>;
  /** Sets what `link` is for. */
  setState(link: Link, state: LinkState): void;
  /** Directory entries other than our own. */
  others(): SuperPeerEntry[];
  /** A `join` to this SuperPeer. */
  admit(link: Link, primary: boolean, holds?: string): void;
  /** A `mesh` request to this SuperPeer. */
  acceptMesh(link: Link): void;
  /** Merges the directory entries a welcome brought. */
  mergeEntries(entries: readonly SuperPeerEntry[], from: Link): Promise<void>;
  /** A link sent something refused, with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
}

/** Hellos, inbound sockets and asking, for the network behind `HandshakeHooks`. */
export class Handshake {
  #h: HandshakeHooks;

  /** The handshake of the network behind `hooks`. */
  constructor(hooks: HandshakeHooks) {
    this.#h = hooks;
  }

  /** Our `hello`, as `LinkSet` sends it on every link. */
  hello(): Omit<HelloMessage, "type"> & { since: null } {
    const tip = this.#h.ledger.tip();
    return {
      protocol: PROTOCOL_VERSION,
      network: this.#h.ledger.network,
      genesis: this.#h.ledger.genesis,
      nodeId: this.#h.nodeId,
      listen: this.#h.advertise(),
      address: this.#h.ledger.walletAddress,
      tip: { hash: tip.hash, height: tip.height, work: tip.work.toString(16) },
      role: this.#h.role().kind === "superpeer" ? "superpeer" : "peer",
      // Protocol 1 parsers require this field; with it they read our hello and then our reject's reason.
      since: null,
    };
  }

  /** Why a hello is refused, or undefined when it is welcome. */
  checkHello(h: HelloMessage): { code: string; reason: string } | undefined {
    if (h.network !== this.#h.ledger.network) {
      return { code: "network", reason: `this node is on ${this.#h.ledger.network}, not ${h.network}` };
    }
    if (h.genesis !== this.#h.ledger.genesis) return { code: "genesis", reason: "different genesis block" };
    if (h.protocol < MIN_PROTOCOL_VERSION) {
      return {
        code: "protocol",
        reason: `protocol ${h.protocol} is too old: this node speaks ${PROTOCOL_VERSION}; upgrade peerchain`,
      };
    }
    if (h.nodeId === this.#h.nodeId) return { code: "self", reason: "connected to myself" };
    // A banned key, from whatever address (its host's own ban is short: DHCP may give it to another machine).
    if (this.#h.bans.isKeyBanned(h.nodeId)) return { code: "banned", reason: "this node key is banned here" };
    return undefined;
  }

  /** Takes inbound sockets within the caps: banned hosts, host limits, silent sockets, full slots. */
  async acceptLoop(listener: Listener): Promise<void> {
    for await (const stream of listener) {
      const host = stream.remote.hostname;
      if (
        this.#h.stopping() || this.#h.bans.isBanned(host) || overHostLimit(host, this.#h.links.fromHost(host))
      ) {
        stream.close();
        continue;
      }
      // Silent sockets must not lock honest peers out: past a few, the oldest silent one makes room.
      const waiting = this.#h.links.waiting();
      if (waiting.length >= MAX_WAITING_LINKS) waiting[0].conn.close("no hello: making room");
      if (this.#h.links.size >= this.#socketCap()) {
        // Full: a socket that has not said what it wants yet (no join, no mesh) makes room; links that
        // serve someone are never pushed out by a mere connection.
        const idle = this.#h.links.all().find((l) =>
          l.inbound && !l.conn.isClosed && this.#h.states().get(l)?.kind === "pending"
        );
        // Else an inbound mesh link that relayed no block makes room (never the oldest proven ones): links
        // that say they are SuperPeers cannot fill every slot and keep an honest newcomer out, from
        // loopback neither.
        const victim = idle ?? this.#meshVictim();
        if (!victim) {
          stream.close();
          continue;
        }
        victim.conn.close(idle ? "idle: making room" : "evicted: an idle mesh link makes room");
      }
      this.#onInbound(this.#h.links.adopt(stream, true));
    }
  }

  /** The inbound mesh link to evict for a newcomer, if any (`meshEvictionVictim`). */
  #meshVictim(): Link | undefined {
    const mesh: MeshCandidate<Link>[] = [];
    for (const [l, s] of this.#h.states()) {
      if (s.kind !== "mesh" || l.conn.isClosed) continue;
      mesh.push({
        id: l,
        host: l.conn.remote.hostname,
        since: l.openedAt,
        inbound: l.inbound,
        lastBlock: s.lastBlock,
      });
    }
    return meshEvictionVictim(mesh);
  }

  /** Sockets at most: every Peer slot, room for mesh links both ways, and the handshakes under way. */
  #socketCap(): number {
    return this.#h.capacity + 2 * MESH_DEGREE.high + MAX_WAITING_LINKS;
  }

  async #onInbound(link: Link): Promise<void> {
    this.#h.setState(link, { kind: "pending" });
    const hello = await this.#h.links.greet(link, HANDSHAKE_TIMEOUT_MS);
    if (!hello) return;
    // A legacy node's address is a claim, and it may never serve: not one to dial later.
    if (hello.listen && !isLegacy(link)) this.#h.book.add(hello.listen, "heard");
    // It must say what it wants soon; a socket that only answers pings holds no slot for long.
    this.#h.clock.setTimeout(() => {
      if (this.#h.states().get(link)?.kind === "pending") link.conn.close("no join after hello");
    }, HANDSHAKE_TIMEOUT_MS);
  }

  /** Answers what a dialler asks for after its hello. */
  async onRequest(link: Link, msg: Message): Promise<void> {
    const r = this.#h.role();
    if (msg.type === "join" && r.kind === "superpeer") return this.#h.admit(link, msg.primary, msg.holds);
    if (msg.type === "mesh" && r.kind === "superpeer" && link.hello?.role === "superpeer") {
      return this.#h.acceptMesh(link);
    }
    if (msg.type === "join" || msg.type === "mesh" || msg.type === "getaddr") {
      if (r.kind === "joining") {
        link.conn.send({ type: "reject", code: "busy", reason: "looking for a SuperPeer; retry shortly" });
      } else {
        link.conn.send({ type: "redirect", to: this.#myAddrs() });
      }
      await link.conn.close("redirected", { flush: true });
      return;
    }
    this.#h.misbehaved(link, MALFORMED_SCORE, `${msg.type} before join`);
    link.conn.close(`${msg.type} before join`);
  }

  /** SuperPeers to name when redirecting: ours (as a Peer), or ourselves and some we know (as one). */
  #myAddrs(): string[] {
    const r = this.#h.role();
    if (r.kind === "peer") return [r.primary, r.backup].filter((l) => l).map((l) => entryOf(l!).listen);
    const others = sample(this.#h.others(), MAX_ADDRS - 1, this.#h.random).map((e) => e.listen);
    return r.kind === "superpeer" ? [this.#h.advertise(), ...others] : others;
  }

  // ---- asking others ----

  /** Dials `addr`, and once it said hello asks it for `intent` (or only for addresses if it is no SuperPeer). */
  async ask(addr: string, intent: Intent): Promise<AskResult> {
    const r = await this.#h.links.dial(addr, this.#h.connectTimeoutMs, HANDSHAKE_TIMEOUT_MS);
    if (!r?.hello) {
      if (r?.link.rejectCode === "busy") return { kind: "busy" };
      this.#h.book.failed(addr);
      return { kind: "dead" };
    }
    const { link, hello } = r;
    if (hello.listen) this.#h.book.add(hello.listen, "heard");
    const want: Intent = hello.role === "superpeer" ? intent : { kind: "getaddr" };
    if (hello.role === "superpeer") this.#h.book.greeted(addr);
    const result = new Promise<AskResult>((resolve) => {
      this.#h.setState(link, { kind: "asking", intent: want, resolve, addr });
      link.conn.closed.then(() => resolve(link.rejectCode === "busy" ? { kind: "busy" } : { kind: "dead" }));
    });
    const timer = this.#h.clock.setTimeout(() => link.conn.close("no answer"), HANDSHAKE_TIMEOUT_MS);
    if (want.kind === "join") {
      link.conn.send({
        type: "join",
        primary: want.primary,
        ...(want.holds === undefined ? {} : { holds: want.holds }),
      });
    } else link.conn.send({ type: want.kind });
    const out = await result;
    this.#h.clock.clearTimeout(timer);
    return out;
  }

  /** The answer to something we asked for, on a link in state "asking". */
  onAnswer(link: Link, s: Extract<LinkState, { kind: "asking" }>, msg: Message): void {
    switch (msg.type) {
      case "welcome": {
        // It proved its node id and answered our join or mesh: greeted (its role in hello alone is a claim).
        if (s.intent.kind === "join" || s.intent.kind === "mesh") this.#h.book.welcomed(s.addr);
        if (s.intent.kind === "join") {
          const dir = new Directory();
          this.#h.setState(link, {
            kind: "superpeer",
            primary: s.intent.primary,
            roster: [...msg.members],
            dir,
            addr: s.addr,
          });
          // Fellow Peers are where a SuperPeer left alone after a failover looks for the rest (`#probe`).
          for (const p of msg.members) this.#h.book.add(p.listen, "heard");
        } else if (s.intent.kind === "mesh") {
          this.#h.setState(link, { kind: "mesh", lastBlock: 0, lastTx: 0, addr: s.addr });
        } else return void link.conn.close("unasked welcome");
        void this.#h.mergeEntries(msg.superpeers, link);
        s.resolve({ kind: "linked", link });
        return;
      }
      case "full":
        s.resolve({
          kind: "full",
          try: msg.try,
          promote: msg.promote,
          by: { nodeId: entryOf(link).nodeId, host: link.conn.remote.hostname },
        });
        link.conn.close("full");
        return;
      case "redirect":
        s.resolve({ kind: "redirect", to: msg.to, superpeer: link.hello?.role === "superpeer" });
        link.conn.close("redirected");
        return;
      case "reject":
        link.rejectCode = msg.code;
        link.conn.close(`rejected: ${msg.reason}`);
        return;
      default:
        return; // pings aside, an honest SuperPeer says nothing else first
    }
  }
}
