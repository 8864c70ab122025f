/**
 * Coins and payments: what a wallet sees of the chain and mempool (`WalletView`), its balances, the coins it may
 * spend in the order coin selection tries them, and building a payment (coin selection, fee, change), unsigned.
 * @module
 */
import type { Coin, OwnedCoin } from "../chain/coins.ts";
import type { Chain } from "../chain/chain.ts";
import { MAX_STANDARD_TX_SIZE, type Mempool } from "../chain/mempool.ts";
import { isMature } from "../chain/tx_rules.ts";
import { COIN, formatAmount, MAX_MONEY } from "../consensus/amount.ts";
import {
  INPUT_SIZE,
  type OutPoint,
  type Transaction,
  type TxOutput,
  txSize,
} from "../primitives/transaction.ts";
import { InsufficientFunds, WalletError } from "./errors.ts";

/** What the wallet needs to see of the chain and the mempool. */
export interface WalletView {
  /** Height of the current tip. */
  height: number;
  /** Confirmations a coinbase output needs before it can be spent. */
  coinbaseMaturity: number;
  /** Confirmed unspent outputs paying any of these key hashes. */
  coinsOf(pubKeyHashes: ReadonlySet<string>): OwnedCoin[];
  /** Unconfirmed outputs (in the mempool) paying any of these key hashes. */
  mempoolCoinsOf(pubKeyHashes: ReadonlySet<string>): OwnedCoin[];
  /** True when a mempool transaction already spends this outpoint. */
  isSpentInMempool(outpoint: OutPoint): boolean;
  /**
   * False for a coin that cannot be spent now (an unconfirmed one whose chain is at the mempool's limit).
   * Asked only of the coins a payment would take, largest first: asking it of every coin cost a payment
   * O(own unconfirmed coins x chain length) under load.
   */
  canSpend?(outpoint: OutPoint): boolean;
}

/**
 * What `chain` and `mempool` show a wallet now (the tip's height is read once, here): the view a node gives
 * its wallet (`Node.walletView`), and tests and benchmarks theirs.
 */
export function walletViewOf(chain: Chain, mempool: Mempool): WalletView {
  return {
    height: chain.height,
    coinbaseMaturity: chain.params.coinbaseMaturity,
    coinsOf: (pkhs) => chain.coinsOf(pkhs),
    mempoolCoinsOf: (pkhs) => mempool.coinsOf(pkhs),
    isSpentInMempool: (o) => mempool.isSpent(o),
  };
}

/** Balances in base units. */
export interface Balance {
  /** Mature, confirmed and not being spent by a mempool transaction. */
  confirmed: number;
  /** Coinbase outputs still maturing. */
  immature: number;
  /** Unconfirmed outputs to us in the mempool (including our own change) not yet spent again. */
  pending: number;
}

/**
 * Largest transaction the wallet builds, in bytes (Bitcoin's standard limit): 750 inputs or so. Bigger ones
 * would crowd blocks or not fit in one at all; paying that much takes several smaller payments.
 */
export const MAX_WALLET_TX_SIZE = MAX_STANDARD_TX_SIZE;

/**
 * True when `coin` may be spent by a transaction in the next block. A coinbase output created at height h
 * needs `coinbaseMaturity` confirmations counting the block that spends it, so it is mature when
 * `view.height + 1 - h >= coinbaseMaturity`: the consensus rule (`isMature` in lib/chain/tx_rules.ts) at
 * spend height `view.height + 1`, which is also the height the mempool checks a new transaction against.
 */
export function isMatureForNextBlock(
  coin: Coin,
  view: Pick<WalletView, "height" | "coinbaseMaturity">,
): boolean {
  return isMature(coin, view.height + 1, view.coinbaseMaturity);
}

/**
 * Balances in base units of the coins paying `mine`. An output that a mempool transaction spends counts
 * nowhere: the change of that transaction shows up as pending instead, so a payment lowers the total at once
 * by its amount and fee.
 */
export function balanceOf(view: WalletView, mine: ReadonlySet<string>): Balance {
  const b: Balance = { confirmed: 0, immature: 0, pending: 0 };
  for (const { outpoint, coin } of view.coinsOf(mine)) {
    if (!isMatureForNextBlock(coin, view)) b.immature += coin.amount;
    else if (!view.isSpentInMempool(outpoint)) b.confirmed += coin.amount;
  }
  for (const { outpoint, coin } of view.mempoolCoinsOf(mine)) {
    if (!view.isSpentInMempool(outpoint)) b.pending += coin.amount;
  }
  return b;
}

/**
 * Coins paying `mine` that may be spent now, in the order coin selection tries them: mature confirmed coins,
 * largest first, then unconfirmed outputs, largest first; none that a mempool transaction already spends.
 *
 * A choice: unconfirmed outputs are spendable, so a second payment need not wait for a block to confirm the
 * first one's change. The cost is that if the parent transaction never confirms (a conflicting spend wins),
 * the child is dropped with it; confirmed coins come first to keep such chains rare.
 */
