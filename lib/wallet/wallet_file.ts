/**
 * `wallet.json`: reading it strictly (a damaged or foreign file is refused, never overwritten) and writing it
 * atomically with owner-only permissions, since it holds the private keys.
 *
 * Format 2 (this program's):
 * `{ "version": 2, "network": "regtest", "secrets": S, "receive": C, "change": C, "imported": [pubkey hex] }`
 * where S is `{ "mnemonic": "24 words", "imported": [pkcs8 hex] }`, or `{ "sealed": SealedBox }` once the wallet
 * is encrypted (the same JSON, sealed under the passphrase), and C is `{ "used": n, "keys": [pubkey hex] }`:
 * the public keys derived so far on that chain (index i at position i; those from `used` on are the pool
 * handed out next), kept in the clear so a locked wallet still receives, mines and shows its balance.
 *
 * Format 1 (before seed words): `{ "version": 1, "network", "keys": [{ "pkcs8", "publicKey", "created" }] }`;
 * it is read so that it can be migrated, in one atomic write, to format 2 with its keys as imported keys.
 * @module
 */
import { writeFileAtomic } from "../runtime/atomic_file.ts";
import { WalletError } from "./errors.ts";
import { checkBox, type SealedBox } from "./secret_box.ts";

/** The format version this code writes. */
export const WALLET_FILE_VERSION = 2;
/** The format before seed words, which this code migrates. */
export const WALLET_FILE_V1 = 1;

/** One key of a format-1 file. */
export interface StoredKey {
  /** The Ed25519 private key, PKCS#8 DER, hex. */
  pkcs8: string;
  /** The raw 32-byte public key, hex (checked against the private key on load). */
  publicKey: string;
  /** When the key was made, ISO 8601. */
  created: string;
}

/** The secrets in the clear. */
export interface PlainSecrets {
  /** The 24 seed words. */
  mnemonic: string;
  /** The imported keys' private keys (PKCS#8 hex), in the order of `WalletFile.imported`. */
  imported: string[];
}

/** One derivation chain (receiving or change): its public keys so far and how many are handed out. */
export interface KeyChain {
  /** Keys handed out (or seen used on the chain): the next address is `keys[used]`. */
  used: number;
  /** Raw public keys, hex, index i at position i. */
  keys: string[];
}

/** A format-2 file. */
export interface WalletFile {
  /** `WALLET_FILE_VERSION`. */
  version: number;
  /** Network name; a wallet serves one network only. */
  network: string;
  /** The seed words and imported private keys, in the clear or sealed. */
  secrets: PlainSecrets | { sealed: SealedBox };
  /** The receiving chain. */
  receive: KeyChain;
  /** The change chain. */
  change: KeyChain;
  /** The imported keys' public keys, hex (format-1 keys after the migration). */
  imported: string[];
}

/** What `parseWalletFile` found: this format, or format 1's keys to be migrated. */
export type ParsedWallet = { version: 2; file: WalletFile } | { version: 1; keys: StoredKey[] };

const MOVE_AWAY = "it was left untouched: restore it from a backup, or move it away to start a new wallet";
/** Keys on one chain at most: a damaged file must not make the wallet derive or watch millions. */
export const MAX_CHAIN_KEYS = 1_000_000;

const isHex = (v: unknown, bytes?: number): v is string =>
  typeof v === "string" && /^([0-9a-f]{2})+$/i.test(v) && (bytes === undefined || v.length === 2 * bytes);

/**
 * The wallet in `text` read from `path`, for the network `network`; throws `WalletError` naming the path for a
 * corrupt file, a newer format version or another network's wallet.
 */
