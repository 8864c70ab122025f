/**
 * Wire framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON holding an object with
 * a string `type`. The decoder is incremental and checks each length prefix before it buffers a body,
 * so a hostile prefix cannot make us allocate more than {@link MAX_FRAME}.
 * @module
 */

/** Largest frame body in bytes (4 MiB); a length prefix above this is refused on sight. */
export const MAX_FRAME = 4 * 1024 * 1024;

/** Size of the length prefix in bytes. */
const FRAME_HEADER = 4;

/** A frame that cannot be encoded or decoded: oversized, not UTF-8, not JSON, or not a typed object. */
export class FrameError extends Error {
  /** Creates a frame error; `cause` keeps the underlying parser error for logs. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FrameError";
  }
}

/** A decoded frame body: a JSON object whose `type` is a string. Fields are not yet schema-checked. */
export type FrameObject = { readonly type: string; readonly [key: string]: unknown };

const encoder = new TextEncoder();
/**
 * An idle decoder drops a buffer larger than this, so a burst or one big block does not pin its buffer on every
 * link: a SuperPeer holds many links, each idle most of the time.
 */
const SHRINK_ABOVE = 4 * 1024;

/** One frame as its JSON text, and its size on the wire (length prefix included). */
export interface TextFrame {
  /** The frame body: the message as JSON. */
  readonly json: string;
  /** Bytes on the wire: the 4-byte prefix and the body's UTF-8. */
  readonly bytes: number;
}

// deno-lint-ignore no-control-regex -- ASCII is the point: its UTF-8 is one byte per character
const ASCII_RE = /^[\x00-\x7f]*$/;

/**
 * Serialises `msg` as a frame's JSON text, with its size on the wire; throws `FrameError` if it cannot be
 * serialised or exceeds `MAX_FRAME`. `encodeFrame` is this, as bytes.
 */
export function encodeFrameText(msg: object): TextFrame {
  let json: string;
  try {
    json = JSON.stringify(msg);
  } catch (e) {
    throw new FrameError(`message cannot be serialised: ${(e as Error).message}`, { cause: e });
  }
  if (typeof json !== "string") throw new FrameError("message cannot be serialised");
  // A JS string of n UTF-16 units never needs more than 3n UTF-8 bytes: check before measuring.
  if (json.length > MAX_FRAME) {
    throw new FrameError(`frame of at least ${json.length} bytes exceeds ${MAX_FRAME}`);
  }
  const body = ASCII_RE.test(json) ? json.length : encoder.encode(json).length;
  if (body > MAX_FRAME) throw new FrameError(`frame of ${body} bytes exceeds ${MAX_FRAME}`);
  return { json, bytes: FRAME_HEADER + body };
}

/** Encodes `msg` as one frame; throws `FrameError` if it cannot be serialised or exceeds `MAX_FRAME`. */
export function encodeFrame(msg: object): Uint8Array<ArrayBuffer> {
  return textToFrame(encodeFrameText(msg));
}

/** The bytes of a frame given as text (`encodeFrameText`): the length prefix, then the UTF-8 body. */
export function textToFrame(f: TextFrame): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(f.bytes);
  const n = f.bytes - FRAME_HEADER;
  encoder.encodeInto(f.json, out.subarray(FRAME_HEADER));
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = n & 0xff;
  return out;
}

/** One decoder for every frame: a fatal decoder keeps no state between whole inputs. */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Parses one frame body (without its length prefix) into a typed JSON object, or throws `FrameError`. */
export function decodeFrameBody(body: Uint8Array): FrameObject {
  let text: string;
  try {
    text = decoder.decode(body);
  } catch (e) {
    throw new FrameError("frame is not valid UTF-8", { cause: e });
  }
  return decodeFrameText(text);
}

/** Parses a frame body given as text into a typed JSON object, or throws `FrameError`. */
export function decodeFrameText(text: string): FrameObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Also catches a RangeError from absurdly deep nesting: nothing but FrameError may escape.
    throw new FrameError(`frame is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameError("frame is not a JSON object");
  }
  if (typeof (value as { type?: unknown }).type !== "string") {
    throw new FrameError('frame has no string "type"');
  }
  return value as FrameObject;
}

/**
 * Incremental frame decoder. `push` bytes split anywhere, then call `next` until it returns
 * `undefined`; or use `decode`, which does both. Once it has thrown, the stream is out of sync and
 * every later call throws the same error.
 */
export class FrameDecoder {
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  /** Body length announced by the pending header, or -1 when no header has been read yet. */
  #want = -1;
  #failed: FrameError | undefined;
  #lastFrameBytes = 0;

  /** Size of the last frame `next()` returned, length prefix included (for the traffic counters). */
  get lastFrameBytes(): number {
    return this.#lastFrameBytes;
  }

  /** Bytes buffered but not yet returned as frames. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Appends bytes; throws `FrameError` at once if a complete length prefix is over `MAX_FRAME`. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    let off = 0;
    if (this.#want < 0 && this.buffered < FRAME_HEADER) {
      // Complete and check the length prefix before copying any body bytes.
      off = Math.min(FRAME_HEADER - this.buffered, chunk.length);
      this.#append(chunk.subarray(0, off));
      this.#readHeader();
    }
    if (off < chunk.length) this.#append(chunk.subarray(off));
  }

  /** The next complete frame, or `undefined` when more bytes are needed; throws `FrameError`. */
  next(): FrameObject | undefined {
    if (this.#failed) throw this.#failed;
    this.#readHeader();
    if (this.#want < 0 || this.buffered < this.#want) return undefined;
    const body = this.#buf.subarray(this.#start, this.#start + this.#want);
    this.#lastFrameBytes = FRAME_HEADER + this.#want;
    this.#start += this.#want;
    this.#want = -1;
    // `body` stays a valid view: both branches only move indices or swap in a new buffer.
    if (this.buffered === 0) {
      if (this.#buf.length > SHRINK_ABOVE) this.#release();
      else this.#start = this.#end = 0;
    }
    try {
      return decodeFrameBody(body);
    } catch (e) {
      this.#failed = e instanceof FrameError ? e : new FrameError(String(e), { cause: e });
      throw this.#failed;
    }
  }

  /** Pushes `chunk` and yields every frame it completes, in order. */
  *decode(chunk: Uint8Array): Generator<FrameObject, void, undefined> {
    this.push(chunk);
    for (let f = this.next(); f !== undefined; f = this.next()) yield f;
  }

  #readHeader(): void {
    if (this.#want >= 0 || this.buffered < FRAME_HEADER) return;
    const b = this.#buf, s = this.#start;
    const len = ((b[s] << 24) >>> 0) + (b[s + 1] << 16) + (b[s + 2] << 8) + b[s + 3];
    if (len > MAX_FRAME) {
      this.#failed = new FrameError(`frame length ${len} exceeds ${MAX_FRAME}`);
      this.#release();
      throw this.#failed;
    }
    this.#start += FRAME_HEADER;
    this.#want = len;
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Makes room for `extra` more bytes, compacting before growing so the buffer stays near one frame. */
  #reserve(extra: number): void {
    const live = this.buffered;
    if (this.#end + extra <= this.#buf.length) return;
    if (live + extra <= this.#buf.length && this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      // At least the size an idle decoder keeps (`SHRINK_ABOVE`), at most twice the largest frame.
      const grown = new Uint8Array(
        Math.max(live + extra, Math.min(this.#buf.length * 2, 2 * MAX_FRAME), SHRINK_ABOVE),
      );
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = live;
  }

  #release(): void {
    this.#buf = new Uint8Array(0);
    this.#start = this.#end = 0;
  }
}
