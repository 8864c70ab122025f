/**
 * Hex encoding, behind one small module so the implementation can be swapped in one edit
 * (the design card names `@std/encoding`; JSR is out of reach, so we use the native methods).
 * @module
 */

/** Lowercase hex of `bytes`. @example toHex(new Uint8Array([1, 255])) // "01ff" */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/** Bytes of a hex string; throws `SyntaxError` on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(hex);
}

/** True when `s` is lowercase or uppercase hex of exactly `bytes` bytes. */
export function isHex(s: unknown, bytes: number): s is string {
  return typeof s === "string" && s.length === bytes * 2 && /^[0-9a-fA-F]*$/.test(s);
}

/** Hashes and shorter reverse into this buffer: no copy allocated per call (start-up reverses 10,000s). */
const REVERSE_SCRATCH = new Uint8Array(64);

/** Hex of `bytes` in reverse byte order: Bitcoin's "display order" for hashes. */
export function toHexReversed(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n > REVERSE_SCRATCH.length) return bytes.slice().reverse().toHex();
  const out = REVERSE_SCRATCH.subarray(0, n);
  for (let i = 0; i < n; i++) out[i] = bytes[n - 1 - i];
  return out.toHex();
}

/** Bytes of a display-order hash (`toHexReversed`'s inverse). */
export function fromHexReversed(hex: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(hex).reverse();
}
