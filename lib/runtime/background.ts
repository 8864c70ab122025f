/**
 * Turns of the event loop for catch-up work that runs in slices behind the node's own: after a start, the
 * wallet's rescan, the UTXO set's load and the explorer's index. Each used to wait for its next slice on a
 * zero-delay timer of its own, so all of them ran in the same turn of the event loop, one slice each, and every
 * step of an RPC or peer request (accept, read, answer) waited behind all of them: a node whose RPC was
 * listening answered its first `status` 100-300 ms later. Here one slice runs per turn, whichever job's turn
 * it is (first come, first served), so a request waits behind one slice at most.
 * @module
 */

/** Hands out turns of the event loop to background jobs, one job per turn. */
export class Background {
  #waiting: (() => void)[] = [];
  #scheduled = false;
  #holds = 0;
  #later: (run: () => void) => void;

  /**
   * Turns come from `later` (default: a zero-delay timer; a macrotask, so sockets and the node's own timers
   * run before the next slice). Tests pass their own to count turns.
   */
  constructor(later: (run: () => void) => void = (run) => setTimeout(run, 0)) {
    this.#later = later;
  }

  /** Jobs waiting for their turn. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves in a later turn of the event loop, once the jobs that asked before had theirs: await it between
   * two slices of background work.
   * @example while (!done()) { slice(); await background.turn(); }
   */
  turn(): Promise<void> {
    return new Promise((go) => {
      this.#waiting.push(go);
      this.#schedule();
    });
  }

  /**
   * Gives no turn until the returned function is called (each hold released once; nested holds stack): a
   * process's start-up holds them, so catch-up work started on the way (the wallet's rescan, the UTXO set's
   * load) waits until the node serves instead of taking a slice at every await of the start.
   * @example const release = background.hold(); try { await start(); } finally { release(); }
   */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      this.#schedule();
    };
  }

  #schedule(): void {
    if (this.#scheduled || this.#holds > 0 || this.#waiting.length === 0) return;
    this.#scheduled = true;
    this.#later(() => {
      this.#scheduled = false;
      if (this.#holds > 0) return; // held after this turn was asked for: the release asks again
      this.#waiting.shift()?.();
      this.#schedule();
    });
  }
}

/** The process-wide background turns (see `Background`). */
export const background: Background = new Background();
