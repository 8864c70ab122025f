/**
 * The wallet: Ed25519 keys kept in `wallet.json` (mode 0600), their addresses, balances, coin selection,
 * change and signing. It reads the chain and mempool only through a `WalletView`, which the node implements.
 * @module
 */
import type { Coin, OwnedCoin } from "../chain/coins.ts";
import { MAX_STANDARD_TX_SIZE } from "../chain/mempool.ts";
import { isMature } from "../chain/tx_rules.ts";
import { COIN, formatAmount, MAX_MONEY } from "../consensus/amount.ts";
import { type NetworkParams, NETWORKS } from "../consensus/params.ts";
import { AddressError, decodeAddress, encodeAddress, pubKeyHash } from "../crypto/address.ts";
import {
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  sign,
} from "../crypto/ed25519.ts";
import { fromHex, toHex } from "../crypto/hex.ts";
import {
  INPUT_SIZE,
  type OutPoint,
  sigHash,
  type Transaction,
  type TxOutput,
  txSize,
} from "../primitives/transaction.ts";
import { SerialQueue } from "../serial_queue.ts";
import { InsufficientFunds, WalletError } from "./errors.ts";
import {
  readWalletFile,
  restrictToOwner,
  type StoredKey,
  WALLET_FILE_VERSION,
  writeWalletFile,
} from "./wallet_file.ts";

export { InsufficientFunds, WalletError };

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

/** Balances in base units. */
export interface Balance {
  /** Mature, confirmed and not being spent by a mempool transaction. */
  confirmed: number;
  /** Coinbase outputs still maturing. */
  immature: number;
  /** Unconfirmed outputs to us in the mempool (including our own change) not yet spent again. */
  pending: number;
}

/** Default fee rate, base units per byte: 1980 units (0.0000198 coins) for a one-input payment with change. */
export const DEFAULT_FEE_RATE = 10;

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

interface Key extends KeyPair {
  pkh: string;
  stored: StoredKey;
}

/**
 * A set of keys and what they can spend. Open with `Wallet.open` or `Wallet.createInMemory`.
 * @example Earn coins by mining, then pay someone
 * ```ts
 * import { Chain, COIN, Mempool, NETWORKS, openStore, Wallet, type WalletView } from "@peerchain/peerchain";
 * import { createTemplate, solveSync } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const params = NETWORKS.regtest;
 * const chain = Chain.open(openStore(":memory:"), params);
 * const mempool = new Mempool(chain);
 * const wallet = await Wallet.createInMemory(params);
 * const view: WalletView = {
 *   height: chain.height,
 *   coinbaseMaturity: params.coinbaseMaturity,
 *   coinsOf: (pkhs) => chain.coinsOf(pkhs),
 *   mempoolCoinsOf: (pkhs) => mempool.coinsOf(pkhs),
 *   isSpentInMempool: (outpoint) => mempool.isSpent(outpoint),
 * };
 * // A coinbase can be spent once it has matured.
 * for (let i = 0; i <= params.coinbaseMaturity; i++) {
 *   await chain.processBlock(solveSync(createTemplate(chain, mempool, wallet.pubKeyHash).block));
 * }
 * view.height = chain.height;
 * const friend = await Wallet.createInMemory(params);
 * const { tx, fee } = await wallet.createTransaction(view, friend.address, 2 * COIN);
 * await mempool.accept(tx);
 * assert.ok(fee > 0);
 * assert.equal(friend.balance({ ...view, mempoolCoinsOf: (p) => mempool.coinsOf(p) }).pending, 2 * COIN);
 * ```
 */
export class Wallet {
  /** The network's parameters. */
  readonly params: NetworkParams;
  #path: string | null;
  #keys: Key[] = [];
  #byPkh = new Map<string, Key>();
  #pkhs = new Set<string>();
  /** Saves run one at a time, so two `newAddress` calls cannot each write a file missing the other's key. */
  #saving = new SerialQueue();

  private constructor(params: NetworkParams, path: string | null, keys: Key[]) {
    this.params = params;
    this.#path = path;
    for (const k of keys) this.#addKey(k);
  }

