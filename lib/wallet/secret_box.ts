/**
 * Secrets sealed under a passphrase: scrypt (memory-hard, from `@noble/hashes`, loaded on first use) turns the passphrase and a
 * random salt into an AES-256-GCM key (WebCrypto), which encrypts and authenticates the secret. A wrong
 * passphrase, or any changed byte of the box, fails GCM's tag check: `WrongPassphrase`, never garbage.
 * @module
 */
import { fromHex, toHex } from "../crypto/hex.ts";
import { WalletError } from "./errors.ts";
import { loadLibs } from "./seed.ts";

/** scrypt's cost N of new boxes: 2^16 (64 MiB with r = 8; about 0.4 s on one core here). */
export const SCRYPT_N = 2 ** 16;
/** scrypt's block size r. */
export const SCRYPT_R = 8;
/** scrypt's parallelism p. */
export const SCRYPT_P = 1;
/** Largest N a box may name: a damaged file must not make the wallet allocate gigabytes (2^20 is 1 GiB). */
export const MAX_SCRYPT_N = 2 ** 20;
/** Smallest N a box may name (tests use it to stay fast; it is still a real scrypt). */
export const MIN_SCRYPT_N = 2 ** 10;
if (!(MIN_SCRYPT_N <= SCRYPT_N && SCRYPT_N <= MAX_SCRYPT_N)) throw new Error("scrypt bounds disagree");

/** A sealed secret as stored: every field text, so it sits in JSON as is. */
export interface SealedBox {
  /** The key derivation: always "scrypt". */
  kdf: "scrypt";
  /** scrypt's N (a power of two from `MIN_SCRYPT_N` to `MAX_SCRYPT_N`). */
  n: number;
  /** scrypt's r. */
  r: number;
  /** scrypt's p. */
  p: number;
  /** The salt, 16 bytes hex. */
  salt: string;
  /** AES-GCM's nonce, 12 bytes hex. */
  iv: string;
  /** The ciphertext with its 16-byte tag, hex. */
  data: string;
}

/** The passphrase does not open the box (or the box was changed). */
export class WrongPassphrase extends WalletError {
  /** The error's name, for logs. */
  override name = "WrongPassphrase";
}

async function aesKey(
  passphrase: string,
  box: Pick<SealedBox, "n" | "r" | "p" | "salt">,
): Promise<CryptoKey> {
  const { scryptAsync } = await loadLibs();
  const raw = await scryptAsync(new TextEncoder().encode(passphrase), fromHex(box.salt), {
    N: box.n,
    r: box.r,
    p: box.p,
    dkLen: 32,
  });
  const key = await crypto.subtle.importKey("raw", new Uint8Array(raw), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  raw.fill(0);
  return key;
}

/**
 * Seals `secret` under `passphrase`; `context` (e.g. the network's name) is authenticated with it, so a box
 * moved to another context does not open. `n` is scrypt's cost (default `SCRYPT_N`).
 */
export async function seal(
  secret: Uint8Array<ArrayBuffer>,
  passphrase: string,
  context: string,
  n = SCRYPT_N,
): Promise<SealedBox> {
  if (passphrase === "") throw new WalletError("the passphrase is empty");
  const params = { n, r: SCRYPT_R, p: SCRYPT_P, salt: toHex(crypto.getRandomValues(new Uint8Array(16))) };
  checkParams(params);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) },
    await aesKey(passphrase, params),
    secret,
  );
  return { kdf: "scrypt", ...params, iv: toHex(iv), data: toHex(new Uint8Array(data)) };
}

/** The secret in `box`; throws `WrongPassphrase` when `passphrase` (or `context`) is not the one it was sealed with. */
export async function unseal(
  box: SealedBox,
  passphrase: string,
  context: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await aesKey(passphrase, box);
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromHex(box.iv), additionalData: new TextEncoder().encode(context) },
        key,
        fromHex(box.data),
      ),
    );
  } catch {
    throw new WrongPassphrase("wrong passphrase: the wallet is unchanged");
  }
}

/** Throws `WalletError` unless `box` is a well-formed sealed box (bounded scrypt cost, hex of the right sizes). */
export function checkBox(box: unknown): SealedBox {
  const b = box as Partial<SealedBox> | null;
  const hex = (v: unknown, bytes?: number) =>
    typeof v === "string" && /^([0-9a-f]{2})+$/.test(v) && (bytes === undefined || v.length === 2 * bytes);
  if (
    typeof b !== "object" || b === null || b.kdf !== "scrypt" || !hex(b.salt, 16) || !hex(b.iv, 12) ||
    !hex(b.data) || b.data!.length < 2 * 17
  ) {
    throw new WalletError("the sealed secrets are malformed");
  }
  checkParams(b as SealedBox);
  return { kdf: "scrypt", n: b.n!, r: b.r!, p: b.p!, salt: b.salt!, iv: b.iv!, data: b.data! };
}

function checkParams(b: Pick<SealedBox, "n" | "r" | "p">): void {
  const pow2 = Number.isSafeInteger(b.n) && b.n >= MIN_SCRYPT_N && b.n <= MAX_SCRYPT_N &&
    (b.n & (b.n - 1)) === 0;
  if (!pow2 || b.r !== SCRYPT_R || b.p !== SCRYPT_P) {
    throw new WalletError(
      `the sealed secrets name scrypt parameters this program refuses (N ${b.n}, r ${b.r}, p ${b.p})`,
    );
  }
}
