/**
 * Unspent outputs ("coins") and the read-only view of them that validation, the mempool and the wallet use.
 * Data only, below the store that keeps them and the chain that spends them.
 * @module
 */
import type { OutPoint } from "./transaction.ts";

/** An unspent output with what validation needs to know about where it came from. */
export interface Coin {
  /** Base units. */
  amount: number;
  /** 40 hex digits: the key hash that may spend it. */
  pubKeyHash: string;
  /** Height of the block that created it. */
  height: number;
  /** True when created by a coinbase (then it matures after `coinbaseMaturity` blocks). */
  coinbase: boolean;
}

/** Read access to a set of unspent outputs. */
export interface CoinView {
  /** The coin at `outpoint`, or undefined when it does not exist or is spent. */
  getCoin(outpoint: OutPoint): Coin | undefined;
}

/** An outpoint with its coin, as listed for a wallet. */
export interface OwnedCoin {
  /** Where the coin is. */
  outpoint: OutPoint;
  /** What it is worth and who may spend it. */
  coin: Coin;
}
