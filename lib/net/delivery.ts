/**
 * A Peer watches its two SuperPeers (issues 19 and 22): which of them delivers the blocks, and whether each
 * still answers. It probes a quiet one with its own ping, counts the blocks one delivered that the other did
 * not send within `DELIVERY_BOUND_MS`, and asks `judgeSuperPeers` what to do: swap a frozen primary at once
 * (rather than after the ping deadline), or replace a SuperPeer that relays nothing. It also times the stale-tip
 * check (no new block for `STALE_TIP_MS`: other SuperPeers are tried) and judges its trials: a SuperPeer tried
 * is kept only once it delivered a block this node lacked.
 * @module
 */
import {
  DELIVERY_BOUND_MS,
  PROBE_AFTER_MS,
  STALE_TIP_MS,
  STALE_TIP_RETRY_MS,
  STALE_TRIAL_MS,
} from "./config.ts";
import type { Link } from "./link.ts";
import { judgeSuperPeers, type SuperPeerVerdict } from "./overlay.ts";
import type { Clock } from "./transport.ts";

/** What the watch saw of one SuperPeer link. */
interface Seen {
  /** `conn.received` when last sampled. */
  received: number;
  /** When a frame last came from it. */
  heardAt: number;
  /** When it last sent a block (new to us or not). */
  blockAt: number;
  /** When this watch last pinged it. */
  probedAt: number;
  /** Blocks in a row the other delivered that this one did not send within the bound. */
  misses: number;
}

/** What the watch needs: the clock, random numbers, and the Peer's two SuperPeers now. */
export interface DeliveryHooks {
  /** Time and timers. */
  readonly clock: Clock;
  /** Random numbers in [0, 1). */
  readonly random: () => number;
  /** The Peer's primary and backup now (none while it is not a Peer). */
  pair(): { primary: Link; backup: Link | null } | undefined;
}

/** The watch over a Peer's two SuperPeers; `tick` it every `WATCH_TICK_MS`. */
export class DeliveryWatch {
  #h: DeliveryHooks;
  #seen = new WeakMap<Link, Seen>();
  /** When this node last accepted a new block (or started), and last ran the stale-tip check. */
  #lastNewBlock: number;
  #lastStaleTry = -Infinity;
  /** The ping that must be answered before a swap: to which backup, when, and what it had received then. */
  #swapProbe?: { link: Link; at: number; received: number };
  /** Links on trial (the stale-tip check tries one at a time), each with what ends its trial. */
  #trials = new Map<Link, (delivered: boolean) => void>();

  /** A watch for the Peer behind `hooks`. */
  constructor(hooks: DeliveryHooks) {
    this.#h = hooks;
    this.#lastNewBlock = hooks.clock.now();
  }

