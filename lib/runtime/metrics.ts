/**
 * Process-wide counters for the operator's `/metrics` (lib/explorer/metrics.ts): bytes and messages in and out
 * by message type, and what became of the blocks and transactions peers sent (by verdict, refusals by reason).
 * The hooks that feed them are one call each (lib/net/connection.ts, lib/node.ts); they cost a map update.
 * Every counter set is bounded in keys: a key past the bound is counted as "other", so no peer can grow them.
 * Like the signature-check queue, they are shared by every node in one process (tests run several).
 * @module
 */

/** Distinct keys one counter set keeps at most; more are counted under `OTHER`. */
export const MAX_COUNTER_KEYS = 64;
/** The key for everything past `MAX_COUNTER_KEYS`. */
export const OTHER = "other";

/** Counts by key, bounded in keys. */
export class Counters {
  #counts = new Map<string, number>();

  /** A set of at most `maxKeys` keys (one more for `OTHER`). */
  constructor(readonly maxKeys: number = MAX_COUNTER_KEYS) {}

  /** Adds `n` to `key` (to `OTHER` when the set is full and `key` is new). */
  add(key: string, n = 1): void {
    const k = this.#counts.has(key) || this.#counts.size < this.maxKeys ? key : OTHER;
    this.#counts.set(k, (this.#counts.get(k) ?? 0) + n);
  }

  /** Every key and its count. */
  entries(): [string, number][] {
    return [...this.#counts];
  }

  /** The count of `key` (0 when never counted). */
  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}

/** Overlay traffic of this process, whole frames only, by message type. */
export const traffic = {
  /** Bytes of frames sent (length prefix included). */
  sentBytes: new Counters(),
  /** Frames sent. */
  sentMessages: new Counters(),
  /** Bytes of frames received that parsed as a known message. */
  receivedBytes: new Counters(),
  /** Frames received that parsed as a known message. */
  receivedMessages: new Counters(),
};

/** Counts one frame of `bytes` bytes of message `type`, sent or received. */
export function countFrame(direction: "sent" | "received", type: string, bytes: number): void {
  if (direction === "sent") {
    traffic.sentBytes.add(type, bytes);
    traffic.sentMessages.add(type);
  } else {
    traffic.receivedBytes.add(type, bytes);
    traffic.receivedMessages.add(type);
  }
}

/** What became of the blocks and transactions peers sent. */
export const verdicts = {
  /** Blocks by verdict kind ("accepted", "known", "side", "orphan", "rejected"). */
  blocks: new Counters(),
  /** Refused blocks by the rule's code. */
  blocksRefused: new Counters(),
  /** Transactions by verdict kind. */
  txs: new Counters(),
  /** Refused transactions by the rule's code. */
  txsRefused: new Counters(),
};

/**
 * Counts `v` (the ledger's verdict on a block or a transaction a peer sent: its kind, and the rule's code when
 * refused) and returns it. Typed by shape, so this floor needs nothing from lib/net, which sits above it.
 */
export function countVerdict<V extends { kind: string; code?: string }>(kind: "block" | "tx", v: V): V {
  (kind === "block" ? verdicts.blocks : verdicts.txs).add(v.kind);
  if (v.kind === "rejected" && v.code !== undefined) {
    (kind === "block" ? verdicts.blocksRefused : verdicts.txsRefused).add(v.code);
  }
  return v;
}
