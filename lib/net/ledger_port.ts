/**
 * What the network needs from the ledger, and nothing more: the network asks, the ledger decides.
 * The node implements this over its chain and mempool (its `lib/verdict.ts` turns the ledger's errors into
 * verdicts).
 * @module
 */

/** The ledger's answer about a received block or transaction. */
export type Verdict =
  /** A block now on the best chain, or a transaction now in the mempool: relay it. */
  | { kind: "accepted"; id: string }
  | { kind: "known"; id: string }
  /** A valid block stored off the best chain: never relayed. */
  | { kind: "side"; id: string }
  /** Waits for a missing parent: ask for blocks (a block), or nothing (a transaction). */
  | { kind: "orphan"; id: string }
  | { kind: "rejected"; id?: string; code: string; reason: string; score: number };

/** The tip as the network reports it. */
export interface TipInfo {
  /** Tip hash, display order. */
  hash: string;
  /** Tip height. */
  height: number;
  /** Cumulative work of the active chain. */
  work: bigint;
}

/** The ledger as the network sees it. */
export interface LedgerPort {
  /** The network this ledger follows. */
  readonly network: "main" | "regtest";
  /** Genesis hash, display order. */
  readonly genesis: string;
  /** This node's wallet address, shown to peers. */
  readonly walletAddress: string;
  /** The active chain's tip. */
  tip(): TipInfo;
  /** Block locator of the active chain. */
  locator(): string[];
  /** Active-chain hashes after the locator's fork point. */
  hashesAfter(locator: string[], max: number): string[];
  /** A stored block's canonical bytes. */
  blockBytes(hash: string): Uint8Array | undefined;
  /** A mempool transaction's canonical bytes. */
  txBytes(id: string): Uint8Array | undefined;
  /** True when the block or transaction is known. */
  has(kind: "block" | "tx", id: string): boolean;
  /**
   * Decodes and validates a block; never throws. `from` is the sending node's id, for logs and measurements.
   * `requested` is true for a block this node asked for (a `blocks` reply to its `getblocks`): one pushed
   * unasked is refused, and not stored, unless its chain has at least the tip's work.
   */
  receiveBlock(bytes: Uint8Array, from?: string, requested?: boolean): Promise<Verdict>;
  /** Decodes and validates a transaction; never throws. `from` is the sending node's id. */
  receiveTx(bytes: Uint8Array, from?: string): Promise<Verdict>;
  /** Ids of unconfirmed transactions, re-announced after every (re)connection. */
  pendingTxids(): string[];
  /** A peer's `hello` announced a tip at this height: unverified, for showing sync progress only. */
  peerTip?(height: number): void;
}