  /**
   * Loads the wallet at `path`, or creates it with one fresh key when there is no file. A corrupt file or
   * another network's wallet is refused with a `WalletError` naming the path, and never overwritten.
   * @example const wallet = await Wallet.open(`${dataDir}/wallet.json`, NETWORKS.main);
   */
  static async open(path: string, params: NetworkParams): Promise<Wallet> {
    const stored = await readWalletFile(path, params.name);
    if (stored === undefined) {
      const wallet = new Wallet(params, path, [await newKey()]);
      await wallet.#write(wallet.#keys);
      return wallet;
    }
    const keys = await Promise.all(stored.map(async (s, i): Promise<Key> => {
      try {
        const pair = await importPrivateKey(fromHex(s.pkcs8));
        if (toHex(pair.publicKey) !== s.publicKey.toLowerCase()) {
          throw new Error("its public key does not match its private key");
        }
        return { ...pair, pkh: pubKeyHash(pair.publicKey), stored: s };
      } catch (e) {
        throw new WalletError(
          `the wallet file ${path} has a damaged key ${i} (${(e as Error).message}); it was left ` +
            `untouched: restore it from a backup`,
        );
      }
    }));
    // A file copied in or written by an older build may be readable by others: tighten it on every open.
    await restrictToOwner(path).catch(() => {});
    return new Wallet(params, path, keys);
  }

  /** A wallet with one fresh key and no file (for tests and tools). */
  static async createInMemory(params: NetworkParams): Promise<Wallet> {
    return new Wallet(params, null, [await newKey()]);
  }

  /** The wallet file's path, or null for an in-memory wallet. */
  get path(): string | null {
    return this.#path;
  }

