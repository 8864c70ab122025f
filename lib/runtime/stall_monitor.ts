/**
 * Watches the event loop from inside the process: a timer that should fire every few milliseconds notes how
 * late it fires. The lateness is how long something (a synchronous loop, a pile of settling promises) kept
 * everything else waiting: peers' frames, pings, the RPC.
 * @module
 */

/** How often the monitor's timer fires, in ms: the resolution of what it measures. */
const STALL_TICK_MS = 10;
/** `recentMs` covers the current window of this many ms and the one before. */
const WINDOW_MS = 5_000;

/** A running monitor; `stop` it when done. */
export class StallMonitor {
  #longest = 0;
  #window = 0;
  #previous = 0;
  #windowStart: number;
  #last: number;
  #timer: ReturnType<typeof setInterval>;

  /** Starts watching (the timer does not keep the process alive). */
  constructor(tickMs: number = STALL_TICK_MS) {
    this.#last = this.#windowStart = performance.now();
    this.#timer = setInterval(() => {
      const now = performance.now(), stall = Math.max(0, now - this.#last - tickMs);
      this.#last = now;
      this.#longest = Math.max(this.#longest, stall);
      if (now - this.#windowStart >= WINDOW_MS) {
        // A window that ended long ago (the process was stopped) is no longer recent.
        this.#previous = now - this.#windowStart < 2 * WINDOW_MS ? this.#window : 0;
        this.#window = 0;
        this.#windowStart = now;
      }
      this.#window = Math.max(this.#window, stall);
    }, tickMs);
    Deno.unrefTimer(this.#timer);
  }

  /** The longest stall seen since the start, in ms (0 when the timer was never late). */
  get longestMs(): number {
    return Math.round(this.#longest);
  }

  /** The longest stall of the last 5 to 10 seconds, in ms. */
  get recentMs(): number {
    return Math.round(Math.max(this.#window, this.#previous));
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
