/**
 * A chain store whose writes fail on demand, for the error paths of two-part updates (the store, then the
 * chain's memory): the k-th write from now fails once (a transient error), or every write from the k-th on
 * fails (a disk that stays full) until `heal`. A failing write throws before it runs, as SQLite does when the
 * disk refuses it; ROLLBACK never fails, so the store's own rollback is what a real failure would leave.
 * The crash injection (a process SIGKILLed right after its k-th write) is `tests/support/crash_child.ts`.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Store } from "../../lib/store/store.ts";

/** A store over a file, and the switch that makes its writes fail. */
export interface FailingStore {
  /** The store, to open a `Chain` over. */
  store: Store;
  /** Writes so far (each statement that writes, and each BEGIN and COMMIT). */
  readonly writes: number;
  /** The `k`-th write from now (1 = the next) fails; with `persist`, every write from it on fails. */
  failAt(k: number, persist?: boolean): void;
  /** No write fails any more. */
  heal(): void;
  /** How many writes were refused so far. */
  readonly failures: number;
}

/** Opens the store file at `path` (WAL, as `openStore` does) with writes that fail on demand. */
export function openFailingStore(path: string): FailingStore {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA busy_timeout = 2000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  let writes = 0, failures = 0;
  let failFrom = Infinity, persist = false;
  const before = (sql: string) => {
    if (/^\s*ROLLBACK/i.test(sql)) return;
    writes++;
    if (writes === failFrom || (persist && writes > failFrom)) {
      failures++;
      throw new Error(
        `injected failure of write ${writes}: ${sql.trim().split(/\s+/).slice(0, 3).join(" ")}`,
      );
    }
  };
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === "exec") {
        return (sql: string) => {
          if (!/^\s*PRAGMA/i.test(sql)) before(sql);
          return target.exec(sql);
        };
      }
      if (prop !== "prepare") return bind(target, prop);
      return (sql: string) => {
        const statement = target.prepare(sql);
        if (/^\s*(SELECT|PRAGMA)/i.test(sql)) return statement;
        return new Proxy(statement, {
          get(s, p) {
            if (p !== "run") return bind(s, p);
            return (...args: Parameters<StatementSync["run"]>) => {
              before(sql);
              return s.run(...args);
            };
          },
        });
      };
    },
  });
  return {
    store: new Store(proxy),
    get writes() {
      return writes;
    },
    get failures() {
      return failures;
    },
    failAt(k, p = false) {
      failFrom = writes + k;
      persist = p;
    },
    heal() {
      failFrom = Infinity;
      persist = false;
    },
  };
}
