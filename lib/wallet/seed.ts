/**
 * Seed words and deterministic keys: a BIP-39 mnemonic (24 English words with a checksum, through
 * `@scure/bip39`) turned into a 64-byte seed (PBKDF2-HMAC-SHA512, 2048 rounds), and Ed25519 keys derived from
 * it by SLIP-0010 (HMAC-SHA512; Ed25519 derivation is hardened only). PBKDF2 and HMAC are WebCrypto's, so
 * opening a wallet made before needs no npm package; the word list is loaded only to make or check words.
 *
 * The path of a key is `m/44'/COIN_TYPE'/0'/CHAIN'/INDEX'`: BIP-44's levels, every one hardened as SLIP-0010
 * requires for Ed25519. CHAIN is 0 for receiving addresses and 1 for change. COIN_TYPE is 1' on regtest (the
 * SLIP-44 type every test network shares) and `MAIN_COIN_TYPE` on the main network.
 * @module
 */
import { importPrivateKey, type KeyPair } from "../crypto/ed25519.ts";
import { WalletError } from "./errors.ts";

/** Words of a new wallet's mnemonic: 24, from 256 bits of entropy and an 8-bit checksum. */
export const MNEMONIC_WORDS = 24;
/** Entropy bytes behind `MNEMONIC_WORDS` words (each word carries 11 bits, 1/33 of them checksum). */
export const ENTROPY_BYTES = 32;
if (ENTROPY_BYTES * 8 + ENTROPY_BYTES / 4 !== MNEMONIC_WORDS * 11) throw new Error("mnemonic sizes disagree");

/** First hardened index (SLIP-0010 derives only hardened children for Ed25519). */
export const HARDENED = 0x8000_0000;
/** BIP-44's purpose level. */
export const PURPOSE = 44;
/**
 * The main network's coin type: peerchain's default port, 8765. Not registered in SLIP-44; it only has to
 * differ from regtest's so that one seed never gives the same key on both networks.
 */
export const MAIN_COIN_TYPE = 8765;
/** Regtest's coin type: 1, SLIP-44's type for every test network. */
export const TEST_COIN_TYPE = 1;
/** The account level: one account per wallet. */
export const ACCOUNT = 0;
/** The chain of receiving addresses. */
export const RECEIVE_CHAIN = 0;
/** The chain of change addresses. */
export const CHANGE_CHAIN = 1;

/** A node of the SLIP-0010 tree: its private key (32 bytes) and chain code (32 bytes). */
export interface ExtendedKey {
  /** The Ed25519 private key (the RFC 8032 seed), 32 bytes. */
  key: Uint8Array;
  /** The chain code, 32 bytes. */
  chainCode: Uint8Array;
}

/** What lib/wallet/libs.ts provides (declared here: a type import would put npm in the ledger's graph). */
export interface WalletLibs {
  /** BIP-39: the words of `entropy`. */
  entropyToMnemonic(entropy: Uint8Array, wordlist: string[]): string;
  /** BIP-39: true when every word is in the list and the checksum matches. */
  validateMnemonic(mnemonic: string, wordlist: string[]): boolean;
  /** BIP-39's English word list. */
  wordlist: string[];
  /** scrypt. */
  scryptAsync(
    password: Uint8Array,
    salt: Uint8Array,
    opts: { N: number; r: number; p: number; dkLen: number },
  ): Promise<Uint8Array>;
}

/** Imported through a variable, so it is not part of the module graph Deno resolves at start-up. */
const LIBS_MODULE = "./libs.ts";
let libs: Promise<WalletLibs> | undefined;

/** The wallet's npm libraries, loaded on first use. */
export function loadLibs(): Promise<WalletLibs> {
  return libs ??= import(LIBS_MODULE) as Promise<WalletLibs>;
}

/** The coin type of a network by name. */
export function coinType(network: string): number {
  return network === "main" ? MAIN_COIN_TYPE : TEST_COIN_TYPE;
}

/** The derivation path of a wallet key, as text: `m/44'/1'/0'/0'/5'`. */
export function keyPath(network: string, chain: number, index: number): string {
  return `m/${PURPOSE}'/${coinType(network)}'/${ACCOUNT}'/${chain}'/${index}'`;
}

/** A fresh mnemonic of `MNEMONIC_WORDS` words from the system's secure random source. */
export async function generateMnemonic(): Promise<string> {
  const { entropyToMnemonic, wordlist } = await loadLibs();
  return entropyToMnemonic(crypto.getRandomValues(new Uint8Array(ENTROPY_BYTES)), wordlist);
}

/** The mnemonic of `entropy` (16 to 32 bytes, a multiple of 4), for vectors and tests. */
export async function mnemonicOf(entropy: Uint8Array): Promise<string> {
  const { entropyToMnemonic, wordlist } = await loadLibs();
  return entropyToMnemonic(entropy, wordlist);
}

