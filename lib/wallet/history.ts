/**
 * The wallet's history: every transaction of the active chain (and of the mempool) that pays one of its keys
 * or spends one of its coins, found by scanning blocks (`scanBlock`, which the node calls for the whole chain
 * at start and for each block connected after) and forgotten again when a block is disconnected.
 *
 * An input is the wallet's when it spends an output the scan saw paying the wallet, so no key hash is
 * computed per input, and a transaction's id only when it concerns the wallet.
 * @module
 */
import type { Block } from "../primitives/block.ts";
import { outpointKey, type Transaction, txid } from "../primitives/transaction.ts";

/** One transaction as the wallet sees it; amounts in base units. */
export interface HistoryEntry {
  /** Its id. */
  txid: string;
  /** The block height that confirmed it, or null while it waits in the mempool. */
  height: number | null;
  /** Paid to this wallet by others (a payment to it, or a coinbase); change is not counted. */
  received: number;
  /** Paid by this wallet to others. */
  sent: number;
  /** The fee this wallet paid, or 0 when someone else paid it. */
  fee: number;
  /** True for a coinbase (a mined block's reward). */
  coinbase: boolean;
}

/** A history entry with its confirmations (0 while in the mempool). */
export interface DatedEntry extends HistoryEntry {
  /** Blocks that confirm it: the tip's height minus its own, plus one; 0 while unconfirmed. */
  confirmations: number;
}

/** The wallet's view of one transaction, or undefined when it concerns the wallet not at all. */
export function classify(
  tx: Transaction,
  id: () => string,
  mine: ReadonlySet<string>,
  ownAmount: (key: string) => number | undefined,
  coinbase: boolean,
): Omit<HistoryEntry, "height"> | undefined {
  let ownIn = 0, ownInputs = 0;
  if (!coinbase) {
    for (const input of tx.inputs) {
      const amount = ownAmount(outpointKey(input.prevout));
      if (amount !== undefined) ownIn += amount, ownInputs++;
    }
  }
  let ownOut = 0, otherOut = 0;
  for (const o of tx.outputs) {
    if (mine.has(o.pubKeyHash)) ownOut += o.amount;
    else otherOut += o.amount;
  }
  if (ownInputs === 0 && ownOut === 0) return undefined;
  if (ownInputs === 0) return { txid: id(), received: ownOut, sent: 0, fee: 0, coinbase };
  // Every input ours: the fee is ours too. Some inputs someone else's (a joint payment): the fee is not known.
  const fee = ownInputs === tx.inputs.length ? ownIn - ownOut - otherOut : 0;
  return { txid: id(), received: 0, sent: otherOut, fee, coinbase };
}

/** The confirmed part of a wallet's history, kept up to date block by block. */
export class WalletHistory {
  #entries: HistoryEntry[] = [];
  /** Amounts of outputs that paid the wallet, by outpoint key: what tells an input is the wallet's. */
  #owned = new Map<string, number>();

  /**
   * Adds what `block` (at `height`, on the active chain) holds for the wallet; calls `used` with each own
   * key hash it pays, so the keyring can move its used marks. Returns how many transactions concerned it.
   */
  scanBlock(block: Block, height: number, mine: ReadonlySet<string>, used: (pkh: string) => void): number {
    let found = 0;
    block.txs.forEach((tx, i) => {
      let id: string | undefined;
      const getId = () => id ??= txid(tx);
      const entry = classify(tx, getId, mine, (k) => this.#owned.get(k), i === 0);
      if (!entry) return;
      found++;
      this.#entries.push({ ...entry, height });
      tx.outputs.forEach((o, index) => {
        if (!mine.has(o.pubKeyHash)) return;
        this.#owned.set(outpointKey({ txid: getId(), index }), o.amount);
        used(o.pubKeyHash);
      });
    });
    return found;
  }

  /** Forgets the transactions of blocks at `height` and above (a reorg disconnected them). */
  disconnectFrom(height: number): void {
    while (this.#entries.length && this.#entries.at(-1)!.height! >= height) this.#entries.pop();
  }

  /** The amount of an output that paid the wallet, if the scan saw it. */
  ownedAmount(key: string): number | undefined {
    return this.#owned.get(key);
  }

  /**
   * The history as of a tip at `tipHeight`, newest first: the mempool's transactions that concern the keys
   * `mine` (in `mempool`'s order, which has parents first), then the confirmed ones.
   */
  list(tipHeight: number, mempool: readonly Transaction[], mine: ReadonlySet<string>): DatedEntry[] {
    const pending = new Map<string, number>();
    const ownAmount = (k: string) => this.#owned.get(k) ?? pending.get(k);
    const out: DatedEntry[] = [];
    for (const tx of mempool) {
      const id = txid(tx);
      const e = classify(tx, () => id, mine, ownAmount, false);
      if (!e) continue;
      tx.outputs.forEach((o, index) => {
        if (mine.has(o.pubKeyHash)) pending.set(outpointKey({ txid: id, index }), o.amount);
      });
      out.push({ ...e, height: null, confirmations: 0 });
    }
    out.reverse();
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i];
      out.push({ ...e, confirmations: tipHeight - e.height! + 1 });
    }
    return out;
  }

  /** Confirmed entries, oldest first. */
  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }
}