export function parseWalletFile(text: string, path: string, network: string): ParsedWallet {
  const corrupt = (what: string) =>
    new WalletError(`the wallet file ${path} is corrupt (${what}); ${MOVE_AWAY}`);
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    throw corrupt("not valid JSON");
  }
  if (typeof file !== "object" || file === null || Array.isArray(file)) throw corrupt("not a wallet object");
  const f = file as Record<string, unknown>;
  const version = f.version;
  if (version !== WALLET_FILE_VERSION && version !== WALLET_FILE_V1) {
    throw typeof version === "number" && version > WALLET_FILE_VERSION
      ? new WalletError(
        `the wallet file ${path} has format version ${version}, newer than this program reads ` +
          `(${WALLET_FILE_VERSION}): use a newer peerchain`,
      )
      : corrupt(`format version ${JSON.stringify(version)}`);
  }
  if (typeof f.network !== "string") throw corrupt("no network name");
  if (f.network !== network) {
    throw new WalletError(
      `the wallet file ${path} belongs to the ${f.network} network, but this node runs ${network}: ` +
        `start the node with --network ${f.network}, or use another data directory`,
    );
  }
  if (version === WALLET_FILE_V1) return { version: 1, keys: parseV1Keys(f.keys, corrupt) };
  const chain = (v: unknown, name: string): KeyChain => {
    const c = v as Partial<KeyChain> | null;
    if (
      typeof c !== "object" || c === null || !Array.isArray(c.keys) || c.keys.length > MAX_CHAIN_KEYS ||
      !c.keys.every((k) => isHex(k, 32)) || !Number.isSafeInteger(c.used) || c.used! < 0 ||
      c.used! > c.keys.length
    ) {
      throw corrupt(`the ${name} keys are malformed`);
    }
    return { used: c.used!, keys: c.keys.map((k) => k.toLowerCase()) };
  };
  const receive = chain(f.receive, "receiving"), change = chain(f.change, "change");
  if (receive.used < 1) throw corrupt("no receiving key");
  if (!Array.isArray(f.imported) || !f.imported.every((k) => isHex(k, 32))) {
    throw corrupt("the imported keys are malformed");
  }
  const imported = f.imported.map((k: string) => k.toLowerCase());
  const s = f.secrets as Record<string, unknown> | null;
  let secrets: WalletFile["secrets"];
  if (typeof s !== "object" || s === null) throw corrupt("no secrets");
  if ("sealed" in s) {
    try {
      secrets = { sealed: checkBox(s.sealed) };
    } catch (e) {
      throw corrupt((e as Error).message);
    }
  } else {
    if (typeof s.mnemonic !== "string" || !Array.isArray(s.imported) || !s.imported.every((k) => isHex(k))) {
      throw corrupt("the secrets are malformed");
    }
    if (s.imported.length !== imported.length) {
      throw corrupt("imported private and public keys differ in number");
    }
    secrets = { mnemonic: s.mnemonic, imported: s.imported as string[] };
  }
  return { version: 2, file: { version: WALLET_FILE_VERSION, network, secrets, receive, change, imported } };
}

function parseV1Keys(keys: unknown, corrupt: (what: string) => WalletError): StoredKey[] {
  if (!Array.isArray(keys) || keys.length === 0) throw corrupt("no keys");
  keys.forEach((k, i) => {
    const ok = typeof k === "object" && k !== null && isHex(k.pkcs8) && isHex(k.publicKey, 32) &&
      typeof k.created === "string";
    if (!ok) throw corrupt(`key ${i} is malformed`);
  });
  return keys.map((k: StoredKey) => ({ pkcs8: k.pkcs8, publicKey: k.publicKey, created: k.created }));
}

/**
 * The wallet stored at `path`, or undefined when there is no file; throws `WalletError` when it cannot be
 * read or `parseWalletFile` refuses it.
 */
export async function readWalletFile(path: string, network: string): Promise<ParsedWallet | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new WalletError(`cannot read the wallet file ${path}: ${(e as Error).message}`);
  }
  return parseWalletFile(text, path, network);
}

const CAN_CHMOD = Deno.build.os !== "windows";

/** Restricts `path` to its owner (read and write), where the platform has Unix permissions. */
export async function restrictToOwner(path: string): Promise<void> {
  if (CAN_CHMOD) await Deno.chmod(path, 0o600);
}

/**
 * Replaces `path` with `file` atomically (`writeFileAtomic`), mode 0600 from the first byte, so a crash leaves
 * the old file or the new one, never half of one, and nobody else can ever read the keys.
 */
export async function writeWalletFile(path: string, file: WalletFile): Promise<void> {
  const data = new TextEncoder().encode(JSON.stringify(file, null, 1) + "\n");
  try {
    await writeFileAtomic(path, data, 0o600);
  } catch (e) {
    throw new WalletError(`cannot write the wallet file ${path}: ${(e as Error).message}`);
  }
}
