/**
 * The on-disk store (`node:sqlite`): blocks, the block index with cumulative work, the UTXO set, undo data and
 * the tip, in one file. Connecting or disconnecting a block is one SQL transaction, so a crash leaves either
 * the previous tip or the new one and nothing in between. The store knows bytes and rows, not rules.
 * @module
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Coin } from "../primitives/coin.ts";
import {
  hashAt,
  headerAt,
  type IndexSnapshot,
  packIndex,
  type SnapshotRow,
  unpackIndex,
  workAt,
} from "./index_snapshot.ts";

/** One row of the block index. */
export interface IndexRow {
  /** Block hash, display order. */
  hash: string;
  /** Height in its chain. */
  height: number;
  /** The 80 header bytes. */
  header: Uint8Array;
  /** Cumulative work up to and including this block. */
  chainWork: bigint;
  /** Bit flags, see `BlockStatus` in lib/chain/chain.ts. */
  status: number;
  /** The parent's hash, when `loadIndex` knows it already (from the index snapshot); else read the header. */
  prevHash?: string;
}

/** A coin keyed by its outpoint (`"txid:index"`). */
export type CoinEntry = [key: string, coin: Coin];

/** One block's effect on the store (`Store.applyBlock`): connected (`undo` set) or disconnected (`undo` null). */
export interface BlockChange {
  /** The block's hash, display order. */
  hash: string;
  /** Its new status flags, if they change. */
  status?: number;
  /** Outpoint keys of the coins it removes. */
  spent: string[];
  /** The coins it adds. */
  created: CoinEntry[];
  /** Its undo data (connected), or null (disconnected: the undo row is dropped). */
  undo: Uint8Array | null;
  /** The tip after it. */
  tip: string;
  /** The block itself, when it was not stored yet: written in the same transaction. */
  block?: { row: IndexRow; data: Uint8Array };
}

/**
 * Coins one statement writes or deletes when a block is applied (the rest one by one). Its insert binds five
 * values a coin: within SQLite's oldest bound on variables a statement (999).
 */
const COIN_BATCH = 32;
if (COIN_BATCH * 5 > 999) throw new Error("COIN_BATCH binds more variables than SQLite allows");

/** Rows start-up reads per query: pages keep memory bounded, and a page costs one call instead of one per row. */
export const PAGE_ROWS = 2048;

/**
 * Heights one `blocksBetween` query reads at most: a rescan reads a few blocks per query instead of one (a
 * query per block was half of a 10,000-block rescan), while a page of full blocks stays a few MB.
 */
export const BLOCK_PAGE_HEIGHTS = 16;

/** An index row as `setReturnArrays` gives it: hash, height, header, work, status, rowid. */
type RawIndexRow = [string, number, Uint8Array, string, number, number];

/** A coin row as `setReturnArrays` gives it: rowid, outpoint, amount, pkh, height, coinbase. */
type RawCoinRow = [number, string, number, string, number, number];

/** A page of the UTXO set (`Store.coinPage`). */
export interface CoinPage {
  /** The page's coins. */
  coins: CoinEntry[];
  /** Where the next page starts, or null when this was the last. */
  next: number | null;
}

const coinEntry = (r: RawCoinRow): CoinEntry => [
  r[1],
  { amount: r[2], pubKeyHash: r[3], height: r[4], coinbase: r[5] === 1 },
];

/** Raised when the store cannot be opened or written. */
export class StoreError extends Error {
  /** The error's name, for logs. */
  override name = "StoreError";
}

/**
 * The store format this code reads and writes, kept in `PRAGMA user_version`. 0 is the format from before
 * versions were kept; each later format is the one before plus `MIGRATIONS[its number - 1]`.
 */
export const STORE_VERSION = 1;

