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

/**
 * What became of a compact block the ledger was asked to rebuild (`LedgerPort.rebuildCompact`): the network
 * acts on it without reading the block itself.
 */
export type CompactOutcome =
  /** The bytes are no compact block: the sender is scored. */
  | { kind: "malformed"; reason: string }
  /** The block is known already. */
  | { kind: "known"; id: string }
  /** Its header is refused (work, time, known invalid): judged like a refused block. */
  | { kind: "refused"; id: string; verdict: Verdict }
  /** Its parent is unknown: download blocks from the sender, as for an orphan block. */
  | { kind: "orphan"; id: string }
  /** Every transaction was found and the merkle root matches: the block's canonical bytes. */
  | { kind: "rebuilt"; id: string; block: Uint8Array }
  /** These positions (1 = first after the coinbase) are not held: ask the sender for them. */
  | { kind: "missing"; id: string; missing: number[] }
  /** It does not rebuild (a short-id collision, duplicate ids, wrong transactions): ask for the full block. */
  | { kind: "failed"; id: string; reason: string };

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
  /**
   * The id of a block (the hash of its first 80 bytes, its header) or of a transaction, from its bytes;
   * undefined when they do not decode as one. The network names what it holds or waits for this way.
   */
  idOf(kind: "block" | "tx", bytes: Uint8Array): string | undefined;
  /**
   * The compact form of a block's bytes under `nonce` (a u64 the sender draws at random): header, coinbase and
   * a short id per other transaction. Undefined when the block does not decode; absent when the ledger
   * relays full blocks only.
   */
  compactBlock?(block: Uint8Array, nonce: bigint): Uint8Array | undefined;
  /**
   * Rebuilds a compact block from the mempool, with `fill` the transactions a `blocktxn` brought for the
   * positions it names; never throws. A rebuilt block is then given to `receiveBlock` like any other, whose
   * check skips the signatures the mempool already verified.
   */
  rebuildCompact?(
    compact: Uint8Array,
    fill?: { positions: readonly number[]; txs: readonly Uint8Array[] },
  ): CompactOutcome;
  /**
   * The transactions of a stored block at `positions` (0 is the coinbase), canonical bytes each, for a peer
   * that rebuilds it from our compact form; undefined when the block is unknown or a position is not in it.
   */
  blockTransactions?(hash: string, positions: readonly number[]): Uint8Array[] | undefined;
  /** Ids of unconfirmed transactions, re-announced after every (re)connection. */
  pendingTxids(): string[];
  /** A peer's `hello` announced a tip at this height: unverified, for showing sync progress only. */
  peerTip?(height: number): void;
}
