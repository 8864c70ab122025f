/**
 * The explorer's index of the active chain: where each transaction is, every output with who it pays and
 * what spent it, each address's history and totals. Bitcoin nodes leave this to Esplora's electrs; here the
 * explorer keeps it in its own SQLite file (`explorer.sqlite` in the data directory) beside the chain's.
 *
 * Why a file and not memory: an in-memory index must re-read every block at each start (10,000 blocks: a
 * second of start-up, and memory that grows with every payment ever made), while this one is read a page at a
 * time, bounded by SQLite's page cache, and only catches up on what arrived since it last ran. Why its own
 * file: it is derived data that can always be rebuilt, so it never shares a transaction or a failure with the
 * chain's store; deleting it is safe.
 *
 * Catching up never holds the event loop for more than a few milliseconds: it works in slices and yields
 * between them, so relay and validation go first. It follows reorgs by comparing its block hashes with the
 * active chain's and rolling back to the fork; a page that asks for something the index has not reached yet
 * says so.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Block } from "../primitives/block.ts";
import { txid } from "../primitives/transaction.ts";
import { pubKeyHash } from "../crypto/key_hash.ts";
import { background } from "../runtime/background.ts";

/** What the index reads of the chain (a `Chain` is one). */
export interface ChainSource {
  /** Height of the active tip. */
  readonly height: number;
  /** The active chain's entry at `height`. */
  entryAt(height: number): { hash: string } | undefined;
  /** A stored block. */
  getBlock(hash: string): Block | undefined;
  /** Its transactions' ids, in block order, as the chain computed them (else the index hashes them). */
  txidsOf?(block: Block): string[];
}

/** An indexed output. */
export interface OutputRow {
  /** The key hash it pays. */
  pkh: string;
  /** Base units. */
  amount: number;
  /** Height of the block that created it. */
  height: number;
  /** True for a coinbase output. */
  coinbase: boolean;
  /** The transaction that spent it, or null. */
  spentBy: string | null;
}

/** One transaction of an address's history, with what it paid the address and took from it. */
export interface HistoryRow {
  /** Position in the history, for paging (`before`). */
  id: number;
  /** The transaction. */
  txid: string;
  /** Its block's height. */
  height: number;
  /** Base units paid to the address. */
  received: number;
  /** Base units spent from the address. */
  sent: number;
}

/** An address's totals on the active chain. */
export interface AddressTotals {
  /** Base units ever paid to it. */
  received: number;
  /** Base units ever spent from it. */
  sent: number;
  /** Transactions that touched it. */
  txCount: number;
}

