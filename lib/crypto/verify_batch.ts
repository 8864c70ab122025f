/**
 * The wire format between the verifier pool and its workers: a batch of signature checks packed into one
 * buffer (transferred, not copied), and the verdicts coming back as one byte per check.
 * Layout per item: public key length (u8), signature length (u8), message length (u32 LE), then the bytes.
 * @module
 */
import type { VerifyItem } from "./verify_queue.ts";

/** A batch on its way to a worker. */
export interface VerifyBatch {
  /** The pool's number for the batch, echoed in the answer. */
  id: number;
  /** The packed items (`packBatch`). */
  data: ArrayBuffer;
}

/** A worker's answer: one byte per item, 1 for a valid signature. */
export interface VerifyVerdicts {
  /** The batch's number. */
  id: number;
  /** The verdicts, in the batch's order. */
  ok: ArrayBuffer;
}

const ITEM_HEADER = 6;

/** Packs items whose public key and signature are under 256 bytes (callers refuse longer ones first). */
export function packBatch(items: readonly VerifyItem[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const i of items) size += ITEM_HEADER + i.publicKey.length + i.signature.length + i.message.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const i of items) {
    out[at] = i.publicKey.length;
    out[at + 1] = i.signature.length;
    view.setUint32(at + 2, i.message.length, true);
    at += ITEM_HEADER;
    for (const part of [i.publicKey, i.signature, i.message]) {
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

/** The items of a packed batch (views into `data`, no copies). */
export function unpackBatch(data: Uint8Array<ArrayBuffer>): VerifyItem[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const items: VerifyItem[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + ITEM_HEADER > data.length) throw new RangeError("truncated verify batch");
    const pk = data[at], sig = data[at + 1], msg = view.getUint32(at + 2, true);
    at += ITEM_HEADER;
    if (at + pk + sig + msg > data.length) throw new RangeError("truncated verify batch");
    const take = (n: number) => data.subarray(at, at += n);
    items.push({ publicKey: take(pk), signature: take(sig), message: take(msg) });
  }
  return items;
}
