/**
 * Addresses: a 20-byte public key hash in bech32m (BIP-350) with the network's prefix. Its BCH checksum
 * detects every single mistyped character (and any 4 errors), and the fixed length refuses a dropped or
 * added one, so a typo never sends coins to the wrong key.
 *
 * Unlike a segwit address there is no witness version: the data part is just the 20 bytes as 32 5-bit groups,
 * so every address is `prefix` + "1" + 38 characters.
 * @module
 */
export { pubKeyHash } from "./key_hash.ts";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST = 0x2bc830a3;
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
/** BIP-173's bound on a whole string: past it the checksum's guarantees no longer hold. */
const MAX_LENGTH = 90;
const CHECKSUM_LENGTH = 6;
/** Characters of an address's data part: 20 bytes in 5-bit groups, then the checksum. */
const ADDRESS_DATA_LENGTH = 32 + CHECKSUM_LENGTH;

/** An address that cannot be used, with a message a person can act on. */
export class AddressError extends Error {
  /** The error's name, for logs. */
  override name = "AddressError";
  /**
   * An address error.
   * @param problem What is wrong.
   * @param otherPrefix Set when the address is well-formed but for another prefix (network).
   */
  constructor(
    message: string,
    readonly problem: "prefix" | "checksum" | "character" | "length" | "case" | "format",
    readonly otherPrefix?: string,
  ) {
    super(message);
  }
}

/** What is wrong with an address, for callers that react differently (tests, the UI's hints). */
export type AddressProblem = AddressError["problem"];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i];
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >> 5), 0, ...codes.map((c) => c & 31)];
}

/**
 * Bech32m string of a prefix (lowercase, printable ASCII) and 5-bit values.
 * @example bech32mEncode("a", []) // "a1lqfn3a"
 */
export function bech32mEncode(hrp: string, data: number[]): string {
  if (!/^[\x21-\x7e]{1,83}$/.test(hrp) || hrp !== hrp.toLowerCase()) {
    throw new TypeError(`a prefix is 1 to 83 printable lowercase ASCII characters: ${JSON.stringify(hrp)}`);
  }
  if (data.some((d) => !Number.isInteger(d) || d < 0 || d > 31)) throw new TypeError("data are 5-bit values");
  if (hrp.length + 1 + data.length + CHECKSUM_LENGTH > MAX_LENGTH) throw new TypeError("too much data");
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ BECH32M_CONST;
  const checksum = Array.from({ length: CHECKSUM_LENGTH }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => CHARSET[d]).join("")}`;
}

/**
 * Prefix (lowercased) and 5-bit values of a bech32m string; throws `AddressError`.
 * @example bech32mDecode("A1LQFN3A") // { hrp: "a", data: [] }
 */
export function bech32mDecode(s: string): { hrp: string; data: number[] } {
  if (s.length > MAX_LENGTH) {
    throw new AddressError(`address is too long (${s.length} characters, at most ${MAX_LENGTH})`, "length");
  }
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (code < 0x21 || code > 0x7e) {
      throw new AddressError(`address has an invalid character ${JSON.stringify(c)}`, "character");
    }
  }
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) {
    throw new AddressError("address mixes upper and lower case: type it all in one case", "case");
  }
  const str = s.toLowerCase();
  const sep = str.lastIndexOf("1");
  if (sep < 0) throw new AddressError("address has no separator '1' after its prefix", "format");
  if (sep === 0) throw new AddressError("address has no prefix before the '1'", "format");
  if (str.length - sep - 1 < CHECKSUM_LENGTH) {
    throw new AddressError("address is too short: characters are missing at the end", "length");
  }
  const hrp = str.slice(0, sep);
  const data: number[] = [];
  for (const c of str.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) {
      const hint = "1bio".includes(c) ? " (addresses never use 1, b, i or o after the prefix)" : "";
      throw new AddressError(`address has an invalid character '${c}'${hint}`, "character");
    }
    data.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...data]) !== BECH32M_CONST) {
    throw new AddressError("checksum mismatch: a character is mistyped or missing", "checksum");
  }
  return { hrp, data: data.slice(0, -CHECKSUM_LENGTH) };
}

/** Regroups bits; null when unpadded input leaves non-zero or whole-group padding. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0, bits = 0;
  const out: number[] = [], max = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = ((acc << from) | data[i]) & 0xffffff; // only the low bits still to be emitted matter
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & max);
    }
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & max);
  else if (!pad && (bits >= from || ((acc << (to - bits)) & max))) return null;
  return out;
}

/**
 * The address of a key hash (40 hex digits) on the network with `prefix`.
 * @example The address of a key, and back
 * ```ts
 * import { decodeAddress, encodeAddress, generateKeyPair, NETWORKS, pubKeyHash } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const { publicKey } = await generateKeyPair();
 * const prefix = NETWORKS.regtest.addressPrefix;
 * const address = encodeAddress(pubKeyHash(publicKey), prefix);
 * assert.ok(address.startsWith("pcrt1"));
 * assert.equal(decodeAddress(address, prefix), pubKeyHash(publicKey));
 * ```
 */
export function encodeAddress(pubKeyHashHex: string, prefix: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(pubKeyHashHex)) throw new TypeError("a key hash is 40 hex digits");
  return bech32mEncode(prefix, convertBits(Uint8Array.fromHex(pubKeyHashHex), 8, 5, true)!);
}

/**
 * The key hash (40 lowercase hex digits) an address pays, checked against the network `prefix`; throws
 * `AddressError`. Surrounding whitespace is ignored and an all-uppercase address is accepted.
 *
 * This module sits below the network table, so a wrong-network error names prefixes; `Wallet.parseAddress`
 * rephrases it with network names.
 * @example A mistyped address is refused
 * ```ts
 * import { AddressError, decodeAddress, encodeAddress } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const address = encodeAddress("ab".repeat(20), "pc");
 * assert.equal(decodeAddress(address, "pc"), "ab".repeat(20));
 * const typo = address.slice(0, -1) + (address.endsWith("q") ? "p" : "q");
 * assert.throws(() => decodeAddress(typo, "pc"), AddressError);
 * ```
 */
export function decodeAddress(address: string, prefix: string): string {
  const { hrp, data } = bech32mDecode(address.trim());
  if (hrp !== prefix) {
    throw new AddressError(
      `this address is for another network: it starts with "${hrp}1", and addresses here start with ` +
        `"${prefix}1"`,
      "prefix",
      hrp,
    );
  }
  const n = data.length + CHECKSUM_LENGTH;
  if (n !== ADDRESS_DATA_LENGTH) {
    throw new AddressError(
      `address has ${n} characters after "${prefix}1", not ${ADDRESS_DATA_LENGTH}: ` +
        `${n < ADDRESS_DATA_LENGTH ? "some are missing" : "some are extra"}`,
      "length",
    );
  }
  // 32 groups are exactly 160 bits: no padding to check.
  return new Uint8Array(convertBits(data, 5, 8, false)!).toHex();
}
