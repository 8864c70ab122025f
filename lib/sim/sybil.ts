/**
 * Sybil SuperPeers for the simulation (issue 19): K adversaries, each with its own valid node key, that speak
 * the real protocol (`LinkSet`: a hello as SuperPeer with a fresh nonce, a proof signed by their own key; entries
 * signed by their own key) and lie in every claim they can make about themselves:
 * - each publishes an entry claiming capacity 10,000 and load 0, re-signed every heartbeat with a sequence
 *   number as far ahead of the clock as receivers still take (`DIR_MAX_SEQ_AHEAD_MS`), and pushes the whole
 *   band's entries down every mesh link it holds;
 * - it dials honest SuperPeers for mesh links (so their directories and gossip carry the band) and accepts
 *   every mesh and join;
 * - it answers a `join` with a welcome naming only the band (a capture attempt), or, in the `mixed` answers,
 *   with `full` + `promote` pointing at other Sybils, or with a redirect to two other Sybils (a loop);
 * - it answers `getaddr` with a redirect to two other Sybils (a loop);
 * - it relays nothing: blocks and transactions sent to it are swallowed, and it sends no block to anyone;
 * - with `flood`, it sends pages of 500 fresh entries down each mesh link it dialled, each entry signed by a key
 *   minted for it (valid: one machine can make keys without end), naming silent addresses (issue 19's gossip
 *   flood);
 * - with `hijack`, it also claims honest SuperPeers' node ids: an entry naming an honest id at its own address,
 *   far ahead, signed with its own key (it holds no other), once per heartbeat on each mesh link.
 *
 * They live on one host (distinct ports) or on K hosts. They never hold another node's key: they cannot sign
 * for an honest node, so they attack only with claims about themselves, as issue 19's rule allows them to.
 * @module
 */
import { DIR_MAX_SEQ_AHEAD_MS } from "../net/config.ts";
import type { NodeIdentity, SignatureCheck } from "../net/identity.ts";
import { entryMessage } from "../net/identity.ts";
import { type Link, LinkSet } from "../net/link.ts";
import type { HelloMessage, Message, SuperPeerEntry } from "../net/messages.ts";
import type { Clock, Transport } from "../net/transport.ts";
import { toHex } from "../crypto/hex.ts";
import { type Random, randomInt } from "./random.ts";
import { sample } from "../net/overlay.ts";

/** The capacity every Sybil claims. */
export const SYBIL_CAPACITY = 10_000;
/** A Sybil re-signs its entry (a fresh, far-ahead sequence number) this often, in ms. */
export const SYBIL_HEARTBEAT_MS = 5_000;
/** A Sybil dials for a mesh link this often while it holds fewer than `meshTarget`, in ms. */
export const SYBIL_DIAL_MS = 1_000;
/** Honest SuperPeer addresses one Sybil remembers at most (it learns them from welcomes and gossip). */
export const SYBIL_KNOWN_MAX = 4_096;

/** How Sybils answer a `join`: always take the Peer, or a mix of taking it, `full`+`promote` and redirects. */
export type SybilAnswers = "accept" | "mixed";

/** What one Sybil needs from the world. */
export interface SybilSetup {
  /** Its own key (never another's). */
  identity: NodeIdentity;
  /** Checks the far end's proofs. */
  checkSignature: SignatureCheck;
  /** Its host and port. */
  host: string;
  /** Its port. */
  port: number;
  /** Its host's transport. */
  transport: Transport;
  /** Its clock. */
  clock: Clock;
  /** Seeded random numbers. */
  random: Random;
  /** What its hello says of the chain (network, genesis, tip): a Sybil claims the genesis tip. */
  chain: {
    network: "regtest" | "main";
    genesis: string;
    tip: { hash: string; height: number; work: string };
  };
  /** Addresses to dial first (the tracker file's). */
  seeds: readonly string[];
  /** Makes a fresh key (for `flood`). */
  mint?: () => NodeIdentity;
}

/** Pages of fresh entries a flooding Sybil sends down each mesh link it dialled. */
export interface SybilFlood {
  /** Pages sent, one every `everyMs`. */
  pages: number;
  /** Entries per page. */
  perPage: number;
  /** Time between pages, in ms. */
  everyMs: number;
}

