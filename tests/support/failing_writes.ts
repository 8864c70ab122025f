/**
 * Writes that fail on demand, for the small files a node rewrites (bans, tracker, wallet): counts every
 * `writeFileAtomic` and fails the ones `fails` picks, as a full disk would (the old file stays whole).
 */
import { setWriteFault } from "../../lib/runtime/atomic_file.ts";

/** The writes seen so far, and a way to stop failing them. */
export interface WriteFaults {
  /** Writes attempted since `failWrites` (the failed ones included). */
  readonly count: number;
  /** Writes that failed. */
  readonly failed: number;
  /** Removes the hook (always call it: the hook is process-wide). */
  restore(): void;
}

/** Fails the `n`-th write (1-based) whenever `fails(n)` holds; with `only`, counts the writes of that file alone. */
export function failWrites(fails: (n: number) => boolean, only?: (path: string) => boolean): WriteFaults {
  const state = { count: 0, failed: 0 };
  setWriteFault((path) => {
    if (only && !only(path)) return;
    state.count++;
    if (fails(state.count)) {
      state.failed++;
      throw new Error(`injected: write ${state.count} fails`);
    }
  });
  return {
    get count() {
      return state.count;
    },
    get failed() {
      return state.failed;
    },
    restore: () => setWriteFault(undefined),
  };
}

/**
 * Runs `scenario` once with no fault to count its writes W, then once for every k in 1..W with the k-th
 * write failing (and, with `twice`, the k+1-th too); `scenario` checks memory against disk as it goes. With
 * `only`, the writes of other files are neither counted nor failed (a check that opens a copy may write it).
 * Returns W.
 */
export async function everyKthWrite(
  scenario: (k: number) => Promise<void>,
  opts: { twice?: boolean; only?: (path: string) => boolean } = {},
): Promise<number> {
  const counting = failWrites(() => false, opts.only);
  try {
    await scenario(0);
  } finally {
    counting.restore();
  }
  const total = counting.count;
  for (let k = 1; k <= total; k++) {
    const faults = failWrites((n) => n === k || (!!opts.twice && n === k + 1), opts.only);
    try {
      await scenario(k);
    } finally {
      faults.restore();
    }
    if (faults.failed === 0) {
      throw new Error(`write ${k} of ${total} never happened: the scenario is not repeatable`);
    }
  }
  return total;
}
