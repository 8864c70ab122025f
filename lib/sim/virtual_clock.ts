/**
 * Virtual time for the simulation: a deterministic `Clock` whose timers live in one binary heap (ties fire
 * in the order they were set) and a driver that advances time. Each step fires every timer due within a
 * small quantum, then lets all promise continuations settle across one real macrotask boundary
 * (`setImmediate`, about 4 µs here, against about 5 µs for a `MessageChannel` and 3 ms for `setTimeout(0)`),
 * and repeats. Nothing waits on real time, so a minute of a 10,000-node network costs what its code costs.
 *
 * Each simulated node gets a `NodeClock` on the shared one: killing it drops its timers and refuses new
 * ones (SIGKILL); freezing it holds its timers until it is thawed, when they fire late, in order (SIGSTOP).
 * @module
 */
import { setImmediate } from "node:timers";
import type { Clock, TimerId } from "../net/transport.ts";

/** Where virtual time starts (2026-01-01T00:00:00Z), so `now()` looks like `Date.now()`. */
export const VIRTUAL_EPOCH_MS: number = Date.UTC(2026, 0, 1);

/** Timers due within this much of the earliest fire in one step, by default (ms). */
export const DEFAULT_QUANTUM_MS = 0.1;

const PENDING = 0, HELD = 1, DONE = 2;

interface Timer {
  /** Virtual ms since the start. */
  due: number;
  /** Insertion order: breaks ties. */
  seq: number;
  fn: (() => void) | undefined;
  owner: NodeClock | undefined;
  state: typeof PENDING | typeof HELD | typeof DONE;
}

/** Lets every queued promise continuation run: resolves on the next real macrotask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Counters of the driver's work, for the benchmark's report. */
export interface ClockStats {
  /** Timers that ran. */
  fired: number;
  /** Macrotask boundaries crossed (one per step). */
  steps: number;
}

/**
 * The shared virtual clock and its driver.
 * @example
 * ```ts
 * import { VirtualClock } from "./virtual_clock.ts";
 * const clock = new VirtualClock();
 * const fired: number[] = [];
 * clock.setTimeout(() => fired.push(clock.elapsed), 1000);
 * await clock.advance(999);
 * if (fired.length !== 0) throw new Error("early");
 * await clock.advance(1);
 * if (fired[0] !== 1000) throw new Error("late");
 * ```
 */
export class VirtualClock implements Clock {
  /** Timers due within this many ms of the step's first fire run in the same step (their continuations late by at most this). */
  quantumMs: number;
  readonly stats: ClockStats = { fired: 0, steps: 0 };
  #t = 0;
  #seq = 0;
  readonly #heap: Timer[] = [];
  #cancelled = 0;
  #running = false;

  /** A clock at virtual time 0 (`now()` = `VIRTUAL_EPOCH_MS`). */
  constructor(options: { quantumMs?: number } = {}) {
    this.quantumMs = options.quantumMs ?? DEFAULT_QUANTUM_MS;
  }