/** What a Sybil's link is for. */
type SybilLink = "pending" | "mesh" | "member";

/** K Sybils that know each other's entries and addresses. */
export class SybilBand {
  /** The Sybils, in creation order. */
  readonly members: Sybil[] = [];
  readonly #ids = new Set<string>();
  readonly #answers: SybilAnswers;
  readonly #meshTarget: number;
  /** Whether its Sybils also send entries naming honest node ids at their own addresses. */
  readonly hijack: boolean;
  /** Whether (and how) its Sybils flood their mesh links with fresh entries. */
  readonly flood: SybilFlood | undefined;

  /**
   * A band answering joins with `answers`, each Sybil holding up to `meshTarget` mesh links it dialled, and
   * with `hijack` also forging entries of honest SuperPeers.
   */
  constructor(
    opts: { answers?: SybilAnswers; meshTarget?: number; hijack?: boolean; flood?: SybilFlood } = {},
  ) {
    this.#answers = opts.answers ?? "mixed";
    this.#meshTarget = opts.meshTarget ?? 8;
    this.hijack = opts.hijack ?? false;
    this.flood = opts.flood;
  }

  /** Adds a Sybil (not started). */
  add(setup: SybilSetup): Sybil {
    const s = new Sybil(this, setup, this.#answers, this.#meshTarget);
    this.members.push(s);
    this.#ids.add(s.nodeId);
    return s;
  }

  /** True when `nodeId` is one of the band's keys. */
  has(nodeId: string): boolean {
    return this.#ids.has(nodeId);
  }

  /** Every Sybil's latest signed entry. */
  entries(): SuperPeerEntry[] {
    return this.members.flatMap((s) => s.entry ? [s.entry] : []);
  }

  /** Up to `n` other Sybils' addresses, at random. */
  others(self: Sybil, n: number, random: Random): string[] {
    return sample(this.members.filter((s) => s !== self && s.running), n, random).map((s) => s.listen);
  }

  /** Counters summed over the band. */
  totals(): SybilCounts {
    const t: SybilCounts = { joinsTaken: 0, full: 0, redirects: 0, meshLinks: 0, swallowed: 0, flooded: 0 };
    for (const s of this.members) {
      for (const k of Object.keys(t) as (keyof SybilCounts)[]) t[k] += s.counts[k];
    }
    return t;
  }
}

/** What a Sybil did. */
export interface SybilCounts {
  /** Joins answered with a welcome (Peers it holds, for a while). */
  joinsTaken: number;
  /** Joins answered with `full` and `promote`. */
  full: number;
  /** Joins and getaddrs answered with a redirect to other Sybils. */
  redirects: number;
  /** Mesh links it held (accepted or dialled). */
  meshLinks: number;
  /** Blocks and transactions it received and relayed to nobody. */
  swallowed: number;
  /** Fresh entries it flooded. */
  flooded: number;
}

/** One Sybil SuperPeer. */
export class Sybil {
  /** Its node id (its own key). */
  readonly nodeId: string;
  /** Where it listens. */
  readonly listen: string;
  /** Its host. */
  readonly host: string;
  /** Its latest signed entry. */
  entry: SuperPeerEntry | undefined;
  /** True between `start` and `kill`. */
  running = false;
  /** What it did. */
  readonly counts: SybilCounts = {
    joinsTaken: 0,
    full: 0,
    redirects: 0,
    meshLinks: 0,
    swallowed: 0,
    flooded: 0,
  };
  readonly #band: SybilBand;
  readonly #s: SybilSetup;
  readonly #answers: SybilAnswers;
  readonly #meshTarget: number;
  readonly #links: LinkSet;
  readonly #kind = new Map<Link, SybilLink>();
  /** Honest SuperPeer addresses it heard of, to dial. */
  readonly #known = new Set<string>();
  /** Honest SuperPeer node ids it heard of, to claim with `hijack`. */
  readonly #honestIds = new Set<string>();
  #dialling = 0;
  #seq = 0;

