/**
 * `wallet.json`: reading it strictly (a damaged or foreign file is refused, never overwritten) and writing it
 * atomically with owner-only permissions, since it holds the private keys.
 *
 * Format: `{ "version": 1, "network": "regtest", "keys": [{ "pkcs8": hex, "publicKey": hex, "created": iso }] }`.
 * @module
 */
import { writeFileAtomic } from "../atomic_file.ts";
import { WalletError } from "./errors.ts";

/** The format version this code reads and writes. */
export const WALLET_FILE_VERSION = 1;

/** One key as stored. */
export interface StoredKey {
  /** The Ed25519 private key, PKCS#8 DER, hex. */
  pkcs8: string;
  /** The raw 32-byte public key, hex (checked against the private key on load). */
  publicKey: string;
  /** When the key was made, ISO 8601. */
  created: string;
}

/** The whole file. */
export interface WalletFile {
  /** Format version, `WALLET_FILE_VERSION`. */
  version: number;
  /** Network name; a wallet serves one network only. */
  network: string;
  /** Keys, oldest first; the first one receives coinbases and change. */
  keys: StoredKey[];
}

const MOVE_AWAY = "it was left untouched: restore it from a backup, or move it away to start a new wallet";

/**
 * The keys of `text` read from `path`, for the network `network`; throws `WalletError` naming the path for a
 * corrupt file, another format version or another network's wallet.
 */
export function parseWalletFile(text: string, path: string, network: string): StoredKey[] {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    throw new WalletError(`the wallet file ${path} is corrupt (not valid JSON); ${MOVE_AWAY}`);
  }
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new WalletError(`the wallet file ${path} is corrupt (not a wallet object); ${MOVE_AWAY}`);
  }
  const { version, network: fileNetwork, keys } = file as Partial<Record<keyof WalletFile, unknown>>;
  if (version !== WALLET_FILE_VERSION) {
    throw new WalletError(
      typeof version === "number" && version > WALLET_FILE_VERSION
        ? `the wallet file ${path} has format version ${version}, newer than this program reads ` +
          `(${WALLET_FILE_VERSION}): use a newer peerchain`
        : `the wallet file ${path} is corrupt (format version ${JSON.stringify(version)}); ${MOVE_AWAY}`,
    );
  }
  if (typeof fileNetwork !== "string") {
    throw new WalletError(`the wallet file ${path} is corrupt (no network name); ${MOVE_AWAY}`);
  }
  if (fileNetwork !== network) {
    throw new WalletError(
      `the wallet file ${path} belongs to the ${fileNetwork} network, but this node runs ${network}: ` +
        `start the node with --network ${fileNetwork}, or use another data directory`,
    );
  }
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new WalletError(`the wallet file ${path} is corrupt (no keys); ${MOVE_AWAY}`);
  }
  keys.forEach((k, i) => {
    const ok = typeof k === "object" && k !== null && typeof k.pkcs8 === "string" &&
      /^([0-9a-f]{2})+$/i.test(k.pkcs8) && typeof k.publicKey === "string" &&
      /^[0-9a-f]{64}$/i.test(k.publicKey) && typeof k.created === "string";
    if (!ok) {
      throw new WalletError(`the wallet file ${path} is corrupt (key ${i} is malformed); ${MOVE_AWAY}`);
    }
  });
  return keys.map((k: StoredKey) => ({ pkcs8: k.pkcs8, publicKey: k.publicKey, created: k.created }));
}

/**
 * The keys stored at `path`, or undefined when there is no file; throws `WalletError` when it cannot be
 * read or `parseWalletFile` refuses it.
 */
export async function readWalletFile(path: string, network: string): Promise<StoredKey[] | undefined> {
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
  const data = new TextEncoder().encode(JSON.stringify(file, null, 2) + "\n");
  try {
    await writeFileAtomic(path, data, 0o600);
  } catch (e) {
    throw new WalletError(`cannot write the wallet file ${path}: ${(e as Error).message}`);
  }
}
