/**
 * A snapshot of the block index: every row of the `blocks` table but the bodies, packed in one blob in rowid
 * order, with each row's parent as a position and the order start-up reads them in (height, then rowid).
 * Reading the index row by row cost 30-60 ms of a node's start with 10,000 blocks (a call, an array and a
 * header's hex per row); the snapshot is one blob and its columns. It is a cache of what the table holds,
 * never the only copy: the store checks it against the table at each open (the same hashes in the same rowid
 * order, by one query that also reads the statuses, which change) and reads the rows stored after it from
 * the table; a snapshot that does not match is not used.
 *
 * Layout (little-endian): magic, version, count n, 0 (four u32), then n rowids (f64), n heights (i32),
 * n parent positions (i32, -1: none in the snapshot), the load order (n positions, i32), the n hashes (64 hex
 * characters each), the n cumulative works (64 hex characters each, zero-padded) and the n headers (80 bytes).
 * @module
 */

/** "PCIX": the first four bytes of a snapshot. */
export const SNAPSHOT_MAGIC = 0x50434958;
/** The layout this code writes and reads. */
export const SNAPSHOT_VERSION = 1;
const PREFIX = 16;
const HASH_CHARS = 64;
/** Characters of a cumulative work in a snapshot (hex of 256 bits, zero-padded). */
export const WORK_CHARS = 64;
const HEADER_BYTES = 80;
/** Bytes a row takes: rowid, height, parent, its place in the load order, hash, work, header. */
const ROW_BYTES = 8 + 4 + 4 + 4 + HASH_CHARS + WORK_CHARS + HEADER_BYTES;

/** One row of a snapshot. */
export interface SnapshotRow {
  /** The row's rowid in `blocks`. */
  rowid: number;
  /** Block hash, display order. */
  hash: string;
  /** Height in its chain. */
  height: number;
  /** The 80 header bytes. */
  header: Uint8Array;
  /** Cumulative work, hex (as the table keeps it). */
  work: string;
  /** Position of its parent in the snapshot, -1 when none. */
  parent: number;
}

/** A snapshot read back: columns, a row at each position. */
export interface IndexSnapshot {
  /** Rows. */
  count: number;
  /** Every hash, concatenated in rowid order (what the store compares with the table). */
  hashes: string;
  /** The rowids. */
  rowids: Float64Array;
  /** The heights. */
  heights: Int32Array;
  /** The parents' positions (-1: none). */
  parents: Int32Array;
  /** Positions in the order start-up reads them: height, then rowid. */
  order: Int32Array;
  /** Every work, concatenated (`WORK_CHARS` each). */
  works: string;
  /** Every header, concatenated (80 bytes each). */
  headers: Uint8Array;
}

/** Packs `rows` (in rowid order; parents are positions in it) into a snapshot. */
export function packIndex(rows: readonly SnapshotRow[]): Uint8Array<ArrayBuffer> {
  const n = rows.length;
  const out = new Uint8Array(PREFIX + n * ROW_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC, true);
  view.setUint32(4, SNAPSHOT_VERSION, true);
  view.setUint32(8, n, true);
  const at = offsets(n);
  const ascii = new TextEncoder();
  rows.forEach((r, i) => {
    if (r.hash.length !== HASH_CHARS || r.header.length !== HEADER_BYTES || r.work.length > WORK_CHARS) {
      throw new RangeError(`index row ${r.hash} does not fit a snapshot`);
    }
    view.setFloat64(at.rowids + 8 * i, r.rowid, true);
    view.setInt32(at.heights + 4 * i, r.height, true);
    view.setInt32(at.parents + 4 * i, r.parent, true);
    ascii.encodeInto(r.hash, out.subarray(at.hashes + HASH_CHARS * i));
    ascii.encodeInto(r.work.padStart(WORK_CHARS, "0"), out.subarray(at.works + WORK_CHARS * i));
    out.set(r.header, at.headers + HEADER_BYTES * i);
  });
  const order = rows.map((_, i) => i).sort((a, b) =>
    rows[a].height - rows[b].height || rows[a].rowid - rows[b].rowid
  );
  order.forEach((position, k) => view.setInt32(at.order + 4 * k, position, true));
  return out;
}

/** Reads a snapshot; undefined when `bytes` is not one this code wrote (another version, cut short). */
export function unpackIndex(bytes: Uint8Array): IndexSnapshot | undefined {
  if (bytes.length < PREFIX) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SNAPSHOT_MAGIC || view.getUint32(4, true) !== SNAPSHOT_VERSION) {
    return undefined;
  }
  const n = view.getUint32(8, true);
  if (bytes.length !== PREFIX + n * ROW_BYTES) return undefined;
  const at = offsets(n);
  // Copies into aligned arrays (the blob's offset need not be a multiple of 8).
  const copy = (from: number, len: number) => bytes.slice(from, from + len).buffer;
  const text = new TextDecoder();
  return {
    count: n,
    rowids: new Float64Array(copy(at.rowids, 8 * n)),
    heights: new Int32Array(copy(at.heights, 4 * n)),
    parents: new Int32Array(copy(at.parents, 4 * n)),
    order: new Int32Array(copy(at.order, 4 * n)),
    works: text.decode(bytes.subarray(at.works, at.works + WORK_CHARS * n)),
    hashes: text.decode(bytes.subarray(at.hashes, at.hashes + HASH_CHARS * n)),
    headers: bytes.subarray(at.headers, at.headers + HEADER_BYTES * n),
  };
}

/** The hash at position `i`. */
export function hashAt(s: IndexSnapshot, i: number): string {
  return s.hashes.slice(HASH_CHARS * i, HASH_CHARS * (i + 1));
}

/** The cumulative work at position `i`. */
export function workAt(s: IndexSnapshot, i: number): bigint {
  return BigInt("0x" + s.works.slice(WORK_CHARS * i, WORK_CHARS * (i + 1)));
}

/** The header at position `i` (a view into the snapshot). */
export function headerAt(s: IndexSnapshot, i: number): Uint8Array {
  return s.headers.subarray(HEADER_BYTES * i, HEADER_BYTES * (i + 1));
}

function offsets(n: number) {
  const rowids = PREFIX;
  const heights = rowids + 8 * n;
  const parents = heights + 4 * n;
  const order = parents + 4 * n;
  const hashes = order + 4 * n;
  const works = hashes + HASH_CHARS * n;
  const headers = works + WORK_CHARS * n;
  return { rowids, heights, parents, order, hashes, works, headers };
}
