/**
 * The mempool: fully validated transactions waiting for a block. First seen wins a conflict; entries are
 * ordered by fee rate for block templates; the pool is bounded in bytes and evicts the lowest fee rate; it
 * follows the chain, dropping what blocks confirm or conflict with and taking back still-valid transactions
 * from disconnected blocks.
 * @module
 */
import {
  isCoinbase,
  type OutPoint,
  outpointKey,
  type Transaction,
  txid,
  txSize,
} from "../primitives/transaction.ts";
import type { Chain, ChainUpdate } from "./chain.ts";
import type { Coin, CoinView, OwnedCoin } from "./coins.ts";
import { ensure, NO_BLAME, ValidationError } from "./errors.ts";
import { checkInputs, checkSignatures, checkTransaction, signatureKey } from "./tx_rules.ts";

/** Largest transaction the pool accepts (the wallet builds none larger). */
export const MAX_STANDARD_TX_SIZE = 100_000;

/** A transaction in the pool. */
export interface MempoolEntry {
  /** The transaction. */
  tx: Transaction;
  /** Its id. */
  txid: string;
  /** Inputs minus outputs, base units. */
  fee: number;
  /** Encoded bytes. */
  size: number;
  /** Fee per byte. */
  feeRate: number;
  /** Milliseconds since the epoch when accepted. */
  time: number;
}

/** Options of a `Mempool`. */
export interface MempoolOptions {
  /** Bound on the sum of encoded sizes (default 5 MB). */
  maxBytes?: number;
  /** Lowest fee rate accepted, base units per byte (default 1). */
  minFeeRate?: number;
}

/**
 * The pool of unconfirmed transactions over a chain.
 * @example A transaction spending coins that do not exist is refused
 * ```ts
 * import { Chain, Mempool, NETWORKS, openStore, ValidationError } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const mempool = new Mempool(chain);
 * const tx = {
 *   version: 1,
 *   inputs: [{ prevout: { txid: "11".repeat(32), index: 0 }, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }],
 *   outputs: [{ amount: 5_000, pubKeyHash: "22".repeat(20) }],
 *   lockTime: 0,
 * };
 * await assert.rejects(mempool.accept(tx), (e) => e instanceof ValidationError && e.code === "bad-txns-inputs-missingorspent");
 * assert.equal(mempool.size, 0);
 * ```
 */
export class Mempool implements CoinView {
  /** Bound on the pool's encoded bytes. */
  readonly maxBytes: number;
  /** Lowest accepted fee rate, base units per byte. */
  readonly minFeeRate: number;
  #chain: Chain;
  #entries = new Map<string, MempoolEntry>();
  #spentBy = new Map<string, string>();
  #bytes = 0;
  /** Bumped on every change, so `accept` knows whether to re-check after awaiting signatures. */
  #version = 0;

  /**
   * An empty pool over `chain`.
   * @example const mempool = new Mempool(chain, { maxBytes: 1_000_000 });
   */
  constructor(chain: Chain, opts: MempoolOptions = {}) {
    this.#chain = chain;
    this.maxBytes = opts.maxBytes ?? 5_000_000;
    this.minFeeRate = opts.minFeeRate ?? 1;
  }

