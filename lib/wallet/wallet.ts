/**
 * The wallet: Ed25519 keys kept in `wallet.json` (mode 0600), their addresses, balances, coin selection,
 * change and signing. It reads the chain and mempool only through a `WalletView`.
 * @module
 */
import type { OwnedCoin } from "../chain/coins.ts";
import { isMature } from "../chain/tx_rules.ts";
import { formatAmount, isMoneyRange } from "../consensus/amount.ts";
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
  type OutPoint,
  sigHash,
  type Transaction,
  type TxOutput,
  txSize,
} from "../primitives/transaction.ts";

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
}

/** Balances in base units. */
export interface Balance {
  /** Mature, confirmed and not being spent. */
  confirmed: number;
  /** Coinbase outputs still maturing. */
  immature: number;
  /** Unconfirmed outputs to us (including our own change). */
  pending: number;
}

/** Default fee rate, base units per byte: about 0.00002 coins for a one-input payment. */
export const DEFAULT_FEE_RATE = 10;

/** A wallet file or request that cannot be served. */
export class WalletError extends Error {
  /** The error's name, for logs. */
  override name = "WalletError";
}

/** Not enough spendable coins. */
export class InsufficientFunds extends WalletError {
  /** The error's name, for logs. */
  override name = "InsufficientFunds";
}

interface StoredKey {
  pkcs8: string;
  publicKey: string;
  created: string;
}

interface Key extends KeyPair {
  pkh: string;
  stored: StoredKey;
}

/** A set of keys and what they can spend. Open with `Wallet.open` or `Wallet.createInMemory`. */
export class Wallet {
  /** The network's parameters. */
  readonly params: NetworkParams;
  #path: string | null;
  #keys: Key[];
  #pkhs: Set<string>;

  private constructor(params: NetworkParams, path: string | null, keys: Key[]) {
    this.params = params;
    this.#path = path;
    this.#keys = keys;
    this.#pkhs = new Set(keys.map((k) => k.pkh));
  }