  /** Whole milliseconds, like `Date.now()` (messages carry times as integers). */
  now(): number {
    return VIRTUAL_EPOCH_MS + Math.floor(this.#t);
  }

  /** Exact virtual time in ms since the start (fractions included), for measurements. */
  get elapsed(): number {
    return this.#t;
  }

  /** Timers waiting in the heap (cancelled ones included until they are swept). */
  get pending(): number {
    return this.#heap.length - this.#cancelled;
  }

  /** Calls `fn` after `ms` of virtual time. */
  setTimeout(fn: () => void, ms: number): TimerId {
    return this.schedule(fn, ms, undefined);
  }

  /** Cancels a timer of this clock or of one of its node clocks. */
  clearTimeout(id: TimerId | undefined): void {
    if (typeof id !== "object" || id === null) return;
    const t = id as Timer;
    if (t.state === DONE) return;
    if (t.state === PENDING) this.#cancelled++;
    else if (t.owner) t.owner.unhold(t);
    t.state = DONE;
    t.fn = undefined;
    if (this.#cancelled > 4096 && this.#cancelled * 2 > this.#heap.length) this.#sweep();
  }

  /** A clock for one node on this one: it can be killed and frozen on its own. */
  forNode(): NodeClock {
    return new NodeClock(this);
  }

  /** Internal: queues `fn` at now + `ms` on behalf of `owner`. */
  schedule(fn: () => void, ms: number, owner: NodeClock | undefined): Timer {
    const delay = ms > 0 ? ms : 0; // NaN and negatives fire at once, as with setTimeout
    const t: Timer = { due: this.#t + delay, seq: this.#seq++, fn, owner, state: PENDING };
    this.#push(t);
    return t;
  }

  /** Internal: puts a held timer back, due now (after the ones already due now). */
  requeue(t: Timer): void {
    t.due = this.#t;
    t.seq = this.#seq++;
    t.state = PENDING;
    this.#push(t);
  }

  /** Runs virtual time forward by `ms`. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.#t + ms);
  }

  /**
   * Runs until virtual time `end` (ms since the start), or until `stop()` holds after a step; returns whether
   * `stop` ended it. `stop` is asked after every step, so keep it cheap.
   */
  async runUntil(end: number, stop?: () => boolean): Promise<boolean> {
    if (this.#running) throw new Error("VirtualClock.runUntil is already running");
    this.#running = true;
    try {
      await settle();
      if (stop?.()) return true;
      for (;;) {
        const head = this.#peek();
        if (!head || head.due > end) break;
        this.#fireThrough(Math.min(end, head.due + this.quantumMs));
        this.stats.steps++;
        await settle();
        if (stop?.()) return true;
      }
      if (end > this.#t) this.#t = end;
      return stop?.() ?? false;
    } finally {
      this.#running = false;
    }
  }

  /**
   * Runs until `cond()` holds (asked after every step) or `maxMs` has passed; returns whether it held.
   * @example await clock.until(() => done, 10_000)
   */
  until(cond: () => boolean, maxMs: number): Promise<boolean> {
    return this.runUntil(this.#t + maxMs, cond);
  }

  /** Fires, in order, every timer due at or before `limit`, including those the callbacks set meanwhile. */
  #fireThrough(limit: number): void {
    const heap = this.#heap; // the one array for the clock's life: `#sweep` compacts it in place
    while (heap.length > 0 && heap[0].due <= limit) {
      const t = this.#pop();
      if (t.state !== PENDING) {
        this.#cancelled--;
        continue;
      }
      if (t.due > this.#t) this.#t = t.due;
      const owner = t.owner;
      if (owner !== undefined && owner.state !== "running") {
        if (owner.state === "frozen") owner.hold(t);
        else t.state = DONE;
        continue;
      }
      const fn = t.fn!;
      t.state = DONE;
      t.fn = undefined;
      this.stats.fired++;
      fn();
    }
  }

  #peek(): Timer | undefined {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].state !== PENDING) {
      this.#pop();
      this.#cancelled--;
    }
    return heap[0];
  }

  /** Drops cancelled timers and rebuilds the heap, so timers set and cleared in bulk do not pile up. */
  #sweep(): void {
    const heap = this.#heap;
    let kept = 0;
    for (const t of heap) if (t.state === PENDING) heap[kept++] = t;
    heap.length = kept;
    this.#cancelled = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #push(t: Timer): void {
    const heap = this.#heap;
    heap.push(t);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = t;
  }

  #pop(): Timer {
    const heap = this.#heap;
    const top = heap[0], last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.#down(0);
    }
    return top;
  }

  #down(i: number): void {
    const heap = this.#heap, n = heap.length, t = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(heap[c + 1], heap[c])) c++;
      if (!before(heap[c], t)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = t;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/** What a node's clock does with its timers. */
export type NodeClockState = "running" | "frozen" | "killed";

/** One node's view of the shared clock: same time, but its timers can be held (frozen) or dropped (killed). */
export class NodeClock implements Clock {
  #root: VirtualClock;
  #state: NodeClockState = "running";
  #held: Timer[] = [];

  /** A running clock on `root`; usually made with `root.forNode()`. */
  constructor(root: VirtualClock) {
    this.#root = root;
  }

  /** Running, frozen or killed. */
  get state(): NodeClockState {
    return this.#state;
  }

  /** The shared time. */
  now(): number {
    return this.#root.now();
  }

  /** A timer that fires only while this node runs (late, on thaw, if it came due while frozen). */
  setTimeout(fn: () => void, ms: number): TimerId {
    if (this.#state === "killed") return undefined;
    return this.#root.schedule(fn, ms, this);
  }

  /** Cancels a timer. */
  clearTimeout(id: TimerId | undefined): void {
    this.#root.clearTimeout(id);
  }

  /** Holds timers that come due from now on, until `thaw` (SIGSTOP). */
  freeze(): void {
    if (this.#state === "running") this.#state = "frozen";
  }

  /** Runs again: timers that came due while frozen fire now, in their original order (SIGCONT). */
  thaw(): void {
    if (this.#state !== "frozen") return;
    this.#state = "running";
    const held = this.#held;
    this.#held = [];
    for (const t of held) this.#root.requeue(t);
  }

  /** Drops every timer and refuses new ones, for good (SIGKILL). */
  kill(): void {
    this.#state = "killed";
    for (const t of this.#held) {
      t.state = DONE;
      t.fn = undefined;
    }
    this.#held = [];
  }

  /** Internal: keeps a timer that came due while frozen. */
  hold(t: Timer): void {
    t.state = HELD;
    this.#held.push(t);
  }

  /** Internal: forgets a held timer that was cancelled. */
  unhold(t: Timer): void {
    const i = this.#held.indexOf(t);
    if (i >= 0) this.#held.splice(i, 1);
  }
}