  /** Number of transactions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Sum of their encoded sizes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sum of the fees of all pool transactions. */
  get totalFees(): number {
    let sum = 0;
    for (const e of this.#entries.values()) sum += e.fee;
    return sum;
  }

  /** True when `id` is in the pool. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** The entry of `id`, or undefined. */
  get(id: string): MempoolEntry | undefined {
    return this.#entries.get(id);
  }

  /** All entries, oldest first. */
  entries(): MempoolEntry[] {
    return [...this.#entries.values()];
  }

  /** A coin of the chain's UTXO set or an output of a pool transaction (spent or not). */
  getCoin(o: OutPoint): Coin | undefined {
    const chainCoin = this.#chain.getCoin(o);
    if (chainCoin) return chainCoin;
    const out = this.#entries.get(o.txid)?.tx.outputs[o.index];
    return out &&
      { amount: out.amount, pubKeyHash: out.pubKeyHash, height: this.#chain.height + 1, coinbase: false };
  }

  /** True when a pool transaction spends `o`. */
  isSpent(o: OutPoint): boolean {
    return this.#spentBy.has(outpointKey(o));
  }

  /** Outputs of pool transactions paying any of `pubKeyHashes`. */
  coinsOf(pubKeyHashes: ReadonlySet<string>): OwnedCoin[] {
    const out: OwnedCoin[] = [];
    for (const e of this.#entries.values()) {
      e.tx.outputs.forEach((o, index) => {
        if (pubKeyHashes.has(o.pubKeyHash)) {
          out.push({ outpoint: { txid: e.txid, index }, coin: this.getCoin({ txid: e.txid, index })! });
        }
      });
    }
    return out;
  }

  /**
   * Validates `tx` fully against the tip's UTXO set plus the pool's outputs and adds it. Throws
   * `ValidationError`: `txn-already-in-mempool`, `txn-mempool-conflict`, `bad-sig`, ...
   */
  async accept(tx: Transaction): Promise<MempoolEntry> {
    const id = txid(tx);
    ensure(
      !this.#entries.has(id),
      "txn-already-in-mempool",
      () => `${id} is already in the mempool`,
      NO_BLAME,
    );
    ensure(!isCoinbase(tx), "coinbase", "a coinbase is only valid in a block");
    const tip = this.#chain.tip, version = this.#version;
    // The signature check runs off the main thread: start it first and do every other check meanwhile.
    const signatures = checkSignatures(tx, id);
    let entry: MempoolEntry, key: string;
    try {
      checkTransaction(tx);
      entry = this.#entry(tx, id, this.#checkContext(tx, id));
      key = signatureKey(tx, id);
    } catch (e) {
      signatures.catch(() => {});
      throw e;
    }
    await signatures;
    // The chain or the pool may have changed while the signatures were checked.
    if (tip !== this.#chain.tip || version !== this.#version) {
      entry = this.#entry(tx, id, this.#checkContext(tx, id));
    }
    this.#makeRoom(entry);
    this.#add(entry);
    this.#chain.cacheSignatures(key);
    return entry;
  }

  #entry(tx: Transaction, id: string, fee: number): MempoolEntry {
    const size = txSize(tx);
    // A block could hold up to 1 MB, but one huge transaction would crowd out everyone else's.
    ensure(
      size <= MAX_STANDARD_TX_SIZE,
      "tx-size",
      () => `${size} bytes exceed the ${MAX_STANDARD_TX_SIZE}-byte limit`,
      NO_BLAME,
    );
    const entry: MempoolEntry = { tx, txid: id, fee, size, feeRate: fee / size, time: Date.now() };
    ensure(
      entry.feeRate >= this.minFeeRate,
      "min-fee-not-met",
      () => `fee rate ${entry.feeRate.toFixed(2)} is below ${this.minFeeRate} per byte`,
      NO_BLAME,
    );
    return entry;
  }

  #checkContext(tx: Transaction, id: string): number {
    for (const i of tx.inputs) {
      const other = this.#spentBy.get(outpointKey(i.prevout));
      ensure(
        other === undefined,
        "txn-mempool-conflict",
        () => `input ${outpointKey(i.prevout)} is already spent by ${other}`,
        NO_BLAME,
      );
    }
    ensure(
      this.#chain.getCoin({ txid: id, index: 0 }) === undefined,
      "txn-already-known",
      () => `${id} is already confirmed`,
      NO_BLAME,
    );
    return checkInputs(tx, this, this.#chain.height + 1, this.#chain.params, NO_BLAME).fee;
  }

  #makeRoom(entry: MempoolEntry): void {
    if (this.#bytes + entry.size <= this.maxBytes) return;
    const victims: string[] = [];
    const ancestors = this.#ancestors(entry.tx);
    let freed = 0;
    for (const e of [...this.#entries.values()].sort((a, b) => a.feeRate - b.feeRate)) {
      if (this.#bytes - freed + entry.size <= this.maxBytes) break;
      if (e.feeRate >= entry.feeRate) break;
      if (ancestors.has(e.txid)) continue; // evicting a parent would leave the newcomer spending nothing
      for (const d of this.#withDescendants(e.txid)) {
        if (!victims.includes(d)) {
          victims.push(d);
          freed += this.#entries.get(d)!.size;
        }
      }
    }
    if (this.#bytes - freed + entry.size > this.maxBytes) {
      throw new ValidationError(
        "mempool-full",
        `the mempool is full and fee rate ${entry.feeRate.toFixed(2)} is too low`,
        NO_BLAME,
      );
    }
    for (const v of victims) this.#remove(v);
  }

  #add(e: MempoolEntry): void {
    this.#entries.set(e.txid, e);
    for (const i of e.tx.inputs) this.#spentBy.set(outpointKey(i.prevout), e.txid);
    this.#bytes += e.size;
    this.#version++;
  }

  #remove(id: string): void {
    const e = this.#entries.get(id);
    if (!e) return;
    this.#entries.delete(id);
    for (const i of e.tx.inputs) this.#spentBy.delete(outpointKey(i.prevout));
    this.#bytes -= e.size;
    this.#version++;
  }

  /** Pool transactions whose outputs `tx` spends, directly or not. */
  #ancestors(tx: Transaction): Set<string> {
    const out = new Set<string>();
    const todo = [tx];
    while (todo.length) {
      for (const i of todo.pop()!.inputs) {
        const parent = this.#entries.get(i.prevout.txid);
        if (parent && !out.has(parent.txid)) {
          out.add(parent.txid);
          todo.push(parent.tx);
        }
      }
    }
    return out;
  }

  /** `id` and every pool transaction that spends its outputs, directly or not. */
  #withDescendants(id: string): string[] {
    const out = [id];
    for (let k = 0; k < out.length; k++) {
      const e = this.#entries.get(out[k]);
      e?.tx.outputs.forEach((_, index) => {
        const child = this.#spentBy.get(`${out[k]}:${index}`);
        if (child && !out.includes(child)) out.push(child);
      });
    }
    return out;
  }

