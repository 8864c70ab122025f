/**
 * Directory gossip as digests and pulls, and its budget per link (issue 19). A SuperPeer tells its mesh
 * neighbours which entries changed as ids and sequence numbers (`ihave`, gossipsub's IHAVE); a neighbour pulls
 * only those it lacks or holds older (`iwant`, IWANT), each from one neighbour at a time, and the entries then
 * travel once per link that needs them instead of once per link that has them. What a link may make this node
 * read is bounded twice, in entries (each may cost a signature check) and in bytes: a link past either budget is
 * throttled (the rest of its message is dropped unread) and scored.
 * @module
 */
import { DIR_LINK_BUDGET, DIR_LINK_BYTES, DIR_MAX, DIR_WANT_MAX, DIR_WANT_MS } from "./config.ts";
import { TokenBucket } from "./dial_budget.ts";
import type { Digest, SuperPeerEntry } from "./messages.ts";

/**
 * The bytes an entry costs on the wire, counted from its fields (an upper estimate of its JSON: field names,
 * quotes and commas included), so a budget charges what a message carries without encoding it again.
 */
export function entryBytes(e: SuperPeerEntry | Digest): number {
  const sig = "sig" in e && e.sig !== undefined ? e.sig.length : 0;
  const listen = "listen" in e ? e.listen.length : 0;
  return 96 + e.nodeId.length + listen + sig;
}

/** What a link may still make this node read: `DIR_LINK_BUDGET` entries and `DIR_LINK_BYTES` bytes. */
export class GossipBudget {
  #entries: TokenBucket;
  #bytes: TokenBucket;

  /** A full budget at `now` (ms). */
  constructor(now: number) {
    this.#entries = new TokenBucket(DIR_LINK_BUDGET.burst, DIR_LINK_BUDGET.perSecond, now);
    this.#bytes = new TokenBucket(DIR_LINK_BYTES.burst, DIR_LINK_BYTES.perSecond, now);
  }

  /**
   * Charges the items of one message, in order, at `now`: how many of them fit both budgets (a prefix; the rest
   * is to be dropped unread), and the cost of each in bytes.
   */
  charge(items: readonly (SuperPeerEntry | Digest)[], now: number): number {
    let n = 0;
    for (const e of items) {
      if (!this.#bytes.takeMany(entryBytes(e), now)) break;
      if (!this.#entries.take(now)) break;
      n++;
    }
    return n;
  }
}

/**
 * Entries this node asked a neighbour for and has not received yet: each is pulled from one link at a time, and
 * again from another only after `DIR_WANT_MS`; at most `DIR_WANT_MAX` at once (a flood of digests cannot grow it).
 */
export class WantList {
  #wanted = new Map<string, { seq: number; at: number; sync: boolean }>();

  /** Ids wanted now. */
  get size(): number {
    return this.#wanted.size;
  }

  /**
   * Of the entries a neighbour announced (`offered`), those to pull from it now: newer than what this node holds
   * (`held`: the sequence it holds, if any), and not wanted from another link in the last `DIR_WANT_MS` unless
   * this offer is newer still. Those are remembered as wanted, with `sync`: the offer answered a summary (what
   * this node missed, not news).
   */
  pick(
    offered: readonly Digest[],
    held: (nodeId: string) => number | undefined,
    now: number,
    sync = false,
  ): string[] {
    const out: string[] = [];
    for (const d of offered) {
      if ((held(d.nodeId) ?? -1) >= d.seq) continue;
      const w = this.#wanted.get(d.nodeId);
      if (w && now - w.at < DIR_WANT_MS && w.seq >= d.seq) continue;
      if (!w && this.#wanted.size >= DIR_WANT_MAX) this.#expire(now);
      if (!w && this.#wanted.size >= DIR_WANT_MAX) break;
      this.#wanted.delete(d.nodeId); // re-inserted last: the map stays in order of asking
      this.#wanted.set(d.nodeId, { seq: d.seq, at: now, sync });
      out.push(d.nodeId);
    }
    return out;
  }

  /** An entry arrived: no longer wanted. True when it was pulled from a summary's answer (not news). */
  done(nodeId: string): boolean {
    const w = this.#wanted.get(nodeId);
    this.#wanted.delete(nodeId);
    return w?.sync ?? false;
  }

  /** Forgets wants older than `DIR_WANT_MS` (the oldest come first). */
  #expire(now: number): void {
    for (const [id, w] of this.#wanted) {
      if (now - w.at < DIR_WANT_MS) return;
      this.#wanted.delete(id);
    }
  }
}

/**
 * Which version of each entry each link is known to hold: it announced or sent it to this node, or this node
 * announced or sent it there. An entry version is announced on a link at most once, and never back to a link
 * that announced it: news crosses each link once, not once per direction and per batch. At most `DIR_MAX` ids
 * per link (the oldest noted forgotten first); forgetting only costs a digest sent again.
 */
export class LinkKnowledge {
  #held = new WeakMap<object, Map<string, number>>();

  /** True when `link` is known to hold `nodeId`'s entry at `seq` or newer. */
  knows(link: object, nodeId: string, seq: number): boolean {
    return (this.#held.get(link)?.get(nodeId) ?? -1) >= seq;
  }

  /** Notes that `link` holds `nodeId`'s entry at `seq` (or will have been offered it). */
  note(link: object, nodeId: string, seq: number): void {
    let m = this.#held.get(link);
    if (!m) this.#held.set(link, m = new Map());
    if ((m.get(nodeId) ?? -1) >= seq) return;
    m.delete(nodeId); // re-inserted last: the map stays in order of noting
    m.set(nodeId, seq);
    if (m.size > DIR_MAX) m.delete(m.keys().next().value!);
  }
}
