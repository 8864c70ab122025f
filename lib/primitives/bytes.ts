/**
 * Bounded little-endian byte reading and writing with Bitcoin's CompactSize integers. The reader never reads
 * past its input and refuses non-canonical encodings; every failure is a `DecodeError`.
 * @module
 */

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Raised when bytes are not a valid canonical encoding. Decoders throw nothing else. */
export class DecodeError extends Error {
  /** The error's name, for logs. */
  override name = "DecodeError";
}

/** Reads fields from a byte array, checking bounds on every read. */
export class Reader {
  #view: DataView;
  #pos = 0;
  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  /** Bytes read so far. */
  get pos(): number {
    return this.#pos;
  }
  /** Bytes left. */
  get remaining(): number {
    return this.bytes.length - this.#pos;
  }
  #need(n: number, what: string): number {
    if (n > this.remaining) {
      throw new DecodeError(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }
  /** An unsigned 32-bit little-endian integer. */
  u32(what = "u32"): number {
    return this.#view.getUint32(this.#need(4, what), true);
  }
  /** A signed 64-bit little-endian integer, as a number (exact within ±2^53). */
  i64(what = "i64"): number {
    const v = this.#view.getBigInt64(this.#need(8, what), true);
    // Outside ±2^53 a number would round, and two encodings would decode alike.
    if (v > MAX_SAFE || v < -MAX_SAFE) {
      throw new DecodeError(`${what}: ${v} is beyond the exact integer range`);
    }
    return Number(v);
  }
  /** `n` raw bytes (a copy, so the input can be released). */
  take(n: number, what = "bytes"): Uint8Array<ArrayBuffer> {
    const at = this.#need(n, what);
    return this.bytes.slice(at, at + n);
  }
  /** A canonical CompactSize integer, refused above `max`. */
  compactSize(max: number, what = "count"): number {
    const first = this.#view.getUint8(this.#need(1, what));
    let n: number;
    if (first < 0xfd) return check(first, 0, max, what);
    if (first === 0xfd) n = check(this.#view.getUint16(this.#need(2, what), true), 0xfd, max, what);
    else if (first === 0xfe) n = check(this.#view.getUint32(this.#need(4, what), true), 0x10000, max, what);
    else throw new DecodeError(`${what}: 64-bit counts are not allowed`);
    return n;
  }
  /** Throws unless every byte was read. */
  end(what: string): void {
    if (this.remaining !== 0) throw new DecodeError(`${what}: ${this.remaining} trailing bytes`);
  }
}

function check(n: number, min: number, max: number, what: string): number {
  if (n < min) throw new DecodeError(`${what}: non-canonical size encoding`);
  if (n > max) throw new DecodeError(`${what}: ${n} exceeds the limit of ${max}`);
  return n;
}

/** Builds a byte array from fields; grows as needed. */
export class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #len = 0;
  #room(n: number): number {
    if (this.#len + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }
  /** Appends an unsigned 32-bit little-endian integer. */
  u32(n: number): this {
    const at = this.#room(4); // before reading #view: making room may replace the buffer
    this.#view.setUint32(at, n, true);
    return this;
  }
  /** Appends a signed 64-bit little-endian integer. */
  i64(n: number): this {
    const at = this.#room(8);
    this.#view.setBigInt64(at, BigInt(n), true);
    return this;
  }
  /** Appends raw bytes. */
  bytes(b: Uint8Array): this {
    const at = this.#room(b.length);
    this.#buf.set(b, at);
    return this;
  }
  /** Appends a CompactSize integer. */
  compactSize(n: number): this {
    if (n < 0xfd) {
      const at = this.#room(1);
      this.#buf[at] = n;
    } else if (n <= 0xffff) {
      const at = this.#room(3);
      this.#buf[at] = 0xfd;
      this.#view.setUint16(at + 1, n, true);
    } else {
      const at = this.#room(5);
      this.#buf[at] = 0xfe;
      this.#view.setUint32(at + 1, n, true);
    }
    return this;
  }
  /** The bytes written (a copy of exactly that length). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }
}