/**
 * `text` as a wallet's mnemonic: words separated by any white space, lower-cased. Throws `WalletError` with
 * one line saying what is wrong: too few or too many words, a word not in the English list (named, with its
 * position), or a checksum that does not match (a word mistyped into another valid word, or swapped).
 */
export async function normalizeMnemonic(text: string): Promise<string> {
  const { validateMnemonic, wordlist } = await loadLibs();
  const words = text.trim().toLowerCase().split(/\s+/).filter((w) => w !== "");
  if (words.length !== MNEMONIC_WORDS) {
    throw new WalletError(`the seed words are ${words.length} words, not ${MNEMONIC_WORDS}`);
  }
  const unknown = words.findIndex((w) => !wordlist.includes(w));
  if (unknown >= 0) {
    throw new WalletError(`seed word ${unknown + 1}, "${words[unknown]}", is not in the English word list`);
  }
  const mnemonic = words.join(" ");
  if (!validateMnemonic(mnemonic, wordlist)) {
    throw new WalletError("the seed words' checksum does not match: a word is mistyped or out of order");
  }
  return mnemonic;
}

/** BIP-39's PBKDF2 rounds. */
export const PBKDF2_ROUNDS = 2048;

/**
 * The 64-byte BIP-39 seed of a mnemonic and an optional BIP-39 passphrase: PBKDF2-HMAC-SHA512 of the NFKD
 * words, salted with "mnemonic" and the NFKD passphrase, 2048 rounds.
 */
export async function mnemonicToSeedBytes(mnemonic: string, passphrase = ""): Promise<Uint8Array> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(mnemonic.normalize("NFKD")), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salt = enc.encode(`mnemonic${passphrase}`.normalize("NFKD"));
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-512", salt, iterations: PBKDF2_ROUNDS },
      key,
      512,
    ),
  );
}

/** HMAC-SHA512 of `data` under `key`, split into SLIP-0010's key and chain code. */
async function hmacSplit(key: Uint8Array, data: Uint8Array): Promise<ExtendedKey> {
  const k = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"],
  );
  const i = new Uint8Array(await crypto.subtle.sign("HMAC", k, new Uint8Array(data)));
  return { key: i.slice(0, 32), chainCode: i.slice(32) };
}

const ED25519_SEED_KEY = new TextEncoder().encode("ed25519 seed");

/** SLIP-0010's master key of `seed` for Ed25519. */
export function masterKey(seed: Uint8Array): Promise<ExtendedKey> {
  return hmacSplit(ED25519_SEED_KEY, seed);
}

/** SLIP-0010's hardened child `index` (below `HARDENED`; the hardened bit is added here) of `parent`. */
export function hardenedChild(parent: ExtendedKey, index: number): Promise<ExtendedKey> {
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED) {
    throw new WalletError(`a key index must be a whole number below 2^31, not ${index}`);
  }
  const data = new Uint8Array(37);
  data.set(parent.key, 1); // data[0] = 0
  new DataView(data.buffer).setUint32(33, index + HARDENED);
  return hmacSplit(parent.chainCode, data);
}

/** The key at hardened `path` (indexes without the hardened bit) below `seed`'s master key. */
export async function derivePath(seed: Uint8Array, path: readonly number[]): Promise<ExtendedKey> {
  let node = await masterKey(seed);
  for (const index of path) node = await hardenedChild(node, index);
  return node;
}

/** The account node `m/44'/COIN'/0'` of a network: what the wallet keeps to derive its keys. */
export function accountKey(seed: Uint8Array, network: string): Promise<ExtendedKey> {
  return derivePath(seed, [PURPOSE, coinType(network), ACCOUNT]);
}

/** The key `CHAIN'/INDEX'` below an account node. */
export async function walletKey(account: ExtendedKey, chain: number, index: number): Promise<ExtendedKey> {
  return await hardenedChild(await hardenedChild(account, chain), index);
}

/** The fixed PKCS#8 header of an Ed25519 private key (RFC 8410): the 32-byte key follows it. */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

/** The PKCS#8 bytes of a raw 32-byte Ed25519 private key. */
export function pkcs8Of(key: Uint8Array): Uint8Array<ArrayBuffer> {
  if (key.length !== 32) throw new WalletError(`an Ed25519 private key is 32 bytes, not ${key.length}`);
  const out = new Uint8Array(PKCS8_ED25519_PREFIX.length + 32);
  out.set(PKCS8_ED25519_PREFIX);
  out.set(key, PKCS8_ED25519_PREFIX.length);
  return out;
}

/** A WebCrypto key pair for a raw 32-byte Ed25519 private key, with its public key. */
export function keyPairOf(key: Uint8Array): Promise<KeyPair> {
  return importPrivateKey(pkcs8Of(key));
}
