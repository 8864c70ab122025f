/**
 * Turns of the event loop for work that cannot be split: checking one peer's message. Work runs in slices of
 * at most `SLICE_MS`; past that, requests wait and are resumed one per turn of the event loop, so frames that
 * arrive together from many links are not checked back to back while everything else (pings, the RPC, an
 * honest peer's payment) waits. A link waiting for its turn reads no further frames, so a flood is paced by
 * turns, not by how fast the attacker writes. Without contention nothing waits: a sync's blocks go on at once.
 *
 * Small requests (a payment, an empty block) have a lane of their own and take most turns, so a flood of large,
 * expensive messages delays a payment by about one turn; the large lane still gets every fifth turn, so a
 * flood of small messages cannot starve a large honest one (a full block). Each lane is first come, first served.
 * @module
 */
import { setImmediate } from "node:timers";

/** Requests of at most this cost (bytes of the message) take the small lane. */
export const SMALL_COST = 4_000;
/** Longest run of work, in ms, before waiting requests get their turn. */
export const SLICE_MS = 10;
/** Turns the small lane may take in a row while large requests wait. */
const SMALL_TURNS_IN_A_ROW = 4;

/** Hands out turns of the event loop. */
export class Turns {
  #small: (() => void)[] = [];
  #large: (() => void)[] = [];
  #smallInARow = 0;
  #scheduled = false;
  /** When the current slice ends (ms, `performance.now`), or undefined between slices. */
  #sliceEnd: number | undefined;

  /** Requests waiting for a turn. */
  get waiting(): number {
    return this.#small.length + this.#large.length;
  }

  /**
   * True when work may run right now: nobody waits and the current slice is young (one starts if none runs).
   * Ask it in the same synchronous run as the work; when false, `await next(cost)` first.
   * @example if (!turns.free()) await turns.next(bytes.length); // then check the message
   */
  free(): boolean {
    if (this.waiting > 0) return false;
    const now = performance.now();
    if (this.#sliceEnd === undefined) {
      this.#sliceEnd = now + SLICE_MS;
      setImmediate(() => this.#sliceEnd = undefined); // a slice ends with its turn of the event loop
    }
    return now < this.#sliceEnd;
  }

  /** Resolves in a later turn of the event loop; `cost` is what the work will cost (bytes to check). */
  next(cost: number): Promise<void> {
    return new Promise((go) => {
      (cost <= SMALL_COST ? this.#small : this.#large).push(go);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const smallNext = () =>
      this.#small.length > 0 && (this.#large.length === 0 || this.#smallInARow < SMALL_TURNS_IN_A_ROW);
    // A macrotask, not a microtask: whatever else is ready (sockets, timers) runs before the next turn. A
    // small request's turn comes at once (an immediate); nested zero-delay timers are clamped (about 2 ms a
    // turn here), which capped a node at a few hundred payments a second, so 200 a second over 5 nodes
    // queued for up to 30 s. A large one's comes on such a timer: that pace is what keeps a flood of large
    // requests (1 MB blocks to serve, 2 MB frames to parse) from piling up memory and pauses.
    const turn = () => {
      this.#scheduled = false;
      const small = smallNext();
      this.#smallInARow = small ? this.#smallInARow + 1 : 0;
      (small ? this.#small : this.#large).shift()?.();
      // While others wait, the resumed one has this turn to itself.
      this.#sliceEnd = this.waiting ? performance.now() : undefined;
      if (this.waiting) this.#schedule();
    };
    if (smallNext()) setImmediate(turn);
    else setTimeout(turn, 0);
  }
}

/**
 * The process-wide turns: parsing a peer's large frame, checking a peer's message and serving a request all
 * take their turns here, so only one of them runs in any turn while others wait.
 */
export const turns: Turns = new Turns();