export function spendableCoins(view: WalletView, mine: ReadonlySet<string>): OwnedCoin[] {
  const largestFirst = (a: OwnedCoin, b: OwnedCoin) => b.coin.amount - a.coin.amount;
  const confirmed = view.coinsOf(mine).filter((c) => isMatureForNextBlock(c.coin, view)).sort(largestFirst);
  const unconfirmed = [...view.mempoolCoinsOf(mine)].sort(largestFirst); // not the view's array
  return [...confirmed, ...unconfirmed].filter((c) => !view.isSpentInMempool(c.outpoint));
}

/** What `buildPayment` needs. */
export interface PaymentRequest {
  /** The wallet's key hashes. */
  mine: ReadonlySet<string>;
  /** The raw public key of one of them. */
  publicKey(pkh: string): Uint8Array<ArrayBuffer>;
  /** The key hash paid. */
  to: string;
  /** Base units paid. */
  amount: number;
  /** The key hash the change goes to. */
  change: string;
  /** Base units per byte. */
  feeRate: number;
}

/**
 * A payment of `r.amount` base units to `r.to` with change to `r.change`, its signatures zeroed (they are not
 * part of the txid, so this is exactly what gets signed). The fee is `r.feeRate` base units per byte, rounded
 * up; when what is left over is too small to pay for a change output, it goes to the fee instead. Throws
 * `InsufficientFunds`, or `WalletError` for a bad amount or fee rate or a payment too big for one transaction.
 */
export function buildPayment(view: WalletView, r: PaymentRequest): { tx: Transaction; fee: number } {
  const { amount, feeRate } = r;
  checkAmount(amount);
  // Below 1 per byte the node's own mempool (and every peer's) would refuse the payment.
  if (!Number.isFinite(feeRate) || feeRate < 1) {
    throw new WalletError(`fee rate must be at least 1 base unit per byte, not ${feeRate}`);
  }
  const coins = spendableCoins(view, r.mine);
  const pay: TxOutput = { amount, pubKeyHash: r.to };
  const change: TxOutput = { amount: 0, pubKeyHash: r.change };
  const tx: Transaction = { version: 1, inputs: [], outputs: [pay], lockTime: 0 };
  const feeWith = (outputs: TxOutput[]) => {
    tx.outputs = outputs;
    return Math.ceil(feeRate * txSize(tx));
  };
  // Priced with one input from the start, so even an empty wallet's refusal names a real fee.
  let total = 0, needed = amount + feeWith([pay]) + Math.ceil(feeRate * INPUT_SIZE);
  for (const c of coins) {
    if (view.canSpend && !view.canSpend(c.outpoint)) continue;
    if (!r.mine.has(c.coin.pubKeyHash)) {
      throw new WalletError(`the wallet view listed a coin of a foreign key ${c.coin.pubKeyHash}`);
    }
    tx.inputs.push({
      prevout: c.outpoint,
      publicKey: r.publicKey(c.coin.pubKeyHash),
      signature: new Uint8Array(64),
    });
    total += c.coin.amount;
    const withChange = feeWith([pay, change]);
    if (txSize(tx) > MAX_WALLET_TX_SIZE) {
      const coinCount = tx.inputs.length - 1;
      throw new WalletError(
        `paying ${formatAmount(amount)} would take more than ${coinCount} coins, a transaction over ` +
          `${MAX_WALLET_TX_SIZE} bytes: pay in several smaller parts, or first merge coins by paying a ` +
          `smaller amount to your own address`,
      );
    }
    if (total - amount > withChange) {
      change.amount = total - amount - withChange;
      return { tx, fee: withChange };
    }
    needed = amount + feeWith([pay]);
    if (total >= needed) return { tx, fee: total - amount };
  }
  const immature = view.coinsOf(r.mine).filter((c) => !isMatureForNextBlock(c.coin, view))
    .reduce((s, c) => s + c.coin.amount, 0);
  throw new InsufficientFunds(
    `insufficient funds: ${formatAmount(total)} coins spendable, ${formatAmount(needed)} needed ` +
      `(${formatAmount(amount)} + fee ${formatAmount(needed - amount)})` +
      (immature > 0 ? `; another ${formatAmount(immature)} is still maturing` : ""),
    total,
    needed,
  );
}

/** Refuses an amount that is not a whole, positive number of base units within the money supply. */
function checkAmount(amount: number): void {
  if (typeof amount !== "number" || !Number.isInteger(amount)) {
    throw new WalletError(
      `amount must be a whole number of base units (1 coin = ${COIN} units), not ${amount}`,
    );
  }
  if (amount <= 0) throw new WalletError(`amount must be more than zero, not ${amount}`);
  if (amount > MAX_MONEY) {
    throw new WalletError(
      `amount ${formatAmount(amount)} exceeds the ${formatAmount(MAX_MONEY)} coin supply`,
    );
  }
}
