/**
 * Running async work one task at a time, in the order it was asked for: the chain's block processing, a
 * wallet's file writes, a node's payments, a ban list's saves. A task that fails rejects its own caller's
 * promise only; the next task runs anyway.
 * @module
 */

/** A queue of async tasks that run one after another. */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * Runs `task` once every task queued before it has settled; resolves or rejects with its result.
   * @example Two writes never interleave
   * ```ts
   * import { SerialQueue } from "./serial_queue.ts";
   * import assert from "node:assert/strict";
   *
   * const queue = new SerialQueue();
   * const order: string[] = [];
   * const slow = queue.run(async () => {
   *   await new Promise((r) => setTimeout(r, 10));
   *   order.push("first");
   * });
   * const fast = queue.run(() => order.push("second"));
   * await Promise.all([slow, fast]);
   * assert.deepEqual(order, ["first", "second"]);
   * ```
   */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.#tail.then(task);
    this.#tail = run.catch(() => {});
    return run;
  }

  /** Resolves once every task queued so far has settled (never rejects). */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
