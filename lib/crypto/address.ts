/**
 * Addresses: a 20-byte public key hash in bech32m (BIP-350) with the network's prefix. Its BCH checksum
 * detects every single mistyped character, and the fixed length refuses a dropped or added one, so a typo
 * never sends coins to the wrong key.
 * @module
 */
export { pubKeyHash } from "./key_hash.ts";

const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32M_CONST = 0x2bc830a3;
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** An address that cannot be used, with a message a person can act on. */
export class AddressError extends Error {
  /** The error's name, for logs. */
  override name = "AddressError";
  /**
   * An address error.
   * @param otherPrefix Set when the address is well-formed but for another prefix (network).
   */
  constructor(message: string, readonly otherPrefix?: string) {
    super(message);
  }
}

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
 * Bech32m string of a prefix and 5-bit values.
 * @example bech32mEncode("a", []) // "a1lqfn3a"
 */
export function bech32mEncode(hrp: string, data: number[]): string {
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ BECH32M_CONST;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => CHARSET[d]).join("")}`;
}

/** Prefix and 5-bit values of a bech32m string; throws `AddressError`. */
export function bech32mDecode(s: string): { hrp: string; data: number[] } {
  if (s.length > 90) throw new AddressError(`address is too long (${s.length} characters)`);
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) {
    throw new AddressError("address mixes upper and lower case");
  }
  const str = s.toLowerCase();
  const sep = str.lastIndexOf("1");
  if (sep < 1 || sep + 7 > str.length) throw new AddressError("address is too short or has no separator '1'");
  const hrp = str.slice(0, sep);
  const data: number[] = [];
  for (const c of str.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) throw new AddressError(`address has an invalid character '${c}'`);
    data.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...data]) !== BECH32M_CONST) {
    throw new AddressError("checksum mismatch: a character is mistyped or missing");
  }
  return { hrp, data: data.slice(0, -6) };
}

function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0, bits = 0;
  const out: number[] = [], max = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | data[i];
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
 * The address of a key hash on the network with `prefix`.
 * @example encodeAddress("00".repeat(20), "pc") // "pc1qqqqq…"
 */
export function encodeAddress(pubKeyHashHex: string, prefix: string): string {
  if (!/^[0-9a-f]{40}$/.test(pubKeyHashHex)) throw new TypeError("a key hash is 40 lowercase hex digits");
  return bech32mEncode(prefix, convertBits(Uint8Array.fromHex(pubKeyHashHex), 8, 5, true)!);
}

/**
 * The key hash an address pays, checked against the network `prefix`; throws `AddressError`.
 * @example decodeAddress(wallet.address, "pcrt") // "3f2a…" (40 hex digits)
 */
export function decodeAddress(address: string, prefix: string): string {
  const { hrp, data } = bech32mDecode(address.trim());
  if (hrp !== prefix) {
    throw new AddressError(`address starts with "${hrp}1", but addresses here start with "${prefix}1"`, hrp);
  }
  const bytes = convertBits(data, 5, 8, false);
  if (!bytes || bytes.length !== 20) {
    throw new AddressError("address has the wrong length: a character is missing or extra");
  }
  return new Uint8Array(bytes).toHex();
}