  #of(link: Link, now: number): Seen {
    let s = this.#seen.get(link);
    if (!s) {
      s = { received: link.conn.received, heardAt: now, blockAt: 0, probedAt: -Infinity, misses: 0 };
      this.#seen.set(link, s);
    }
    return s;
  }

  /** `link` sent a block frame (new to us or not): it delivers. */
  blockFrame(link: Link): void {
    const s = this.#of(link, this.#h.clock.now());
    s.blockAt = this.#h.clock.now();
    s.misses = 0;
  }

  /** True when `link` has sent a block frame of any kind since we took it. */
  relayed(link: Link): boolean {
    return (this.#seen.get(link)?.blockAt ?? 0) > 0;
  }

  /**
   * `link` relayed a block new to us: the other SuperPeer must send it (or any block) within
   * `DELIVERY_BOUND_MS`, or it counts a miss.
   */
  newBlock(link: Link): void {
    const now = this.#h.clock.now();
    this.#lastNewBlock = now;
    this.blockFrame(link);
    const p = this.#h.pair();
    if (!p || !p.backup) return;
    const other = p.primary === link ? p.backup : p.backup === link ? p.primary : undefined;
    if (!other) return;
    this.#h.clock.setTimeout(() => {
      const s = this.#of(other, this.#h.clock.now());
      if (s.blockAt < now - DELIVERY_BOUND_MS) s.misses++;
    }, DELIVERY_BOUND_MS);
  }

  /** Samples both links, probes a quiet one, and judges them. */
  tick(): SuperPeerVerdict {
    const p = this.#h.pair();
    if (!p) return "keep";
    const now = this.#h.clock.now();
    const view = (link: Link) => {
      const s = this.#of(link, now);
      if (link.conn.received !== s.received) (s.received = link.conn.received, s.heardAt = now);
      if (now - s.heardAt >= PROBE_AFTER_MS && now - s.probedAt >= PROBE_AFTER_MS) {
        s.probedAt = now;
        link.conn.send({ type: "ping", nonce: Math.floor(this.#h.random() * 2 ** 32) });
      }
      return { silentMs: now - s.heardAt, misses: s.misses, relayed: s.blockAt > 0 };
    };
    const primary = view(p.primary);
    if (!p.backup) return "keep";
    const verdict = judgeSuperPeers(primary, view(p.backup));
    if (verdict === "swap") return this.#confirmSwap(p.backup, now);
    this.#swapProbe = undefined;
    return verdict;
  }

  /**
   * A swap goes ahead only once the backup has answered a ping sent after the primary was judged frozen: a
   * frame heard from it shortly before proves nothing of now (it may have frozen since, or this node may have
   * stalled with both answers still unread). So the first "swap" pings the backup and waits; the backup's
   * answer within `PROBE_AFTER_MS` confirms it, silence withdraws it (the ping deadline will tell).
   */
  #confirmSwap(backup: Link, now: number): SuperPeerVerdict {
    const probe = this.#swapProbe;
    if (probe?.link === backup && now - probe.at <= PROBE_AFTER_MS) {
      if (backup.conn.received === probe.received) return "keep";
      this.#swapProbe = undefined;
      return "swap";
    }
    this.#swapProbe = { link: backup, at: now, received: backup.conn.received };
    backup.conn.send({ type: "ping", nonce: Math.floor(this.#h.random() * 2 ** 32) });
    return "keep";
  }

  /**
   * True when no new block came for `STALE_TIP_MS`: time to try another SuperPeer (again every
   * `STALE_TIP_RETRY_MS` while it lasts).
   */
  stale(): boolean {
    const now = this.#h.clock.now();
    if (now - this.#lastNewBlock < STALE_TIP_MS || now - this.#lastStaleTry < STALE_TIP_RETRY_MS) {
      return false;
    }
    this.#lastStaleTry = now;
    return true;
  }

  /**
   * Puts `link` (a SuperPeer the stale-tip check tried) on trial: true once it delivers a block new to this
   * node within `STALE_TRIAL_MS`, false when that time passes or the link closes first. What it claims of its
   * tip does not count: only a block this node lacked and accepted.
   */
  trial(link: Link): Promise<boolean> {
    return new Promise((resolve) => {
      const end = (delivered: boolean) => {
        if (this.#trials.get(link) !== end) return;
        this.#trials.delete(link);
        this.#h.clock.clearTimeout(timer);
        resolve(delivered);
      };
      const timer = this.#h.clock.setTimeout(() => end(false), STALE_TRIAL_MS);
      this.#trials.set(link, end);
      link.conn.closed.then(() => end(false));
    });
  }

  /** `link` delivered a block new to this node (pushed or downloaded): its trial, if any, succeeds. */
  delivered(link: Link): void {
    this.#trials.get(link)?.(true);
  }

  /** True when neither of the Peer's SuperPeers has sent a block frame since it took them. */
  starved(): boolean {
    const p = this.#h.pair();
    if (!p) return false;
    const now = this.#h.clock.now();
    return [p.primary, p.backup].every((l) => !l || this.#of(l, now).blockAt === 0);
  }

  /** Forgets what it saw of `link` (swapped or replaced: its count starts again). */
  reset(link: Link): void {
    this.#seen.delete(link);
  }
}
