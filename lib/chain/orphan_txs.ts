/**
 * Transactions that arrived before a transaction they spend (relay paths differ, above all around a
 * failover). The mempool keeps them here until a parent comes: bounded in count and bytes, each for a limited
 * time, and when full a random one makes room, so a flood cannot choose which waiting transactions it pushes
 * out (Bitcoin Core's orphanage, in small).
 * @module
 */
import {
  MAX_ORPHAN_TX_BYTES,
  MAX_ORPHAN_TXS,
  MAX_STANDARD_TX_SIZE,
  ORPHAN_TX_EXPIRY_MS,
} from "../consensus/policy.ts";
import type { Transaction } from "../primitives/transaction.ts";

/** Bounds and seams of an `OrphanTxs`; every field has a default. */
export interface OrphanTxsOptions {
  /** Transactions kept at most (default `MAX_ORPHAN_TXS`). */
  maxCount?: number;
  /** Their encoded bytes at most (default `MAX_ORPHAN_TX_BYTES`). */
  maxBytes?: number;
  /** How long one waits, in ms (default `ORPHAN_TX_EXPIRY_MS`). */
  expiryMs?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Uniform in [0, 1) (default `Math.random`); inject a seeded one in tests. */
  random?: () => number;
}

/** A waiting transaction. */
export interface OrphanTx {
  /**
   * What tells this copy from another of the same txid (which does not cover signatures): a copy with forged
   * signatures must not keep the honest one out.
   */
  key: string;
  /** Its id. */
  id: string;
  /** The transaction. */
  tx: Transaction;
  /** Encoded bytes. */
  size: number;
  /** When it is dropped if no parent came (ms, per the pool's clock). */
  expires: number;
}

/** A bounded pool of transactions waiting for a parent. */
export class OrphanTxs {
  #byKey = new Map<string, OrphanTx>();
  /** Txid → keys of its waiting copies. */
  #keysOf = new Map<string, Set<string>>();
  /** Parent txid → keys of waiting transactions that spend its outputs. */
  #byParent = new Map<string, Set<string>>();
  #bytes = 0;
  #maxCount: number;
  #maxBytes: number;
  #expiryMs: number;
  #now: () => number;
  #random: () => number;

  /** An empty pool. */
  constructor(opts: OrphanTxsOptions = {}) {
    this.#maxCount = opts.maxCount ?? MAX_ORPHAN_TXS;
    this.#maxBytes = opts.maxBytes ?? MAX_ORPHAN_TX_BYTES;
    this.#expiryMs = opts.expiryMs ?? ORPHAN_TX_EXPIRY_MS;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  /** Number waiting. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Their encoded bytes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when the copy `key` is waiting. */
  has(key: string): boolean {
    return this.#byKey.has(key);
  }

  /** True when some copy of transaction `id` is waiting. */
  hasTxid(id: string): boolean {
    return this.#keysOf.has(id);
  }

  /**
   * Keeps copy `key` of transaction `id` (a no-op if it is already waiting), first dropping expired ones and
   * then random ones until it fits. Returns false when it is too large to keep at all.
   */
  add(key: string, id: string, tx: Transaction, size: number): boolean {
    if (this.#byKey.has(key)) return true;
    if (size > Math.min(MAX_STANDARD_TX_SIZE, this.#maxBytes)) return false;
    this.#expire();
    while (this.#byKey.size >= this.#maxCount || this.#bytes + size > this.#maxBytes) this.#evictRandom();
    this.#byKey.set(key, { key, id, tx, size, expires: this.#now() + this.#expiryMs });
    this.#bytes += size;
    this.#index(this.#keysOf, id, key);
    for (const parent of new Set(tx.inputs.map((i) => i.prevout.txid))) {
      this.#index(this.#byParent, parent, key);
    }
    return true;
  }

  /** Removes copy `key` if it is waiting. */
  remove(key: string): void {
    const o = this.#byKey.get(key);
    if (!o) return;
    this.#byKey.delete(key);
    this.#bytes -= o.size;
    this.#unindex(this.#keysOf, o.id, key);
    for (const i of o.tx.inputs) this.#unindex(this.#byParent, i.prevout.txid, key);
  }

  /** Removes and returns the unexpired transactions that spend outputs of `parent`. */
  takeChildrenOf(parent: string): OrphanTx[] {
    const keys = this.#byParent.get(parent);
    if (!keys) return [];
    const now = this.#now(), out: OrphanTx[] = [];
    for (const key of [...keys]) {
      const o = this.#byKey.get(key)!;
      this.remove(key);
      if (o.expires > now) out.push(o);
    }
    return out;
  }

  #index(map: Map<string, Set<string>>, at: string, key: string): void {
    let keys = map.get(at);
    if (!keys) map.set(at, keys = new Set());
    keys.add(key);
  }

  #unindex(map: Map<string, Set<string>>, at: string, key: string): void {
    const keys = map.get(at);
    keys?.delete(key);
    if (keys?.size === 0) map.delete(at);
  }

  /** True when some waiting transaction spends an output of `parent`. */
  hasChildrenOf(parent: string): boolean {
    return this.#byParent.has(parent);
  }

  #expire(): void {
    const now = this.#now();
    for (const o of [...this.#byKey.values()]) if (o.expires <= now) this.remove(o.key);
  }

  #evictRandom(): void {
    let k = Math.min(this.#byKey.size - 1, Math.floor(this.#random() * this.#byKey.size));
    for (const key of this.#byKey.keys()) {
      if (k-- === 0) return this.remove(key);
    }
  }
}