/** The tables of format 0: a new store starts here and migrates like an old one, so both take one path. */
const SCHEMA_V0 = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
  hash TEXT PRIMARY KEY, height INTEGER NOT NULL, header BLOB NOT NULL, work TEXT NOT NULL,
  status INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS coins (
  outpoint TEXT PRIMARY KEY, amount INTEGER NOT NULL, pkh TEXT NOT NULL, height INTEGER NOT NULL,
  coinbase INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS undo (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
`;

/** `MIGRATIONS[v]` turns format v into v + 1. */
const MIGRATIONS: readonly string[] = [
  // 0 -> 1: start-up reads the index in height order; an index on height streams it instead of sorting it.
  "CREATE INDEX blocks_by_height ON blocks (height)",
];

/** The chain's persistent state. Open with `openStore`. */
export class Store {
  #db: DatabaseSync;
  #q: Record<string, StatementSync>;
  /** Inside `#transaction`, whose failure says what a single statement's would. */
  #inTransaction = false;
  #indexRowsRead = 0;

  /** @internal use `openStore`. */
  constructor(db: DatabaseSync) {
    this.#db = db;
    const version = userVersion(db);
    if (version < STORE_VERSION) {
      // All steps and the new version number commit together: a crash mid-way leaves the old format.
      this.#transaction(() => {
        db.exec(SCHEMA_V0);
        for (const step of MIGRATIONS.slice(version)) db.exec(step);
        db.exec(`PRAGMA user_version = ${STORE_VERSION}`);
      });
    }
    const p = (sql: string) => db.prepare(sql);
    this.#q = {
      getMeta: p("SELECT value FROM meta WHERE key = ?"),
      setMeta: p(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      putBlock: p(
        "INSERT OR IGNORE INTO blocks (hash, height, header, work, status, data) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      setStatus: p("UPDATE blocks SET status = ? WHERE hash = ?"),
      getBlock: p("SELECT data FROM blocks WHERE hash = ?"),
      blocksBetween: rows(
        p("SELECT height, hash, data FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height"),
      ),
      // Parents before children, and arrival order within a height (ties in work go to the first seen); a
      // page at a time, after the last row read (the height index serves both the order and the seek).
      index: rows(p(
        `SELECT hash, height, header, work, status, rowid FROM blocks WHERE (height, rowid) > (?, ?)
         AND rowid > ? ORDER BY height, rowid LIMIT ${PAGE_ROWS}`,
      )),
      // What an index snapshot is checked against, in rowid order (the subquery's order by the primary key
      // costs no sort: an ORDER BY inside group_concat sorted, 25-40 ms with 10,000 rows).
      indexCheck: p(
        `SELECT count(*) AS n, group_concat(hash, '') AS hashes, group_concat(status, ',') AS statuses
         FROM (SELECT hash, status FROM blocks WHERE rowid <= ? ORDER BY rowid)`,
      ),
      coins: rows(p(
        `SELECT rowid, outpoint, amount, pkh, height, coinbase FROM coins WHERE rowid > ? ORDER BY rowid
         LIMIT ${PAGE_ROWS}`,
      )),
      getCoin: rows(p("SELECT rowid, outpoint, amount, pkh, height, coinbase FROM coins WHERE outpoint = ?")),
      // One pass over the table in SQLite, no index on pkh: a scan in C costs a few ms per 100,000 coins, and
      // an index would slow every block's writes for a query that runs only until the set is in memory.
      coinsPaying: rows(p(
        `SELECT rowid, outpoint, amount, pkh, height, coinbase FROM coins
         WHERE pkh IN (SELECT value FROM json_each(?)) ORDER BY rowid`,
      )),
      addCoin: p(
        "INSERT OR REPLACE INTO coins (outpoint, amount, pkh, height, coinbase) VALUES (?, ?, ?, ?, ?)",
      ),
      delCoin: p("DELETE FROM coins WHERE outpoint = ?"),
      // A block's coins a batch per statement: one statement per coin cost twice the time (node:sqlite's
      // per-call overhead), measured at 3.2 vs 1.7 ms for a block of 100 spends and 200 outputs.
      addCoins: p(
        `INSERT OR REPLACE INTO coins (outpoint, amount, pkh, height, coinbase) VALUES ${
          Array(COIN_BATCH).fill("(?, ?, ?, ?, ?)").join(", ")
        }`,
      ),
      delCoins: p(`DELETE FROM coins WHERE outpoint IN (${Array(COIN_BATCH).fill("?").join(", ")})`),
      putUndo: p("INSERT OR REPLACE INTO undo (hash, data) VALUES (?, ?)"),
      getUndo: p("SELECT data FROM undo WHERE hash = ?"),
      delUndo: p("DELETE FROM undo WHERE hash = ?"),
    };
  }

  /** A value from the meta table. */
  getMeta(key: string): string | undefined {
    return (this.#q.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  /** Sets a value in the meta table. */
  setMeta(key: string, value: string): void {
    this.#q.setMeta.run(key, value);
  }

  /**
   * Every row of the block index (no block bodies), parents before children: from the index snapshot
   * (`saveIndexSnapshot`) and the rows stored after it when the snapshot matches the table, else row by row.
   */
  *loadIndex(): IterableIterator<IndexRow> {
    this.#indexRowsRead = 0;
    const snapshot = this.#snapshot();
    if (!snapshot) {
      for (const r of this.#indexRows(-1)) yield this.#indexRow(r);
      return;
    }
    const { s, statuses, last } = snapshot;
    const tail = this.#indexRows(last);
    let next = tail.next();
    const hashes: string[] = new Array(s.count);
    for (const i of s.order) {
      // Rows stored after the snapshot take their place in the same order: height, then rowid.
      const height = s.heights[i], rowid = s.rowids[i];
      for (; !next.done && (next.value[1] < height || (next.value[1] === height && next.value[5] < rowid));) {
        yield this.#indexRow(next.value);
        next = tail.next();
      }
      const hash = hashes[i] = hashAt(s, i);
      const parent = s.parents[i];
      yield {
        hash,
        height,
        header: headerAt(s, i),
        chainWork: workAt(s, i),
        status: statuses[i],
        prevHash: parent >= 0 ? hashes[parent] : undefined,
      };
    }
    for (; !next.done; next = tail.next()) yield this.#indexRow(next.value);
  }

  /** Rows the last `loadIndex` read from the table one by one: all without a snapshot, else those after it. */
  get indexRowsRead(): number {
    return this.#indexRowsRead;
  }

  #indexRow(r: RawIndexRow): IndexRow {
    this.#indexRowsRead++;
    return { hash: r[0], height: r[1], header: r[2], chainWork: BigInt("0x" + r[3]), status: r[4] };
  }

  /** The index's rows with a rowid above `after`, a page at a time, in height then rowid order. */
  *#indexRows(after: number): IterableIterator<RawIndexRow> {
    // A page at a time: start-up holds one page of rows, not the whole index twice over. Row by row
    // (`iterate`) cost a call per row: with 10,000 blocks, 3x the time of pages.
    let height = -1, rowid = -1;
    for (;;) {
      const page = this.#q.index.all(height, rowid, after) as unknown as RawIndexRow[];
      yield* page;
      if (page.length < PAGE_ROWS) return;
      [height, rowid] = [page[page.length - 1][1], page[page.length - 1][5]];
    }
  }

  /**
   * The stored snapshot, when it holds exactly the table's rows up to its last rowid (the same hashes in rowid
   * order), with those rows' statuses read from the table; undefined otherwise.
   */
  #snapshot(): { s: IndexSnapshot; statuses: number[]; last: number } | undefined {
    let s: IndexSnapshot | undefined;
    try {
      const row = this.#db.prepare("SELECT data FROM index_snapshot WHERE id = 1").get() as
        | { data: Uint8Array }
        | undefined;
      s = row && unpackIndex(row.data);
    } catch {
      return undefined; // no snapshot table: a store no snapshot was saved in
    }
    if (!s || s.count === 0) return undefined;
    const last = s.rowids[s.count - 1];
    const table = this.#q.indexCheck.get(last) as {
      n: number;
      hashes: string | null;
      statuses: string | null;
    };
    if (table.n !== s.count || table.hashes !== s.hashes) return undefined;
    return { s, statuses: table.statuses!.split(",").map(Number), last };
  }

  /**
   * Saves a snapshot of the block index (see lib/store/index_snapshot.ts), replacing the last one in one
   * transaction: a crash leaves the old one or the new one. `prevHashOf` reads a header's parent hash. It is
   * only a cache: the table stays the block index, and a snapshot the table no longer matches is not used.
   */
  saveIndexSnapshot(prevHashOf: (header: Uint8Array) => string): void {
    const rows: SnapshotRow[] = [];
    const at = new Map<string, number>();
    const byRowid = [...this.#indexRows(-1)].sort((a, b) => a[5] - b[5]);
    byRowid.forEach((r, i) => at.set(r[0], i));
    for (const r of byRowid) {
      const parent = r[1] > 0 ? at.get(prevHashOf(r[2])) ?? -1 : -1;
      rows.push({ rowid: r[5], hash: r[0], height: r[1], header: r[2], work: r[3], parent });
    }
    const data = packIndex(rows);
    this.#transaction(() => {
      this.#db.exec(
        "CREATE TABLE IF NOT EXISTS index_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL)",
      );
      this.#db.prepare("INSERT OR REPLACE INTO index_snapshot (id, data) VALUES (1, ?)").run(data);
    });
  }

  /** Every unspent output, a page at a time. */
  *loadCoins(): IterableIterator<CoinEntry> {
    for (let after: number | null = -1; after !== null;) {
      const page: CoinPage = this.coinPage(after);
      yield* page.coins;
      after = page.next;
    }
  }

  /**
   * Up to `PAGE_ROWS` unspent outputs stored after the position `after` (-1: from the first), and the position
   * to ask from next, null after the last page. A coin written after a page was read comes in a later page.
   */
  coinPage(after: number): CoinPage {
    const page = this.#q.coins.all(after) as unknown as RawCoinRow[];
    return {
      coins: page.map(coinEntry),
      next: page.length < PAGE_ROWS ? null : page[page.length - 1][0],
    };
  }

  /** The unspent output at `key` (`"txid:index"`), or undefined. */
  getCoin(key: string): Coin | undefined {
    const row = this.#q.getCoin.get(key) as unknown as RawCoinRow | undefined;
    return row && coinEntry(row)[1];
  }

  /** Every unspent output paying one of `pubKeyHashes`, in the order they were stored. */
  coinsPaying(pubKeyHashes: Iterable<string>): CoinEntry[] {
    const rows = this.#q.coinsPaying.all(JSON.stringify([...pubKeyHashes])) as unknown as RawCoinRow[];
    return rows.map(coinEntry);
  }

  /** Stores a block and its index row (a no-op if already stored). */
  putBlock(row: IndexRow, data: Uint8Array): void {
    this.#write(() =>
      this.#q.putBlock.run(row.hash, row.height, row.header, row.chainWork.toString(16), row.status, data)
    );
  }

  /** Updates a block's status flags. */
  setStatus(hash: string, status: number): void {
    this.#write(() => this.#q.setStatus.run(status, hash));
  }

  /** The encoded block, or undefined. */
  getBlock(hash: string): Uint8Array | undefined {
    return (this.#q.getBlock.get(hash) as { data: Uint8Array } | undefined)?.data;
  }

  /**
   * Every stored block at heights `from` to `to` (side blocks too), as [height, hash, bytes] in height order,
   * read `BLOCK_PAGE_HEIGHTS` heights per query.
   */
  *blocksBetween(from: number, to: number): IterableIterator<[number, string, Uint8Array]> {
    for (let h = from; h <= to; h += BLOCK_PAGE_HEIGHTS) {
      const page = this.#q.blocksBetween.all(h, Math.min(to, h + BLOCK_PAGE_HEIGHTS - 1));
      yield* page as unknown as [number, string, Uint8Array][];
    }
  }

  /** The undo data of a connected block, or undefined. */
  getUndo(hash: string): Uint8Array | undefined {
    return (this.#q.getUndo.get(hash) as { data: Uint8Array } | undefined)?.data;
  }

  /**
   * Applies one block's effect on the UTXO set, its undo data, its status and the new tip, atomically.
   * Used both to connect (`undo` set) and to disconnect (`undo` null: the undo row is dropped).
   */
  applyBlock(change: BlockChange): void {
    this.applyBlocks([change]);
  }

  /**
   * Applies several blocks' changes (each as `applyBlock` would), in order, in one transaction: a crash
   * leaves all of them or none, and the tip moves with them. One commit for a batch of blocks instead of one
   * each (a commit cost about as much as a full block's rows, measured in a syncing node).
   */
  applyBlocks(changes: readonly BlockChange[]): void {
    this.#transaction(() => {
      for (const change of changes) this.#apply(change);
    });
  }

  #apply(change: BlockChange): void {
    if (change.block) this.putBlock(change.block.row, change.block.data);
    const { spent, created } = change;
    let i = 0;
    for (; i + COIN_BATCH <= spent.length; i += COIN_BATCH) {
      this.#q.delCoins.run(...spent.slice(i, i + COIN_BATCH));
    }
    for (; i < spent.length; i++) this.#q.delCoin.run(spent[i]);
    const row = ([key, c]: CoinEntry) => [key, c.amount, c.pubKeyHash, c.height, c.coinbase ? 1 : 0];
    let j = 0;
    for (; j + COIN_BATCH <= created.length; j += COIN_BATCH) {
      this.#q.addCoins.run(...created.slice(j, j + COIN_BATCH).flatMap(row));
    }
    for (; j < created.length; j++) this.#q.addCoin.run(...row(created[j]));
    if (change.undo) this.#q.putUndo.run(change.hash, change.undo);
    else this.#q.delUndo.run(change.hash);
    if (change.status !== undefined) this.#q.setStatus.run(change.status, change.hash);
    this.#q.setMeta.run("tip", change.tip);
  }

  /** Writes a new store's genesis block, network and tip in one transaction. */
  init(row: IndexRow, data: Uint8Array, network: string): void {
    this.#transaction(() => {
      this.putBlock(row, data);
      this.#q.setMeta.run("network", network);
      this.#q.setMeta.run("tip", row.hash);
    });
  }

  /** One statement, atomic by itself: a failure is a StoreError, as in a transaction. */
  #write(fn: () => void): void {
    if (this.#inTransaction) return fn();
    try {
      fn();
    } catch (e) {
      throw new StoreError(`store write failed, nothing was changed: ${(e as Error).message}`);
    }
  }

  #transaction(fn: () => void): void {
    try {
      this.#db.exec("BEGIN IMMEDIATE"); // inside: a busy or full database is a StoreError like any other
      this.#inTransaction = true;
      fn();
      this.#db.exec("COMMIT");
    } catch (e) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* the transaction is already gone; the original error matters */ }
      throw new StoreError(`store write failed, nothing was changed: ${(e as Error).message}`);
    } finally {
      this.#inTransaction = false;
    }
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/**
 * Opens (creating if needed) the store at `path`, or an in-memory one for `":memory:"`.
 * WAL with `synchronous=NORMAL`: a committed block survives a killed process; a power cut may lose the last
 * blocks but never leaves a half-connected one.
 * @example A store on disk keeps the chain across restarts
 * ```ts
 * import { Chain, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate, solveSync } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = openStore(`${dir}/chain.sqlite`);
 * const chain = Chain.open(store, NETWORKS.regtest);
 * await chain.processBlock(solveSync(createTemplate(chain, undefined, "00".repeat(20)).block));
 * store.close();
 *
 * const reopened = openStore(`${dir}/chain.sqlite`);
 * assert.equal(Chain.open(reopened, NETWORKS.regtest).height, 1);
 * reopened.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function openStore(
  path: string,
  opts: {
    /**
     * Called after each statement that writes (and each BEGIN, COMMIT and ROLLBACK) with its SQL: the crash
     * tests stop the process dead at the k-th write. Nothing else should need it.
     */
    onWrite?: (sql: string) => void;
  } = {},
): Store {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (e) {
    throw new StoreError(`cannot open the chain store ${path}: ${(e as Error).message}`);
  }
  try {
    // Before anything writes (even the journal mode): a newer program's store is refused untouched.
    db.exec("PRAGMA busy_timeout = 2000");
    const version = userVersion(db);
    if (version > STORE_VERSION) {
      throw new StoreError(
        `the chain store ${path} has format version ${version}, newer than this program reads ` +
          `(${STORE_VERSION}): use a newer peerchain; the store was left untouched`,
      );
    }
    if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    return new Store(opts.onWrite ? observeWrites(db, opts.onWrite) : db);
  } catch (e) {
    db.close();
    if (e instanceof StoreError) throw e;
    throw new StoreError(`cannot open the chain store ${path}: ${(e as Error).message}`);
  }
}