  /** Removes `id` and its descendants (for example after a payment is abandoned). */
  removeWithDescendants(id: string): void {
    for (const d of this.#withDescendants(id)) this.#remove(d);
  }

  /**
   * Transactions for a block template, highest fee rate first, parents before children, within `maxBytes`.
   * (No child-pays-for-parent: a child waits for its parent's own fee rate.)
   */
  selectForBlock(maxBytes: number): MempoolEntry[] {
    const sorted = [...this.#entries.values()].sort((a, b) => b.feeRate - a.feeRate || a.time - b.time);
    const chosen: MempoolEntry[] = [], included = new Set<string>();
    let bytes = 0, progress = true;
    while (progress) {
      progress = false;
      for (const e of sorted) {
        if (included.has(e.txid) || bytes + e.size > maxBytes) continue;
        if (e.tx.inputs.some((i) => this.#entries.has(i.prevout.txid) && !included.has(i.prevout.txid))) {
          continue;
        }
        chosen.push(e);
        included.add(e.txid);
        bytes += e.size;
        progress = true;
      }
    }
    return chosen;
  }

  /**
   * Follows the chain after `Chain.processBlock`: drops confirmed and conflicting transactions, takes back
   * still-valid ones from disconnected blocks, and drops any whose inputs a reorg took away.
   */
  async chainUpdated(update: ChainUpdate): Promise<void> {
    for (const { block } of update.connected) {
      for (const tx of block.txs) {
        this.#remove(txid(tx));
        for (const i of tx.inputs) {
          const other = this.#spentBy.get(outpointKey(i.prevout));
          if (other) this.removeWithDescendants(other);
        }
      }
    }
    if (update.disconnected.length === 0) return;
    for (const { block } of [...update.disconnected].reverse()) {
      for (const tx of block.txs.slice(1)) {
        try {
          await this.accept(tx);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e; // no longer valid on the new chain: dropped
        }
      }
    }
    for (const e of this.entries()) {
      if (!this.#entries.has(e.txid)) continue;
      try {
        checkInputs(e.tx, this, this.#chain.height + 1, this.#chain.params);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        this.removeWithDescendants(e.txid);
      }
    }
  }
}