const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_hash ON blocks (hash);
CREATE TABLE IF NOT EXISTS txs (txid TEXT PRIMARY KEY, height INTEGER NOT NULL, pos INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_height ON txs (height);
CREATE TABLE IF NOT EXISTS outputs (
  txid TEXT NOT NULL, n INTEGER NOT NULL, pkh TEXT NOT NULL, amount INTEGER NOT NULL, height INTEGER NOT NULL,
  coinbase INTEGER NOT NULL, spent_txid TEXT, spent_height INTEGER, PRIMARY KEY (txid, n)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outputs_height ON outputs (height);
CREATE INDEX IF NOT EXISTS outputs_spent ON outputs (spent_height) WHERE spent_height IS NOT NULL;
CREATE INDEX IF NOT EXISTS outputs_pkh ON outputs (pkh, height);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY, pkh TEXT NOT NULL, txid TEXT NOT NULL, height INTEGER NOT NULL,
  received INTEGER NOT NULL, sent INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS history_pkh ON history (pkh, id);
CREATE INDEX IF NOT EXISTS history_height ON history (height);
CREATE TABLE IF NOT EXISTS addresses (
  pkh TEXT PRIMARY KEY, received INTEGER NOT NULL, sent INTEGER NOT NULL, txs INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Catching up works for at most this long before it yields to the node. */
export const INDEX_SLICE_MS = 8;
/**
 * While blocks keep coming (a sync, a burst), the index takes at most this share of the thread and catches up
 * once they stop: indexing a full block costs about 2.5 times connecting it (one SQL statement per input,
 * output and address touched), so an index at full speed made a syncing node 2-3 times slower.
 */
export const INDEX_BUSY_SHARE = 0.05;
/**
 * Within this long (ms) of the last block, the index goes at `INDEX_BUSY_SHARE`: in a sync or a burst the next
 * block is on its way. (A lone full block is then indexed over a few hundred ms instead of at once.)
 */
export const INDEX_QUIET_MS = 1_000;
/** The pause between two slices during a burst, ms, after a slice of `INDEX_SLICE_MS` (longer after a longer one). */
export const INDEX_BUSY_PAUSE_MS = Math.round(INDEX_SLICE_MS * (1 / INDEX_BUSY_SHARE - 1));

if (INDEX_BUSY_PAUSE_MS * INDEX_BUSY_SHARE < INDEX_SLICE_MS * (1 - INDEX_BUSY_SHARE) - 1) {
  throw new Error("the busy pause keeps the index within its share");
}

/**
 * How long the index waits before its next slice (ms; 0 is the next turn of the event loop), given when the
 * last block came (`lastBlockAt`, ms on the clock of `now`) and how long the slice just done took (`sliceMs`):
 * in a burst, long enough to keep the index at `INDEX_BUSY_SHARE`, and at least `INDEX_BUSY_PAUSE_MS`. A slice
 * ends after the block that passes `INDEX_SLICE_MS`, with its commit: on a busy machine 15-20 ms, which a
 * fixed pause let take twice the share (a syncing node's profile: 11 % of its thread).
 */
export function indexPause(now: number, lastBlockAt: number, sliceMs = INDEX_SLICE_MS): number {
  if (now - lastBlockAt >= INDEX_QUIET_MS) return 0;
  return Math.max(INDEX_BUSY_PAUSE_MS, Math.ceil(sliceMs * (1 / INDEX_BUSY_SHARE - 1)));
}

/** The index over one chain. Open with `ChainIndex.open`; call `sync()` whenever the chain changed. */
export class ChainIndex {
  #db: DatabaseSync;
  #chain: ChainSource;
  #q: Record<string, StatementSync>;
  #top = -1;
  #running?: Promise<void>;
  #again = false;
  #closed = false;
  /** Ends the wait between two slices (set while one runs). */
  #wake?: () => void;

  private constructor(db: DatabaseSync, chain: ChainSource) {
    this.#db = db;
    this.#chain = chain;
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      top: p("SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1"),
      hashAt: p("SELECT hash FROM blocks WHERE height = ?"),
      addBlock: p("INSERT OR REPLACE INTO blocks (height, hash) VALUES (?, ?)"),
      addTx: p("INSERT OR REPLACE INTO txs (txid, height, pos) VALUES (?, ?, ?)"),
      addOutput: p(
        "INSERT OR REPLACE INTO outputs (txid, n, pkh, amount, height, coinbase) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      spend: p(
        "UPDATE outputs SET spent_txid = ?, spent_height = ? WHERE txid = ? AND n = ? RETURNING pkh, amount",
      ),
      output: p("SELECT pkh, amount, height, coinbase, spent_txid FROM outputs WHERE txid = ? AND n = ?"),
      addHistory: p("INSERT INTO history (pkh, txid, height, received, sent) VALUES (?, ?, ?, ?, ?)"),
      addTotals: p(
        `INSERT INTO addresses (pkh, received, sent, txs) VALUES (?, ?, ?, ?) ON CONFLICT (pkh) DO UPDATE SET
         received = received + excluded.received, sent = sent + excluded.sent, txs = txs + excluded.txs`,
      ),
      tx: p("SELECT height, pos FROM txs WHERE txid = ?"),
      // Hex ids sort by their text: the ids starting with P are those from P to P + "g" ("g" follows "f").
      txPrefix: p("SELECT txid FROM txs WHERE txid >= ? AND txid < ? ORDER BY txid LIMIT ?"),
      blockPrefix: p("SELECT height, hash FROM blocks WHERE hash >= ? AND hash < ? ORDER BY hash LIMIT ?"),
      totals: p("SELECT received, sent, txs FROM addresses WHERE pkh = ?"),
      immature: p(
        `SELECT COALESCE(SUM(amount), 0) AS sum FROM outputs
         WHERE pkh = ? AND height > ? AND coinbase = 1 AND spent_txid IS NULL`,
      ),
      history: p(
        `SELECT id, txid, height, received, sent FROM history WHERE pkh = ? AND id < ?
         ORDER BY id DESC LIMIT ?`,
      ),
      undoTotals: p(
        `SELECT pkh, SUM(received) AS r, SUM(sent) AS s, COUNT(*) AS n FROM history WHERE height > ?
         GROUP BY pkh`,
      ),
      subTotals: p(
        "UPDATE addresses SET received = received - ?, sent = sent - ?, txs = txs - ? WHERE pkh = ?",
      ),
      dropBlocks: p("DELETE FROM blocks WHERE height > ?"),
      dropTxs: p("DELETE FROM txs WHERE height > ?"),
      dropOutputs: p("DELETE FROM outputs WHERE height > ?"),
      unspend: p("UPDATE outputs SET spent_txid = NULL, spent_height = NULL WHERE spent_height > ?"),
      dropHistory: p("DELETE FROM history WHERE height > ?"),
    };
    const top = this.#q.top.get() as { height: number } | undefined;
    this.#top = top?.height ?? -1;
  }

  /**
   * Opens (creating, or rebuilding when unreadable or of another version) the index at `path` over `chain`.
   * `":memory:"` keeps it in memory, for tests.
   * @example const index = ChainIndex.open(`${dataDir}/explorer.sqlite`, node.chain); await index.sync();
   */
  static open(path: string, chain: ChainSource): ChainIndex {
    try {
      return new ChainIndex(openDb(path), chain);
    } catch {
      // Derived data: an unreadable or outdated file is rebuilt from the chain, never a reason not to start.
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          Deno.removeSync(path + suffix);
        } catch { /* not there */ }
      }
      return new ChainIndex(openDb(path), chain);
    }
  }

  /** Height up to which the index holds the chain (-1 before the first block). */
  get height(): number {
    return this.#top;
  }

  /** True when the index has caught up with the chain's tip. */
  get synced(): boolean {
    return this.#top === this.#chain.height &&
      this.#hashAt(this.#top) === this.#chain.entryAt(this.#top)?.hash;
  }

  /**
   * Brings the index to the chain's tip, rolling back first if the chain left the indexed branch. One run at
   * a time: a call during a run makes that run go round once more, and returns its promise. Between slices it
   * waits `pause(sliceMs)` ms, told how long the slice took (see `indexPause`; by default the next turn of
   * the event loop).
   */
  sync(pause: (sliceMs: number) => number = () => 0): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      do {
        this.#again = false;
        for (let t0 = performance.now(); !this.#closed && !this.#step(); t0 = performance.now()) {
          const ms = pause(performance.now() - t0);
          // No pause: one background job's slice per turn of the event loop (lib/runtime/background.ts).
          await (ms > 0 ? this.#wait(ms) : background.turn());
        }
      } while (this.#again && !this.#closed);
    })();
    // Cleared only after the assignment: a run that finishes at once must not leave itself behind.
    this.#running = run;
    const clear = () => {
      if (this.#running === run) this.#running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** Resolves after `ms`, or at once when the index closes (no timer outlives it). */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One slice of work; true when the index is at the tip. */
  #step(): boolean {
    const chain = this.#chain;
    let h = Math.min(this.#top, chain.height);
    while (h >= 0 && this.#hashAt(h) !== chain.entryAt(h)?.hash) h--;
    const t0 = performance.now();
    this.#db.exec("BEGIN");
    try {
      if (h < this.#top) this.#rollback(h);
      while (h < chain.height && performance.now() - t0 < INDEX_SLICE_MS) {
        const entry = chain.entryAt(h + 1)!;
        const block = chain.getBlock(entry.hash);
        // Gone (a reorg under our feet) or not on the indexed branch: the next slice finds the fork again.
        if (!block || (h >= 0 && block.header.prevHash !== this.#hashAt(h))) break;
        this.#indexBlock(h + 1, entry.hash, block);
        h++;
      }
      this.#db.exec("COMMIT");
    } catch (e) {
      this.#db.exec("ROLLBACK");
      this.#top = (this.#q.top.get() as { height: number } | undefined)?.height ?? -1;
      throw e;
    }
    return h === chain.height && this.#hashAt(h) === chain.entryAt(h)?.hash;
  }

  #hashAt(height: number): string | undefined {
    return (this.#q.hashAt.get(height) as { hash: string } | undefined)?.hash;
  }

  #rollback(height: number): void {
    const q = this.#q;
    for (const r of q.undoTotals.all(height) as { pkh: string; r: number; s: number; n: number }[]) {
      q.subTotals.run(r.r, r.s, r.n, r.pkh);
    }
    q.dropHistory.run(height);
    q.unspend.run(height);
    q.dropOutputs.run(height);
    q.dropTxs.run(height);
    q.dropBlocks.run(height);
    this.#top = height;
  }

  #indexBlock(height: number, hash: string, block: Block): void {
    const q = this.#q;
    q.addBlock.run(height, hash);
    const ids = this.#chain.txidsOf?.(block);
    block.txs.forEach((tx, pos) => {
      const id = ids?.[pos] ?? txid(tx);
      q.addTx.run(id, height, pos);
      const touched = new Map<string, { received: number; sent: number }>();
      const touch = (pkh: string) => {
        let t = touched.get(pkh);
        if (!t) touched.set(pkh, t = { received: 0, sent: 0 });
        return t;
      };
      for (const input of tx.inputs) {
        // One statement marks the output spent and reads what it paid.
        const spent = q.spend.get(id, height, input.prevout.txid, input.prevout.index) as
          | { pkh: string; amount: number }
          | undefined;
        // The chain validated the spend, so the output is indexed; the key names the address all the same.
        touch(spent?.pkh ?? pubKeyHash(input.publicKey)).sent += spent?.amount ?? 0;
      }
      tx.outputs.forEach((o, n) => {
        q.addOutput.run(id, n, o.pubKeyHash, o.amount, height, pos === 0 ? 1 : 0);
        touch(o.pubKeyHash).received += o.amount;
      });
      for (const [pkh, t] of touched) {
        q.addHistory.run(pkh, id, height, t.received, t.sent);
        q.addTotals.run(pkh, t.received, t.sent, 1);
      }
    });
    this.#top = height;
  }

  /** Where a confirmed transaction is on the active chain, or undefined (unknown, or not indexed yet). */
  tx(id: string): { height: number; pos: number; block: string } | undefined {
    const r = this.#q.tx.get(id) as { height: number; pos: number } | undefined;
    const block = r && this.#chain.entryAt(r.height)?.hash;
    // A reorg the index has not followed yet: the row may point at a block that left the active chain.
    if (!r || !block || block !== this.#hashAt(r.height)) return undefined;
    return { ...r, block };
  }

  /** Confirmed transaction ids starting with `prefix` (lowercase hex), `limit` at most, in order. */
  txidsWithPrefix(prefix: string, limit: number): string[] {
    return (this.#q.txPrefix.all(prefix, `${prefix}g`, limit) as { txid: string }[]).map((r) => r.txid);
  }

  /** Indexed blocks of the active chain whose hash starts with `prefix` (lowercase hex), `limit` at most. */
  blocksWithPrefix(prefix: string, limit: number): { height: number; hash: string }[] {
    return (this.#q.blockPrefix.all(prefix, `${prefix}g`, limit) as { height: number; hash: string }[])
      .map((r) => ({ height: r.height, hash: r.hash }));
  }

  /** An output of a confirmed transaction. */
  output(id: string, n: number): OutputRow | undefined {
    const r = this.#q.output.get(id, n) as
      | { pkh: string; amount: number; height: number; coinbase: number; spent_txid: string | null }
      | undefined;
    return r &&
      { pkh: r.pkh, amount: r.amount, height: r.height, coinbase: r.coinbase === 1, spentBy: r.spent_txid };
  }

  /** An address's totals (zeros for one never paid). */
  totals(pkh: string): AddressTotals {
    const r = this.#q.totals.get(pkh) as { received: number; sent: number; txs: number } | undefined;
    return { received: r?.received ?? 0, sent: r?.sent ?? 0, txCount: r?.txs ?? 0 };
  }

  /** Unspent coinbase outputs of `pkh` created above `height` (the ones still maturing). */
  immature(pkh: string, aboveHeight: number): number {
    return (this.#q.immature.get(pkh, aboveHeight) as { sum: number }).sum;
  }

  /** Up to `limit` history rows of `pkh`, newest first, older than `before` (an `id`). */
  history(pkh: string, before = Number.MAX_SAFE_INTEGER, limit = 50): HistoryRow[] {
    return this.#q.history.all(pkh, before, limit) as unknown as HistoryRow[];
  }

  /** Stops catching up and closes the file. */
  close(): void {
    this.#closed = true;
    this.#wake?.();
    if (this.#db.isOpen) this.#db.close();
  }
}

function openDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    // Derived data: a power cut may lose the last blocks indexed, which the next start indexes again.
    db.exec("PRAGMA synchronous = OFF");
    const version = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (version !== SCHEMA_VERSION) {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
        name: string;
      }[];
      for (const t of tables) db.exec(`DROP TABLE IF EXISTS "${t.name}"`);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    }
    db.exec(SCHEMA);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
