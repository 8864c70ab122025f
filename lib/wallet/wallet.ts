/**
 * The wallet: Ed25519 keys derived from 24 seed words (lib/wallet/keyring.ts), kept in `wallet.json`
 * (mode 0600, lib/wallet/wallet_file.ts), their addresses, balances, history, coin selection, change to a
 * fresh address, and signing. It reads the chain and mempool only through a `WalletView`, which the node
 * implements, and learns of blocks through `scanBlock`.
 * @module
 */
import type { OwnedCoin } from "../chain/coins.ts";
import { type NetworkParams, NETWORKS } from "../consensus/params.ts";
import { AddressError, decodeAddress, encodeAddress, pubKeyHash } from "../crypto/address.ts";
import { sign } from "../crypto/ed25519.ts";
import type { Block } from "../primitives/block.ts";
import { sigHash, type Transaction } from "../primitives/transaction.ts";
import { SerialQueue } from "../runtime/serial_queue.ts";
import { InsufficientFunds, WalletError } from "./errors.ts";
import { DEFAULT_FEE_RATE } from "./fee_rate.ts";
import { type DatedEntry, type HistoryEntry, WalletHistory } from "./history.ts";
import { Keyring, WalletLocked, WrongPassphrase } from "./keyring.ts";
import { type Balance, balanceOf, buildPayment, spendableCoins, type WalletView } from "./payment.ts";
import { generateMnemonic } from "./seed.ts";
import { readWalletFile, restrictToOwner, writeWalletFile } from "./wallet_file.ts";
import { background } from "../runtime/background.ts";

export { DEFAULT_FEE_RATE, InsufficientFunds, WalletError, WalletLocked, WrongPassphrase };
export {
  type Balance,
  isMatureForNextBlock,
  MAX_WALLET_TX_SIZE,
  type WalletView,
  walletViewOf,
} from "./payment.ts";
export type { DatedEntry, HistoryEntry };

/**
 * Blocks a rescan scans between two turns of the event loop: with 10,000 blocks a rescan takes 100-400 ms, and
 * a node runs it beside its peers and RPC (about 5 ms of blocks per turn).
 */
export const RESCAN_BLOCKS_PER_TURN = 250;

/**
 * How long used marks may wait before `saveSoon` writes them: a node paying 40 times a second wrote the whole
 * file (every key derived so far) 40 times a second. A crash loses at most this much of marks, which the
 * next start's rescan finds again; a change key itself is always on disk before a payment pays it.
 */
export const MARK_SAVE_DELAY_MS = 1000;

/** What a rescan reads of the chain (a `Chain` is one). */
export interface ChainReader {
  /** Height of the tip. */
  readonly height: number;
  /** The active chain's entry at `height`. */
  entryAt(height: number): { hash: string } | undefined;
  /** A stored block. */
  getBlock(hash: string): Block | undefined;
  /** The active chain's blocks from `from` to `to`, in order, read in pages (a `Chain` has it; optional). */
  activeBlocks?(from: number, to: number): Iterable<{ height: number; block: Block }>;
}

/** Options of `Wallet.open`. */
export interface WalletOptions {
  /** scrypt's cost N when encrypting (default `SCRYPT_N`; tests choose a small one). */
  scryptN?: number;
  /**
   * What `Wallet.check` read of the same file just before: its keys are not derived again (the seed and
   * every stored key's hash were a tenth of a node's start).
   */
  checked?: CheckedWallet;
}

/** A wallet file as `Wallet.check` read and accepted it, for `Wallet.open` to reuse (`WalletOptions.checked`). */
export interface CheckedWallet {
  /** The file. */
  readonly path: string;
}