function userVersion(db: DatabaseSync): number {
  return (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

/** `db` reporting each `exec` and each `run` of a statement other than a SELECT to `onWrite`, after it ran. */
function observeWrites(db: DatabaseSync, onWrite: (sql: string) => void): DatabaseSync {
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target);
    return typeof value === "function" ? value.bind(target) : value;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "exec") {
        return (sql: string) => {
          target.exec(sql);
          onWrite(sql);
        };
      }
      if (prop !== "prepare") return bind(target, prop);
      return (sql: string) => {
        const statement = target.prepare(sql);
        if (/^\s*SELECT/i.test(sql)) return statement;
        return new Proxy(statement, {
          get(s, p) {
            if (p !== "run") return bind(s, p);
            return (...args: Parameters<StatementSync["run"]>) => {
              const result = s.run(...args);
              onWrite(sql);
              return result;
            };
          },
        });
      };
    },
  });
}

/**
 * `statement` answering rows as arrays (no object per row: start-up reads tens of thousands). Deno 2.9's
 * `node:sqlite` has `setReturnArrays`, which its type declarations do not list yet.
 */
function rows(statement: StatementSync): StatementSync {
  const s = statement as StatementSync & { setReturnArrays?: (on: boolean) => void };
  if (typeof s.setReturnArrays !== "function") throw new StoreError("node:sqlite lacks setReturnArrays");
  s.setReturnArrays(true);
  return statement;
}
