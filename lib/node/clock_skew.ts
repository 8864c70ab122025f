/**
 * Clock skew: how far this machine's clock is from its peers'. Bitcoin Core warns when the median of its
 * peers' clock offsets is more than a few minutes off, before it starts refusing their blocks as more than
 * 2 hours ahead (or they refuse its). Each sample is one peer's clock seen from here: the time in a block it
 * relayed that extends this node's tip (a block just mined, so its time is its miner's clock at the start of
 * the search, late by at most the search), minus this node's clock when it arrived. One sample per peer (its
 * latest), at most `CLOCK_PEERS_MAX` peers, each forgotten after `CLOCK_SAMPLE_TTL_S`.
 * @module
 */

/** Warn when the median offset is larger than this, in seconds (Bitcoin Core: 10 minutes). */
export const CLOCK_WARN_S = 5 * 60;
/** A peer's sample counts this long, in seconds. */
export const CLOCK_SAMPLE_TTL_S = 60 * 60;
/** Peers whose samples are kept (the most recent ones). */
export const CLOCK_PEERS_MAX = 64;

/**
 * The median of `offsets` (seconds; the mean of the middle two for an even count), or null for none.
 * @example medianOffset([-3, 7200, 7300]) // 7200
 */
export function medianOffset(offsets: readonly number[]): number | null {
  if (offsets.length === 0) return null;
  const s = [...offsets].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

/**
 * The warning for a median offset (peers' clocks minus ours, seconds), or null when it is within
 * `CLOCK_WARN_S`.
 * @example skewWarning(7200) // "this computer's clock is 2 h 0 min behind its peers' (median of their clocks): ..."
 */
export function skewWarning(median: number | null): string | null {
  if (median === null || Math.abs(median) <= CLOCK_WARN_S) return null;
  const m = Math.round(Math.abs(median) / 60);
  const span = m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  return `this computer's clock is ${span} ${median > 0 ? "behind" : "ahead of"} its peers' (median of ` +
    `their clocks): set the date and time (or turn on NTP), or blocks more than 2 h ahead will be refused`;
}

/** The latest clock sample of each peer, and their median. */
export class ClockSkew {
  #samples = new Map<string, { offset: number; at: number }>();

  /** Notes that `peer`'s clock reads `peerTime` when ours reads `now` (both in seconds since the epoch). */
  sample(peer: string, peerTime: number, now: number): void {
    this.#samples.delete(peer);
    this.#samples.set(peer, { offset: peerTime - now, at: now });
    while (this.#samples.size > CLOCK_PEERS_MAX) this.#samples.delete(this.#samples.keys().next().value!);
  }

  /** The median offset of the peers sampled in the last `CLOCK_SAMPLE_TTL_S` (null for none), and how many. */
  median(now: number): { offset: number | null; peers: number } {
    for (const [k, s] of this.#samples) if (now - s.at > CLOCK_SAMPLE_TTL_S) this.#samples.delete(k);
    const offsets = [...this.#samples.values()].map((s) => s.offset);
    return { offset: medianOffset(offsets), peers: offsets.length };
  }
}
