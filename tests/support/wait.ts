/**
 * Waiting for a condition, the one way every test, benchmark and stress scenario does it: poll, and give up
 * with a message that says what was awaited (and the last error the condition threw, if any).
 * @module
 */

/**
 * Waiting for conditions between processes never gives up before this: the deadline a caller names only keeps
 * a hung process from hanging the suite, and on two busy cores a condition can take seconds longer than on an
 * idle machine. What a test proves is the condition, never how soon it came.
 */
export const MIN_WAIT_MS = 30_000;

/** How `waitFor` polls. */
export interface WaitOptions {
  /** Poll interval in ms (default 50). */
  everyMs?: number;
  /**
   * Never give up before this many ms (default `MIN_WAIT_MS`). 0 where the deadline is itself the point: an
   * in-process wait on a clock the test controls, or a stress scenario that counts a miss as a failure.
   */
  atLeastMs?: number;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `cond` until it is true; throws naming `what` after `timeoutMs` (but not before `atLeastMs`). A
 * condition that throws counts as not yet true (a node may be restarting); the last error is in the message.
 */
export async function waitFor(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string | (() => string | Promise<string>),
  opts: WaitOptions = {},
): Promise<void> {
  const ms = Math.max(timeoutMs, opts.atLeastMs ?? MIN_WAIT_MS), end = Date.now() + ms;
  let error: unknown;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch (e) {
      error = e;
    }
    await sleep(opts.everyMs ?? 50);
  }
  const said = typeof what === "string" ? what : await what();
  const last = error === undefined ? "" : `\nlast error: ${error instanceof Error ? error.message : error}`;
  throw new Error(`timed out after ${ms} ms waiting for ${said}${last}`);
}