/** The keyring `Wallet.check` derived for each result it gave (a format-2 file's; none for the others). */
const checkedKeys = new WeakMap<CheckedWallet, Keyring>();

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
  #keys: Keyring;
  #history = new WalletHistory();
  /** Saves run one at a time, so two `newAddress` calls cannot each write a file missing the other's key. */
  #saving = new SerialQueue();
  #dirty = false;
  /** Change keys in the file as last written: a payment's change key must be one of them. */
  #changeOnDisk: number;
  /** The save `saveSoon` scheduled, if any. */
  #soon: ReturnType<typeof setTimeout> | undefined;
  #scrypt: number | undefined;

  private constructor(params: NetworkParams, path: string | null, keys: Keyring, opts: WalletOptions = {}) {
    this.params = params;
    this.#path = path;
    this.#keys = keys;
    this.#changeOnDisk = path === null ? Infinity : keys.toFile().change.keys.length;
    this.#scrypt = opts.scryptN;
  }

  /**
   * Loads the wallet at `path`, or creates it with fresh seed words when there is no file. A format-1 file
   * (a list of keys) is migrated in one atomic write: its keys become imported keys beside new seed words,
   * every one still watched and spendable. A corrupt file or another network's wallet is refused with a
   * `WalletError` naming the path, and never overwritten.
   * @example const wallet = await Wallet.open(`${dataDir}/wallet.json`, NETWORKS.main);
   */
  static async open(path: string, params: NetworkParams, opts: WalletOptions = {}): Promise<Wallet> {
    await removeStaleTemporaries(path);
    const stored = await readWalletFile(path, params.name);
    if (stored === undefined || stored.version === 1) {
      let keys: Keyring;
      try {
        keys = await Keyring.create(params.name, await generateMnemonic(), stored?.keys ?? []);
      } catch (e) {
        throw new WalletError(
          `the wallet file ${path} has a ${
            (e as Error).message
          }; it was left untouched: restore it from a backup`,
        );
      }
      const wallet = new Wallet(params, path, keys, opts);
      await wallet.#save();
      return wallet;
    }
    let keys: Keyring;
    try {
      const checked = opts.checked?.path === path ? checkedKeys.get(opts.checked) : undefined;
      keys = checked ?? await Keyring.fromFile(stored.file);
    } catch (e) {
      throw new WalletError(`the wallet file ${path}: ${(e as Error).message}; it was left untouched`);
    }
    // A file copied in or written by an older build may be readable by others: tighten it on every open.
    await restrictToOwner(path).catch(() => {});
    const wallet = new Wallet(params, path, keys, opts);
    if (keys.needsTopUp) await wallet.#saveWith(() => keys.topUp());
    return wallet;
  }

  /**
   * Checks the wallet at `path` as `open` would (format, network, keys, that the words give the first key)
   * without writing anything: a node checks it before it opens or migrates its store, so a wallet it refuses
   * leaves the whole data directory as it was. Throws `WalletError` naming the file. Pass what it returns to
   * `open` (`WalletOptions.checked`) so the keys are not derived twice.
   */
  static async check(path: string, params: NetworkParams): Promise<CheckedWallet> {
    const stored = await readWalletFile(path, params.name);
    try {
      if (stored?.version === 1) await Keyring.checkImported(stored.keys);
      const checked: CheckedWallet = { path };
      if (stored && stored.version !== 1) checkedKeys.set(checked, await Keyring.fromFile(stored.file));
      return checked;
    } catch (e) {
      throw new WalletError(`the wallet file ${path}: ${(e as Error).message}; it was left untouched`);
    }
  }

  /**
   * Writes a new wallet for the seed words `mnemonic` at `path` (which must not exist: a restore never
   * overwrites a wallet) and returns it. Its coins are found when the node scans the chain (`scanBlock`).
   * Throws `WalletError` with one line for bad words (count, a word not in the list, the checksum).
   */
  static async restore(path: string, params: NetworkParams, mnemonic: string): Promise<Wallet> {
    const keys = await Keyring.create(params.name, mnemonic);
    try {
      await Deno.lstat(path);
      throw new WalletError(`${path} already exists: restore into a new data directory (--data-dir DIR)`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const wallet = new Wallet(params, path, keys);
    await wallet.#save();
    return wallet;
  }

  /** A wallet with fresh seed words and no file (for tests and tools); `mnemonic` to choose the words. */
  static async createInMemory(params: NetworkParams, mnemonic?: string): Promise<Wallet> {
    return new Wallet(params, null, await Keyring.create(params.name, mnemonic ?? await generateMnemonic()));
  }

  /** The wallet file's path, or null for an in-memory wallet. */
  get path(): string | null {
    return this.#path;
  }

  /** The first receiving address: where this node's coinbases go and what `address` prints. */
  get address(): string {
    return encodeAddress(this.#keys.primary, this.params.addressPrefix);
  }

  /** The first receiving key's hash. */
  get pubKeyHash(): string {
    return this.#keys.primary;
  }

  /** Every key hash the wallet watches (handed out, pooled and imported; a live view: it grows). */
  get pubKeyHashes(): ReadonlySet<string> {
    return this.#keys.pubKeyHashes;
  }

  /** Receiving addresses handed out, oldest first, then the imported keys' addresses. */
  addresses(): string[] {
    return [...this.#keys.usedKeys("receive"), ...this.#keys.usedKeys("imported")]
      .map((pkh) => encodeAddress(pkh, this.params.addressPrefix));
  }

  /** Change addresses used so far, oldest first. */
  changeAddresses(): string[] {
    return this.#keys.usedKeys("change").map((pkh) => encodeAddress(pkh, this.params.addressPrefix));
  }

  /**
   * A fresh receiving address (the next of the seed's receiving chain), saved as handed out before it is
   * returned. Works while locked, from the pool of pre-derived keys.
   */
  newAddress(): Promise<string> {
    return this.#saveWith(async () => {
      const pkh = await this.#keys.next("receive");
      return encodeAddress(pkh, this.params.addressPrefix);
    });
  }

  /** True once a passphrase is set. */
  get encrypted(): boolean {
    return this.#keys.encrypted;
  }

  /** True while signing needs the passphrase. */
  get locked(): boolean {
    return this.#keys.locked;
  }

  /**
   * Sets a passphrase: the seed words and imported keys are sealed (scrypt and AES-GCM) and the file is
   * rewritten in one atomic step; the wallet is locked afterwards.
   */
  encrypt(passphrase: string): Promise<void> {
    return this.#saving.run(async () => {
      const before = this.#keys.toFile();
      await this.#keys.encrypt(passphrase, this.#scrypt);
      try {
        await this.#write();
      } catch (e) {
        this.#keys = await Keyring.fromFile(before); // the file still holds the words in the clear
        throw e;
      }
    });
  }

  /** Opens an encrypted wallet for `seconds` (or until `lock`); throws `WrongPassphrase`, changing nothing. */
  async unlock(passphrase: string, seconds?: number): Promise<void> {
    await this.#keys.unlock(passphrase, seconds);
    if (this.#keys.needsTopUp) await this.#saveWith(() => this.#keys.topUp());
  }

  /** Forgets the secrets of an encrypted wallet. */
  lock(): void {
    this.#keys.lock();
  }

  /**
   * Runs `task` with the wallet unlocked by `passphrase` when one is given (and locked again after, unless it
   * was open before); `WrongPassphrase` when it is wrong.
   */
  async withPassphrase<T>(passphrase: string | undefined, task: () => Promise<T>): Promise<T> {
    if (passphrase === undefined || !this.locked) return await task();
    await this.unlock(passphrase);
    try {
      return await task();
    } finally {
      this.lock();
    }
  }

  /**
   * What a backup needs: the 24 seed words and the imported keys (the words do not cover those), with their
   * addresses. Throws `WalletLocked` while locked.
   */
  backup(): { words: string; imported: { address: string; pkcs8: string }[] } {
    return {
      words: this.#keys.mnemonic(),
      imported: this.#keys.importedKeys().map((k) => ({
        address: encodeAddress(k.pkh, this.params.addressPrefix),
        pkcs8: k.pkcs8,
      })),
    };
  }

  /**
   * Adds what a block of the active chain at `height` holds for this wallet to its history, and marks the
   * keys it pays as used (deriving more past them while unlocked, so a restore finds coins up to `KEY_POOL`
   * addresses past the last one used). Call it for every block in order: the node does so from genesis at
   * start (the rescan) and for each block connected after. Returns how many transactions concerned it.
   */
  scanBlock(block: Block, height: number): number {
    let moved = false;
    const found = this.#history.scanBlock(block, height, this.pubKeyHashes, (pkh) => {
      if (this.#keys.markUsed(pkh)) moved = true;
    });
    if (moved) this.#dirty = true;
    return found;
  }

  /**
   * The rescan: `scanBlock` for every block of the active chain from `from` (default 1) to its tip (or to
   * `opts.to`, when the chain is that long), deriving keys past used ones as it goes, then saves the file if
   * the used marks moved. It lets other work run every `RESCAN_BLOCKS_PER_TURN` blocks, so a node can run it
   * in the background; `opts.signal` stops it there (nothing saved). Returns how many transactions concerned
   * the wallet.
   */
  async scanChain(
    chain: ChainReader,
    from = 1,
    opts: { to?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    let found = 0;
    const pages = chain.activeBlocks?.bind(chain) ?? function* (a: number, b: number) {
      for (let height = a; height <= b; height++) {
        const block = chain.getBlock(chain.entryAt(height)!.hash);
        if (block) yield { height, block };
      }
    };
    for (let h = from; h <= Math.min(opts.to ?? Infinity, chain.height); h += RESCAN_BLOCKS_PER_TURN) {
      const last = Math.min(h + RESCAN_BLOCKS_PER_TURN - 1, opts.to ?? Infinity, chain.height);
      let next = h;
      for (const { height, block } of pages(h, last)) {
        if (height !== next) break;
        found += this.scanBlock(block, height);
        next++;
        if (this.#keys.needsTopUp) await this.#keys.topUp();
      }
      if (next <= last) throw new WalletError(`block ${next} of the active chain is missing from the store`);
      // Let other work (a node's peers, its RPC) run during a long rescan, and one background job per turn.
      await background.turn();
      if (opts.signal?.aborted) return found;
    }
    await this.flush();
    return found;
  }

  /**
   * Derives keys past any newly used ones (while unlocked) and saves the file if a scan changed it; true when
   * new keys were derived, so blocks scanned before should be scanned again (`rescanNeeded`).
   */
  async flush(): Promise<boolean> {
    if (this.#soon !== undefined) clearTimeout(this.#soon);
    this.#soon = undefined;
    if (!this.#dirty) return false;
    return await this.#saving.run(async () => {
      if (!this.#dirty) return false; // a save queued before this one wrote the marks already
      const added = await this.#keys.topUp();
      await this.#write();
      return added;
    });
  }

  /**
   * `flush` within `MARK_SAVE_DELAY_MS`, once for every mark made in between (a node calls it after each
   * payment, so a payment waits for no file and many payments cost one write). `flush` or `settled` after.
   */
  saveSoon(): void {
    if (!this.#dirty || this.#soon !== undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.flush().catch(() => {}); // the marks stay dirty: the next save or the next rescan has them
    }, MARK_SAVE_DELAY_MS);
  }

  /** Resolves once every save asked for so far has finished (or failed). */
  async settled(): Promise<void> {
    await this.#saving.run(() => {});
  }

  /** Forgets what blocks at `height` and above held (a reorg disconnected them). */
  disconnectFrom(height: number): void {
    this.#history.disconnectFrom(height);
  }

  /**
   * The history: confirmed transactions (with their confirmations) and the mempool's that concern the
   * wallet, newest first.
   */
  history(view: Pick<WalletView, "height">, mempool: readonly Transaction[] = []): DatedEntry[] {
    return this.#history.list(view.height, mempool, this.pubKeyHashes);
  }

  /** Marks the keys a transaction of this wallet pays (its change) as used; call it once the tx is accepted. */
  sawTransaction(tx: Transaction): void {
    for (const o of tx.outputs) if (this.#keys.markUsed(o.pubKeyHash)) this.#dirty = true;
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
   * Balances in base units (`balanceOf` over every key of the wallet): an output a mempool transaction spends
   * counts nowhere, its change shows up as pending.
   */
  balance(view: WalletView): Balance {
    return balanceOf(view, this.pubKeyHashes);
  }

  /** Coins this wallet may spend now, in the order coin selection tries them (`spendableCoins`). */
  spendable(view: WalletView): OwnedCoin[] {
    return spendableCoins(view, this.pubKeyHashes);
  }

  /**
   * A signed payment of `amount` base units to `toAddress`, with change to a fresh change address. The fee is
   * `feeRate` (default `DEFAULT_FEE_RATE`) base units per byte of the transaction, rounded up; when what is
   * left over is too small to pay for a change output, it goes to the fee instead. Throws `AddressError`,
   * `InsufficientFunds`, or `WalletError` for a bad amount or fee rate.
   */
  createTransaction(
    view: WalletView,
    toAddress: string,
    amount: number,
    opts: { feeRate?: number } = {},
  ): Promise<{ tx: Transaction; fee: number }> {
    return this.#build(view, toAddress, amount, opts, true);
  }

  /**
   * The payment `createTransaction` would make, unsigned (zeroed signatures, the same size): its fee, shown
   * before the confirmation; works while the wallet is locked.
   */
  draftPayment(
    view: WalletView,
    toAddress: string,
    amount: number,
    opts: { feeRate?: number } = {},
  ): Promise<{ tx: Transaction; fee: number }> {
    return this.#build(view, toAddress, amount, opts, false);
  }

  async #build(
    view: WalletView,
    toAddress: string,
    amount: number,
    opts: { feeRate?: number },
    signed: boolean,
  ): Promise<{ tx: Transaction; fee: number }> {
    const to = this.parseAddress(toAddress);
    // Change goes to a fresh address of the change chain, handed out once the payment is accepted. Its key is
    // on disk before any coin is sent to it: a pool used up is topped up and saved first.
    if (this.#keys.poolLeft("change") === 0 || this.#keys.handedOut("change") >= this.#changeOnDisk) {
      await this.#saveWith(() => this.#keys.topUp());
    }
    const change = await this.#keys.peek("change");
    const draft = buildPayment(view, {
      mine: this.pubKeyHashes,
      publicKey: (pkh) => this.#keys.publicKey(pkh),
      to,
      amount,
      change,
      feeRate: opts.feeRate ?? DEFAULT_FEE_RATE,
    });
    return signed ? { tx: await this.#sign(draft.tx), fee: draft.fee } : draft;
  }

  /** Fills every input's signature: the input key's Ed25519 signature of the txid. */
  async #sign(tx: Transaction): Promise<Transaction> {
    const message = sigHash(tx);
    // Ed25519 is deterministic, so inputs of one key share one signature.
    const byKey = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
    const signatures = tx.inputs.map((input) => {
      const pkh = pubKeyHash(input.publicKey);
      let s = byKey.get(pkh);
      if (!s) byKey.set(pkh, s = this.#keys.signer(pkh).then((key) => sign(key, message)));
      return s;
    });
    (await Promise.all(signatures)).forEach((s, i) => tx.inputs[i].signature = s);
    return tx;
  }

  /** Runs `change` (which may change the keyring) and saves the file before its result is handed out. */
  #saveWith<T>(change: () => Promise<T>): Promise<T> {
    return this.#saving.run(async () => {
      const result = await change();
      await this.#write();
      return result;
    });
  }

  #save(): Promise<void> {
    return this.#saveWith(() => Promise.resolve());
  }

  async #write(): Promise<void> {
    this.#dirty = false;
    if (this.#path === null) return;
    const file = this.#keys.toFile();
    try {
      await writeWalletFile(this.#path, file);
    } catch (e) {
      // Memory holds what the file does not (a key handed out, or marked used): the next flush writes it.
      this.#dirty = true;
      throw e;
    }
    this.#changeOnDisk = file.change.keys.length;
  }
}

/**
 * Removes what a crash in the middle of a save left beside `path`: `writeFileAtomic`'s temporary files
 * (`wallet.json.<8 hex digits>.tmp`), which may hold secrets. Only one process opens a data directory's wallet
 * (the directory's lock), so none of them is being written.
 */
async function removeStaleTemporaries(path: string): Promise<void> {
  const cut = path.lastIndexOf("/");
  const dir = cut < 0 ? "." : path.slice(0, cut) || "/";
  const base = path.slice(cut + 1).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const stale = new RegExp(`^${base}\\.[0-9a-f]{8}\\.tmp$`);
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && stale.test(e.name)) await Deno.remove(`${dir}/${e.name}`).catch(() => {});
    }
  } catch { /* no directory yet: nothing left behind */ }
}