  /** The first key's address: where this node's coinbases and change go. */
  get address(): string {
    return encodeAddress(this.#keys[0].pkh, this.params.addressPrefix);
  }

  /** The first key's hash. */
  get pubKeyHash(): string {
    return this.#keys[0].pkh;
  }

  /** Every key hash of the wallet (a live view: it grows with `newAddress`). */
  get pubKeyHashes(): ReadonlySet<string> {
    return this.#pkhs;
  }

  /** Every address, oldest first. */
  addresses(): string[] {
    return this.#keys.map((k) => encodeAddress(k.pkh, this.params.addressPrefix));
  }

  /** Adds a key, saves the file (before the address is handed out), and returns the key's address. */
  newAddress(): Promise<string> {
    return this.#saving.run(async () => {
      const key = await newKey();
      await this.#write([...this.#keys, key]);
      this.#addKey(key);
      return encodeAddress(key.pkh, this.params.addressPrefix);
    });
  }

  /**
   * The key hash an address pays. Another network's address or a typo is refused with an `AddressError`
   * a person can act on ("this is a main-network address, this node is on regtest").
   */
  parseAddress(address: string): string {
    try {
      return decodeAddress(address, this.params.addressPrefix);
    } catch (e) {
      const other = e instanceof AddressError && e.otherPrefix !== undefined &&
        Object.values(NETWORKS).find((n) => n.addressPrefix === e.otherPrefix);
      if (other) {
        throw new AddressError(
          `this is a ${other.name}-network address, this node is on ${this.params.name}`,
          "prefix",
          other.addressPrefix,
        );
      }
      throw e;
    }
  }

  /**
   * Balances in base units. An output that a mempool transaction spends counts nowhere: the change of that
   * transaction shows up as pending instead, so a payment lowers the total at once by its amount and fee.
   */
  balance(view: WalletView): Balance {
    const b: Balance = { confirmed: 0, immature: 0, pending: 0 };
    for (const { outpoint, coin } of view.coinsOf(this.#pkhs)) {
      if (!isMatureForNextBlock(coin, view)) b.immature += coin.amount;
      else if (!view.isSpentInMempool(outpoint)) b.confirmed += coin.amount;
    }
    for (const { outpoint, coin } of view.mempoolCoinsOf(this.#pkhs)) {
      if (!view.isSpentInMempool(outpoint)) b.pending += coin.amount;
    }
    return b;
  }

  /**
   * Coins this wallet may spend now, in the order coin selection tries them: mature confirmed coins, largest
   * first, then unconfirmed outputs paying us, largest first; none that a mempool transaction already spends.
   *
   * A choice: unconfirmed outputs are spendable, so a second payment need not wait for a block to confirm the
   * first one's change. The cost is that if the parent transaction never confirms (a conflicting spend wins),
   * the child is dropped with it; confirmed coins come first to keep such chains rare.
   */
  spendable(view: WalletView): OwnedCoin[] {
    const largestFirst = (a: OwnedCoin, b: OwnedCoin) => b.coin.amount - a.coin.amount;
    const confirmed = view.coinsOf(this.#pkhs).filter((c) => isMatureForNextBlock(c.coin, view))
      .sort(largestFirst);
    const unconfirmed = [...view.mempoolCoinsOf(this.#pkhs)].sort(largestFirst); // not the view's array
    return [...confirmed, ...unconfirmed].filter((c) => !view.isSpentInMempool(c.outpoint));
  }

  /**
   * A signed payment of `amount` base units to `toAddress`, with change back to `this.address`. The fee is
   * `feeRate` (default `DEFAULT_FEE_RATE`) base units per byte of the transaction, rounded up; when what is
   * left over is too small to pay for a change output, it goes to the fee instead. Throws `AddressError`,
   * `InsufficientFunds`, or `WalletError` for a bad amount or fee rate.
   */
  async createTransaction(
    view: WalletView,
    toAddress: string,
    amount: number,
    opts: { feeRate?: number } = {},
  ): Promise<{ tx: Transaction; fee: number }> {
    const to = this.parseAddress(toAddress);
    checkAmount(amount);
    const feeRate = opts.feeRate ?? DEFAULT_FEE_RATE;
    // Below 1 per byte the node's own mempool (and every peer's) would refuse the payment.
    if (!Number.isFinite(feeRate) || feeRate < 1) {
      throw new WalletError(`fee rate must be at least 1 base unit per byte, not ${feeRate}`);
    }
    const coins = this.spendable(view);
    const pay: TxOutput = { amount, pubKeyHash: to };
    const change: TxOutput = { amount: 0, pubKeyHash: this.pubKeyHash };
    // Signatures are excluded from the txid, so the draft with zeroed ones is exactly what gets signed.
    const tx: Transaction = { version: 1, inputs: [], outputs: [pay], lockTime: 0 };
    const feeWith = (outputs: TxOutput[]) => {
      tx.outputs = outputs;
      return Math.ceil(feeRate * txSize(tx));
    };
    // Priced with one input from the start, so even an empty wallet's refusal names a real fee.
    let total = 0, needed = amount + feeWith([pay]) + Math.ceil(feeRate * INPUT_SIZE);
    for (const c of coins) {
      if (view.canSpend && !view.canSpend(c.outpoint)) continue;
      const key = this.#byPkh.get(c.coin.pubKeyHash);
      if (!key) throw new WalletError(`the wallet view listed a coin of a foreign key ${c.coin.pubKeyHash}`);
      tx.inputs.push({ prevout: c.outpoint, publicKey: key.publicKey, signature: new Uint8Array(64) });
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
        return { tx: await this.#sign(tx), fee: withChange };
      }
      needed = amount + feeWith([pay]);
      if (total >= needed) return { tx: await this.#sign(tx), fee: total - amount };
    }
    const immature = view.coinsOf(this.#pkhs).filter((c) => !isMatureForNextBlock(c.coin, view))
      .reduce((s, c) => s + c.coin.amount, 0);
    throw new InsufficientFunds(
      `insufficient funds: ${formatAmount(total)} coins spendable, ${formatAmount(needed)} needed ` +
        `(${formatAmount(amount)} + fee ${formatAmount(needed - amount)})` +
        (immature > 0 ? `; another ${formatAmount(immature)} is still maturing` : ""),
      total,
      needed,
    );
  }

  /** Fills every input's signature: the input key's Ed25519 signature of the txid. */
  async #sign(tx: Transaction): Promise<Transaction> {
    const message = sigHash(tx);
    // Ed25519 is deterministic, so inputs of one key share one signature.
    const byKey = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
    const signatures = tx.inputs.map((input) => {
      const pkh = pubKeyHash(input.publicKey);
      let s = byKey.get(pkh);
      if (!s) byKey.set(pkh, s = sign(this.#byPkh.get(pkh)!.privateKey, message));
      return s;
    });
    (await Promise.all(signatures)).forEach((s, i) => tx.inputs[i].signature = s);
    return tx;
  }

  #addKey(key: Key): void {
    this.#keys.push(key);
    this.#byPkh.set(key.pkh, key);
    this.#pkhs.add(key.pkh);
  }

  async #write(keys: Key[]): Promise<void> {
    if (this.#path === null) return;
    await writeWalletFile(this.#path, {
      version: WALLET_FILE_VERSION,
      network: this.params.name,
      keys: keys.map((k) => k.stored),
    });
  }
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

async function newKey(): Promise<Key> {
  const pair = await generateKeyPair();
  const stored = {
    pkcs8: toHex(await exportPrivateKey(pair.privateKey)),
    publicKey: toHex(pair.publicKey),
    created: new Date().toISOString(),
  };
  return { ...pair, pkh: pubKeyHash(pair.publicKey), stored };
}
