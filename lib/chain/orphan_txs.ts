/**
 * Transactions that arrived before the transaction they spend (relay paths differ, above all around a
 * failover). They wait here, bounded, until their parent is accepted or confirmed.
 * @module
 */
import type { Transaction } from "../primitives/transaction.ts";

/** A bounded pool of transactions waiting for a parent; the oldest is dropped when full. */
export class OrphanTxs {
  #byId = new Map<string, Transaction>();
  /** Creates an empty pool holding at most `max` transactions. */
  constructor(readonly max = 200) {}

  /** Number waiting. */
  get size(): number {
    return this.#byId.size;
  }

  /** Keeps `tx` (a no-op if it is already waiting). */
  add(id: string, tx: Transaction): void {
    if (this.#byId.has(id)) return;
    if (this.#byId.size >= this.max) this.#byId.delete(this.#byId.keys().next().value!);
    this.#byId.set(id, tx);
  }

  /** Removes and returns the transactions that spend outputs of `parent`. */
  takeChildrenOf(parent: string): [string, Transaction][] {
    const out: [string, Transaction][] = [];
    for (const [id, tx] of this.#byId) {
      if (tx.inputs.some((i) => i.prevout.txid === parent)) out.push([id, tx]);
    }
    for (const [id] of out) this.#byId.delete(id);
    return out;
  }
}
