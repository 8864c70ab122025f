/**
 * The wallet's keys: the seed words and the keys derived from them (lib/wallet/seed.ts), imported keys (from a
 * format-1 wallet), the pool of pre-derived public keys, and locking: with a passphrase set, the secrets are
 * sealed (lib/wallet/secret_box.ts) and in memory only while unlocked.
 *
 * Public keys of the pool stay in the clear, so a locked wallet still watches its addresses, hands out fresh
 * ones (up to `KEY_POOL` past the last one used) and mines; only signing and deriving more keys need the
 * passphrase. Ed25519 derivation is hardened only, so public keys cannot be derived without the seed.
 * @module
 */
import { pubKeyHash } from "../crypto/address.ts";
import { importPrivateKey } from "../crypto/ed25519.ts";
import { fromHex, toHex } from "../crypto/hex.ts";
import { WalletError } from "./errors.ts";
import { seal, type SealedBox, unseal, WrongPassphrase } from "./secret_box.ts";
import {
  accountKey,
  CHANGE_CHAIN,
  type ExtendedKey,
  hardenedChild,
  keyPairOf,
  mnemonicToSeedBytes,
  normalizeMnemonic,
  RECEIVE_CHAIN,
} from "./seed.ts";
import type { PlainSecrets, StoredKey, WalletFile } from "./wallet_file.ts";
import { WALLET_FILE_VERSION } from "./wallet_file.ts";

export { WrongPassphrase };

/**
 * Keys kept derived past the last one used, on each chain: what a locked wallet can still hand out, and how
 * far past the last used address a restore looks (BIP-44 wallets look 20 past; this looks further).
 */
export const KEY_POOL = 100;
/** BIP-44's gap limit: a restore finds every coin as long as no more than this many addresses in a row went unused. */
export const GAP_LIMIT = 20;
if (KEY_POOL < GAP_LIMIT) throw new Error("the key pool must cover the gap limit");

/** Shortest passphrase `encrypt` accepts. */
export const MIN_PASSPHRASE = 8;

/** Signing needs the passphrase. */
export class WalletLocked extends WalletError {
  /** The error's name, for logs. */
  override name = "WalletLocked";
}

/** Where a key sits: a chain of the seed and its index, or the imported keys. */
export type KeySlot = { chain: "receive" | "change" | "imported"; index: number };

interface ChainState {
  used: number;
  keys: string[]; // public keys, hex
  pkhs: string[];
}

interface Unlocked {
  secrets: PlainSecrets;
  chains: Record<"receive" | "change", ExtendedKey>;
}

const chainOf = (c: "receive" | "change") => c === "receive" ? RECEIVE_CHAIN : CHANGE_CHAIN;

/** A wallet's keys. Make one with `Keyring.create` or `Keyring.fromFile`. */
export class Keyring {
  /** The network's name (it goes into the derivation path and the sealed box's context). */
  readonly network: string;
  #chains: Record<"receive" | "change", ChainState>;
  #imported: { publicKey: string; pkh: string }[];
  #slots = new Map<string, KeySlot>();
  #pkhs = new Set<string>();
  #sealed: SealedBox | null;
  #open: Unlocked | null = null;
  #signers = new Map<string, CryptoKey>();
  #lockTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(file: WalletFile) {
    this.network = file.network;
    const state = (c: { used: number }): ChainState => ({ used: c.used, keys: [], pkhs: [] });
    this.#chains = { receive: state(file.receive), change: state(file.change) };
    for (const chain of ["receive", "change"] as const) {
      for (const k of file[chain].keys) this.#addChainKey(chain, k);
    }
    this.#imported = [];
    file.imported.forEach((publicKey, index) => {
      const pkh = pubKeyHash(fromHex(publicKey));
      this.#imported.push({ publicKey, pkh });
      if (!this.#slots.has(pkh)) this.#slots.set(pkh, { chain: "imported", index });
      this.#pkhs.add(pkh);
    });
    this.#sealed = "sealed" in file.secrets ? file.secrets.sealed : null;
  }

