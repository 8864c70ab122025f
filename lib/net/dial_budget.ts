/**
 * Budgets: a token bucket, and for outgoing dials: a token bucket for the global rate, and no address dialled again within an
 * interval, so answers (redirects, entries) cannot make a node dial without end or aim its dials at a third
 * party. Bounded: it remembers at most `MESH_DIAL_MEMORY` addresses.
 * @module
 */
import { MESH_DIAL_BURST, MESH_DIAL_MEMORY, MESH_DIAL_RATE, MESH_REDIAL_MS } from "./config.ts";

/** Decides whether a dial may start now. */
export class DialBudget {
  #tokens: number;
  #at = -Infinity;
  #last = new Map<string, number>();
  #rate: number;
  #burst: number;
  #redialMs: number;
  #memory: number;

  /** A full bucket; the defaults are the mesh dial budget's. */
  constructor(
    opts: { rate?: number; burst?: number; redialMs?: number; memory?: number } = {},
  ) {
    this.#rate = opts.rate ?? MESH_DIAL_RATE;
    this.#burst = opts.burst ?? MESH_DIAL_BURST;
    this.#redialMs = opts.redialMs ?? MESH_REDIAL_MS;
    this.#memory = opts.memory ?? MESH_DIAL_MEMORY;
    this.#tokens = this.#burst;
  }

  /** True (and the dial counted) when `addr` may be dialled at `now` (ms). */
  take(addr: string, now: number): boolean {
    const last = this.#last.get(addr);
    if (last !== undefined && now - last < this.#redialMs) return false;
    if (this.#at !== -Infinity) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#rate / 1000);
    }
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    this.#last.delete(addr);
    this.#last.set(addr, now);
    if (this.#last.size > this.#memory) {
      // The oldest first (insertion order is dial order): an address dialled that long ago may be dialled again.
      for (const [a] of this.#last) {
        this.#last.delete(a);
        if (this.#last.size <= this.#memory) break;
      }
    }
    return true;
  }
}

/** A token bucket: `burst` at once, then `perSecond`. */
export class TokenBucket {
  #tokens: number;
  #at: number;
  #burst: number;
  #perSecond: number;

  /** A full bucket at `now` (ms). */
  constructor(burst: number, perSecond: number, now: number) {
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#tokens = burst;
    this.#at = now;
  }

  /** True (and one token spent) when one is left at `now` (ms). */
  take(now: number): boolean {
    return this.takeMany(1, now);
  }

  /** True (and `n` tokens spent) when `n` are left at `now` (ms); else nothing is spent. */
  takeMany(n: number, now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perSecond / 1000);
    this.#at = now;
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }
}