  /**
   * Loads `path`, or creates it with one fresh key. A corrupt file or another network's wallet is refused,
   * never overwritten.
   * @example const wallet = await Wallet.open(`${dataDir}/wallet.json`, NETWORKS.main);
   */
  static async open(path: string, params: NetworkParams): Promise<Wallet> {
    let text: string | undefined;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        throw new WalletError(`cannot read the wallet ${path}: ${(e as Error).message}`);
      }
    }
    if (text === undefined) {
      const wallet = new Wallet(params, path, [await newKey()]);
      await wallet.#save();
      return wallet;
    }
    let file: { version?: unknown; network?: unknown; keys?: unknown };
    try {
      file = JSON.parse(text);
    } catch {
      throw new WalletError(`the wallet ${path} is not valid JSON: restore it from a backup or move it away`);
    }
    if (file?.network !== params.name) {
      throw new WalletError(
        `the wallet ${path} is for the ${String(file?.network)} network, not ${params.name}`,
      );
    }
    if (!Array.isArray(file.keys) || file.keys.length === 0) {
      throw new WalletError(`the wallet ${path} has no keys`);
    }
    const keys: Key[] = [];
    for (const k of file.keys as StoredKey[]) {
      try {
        const pair = await importPrivateKey(fromHex(k.pkcs8));
        if (toHex(pair.publicKey) !== k.publicKey) throw new Error("public key mismatch");
        keys.push({ ...pair, pkh: pubKeyHash(pair.publicKey), stored: k });
      } catch (e) {
        throw new WalletError(
          `the wallet ${path} has a damaged key (${(e as Error).message}): restore it from a backup`,
        );
      }
    }
    await Deno.chmod(path, 0o600).catch(() => {}); // not supported on Windows
    return new Wallet(params, path, keys);
  }

  /** A wallet with one fresh key and no file (for tests and tools). */
  static async createInMemory(params: NetworkParams): Promise<Wallet> {
    return new Wallet(params, null, [await newKey()]);
  }

  /** The first key's address: where this node's coinbases and change go. */
  get address(): string {
    return encodeAddress(this.#keys[0].pkh, this.params.addressPrefix);
  }

  /** The first key's hash. */
  get pubKeyHash(): string {
    return this.#keys[0].pkh;
  }

  /** Every key hash of the wallet. */
  get pubKeyHashes(): ReadonlySet<string> {
    return this.#pkhs;
  }

  /** Every address, oldest first. */
  addresses(): string[] {
    return this.#keys.map((k) => encodeAddress(k.pkh, this.params.addressPrefix));
  }

  /** Adds a key and saves the file; returns its address. */
  async newAddress(): Promise<string> {
    const key = await newKey();
    this.#keys.push(key);
    this.#pkhs.add(key.pkh);
    await this.#save();
    return encodeAddress(key.pkh, this.params.addressPrefix);
  }

  /**
   * The key hash an address pays, refusing another network's address or a typo with an `AddressError`
   * a person can act on.
   */
  parseAddress(address: string): string {
    try {
      return decodeAddress(address, this.params.addressPrefix);
    } catch (e) {
      const other = e instanceof AddressError && e.otherPrefix &&
        Object.values(NETWORKS).find((n) => n.addressPrefix === e.otherPrefix);
      if (other) {
        throw new AddressError(
          `this is a ${other.name}-network address; this node is on ${this.params.name}`,
        );
      }
      throw e;
    }
  }

  /**
   * Balances. A coinbase created at height h may be spent in the block at h + maturity, so it counts as
   * confirmed once `view.height + 1 - h >= maturity`.
   */
  balance(view: WalletView): Balance {
    const b: Balance = { confirmed: 0, immature: 0, pending: 0 };
    for (const { outpoint, coin } of view.coinsOf(this.#pkhs)) {
      if (!this.#mature(coin, view)) b.immature += coin.amount;
      else if (!view.isSpentInMempool(outpoint)) b.confirmed += coin.amount;
    }
    for (const { outpoint, coin } of view.mempoolCoinsOf(this.#pkhs)) {
      if (!view.isSpentInMempool(outpoint)) b.pending += coin.amount;
    }
    return b;
  }

  #mature(coin: OwnedCoin["coin"], view: WalletView): boolean {
    return isMature(coin, view.height + 1, { coinbaseMaturity: view.coinbaseMaturity } as NetworkParams);
  }

  /**
   * Coins this wallet may spend now: mature confirmed ones first, then its own unconfirmed outputs
   * (change, typically), so a second payment need not wait for a block. None already spent in the mempool.
   */
  spendable(view: WalletView): OwnedCoin[] {
    const confirmed = view.coinsOf(this.#pkhs).filter((c) => this.#mature(c.coin, view))
      .sort((a, b) => b.coin.amount - a.coin.amount);
    const unconfirmed = view.mempoolCoinsOf(this.#pkhs).sort((a, b) => b.coin.amount - a.coin.amount);
    return [...confirmed, ...unconfirmed].filter((c) => !view.isSpentInMempool(c.outpoint));
  }

  /**
   * A signed payment of `amount` base units to `toAddress`, with change back to this wallet's address and a
   * fee of `feeRate` per byte. Throws `AddressError`, `InsufficientFunds` or `WalletError`.
   */
  async createTransaction(
    view: WalletView,
    toAddress: string,
    amount: number,
    opts: { feeRate?: number } = {},
  ): Promise<{ tx: Transaction; fee: number }> {
    const to = this.parseAddress(toAddress);
    if (!Number.isSafeInteger(amount) || amount <= 0 || !isMoneyRange(amount)) {
      throw new WalletError(`amount must be a positive whole number of base units, not ${amount}`);
    }
    const feeRate = opts.feeRate ?? DEFAULT_FEE_RATE;
    const coins = this.spendable(view);
    const chosen: OwnedCoin[] = [];
    let total = 0, fee = 0;
    for (const c of coins) {
      chosen.push(c);
      total += c.coin.amount;
      fee = feeRate *
        txSize(draft(chosen, [{ amount, pubKeyHash: to }, { amount: 0, pubKeyHash: this.pubKeyHash }]));
      if (total >= amount + fee) break;
    }
    if (total < amount + fee) {
      const available = coins.reduce((s, c) => s + c.coin.amount, 0);
      throw new InsufficientFunds(
        `insufficient funds: ${formatAmount(available)} spendable, ${formatAmount(amount + fee)} needed ` +
          `(${formatAmount(amount)} + fee ${formatAmount(fee)})`,
      );
    }
    const outputs: TxOutput[] = [{ amount, pubKeyHash: to }];
    const change = total - amount - fee;
    if (change > 0) outputs.push({ amount: change, pubKeyHash: this.pubKeyHash });
    // Public keys are part of the txid, so they go in before the signatures are made over it.
    const keys = chosen.map((c) => this.#keys.find((k) => k.pkh === c.coin.pubKeyHash)!);
    const tx = draft(chosen, outputs);
    tx.inputs.forEach((input, i) => input.publicKey = keys[i].publicKey);
    const message = sigHash(tx);
    for (const [i, input] of tx.inputs.entries()) input.signature = await sign(keys[i].privateKey, message);
    return { tx, fee };
  }

  async #save(): Promise<void> {
    if (!this.#path) return;
    const body = { version: 1, network: this.params.name, keys: this.#keys.map((k) => k.stored) };
    const tmp = `${this.#path}.${crypto.randomUUID()}.tmp`;
    try {
      await Deno.writeTextFile(tmp, JSON.stringify(body, null, 2) + "\n", { mode: 0o600 });
      await Deno.chmod(tmp, 0o600).catch(() => {});
      await Deno.rename(tmp, this.#path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw new WalletError(`cannot write the wallet ${this.#path}: ${(e as Error).message}`);
    }
  }
}

/** An unsigned transaction spending `coins`, for sizing and then signing. */
function draft(coins: OwnedCoin[], outputs: TxOutput[]): Transaction {
  return {
    version: 1,
    inputs: coins.map((c) => ({
      prevout: c.outpoint,
      publicKey: new Uint8Array(32),
      signature: new Uint8Array(64),
    })),
    outputs,
    lockTime: 0,
  };
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