  /**
   * A keyring for `mnemonic` (checked: 24 words, the list, the checksum) with `imported` keys beside it (a
   * format-1 wallet's), its pools derived.
   */
  static async create(network: string, mnemonic: string, imported: StoredKey[] = []): Promise<Keyring> {
    const words = await normalizeMnemonic(mnemonic);
    await Keyring.checkImported(imported);
    const k = new Keyring({
      version: WALLET_FILE_VERSION,
      network,
      secrets: { mnemonic: words, imported: imported.map((k) => k.pkcs8) },
      receive: { used: 1, keys: [] }, // the first receiving key is the wallet's address from the start
      change: { used: 0, keys: [] },
      imported: imported.map((k) => k.publicKey.toLowerCase()),
    });
    await k.#openWith({ mnemonic: words, imported: imported.map((k) => k.pkcs8) });
    await k.topUp();
    return k;
  }

  /** Throws `WalletError` unless every key is an Ed25519 private key whose public key is the one stored. */
  static async checkImported(keys: readonly StoredKey[]): Promise<void> {
    for (const [i, k] of keys.entries()) await checkImported(k.pkcs8, k.publicKey, i);
  }

  /**
   * The keyring of a format-2 file. A wallet in the clear is opened (its first key checked against its
   * words, so damaged words are refused rather than signing with wrong keys); a sealed one stays locked.
   */
  static async fromFile(file: WalletFile): Promise<Keyring> {
    const k = new Keyring(file);
    if (!("sealed" in file.secrets)) {
      await k.#openWith(file.secrets);
      await k.topUp();
    }
    return k;
  }

