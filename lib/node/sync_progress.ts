/**
 * Initial sync progress: the height peers announced in their `hello` (the target), the blocks connected from
 * the network since, their rate over a sliding window, and the time left at that rate. Pure arithmetic over
 * the times and heights it is given, so it is tested without a clock or a network.
 *
 * A peer's announced height is a claim, not a fact: it only sets what the progress line aims at, is dropped
 * when blocks stop coming, and never changes what the node believes.
 * @module
 */

/** A sync shown to a person: where the chain is, where peers say it goes, and how fast it gets there. */
export interface SyncProgress {
  /** Height of the tip now. */
  height: number;
  /** The best tip height peers announced. */
  target: number;
  /** Blocks per second over the last few seconds (0 until two samples). */
  rate: number;
  /** Seconds left at that rate, or undefined while the rate is unknown. */
  secondsLeft: number | undefined;
}

/** A sliding window of (time, count) samples; the rate is the count's change per second across it. */
export class RateWindow {
  #samples: { t: number; n: number }[] = [];
  readonly #windowMs: number;
  readonly #maxSamples: number;

  /** A window `windowMs` long keeping at most `maxSamples` samples (older ones are merged away). */
  constructor(windowMs = 5_000, maxSamples = 64) {
    this.#windowMs = windowMs;
    this.#maxSamples = maxSamples;
  }

  /** Records that the count was `n` at `t` milliseconds. */
  add(t: number, n: number): void {
    const s = this.#samples;
    // Samples closer together than the window allows for its sample budget replace the last one.
    if (s.length >= 2 && t - s[s.length - 2].t < this.#windowMs / this.#maxSamples) {
      s[s.length - 1] = { t, n };
    } else s.push({ t, n });
    while (s.length > 2 && t - s[1].t >= this.#windowMs) s.shift();
  }

  /** Change per second across the window ending at `now`, 0 with fewer than two samples in it. */
  rate(now: number): number {
    const s = this.#samples.filter((x) => now - x.t < this.#windowMs);
    if (s.length < 2) return 0;
    const first = s[0], last = s[s.length - 1];
    return last.t > first.t ? ((last.n - first.n) * 1000) / (last.t - first.t) : 0;
  }

  /** Forgets every sample. */
  clear(): void {
    this.#samples = [];
  }
}

/** A sync is shown only when at least this many blocks behind the announced tip when blocks start coming. */
export const SHOW_FROM_BLOCKS = 100;
/** With no block from the network for this long, the sync is over (or the announced tip was a lie). */
export const IDLE_MS = 10_000;

/** Follows one node's initial sync: fed announced tips and connected blocks, asked for its progress. */
export class SyncMeter {
  #target = 0;
  #lastBlock = -Infinity;
  #active = false;
  #rate = new RateWindow();

  /** A peer announced a tip at `height`. */
  announce(height: number): void {
    if (Number.isSafeInteger(height) && height > this.#target) this.#target = height;
  }

  /** A block from the network was connected at `t` ms, making the tip `height`. */
  connected(t: number, height: number): void {
    if (!this.#active && this.#target - height >= SHOW_FROM_BLOCKS) {
      this.#active = true;
      this.#rate.clear();
    }
    this.#lastBlock = t;
    if (this.#active) this.#rate.add(t, height);
  }

  /** The sync's progress at `t` ms with the tip at `height`, or undefined when no sync is going on. */
  progress(t: number, height: number): SyncProgress | undefined {
    if (!this.#active) return undefined;
    if (height >= this.#target || t - this.#lastBlock >= IDLE_MS) {
      // Done, or stalled: forget the target, so a stale or false claim does not come back with the next block.
      this.#active = false;
      this.#target = 0;
      return undefined;
    }
    const rate = this.#rate.rate(t);
    return {
      height,
      target: this.#target,
      rate,
      secondsLeft: rate > 0 ? (this.#target - height) / rate : undefined,
    };
  }
}

/**
 * Whole numbers with thousands separators ("1,234"). Made at the first progress line, not when the module
 * loads: building an `Intl.NumberFormat` loads the locale data, 20-30 ms of every node's start-up.
 */
let counter: Intl.NumberFormat | undefined;
const count = (n: number) =>
  (counter ??= new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })).format(n);

/** A duration a person reads at a glance: "5 s", "3 min", "1 h 20 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * The progress line the log and the menu show.
 * @example syncLine({ height: 1234, target: 5000, rate: 800, secondsLeft: 4.7 })
 * // "syncing 1,234 / 5,000 blocks, 800 blocks/s, about 5 s left"
 */
export function syncLine(p: SyncProgress): string {
  const speed = p.rate > 0 ? `, ${count(p.rate)} blocks/s` : "";
  const left = p.secondsLeft !== undefined ? `, about ${formatDuration(p.secondsLeft)} left` : "";
  return `syncing ${count(p.height)} / ${count(p.target)} blocks${speed}${left}`;
}
