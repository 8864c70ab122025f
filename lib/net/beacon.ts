/**
 * LAN discovery's beacons and the rules around them, as pure functions (`discovery.ts` has the sockets): the
 * wire form of a query and an answer, this machine's IPv4 subnets a query is broadcast on, who counts as a
 * neighbour, a SuperPeer's answer budget, and the addresses a search returns. Beacons are one short ASCII line,
 * size-checked before anything reads them; the decoder never throws. The limits are in `config.ts`.
 * @module
 */
import { isLoopback } from "./address.ts";
import {
  ANSWER_SOURCES_COUNTED,
  ANSWER_WINDOW_MS,
  ANSWERS_PER_SECOND,
  ANSWERS_PER_SOURCE,
  BEACON_MAX_TARGETS,
  MAX_BEACON_BYTES,
  MAX_FOUND,
} from "./config.ts";

/** First word of every beacon: the format's name and version. */
const MAGIC = "PCD1";
/** Hex digits of a query's nonce. */
export const NONCE_DIGITS = 16;

/** A beacon: a query for SuperPeers, or a SuperPeer's answer to one. */
export type Beacon =
  | { kind: "query"; network: string; genesis: string; nonce: string }
  | { kind: "answer"; network: string; genesis: string; nonce: string; port: number };

const NETWORK_RE = /^[a-z0-9-]{1,16}$/;
const GENESIS_RE = /^[0-9a-f]{64}$/;
const NONCE_RE = new RegExp(`^[0-9a-f]{${NONCE_DIGITS}}$`);
const PORT_RE = /^[1-9][0-9]{0,4}$/;

/** The wire form: `PCD1 Q network genesis nonce` or `PCD1 A network genesis nonce port`. */
export function encodeBeacon(b: Beacon): Uint8Array {
  const words = [MAGIC, b.kind === "query" ? "Q" : "A", b.network, b.genesis, b.nonce];
  if (b.kind === "answer") words.push(String(b.port));
  return new TextEncoder().encode(words.join(" "));
}

/** Reads a datagram; undefined for anything that is not exactly a beacon. Never throws. */
export function decodeBeacon(bytes: Uint8Array): Beacon | undefined {
  if (bytes.length > MAX_BEACON_BYTES) return undefined;
  let text = "";
  for (const c of bytes) {
    if (c < 0x20 || c > 0x7e) return undefined; // printable ASCII only
    text += String.fromCharCode(c);
  }
  const w = text.split(" ");
  if (w[0] !== MAGIC || !NETWORK_RE.test(w[2] ?? "") || !GENESIS_RE.test(w[3] ?? "")) return undefined;
  if (!NONCE_RE.test(w[4] ?? "")) return undefined;
  const [, kind, network, genesis, nonce] = w;
  if (kind === "Q" && w.length === 5) return { kind: "query", network, genesis, nonce };
  if (kind === "A" && w.length === 6 && PORT_RE.test(w[5]) && Number(w[5]) <= 65535) {
    return { kind: "answer", network, genesis, nonce, port: Number(w[5]) };
  }
  return undefined;
}

/** An interface address as `Deno.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  family: string;
  address: string;
  netmask: string;
}

/** An IPv4 subnet of this machine. */
export interface Subnet {
  /** This machine's address on it. */
  address: string;
  /** Its directed broadcast address (the subnet's last address). */
  broadcast: string;
  /** Network number and mask, as unsigned 32-bit integers. */
  network: number;
  mask: number;
}

/** A dotted IPv4 address as an unsigned 32-bit integer, or undefined. */
function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * The IPv4 subnets a query may be broadcast on: every interface address with a mask of /8 to /30, except
 * loopback. A /31, /32 or a mask shorter than /8 has no broadcast address worth using; 255.255.255.255 is
 * never produced. At most `BEACON_MAX_TARGETS`, one per broadcast address.
 */
export function localSubnets(interfaces: readonly InterfaceAddress[]): Subnet[] {
  const out: Subnet[] = [];
  for (const i of interfaces) {
    if (i.family !== "IPv4") continue;
    const addr = ipv4ToInt(i.address), mask = ipv4ToInt(i.netmask);
    if (addr === undefined || mask === undefined) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    // A mask is contiguous ones: its complement plus one is a power of two.
    if (!Number.isInteger(prefix) || prefix < 8 || prefix > 30) continue;
    if (isLoopback(i.address) || addr >>> 24 === 0) continue;
    const network = (addr & mask) >>> 0;
    const broadcast = intToIpv4((network | (~mask >>> 0)) >>> 0);
    if (addr === network || intToIpv4(addr) === broadcast) continue;
    if (out.some((s) => s.broadcast === broadcast)) continue;
    out.push({ address: intToIpv4(addr), broadcast, network, mask });
    if (out.length >= BEACON_MAX_TARGETS) break;
  }
  return out;
}

/** True when `ip` is on one of `subnets` or is one of `own` addresses (this machine, loopback included). */
export function isNeighbour(ip: string, subnets: readonly Subnet[], own: ReadonlySet<string>): boolean {
  if (own.has(ip)) return true;
  const n = ipv4ToInt(ip);
  return n !== undefined && subnets.some((s) => ((n & s.mask) >>> 0) === s.network);
}

/**
 * A SuperPeer's answer budget: each source at most `perSource` answers a second, all together at most
 * `total`, and at most `maxSources` sources counted a second (a flood from many forged sources is ignored
 * until the next second). Fixed one-second windows on the caller's clock.
 */
export class AnswerLimiter {
  #perSource: number;
  #total: number;
  #maxSources: number;
  #windowStart = -Infinity;
  #counts = new Map<string, number>();
  #given = 0;

  /** A fresh budget. */
  constructor(
    perSource = ANSWERS_PER_SOURCE,
    total = ANSWERS_PER_SECOND,
    maxSources = ANSWER_SOURCES_COUNTED,
  ) {
    this.#perSource = perSource;
    this.#total = total;
    this.#maxSources = maxSources;
  }

  /** True (and counted) when `source` may be answered at `now` (ms). */
  allow(source: string, now: number): boolean {
    if (now - this.#windowStart >= ANSWER_WINDOW_MS || now < this.#windowStart) {
      this.#windowStart = now;
      this.#counts.clear();
      this.#given = 0;
    }
    const c = this.#counts.get(source);
    if (this.#given >= this.#total || (c ?? 0) >= this.#perSource) return false;
    if (c === undefined && this.#counts.size >= this.#maxSources) return false;
    this.#counts.set(source, (c ?? 0) + 1);
    this.#given++;
    return true;
  }
}

/**
 * Turns answers into addresses to dial: the address each answer came from with the port it named, one per
 * answering host (its first answer); past `MAX_FOUND` hosts, a random `MAX_FOUND` of them.
 */
export function foundAddresses(
  answers: readonly { source: string; port: number }[],
  random: () => number = Math.random,
): string[] {
  const out: string[] = [], seen = new Set<string>();
  for (const a of answers) {
    if (seen.has(a.source) || ipv4ToInt(a.source) === undefined) continue;
    seen.add(a.source);
    out.push(`${a.source}:${a.port}`);
  }
  // A partial Fisher-Yates shuffle draws the sample.
  for (let i = 0; i < Math.min(MAX_FOUND, out.length); i++) {
    const j = i + Math.floor(random() * (out.length - i));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out.slice(0, MAX_FOUND);
}