  /** The file's contents for this keyring. */
  toFile(): WalletFile {
    const chain = (c: ChainState) => ({ used: c.used, keys: [...c.keys] });
    return {
      version: WALLET_FILE_VERSION,
      network: this.network,
      secrets: this.#sealed ? { sealed: this.#sealed } : { ...this.#open!.secrets },
      receive: chain(this.#chains.receive),
      change: chain(this.#chains.change),
      imported: this.#imported.map((i) => i.publicKey),
    };
  }

  /** True once a passphrase is set. */
  get encrypted(): boolean {
    return this.#sealed !== null;
  }

  /** True while signing needs the passphrase. */
  get locked(): boolean {
    return this.#open === null;
  }

  /** Every key hash: both chains' pools (handed out or not) and the imported keys. A live view. */
  get pubKeyHashes(): ReadonlySet<string> {
    return this.#pkhs;
  }

  /** The first receiving key's hash: coinbases and `address` go there. */
  get primary(): string {
    return this.#chains.receive.pkhs[0];
  }

  /** Where `pkh` sits in this wallet, or undefined for a foreign key. */
  slot(pkh: string): KeySlot | undefined {
    return this.#slots.get(pkh);
  }

  /** Key hashes handed out (or seen used) on `chain`, oldest first; the imported keys for "imported". */
  usedKeys(chain: "receive" | "change" | "imported"): string[] {
    if (chain === "imported") return this.#imported.map((i) => i.pkh);
    const c = this.#chains[chain];
    return c.pkhs.slice(0, c.used);
  }

  /** The raw public key of the wallet's key `pkh`. */
  publicKey(pkh: string): Uint8Array<ArrayBuffer> {
    const s = this.#slots.get(pkh);
    if (!s) throw new WalletError(`the key ${pkh} is not this wallet's`);
    return fromHex(
      s.chain === "imported" ? this.#imported[s.index].publicKey : this.#chains[s.chain].keys[s.index],
    );
  }

  /** Keys of `chain` handed out or seen used: the index of the next one `peek` gives. */
  handedOut(chain: "receive" | "change"): number {
    return this.#chains[chain].used;
  }

  /** Keys of `chain` derived past its used mark: how many it can still hand out without deriving. */
  poolLeft(chain: "receive" | "change"): number {
    const c = this.#chains[chain];
    return c.keys.length - c.used;
  }

  /** The next unused key of `chain`, without handing it out (a draft's change). */
  async peek(chain: "receive" | "change"): Promise<string> {
    const c = this.#chains[chain];
    if (c.used >= c.keys.length) await this.topUp();
    if (c.used >= c.keys.length) {
      throw new WalletLocked(
        `the wallet's ${KEY_POOL} pre-derived ${chain} keys are used up: unlock it to derive more ` +
          `(peerchain wallet unlock --for 60)`,
      );
    }
    return c.pkhs[c.used];
  }

  /** Hands out the next unused key of `chain`; true from `markUsed` afterwards. */
  async next(chain: "receive" | "change"): Promise<string> {
    const pkh = await this.peek(chain);
    this.#chains[chain].used++;
    await this.topUp(); // keeps the pool full while unlocked
    return pkh;
  }

  /** Records that `pkh` was used (paid on the chain); true when that moved a chain's used mark. */
  markUsed(pkh: string): boolean {
    const s = this.#slots.get(pkh);
    if (!s || s.chain === "imported") return false;
    const c = this.#chains[s.chain];
    if (s.index < c.used) return false;
    c.used = s.index + 1;
    return true;
  }

  /** True when a chain's pool is below `KEY_POOL` past its used mark and the keyring could derive more. */
  get needsTopUp(): boolean {
    return !this.locked && Object.values(this.#chains).some((c) => c.keys.length < c.used + KEY_POOL);
  }

  /** Derives keys until each chain has `KEY_POOL` past its used mark (nothing while locked); true if it added any. */
  async topUp(): Promise<boolean> {
    if (!this.#open) return false;
    let added = false;
    for (const chain of ["receive", "change"] as const) {
      const c = this.#chains[chain];
      while (c.keys.length < c.used + KEY_POOL) {
        const node = await hardenedChild(this.#open.chains[chain], c.keys.length);
        const pair = await keyPairOf(node.key);
        node.key.fill(0);
        const pkh = this.#addChainKey(chain, toHex(pair.publicKey));
        this.#signers.set(pkh, pair.privateKey);
        added = true;
      }
    }
    return added;
  }

  /** The private key of `pkh` for signing; throws `WalletLocked` while locked. */
  async signer(pkh: string): Promise<CryptoKey> {
    const cached = this.#signers.get(pkh);
    if (cached && this.#open) return cached;
    const open = this.#requireOpen("sign a payment");
    const s = this.#slots.get(pkh);
    if (!s) throw new WalletError(`the key ${pkh} is not this wallet's`);
    let key: CryptoKey;
    if (s.chain === "imported") {
      key = (await importPrivateKey(fromHex(open.secrets.imported[s.index]))).privateKey;
    } else {
      const node = await hardenedChild(open.chains[s.chain], s.index);
      key = (await keyPairOf(node.key)).privateKey;
      node.key.fill(0);
    }
    this.#signers.set(pkh, key);
    return key;
  }

  /** The seed words; throws `WalletLocked` while locked. */
  mnemonic(): string {
    return this.#requireOpen("show the seed words").secrets.mnemonic;
  }

  /** The imported keys' private keys (PKCS#8 hex) with their key hashes; throws `WalletLocked` while locked. */
  importedKeys(): { pkh: string; pkcs8: string }[] {
    const open = this.#requireOpen("show the imported keys");
    return this.#imported.map((k, i) => ({ pkh: k.pkh, pkcs8: open.secrets.imported[i] }));
  }

  /**
   * Seals the secrets under `passphrase` (scrypt cost `n`) and locks; the caller saves the file. Throws
   * `WalletError` when already encrypted (changing the passphrase is not offered yet).
   */
  async encrypt(passphrase: string, n?: number): Promise<void> {
    if (this.#sealed) throw new WalletError("the wallet is already encrypted");
    if (passphrase.length < MIN_PASSPHRASE) {
      throw new WalletError(`a passphrase needs at least ${MIN_PASSPHRASE} characters: nothing changed`);
    }
    const open = this.#requireOpen("encrypt");
    const plain = new TextEncoder().encode(JSON.stringify(open.secrets));
    this.#sealed = await seal(plain, passphrase, this.#context(), n);
    plain.fill(0);
    this.lock();
  }

  /**
   * Opens a sealed keyring with `passphrase` for `seconds` (until `lock` when undefined); a keyring in the
   * clear is always open. Throws `WrongPassphrase` (nothing changes) for a wrong one.
   */
  async unlock(passphrase: string, seconds?: number): Promise<void> {
    if (!this.#sealed) return;
    const plain = await unseal(this.#sealed, passphrase, this.#context());
    let secrets: PlainSecrets;
    try {
      secrets = JSON.parse(new TextDecoder().decode(plain));
    } finally {
      plain.fill(0);
    }
    await this.#openWith(secrets);
    clearTimeout(this.#lockTimer);
    this.#lockTimer = seconds === undefined ? undefined : setTimeout(() => this.lock(), seconds * 1000);
    if (this.#lockTimer !== undefined) Deno.unrefTimer(this.#lockTimer as unknown as number);
  }

  /** Forgets the secrets of a sealed keyring (a keyring in the clear stays open: it has nothing to seal them with). */
  lock(): void {
    clearTimeout(this.#lockTimer);
    this.#lockTimer = undefined;
    if (!this.#sealed || !this.#open) return;
    for (const c of Object.values(this.#open.chains)) c.key.fill(0), c.chainCode.fill(0);
    this.#open = null;
    this.#signers.clear();
  }

  #context(): string {
    return `peerchain wallet ${this.network}`;
  }

  #requireOpen(what: string): Unlocked {
    if (this.#open) return this.#open;
    throw new WalletLocked(
      `the wallet is encrypted: give its passphrase to ${what} (--passphrase-file FILE, or first ` +
        "peerchain wallet unlock --for SECONDS)",
    );
  }

  async #openWith(secrets: PlainSecrets): Promise<void> {
    // The words were checked when the wallet was made; what proves them now is that they give its first key
    // (checking them against the word list again would load an npm package at every start).
    const words = secrets.mnemonic;
    if (typeof words !== "string" || !/^[a-z]+( [a-z]+){23}$/.test(words)) {
      throw new WalletError("the wallet's seed words are damaged: not 24 lower-case words");
    }
    const account = await accountKey(await mnemonicToSeedBytes(words), this.network);
    const chains = {
      receive: await hardenedChild(account, chainOf("receive")),
      change: await hardenedChild(account, chainOf("change")),
    };
    account.key.fill(0);
    const first = this.#chains.receive.keys[0];
    if (first !== undefined) {
      const node = await hardenedChild(chains.receive, 0);
      const pair = await keyPairOf(node.key);
      if (toHex(pair.publicKey) !== first) {
        throw new WalletError("the wallet's seed words do not give its first key: the file is damaged");
      }
    }
    this.#open = { secrets: { mnemonic: words, imported: [...secrets.imported] }, chains };
  }

  #addChainKey(chain: "receive" | "change", publicKey: string): string {
    const c = this.#chains[chain];
    const pkh = pubKeyHash(fromHex(publicKey));
    this.#slots.set(pkh, { chain, index: c.keys.length });
    c.keys.push(publicKey);
    c.pkhs.push(pkh);
    this.#pkhs.add(pkh);
    return pkh;
  }
}

/** Throws `WalletError` unless `pkcs8` is an Ed25519 private key whose public key is `publicKey`. */
async function checkImported(pkcs8: string, publicKey: string, i: number): Promise<void> {
  try {
    const pair = await importPrivateKey(fromHex(pkcs8));
    if (toHex(pair.publicKey) !== publicKey.toLowerCase()) throw new Error("its public key does not match");
  } catch (e) {
    throw new WalletError(`key ${i} is damaged (${(e as Error).message})`);
  }
}