  /** A Sybil of `band`; see `SybilBand.add`. */
  constructor(band: SybilBand, setup: SybilSetup, answers: SybilAnswers, meshTarget: number) {
    this.#band = band;
    this.#s = setup;
    this.#answers = answers;
    this.#meshTarget = meshTarget;
    this.nodeId = setup.identity.nodeId;
    this.host = setup.host;
    this.listen = `${setup.host}:${setup.port}`;
    for (const a of setup.seeds) this.#known.add(a);
    this.#links = new LinkSet({
      pingIntervalMs: 2000,
      deadAfterMs: 8000,
      transport: setup.transport,
      clock: setup.clock,
      random: setup.random,
      onMessage: (link, msg) => this.#onMessage(link, msg),
      onMisbehaviour: () => {},
      onClose: (link) => void this.#kind.delete(link),
      myHello: () => this.#hello(),
      checkHello: () => undefined,
      identity: setup.identity,
      checkSignature: setup.checkSignature,
    });
  }

  /** Listens, signs its first entry and starts dialling honest SuperPeers. */
  async start(): Promise<void> {
    this.running = true;
    const listener = this.#s.transport.listen({ hostname: this.host, port: this.#s.port });
    await this.#publish();
    this.#every(SYBIL_HEARTBEAT_MS, () => void this.#publish().then(() => this.#pushEntries()));
    this.#every(SYBIL_DIAL_MS, () => this.#dialSome());
    for await (const stream of listener) {
      const link = this.#links.adopt(stream, true);
      this.#kind.set(link, "pending");
      this.#links.greet(link, 3000);
    }
  }

  /** Links it holds now, by kind. */
  linkCounts(): { mesh: number; member: number } {
    let mesh = 0, member = 0;
    for (const k of this.#kind.values()) {
      if (k === "mesh") mesh++;
      else if (k === "member") member++;
    }
    return { mesh, member };
  }

  #every(ms: number, fn: () => void): void {
    const tick = () => {
      if (!this.running) return;
      fn();
      this.#s.clock.setTimeout(tick, ms * (0.8 + 0.4 * this.#s.random()));
    };
    this.#s.clock.setTimeout(tick, ms * this.#s.random());
  }

  #hello(): Omit<HelloMessage, "type" | "nonce"> {
    return {
      protocol: 3,
      network: this.#s.chain.network,
      genesis: this.#s.chain.genesis,
      nodeId: this.nodeId,
      listen: this.listen,
      address: "sybil",
      tip: this.#s.chain.tip,
      role: "superpeer",
    };
  }

  /** Re-signs its entry: capacity 10,000, load 0, a sequence number as far ahead as receivers take. */
  async #publish(): Promise<void> {
    const seq = Math.max(this.#seq + 1, this.#s.clock.now() + DIR_MAX_SEQ_AHEAD_MS - 2 * SYBIL_HEARTBEAT_MS);
    this.#seq = seq;
    const fields = {
      nodeId: this.nodeId,
      listen: this.listen,
      peers: 0,
      load: 0,
      capacity: SYBIL_CAPACITY,
      seq,
    };
    const sig = await this.#s.identity.sign(entryMessage(fields));
    this.entry = { ...fields, sig: toHex(sig) };
  }

  /** Sends the band's entries down every mesh link (with `hijack`, and a forged one). */
  async #pushEntries(): Promise<void> {
    const add = this.#band.entries();
    const victim = [...this.#honestIds][randomInt(this.#s.random, Math.max(1, this.#honestIds.size))];
    if (this.#band.hijack && victim !== undefined) {
      const forged = { ...this.entry!, nodeId: victim };
      add.push({ ...forged, sig: toHex(await this.#s.identity.sign(entryMessage(forged))) });
    }
    for (const [link, kind] of this.#kind) {
      if (kind === "mesh") link.conn.send({ type: "superpeers", add, remove: [] });
    }
  }

  /** Dials one honest SuperPeer it heard of (`to`, or one at random), while it holds fewer mesh links than its target. */
  async #dialSome(to?: string): Promise<void> {
    if (this.linkCounts().mesh + this.#dialling >= this.#meshTarget || !this.#known.size) return;
    const linked = new Set<string>();
    for (const l of this.#kind.keys()) if (l.hello?.listen) linked.add(l.hello.listen);
    const open = [...this.#known].filter((a) => !linked.has(a));
    if (!open.length) return;
    const addr = to ?? open[randomInt(this.#s.random, open.length)];
    this.#dialling++;
    try {
      const r = await this.#links.dial(addr, 1000, 3000);
      if (!r) return void this.#known.delete(addr);
      if (!r.hello || !this.running) return void r.link.conn.close("no");
      this.#kind.set(r.link, "pending");
      r.link.conn.send({ type: "mesh" });
    } finally {
      this.#dialling--;
    }
  }

  /** Sends `f.pages` pages of fresh entries down `link`, each signed by a key minted for it. */
  async #flood(link: Link, f: SybilFlood): Promise<void> {
    const mint = this.#s.mint;
    if (!mint) return;
    for (let p = 0; p < f.pages && this.running && !link.conn.isClosed; p++) {
      const add: SuperPeerEntry[] = [];
      for (let i = 0; i < f.perPage; i++) {
        const key = mint();
        const n = ++this.counts.flooded;
        const fields = {
          nodeId: key.nodeId,
          listen: `10.252.${(n >> 8) & 255}.${n & 255}:8765`, // nobody listens there
          peers: 0,
          load: 0,
          capacity: SYBIL_CAPACITY,
          seq: this.#s.clock.now(),
        };
        add.push({ ...fields, sig: toHex(await key.sign(entryMessage(fields))) });
      }
      link.conn.send({ type: "superpeers", add, remove: [] });
      await new Promise<void>((r) => this.#s.clock.setTimeout(r, f.everyMs));
    }
  }

  #learn(entries: readonly SuperPeerEntry[]): void {
    for (const e of entries) {
      if (this.#known.size >= SYBIL_KNOWN_MAX) return;
      if (this.#band.has(e.nodeId)) continue;
      this.#known.add(e.listen);
      this.#honestIds.add(e.nodeId);
    }
  }

  #onMessage(link: Link, msg: Message): void {
    if (!this.running) return;
    const kind = this.#kind.get(link);
    switch (msg.type) {
      case "join":
        if (kind === "pending") this.#answerJoin(link);
        return;
      case "mesh":
        if (kind !== "pending") return;
        this.#kind.set(link, "mesh");
        this.counts.meshLinks++;
        link.conn.send({ type: "welcome", superpeers: this.#band.entries(), members: [] });
        return;
      case "getaddr":
        this.counts.redirects++;
        link.conn.send({ type: "redirect", to: this.#band.others(this, 2, this.#s.random) });
        link.conn.close("redirected", { flush: true });
        return;
      case "welcome":
        // The answer to our mesh dial: a mesh link into the honest overlay.
        if (kind === "pending" && !link.inbound) {
          this.#kind.set(link, "mesh");
          this.counts.meshLinks++;
          this.#learn(msg.superpeers);
          link.conn.send({ type: "superpeers", add: this.#band.entries(), remove: [] });
          if (this.#band.flood) void this.#flood(link, this.#band.flood);
        }
        return;
      case "superpeers":
        this.#learn(msg.add);
        return;
      case "redirect":
        // A Peer (or a full node) names its SuperPeers: follow it at once, and remember them.
        for (const a of msg.to) if (this.#known.size < SYBIL_KNOWN_MAX) this.#known.add(a);
        if (msg.to.length) void this.#dialSome(msg.to[randomInt(this.#s.random, msg.to.length)]);
        return;
      case "block":
      case "tx":
      case "blocks":
        this.counts.swallowed++;
        return;
      default:
        return; // inv, getdata, getblocks, primary, members, redirects: ignored; nothing is relayed
    }
  }

  #answerJoin(link: Link): void {
    const r = this.#answers === "accept" ? 0 : this.#s.random();
    if (r < 0.5) {
      this.#kind.set(link, "member");
      this.counts.joinsTaken++;
      // Only the band: a Peer that believes this directory knows no honest SuperPeer.
      link.conn.send({ type: "welcome", superpeers: this.#band.entries(), members: [] });
    } else if (r < 0.75) {
      this.counts.full++;
      link.conn.send({ type: "full", try: this.#band.others(this, 3, this.#s.random), promote: true });
      link.conn.close("full", { flush: true });
    } else {
      this.counts.redirects++;
      link.conn.send({ type: "redirect", to: this.#band.others(this, 2, this.#s.random) });
      link.conn.close("redirected", { flush: true });
    }
  }

  /** SIGKILL. */
  kill(): void {
    this.running = false;
  }
}
