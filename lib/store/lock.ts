/**
 * The data directory's lock: one process at a time. The lock is an OS file lock held through SQLite's
 * exclusive locking mode on the file `LOCK`, so it is released the moment its process dies, even by SIGKILL:
 * a crashed node never leaves a stale lock behind.
 * @module
 */
import { DatabaseSync } from "node:sqlite";

/** Raised when another process holds the data directory. */
export class DataDirLocked extends Error {
  /** The error's name, for logs. */
  override name = "DataDirLocked";
}

/** A held lock; `release()` frees it. */
export interface DirLock {
  /** Frees the lock (safe to call twice). */
  release(): void;
}

/**
 * Takes the lock on `dir` (which must exist) or throws `DataDirLocked` at once.
 * @example One process per data directory
 * ```ts
 * import { DataDirLocked, lockDataDir } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const lock = lockDataDir(dir);
 * try {
 *   assert.throws(() => lockDataDir(dir), DataDirLocked);
 * } finally {
 *   lock.release();
 * }
 * lockDataDir(dir).release(); // free again
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function lockDataDir(dir: string): DirLock {
  const db = new DatabaseSync(`${dir}/LOCK`);
  try {
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE"); // held, never committed, until release() or process death
  } catch (e) {
    db.close();
    // Only contention means "in use"; anything else (a read-only folder, say) keeps its own message.
    if (!/locked|busy/i.test((e as Error).message)) throw e;
    throw new DataDirLocked(
      `the data directory ${dir} is in use by another peerchain process: stop it, or choose another --data-dir`,
    );
  }
  return {
    release() {
      if (!db.isOpen) return;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}
