/**
 * The chain: the tree of known blocks with cumulative work, the active (most-work) chain, the UTXO set,
 * block connection with full validation, reorgs with undo data, and a bounded pool of orphan blocks.
 * It knows nothing of sockets: callers hand it blocks, say whether they asked for them, and read what happened.
 *
 * What it stores is bounded by work, as in Bitcoin Core's AcceptBlock: a block nobody asked for is stored only
 * if its chain has at least the tip's work, and a block off the best chain (an orphan, or a requested block of
 * a lighter branch) must carry work near the current difficulty. Header checks run before the body is read.
 * @module
 */
import type { NetworkParams } from "../consensus/params.ts";
import { blockSubsidy } from "../consensus/params.ts";
import { blockWork, checkProofOfWork } from "../consensus/pow.ts";
import {
  MAX_ORPHAN_BLOCK_BYTES,
  MAX_ORPHAN_BLOCKS,
  NEAR_DIFFICULTY_FACTOR,
  STALE_BLOCK_DEPTH,
} from "../consensus/policy.ts";
import { type Block, decodeBlock, encodeBlock } from "../primitives/block.ts";
import { blockHashSync, type BlockHeader, encodeHeader } from "../primitives/header.ts";
import { type OutPoint, outpointKey, type Transaction, txid, wtxid } from "../primitives/transaction.ts";
import type { BlockChange, CoinEntry, IndexRow, Store } from "../store/store.ts";
import { StoreError } from "../store/store.ts";
import {
  type BlockIds,
  checkBlock,
  checkHeaderContext,
  checkTxContext,
  type IndexedHeader,
  minChildTime,
  nextBits,
} from "./block_rules.ts";
import type { Coin, CoinView, OwnedCoin } from "./coins.ts";
import { ensure, NO_BLAME, ValidationError } from "./errors.ts";
import { checkBlockSignatures, checkInputs, signatureKey } from "./tx_rules.ts";
import { decodeUndo, encodeUndo } from "./undo.ts";
import { prevHashOf, StoredEntry } from "./stored_entry.ts";
import { SerialQueue } from "../runtime/serial_queue.ts";
import { CoinSet } from "./coin_set.ts";
import type { VerifyQueue } from "../crypto/verify_queue.ts";

/** Status flags of a stored block. */
export const BlockStatus = { VALID: 1, FAILED: 2 } as const;

/** A block in the tree. */
export interface BlockEntry extends IndexedHeader {
  /** Block hash, display order. */
  hash: string;
  /** The previous block's entry (none for genesis). */
  parent?: BlockEntry;
  /** Cumulative work up to and including this block. */
  chainWork: bigint;
  /** `BlockStatus` flags. */
  status: number;
  /** Arrival order: ties in work go to the block seen first. */
  seq: number;
}

/** A block that joined or left the active chain, with what the chain already knows of it. */
export interface ChangedBlock {
  /** Its hash, display order. */
  hash: string;
  /** Its height. */
  height: number;
  /** The block. */
  block: Block;
  /** Its transactions' ids, in block order (hashed once by the chain: callers need not hash them again). */
  txids: string[];
}

/** What a call changed on the active chain: blocks disconnected (tip first), then blocks connected (in order). */
export interface ChainUpdate {
  /** Blocks taken off the active chain, tip first. */
  disconnected: ChangedBlock[];
  /** Blocks added to the active chain, in order. */
  connected: ChangedBlock[];
}

/** The outcome of `processBlock`. */
export type ProcessResult =
  | { status: "connected" | "side"; hash: string; height: number; update: ChainUpdate }
  | { status: "orphan"; hash: string; missingParent: string; update: ChainUpdate };

/** Options of `Chain.open`. */
export interface ChainOptions {
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
  /** Orphan blocks kept at most (default `MAX_ORPHAN_BLOCKS`). */
  maxOrphans?: number;
  /** Their encoded bytes at most (default `MAX_ORPHAN_BLOCK_BYTES`). */
  maxOrphanBytes?: number;
  /**
   * The queue a block's signature checks go through (default: the process-wide `verifyQueue`, in this
   * thread); a node passes one over its `VerifyPool` to check them on every core.
   */
  verifier?: VerifyQueue;
  /**
   * True to leave the UTXO set on disk at opening: `loadCoins` then reads it into memory in the background,
   * and meanwhile the store answers for it (the same answers). By default `open` reads it all.
   */
  coinsInBackground?: boolean;
  /**
   * True to commit connected blocks to the store behind their connection (write-behind, as Bitcoin Core's
   * coins cache flushes behind it): a block is fully validated and connected in memory, its caller may relay
   * it at once, and the store gets it with the blocks after it in one transaction (`flush`), at most
   * `FLUSH_AFTER_MS` later or once `MAX_UNFLUSHED_BLOCKS` / `MAX_UNFLUSHED_BYTES` wait. A crash loses at most
   * those blocks, never a half of one: the store reopens at the last committed tip and the node fetches them
   * again from its peers. Off by default: every block is committed before `processBlock` returns.
   */
  writeBehind?: boolean;
  /** With `writeBehind`: told when a timed commit failed (the blocks stay waiting and the next one retries). */
  onFlushError?: (error: unknown) => void;
}

/** How often connecting a block found a transaction's signatures already checked (`Chain.sigCacheStats`). */
export interface SigCacheStats {
  /** Transactions whose signatures were looked up in the cache while connecting blocks. */
  lookups: number;
  /** Those found there (verified before, usually on entering the mempool). */
  hits: number;
}

/** How `processBlock` treats a block. */
export interface ProcessOptions {
  /**
   * False for a block a peer pushed without being asked: it is refused, and not stored, unless its chain has
   * at least the tip's work. True (the default) for blocks this node asked for, mined, or loads itself.
   */
  requested?: boolean;
  /**
   * The txids and wtxids of these very transaction objects, when the caller hashed them already (a block
   * rebuilt from the mempool, whose entries carry them): the checks then hash nothing. Only ids computed from
   * the same objects: the merkle root is checked over them.
   */
  knownIds?: BlockIds;
}

/** A block waiting for its parent: kept as bytes (decoded again when the parent comes). */
interface Orphan {
  prevHash: string;
  bytes: Uint8Array;
}

/** Fork choice: more work wins; equal work goes to the block seen first (Bitcoin keeps the first seen). */
function beats(a: BlockEntry, b: BlockEntry): boolean {
  return a.chainWork > b.chainWork || (a.chainWork === b.chainWork && a.seq < b.seq);
}

/** What a `processBlock` or `resume` that threw had already changed on the active chain, keyed by its error. */
const partialUpdates = new WeakMap<object, ChainUpdate>();

/**
 * What a `processBlock` or `resume` that threw had already changed on the active chain (a store write that
 * failed half-way through a reorg leaves the blocks it did disconnect and connect): the caller must follow it
 * as it follows a result's `update` (the mempool above all). Undefined when the call changed nothing.
 * @example Follow a failed call's changes
 * ```ts ignore
 * try {
 *   await mempool.chainUpdated((await chain.processBlock(block)).update);
 * } catch (e) {
 *   const update = partialUpdate(e);
 *   if (update) await mempool.chainUpdated(update);
 *   throw e;
 * }
 * ```
 */
export function partialUpdate(error: unknown): ChainUpdate | undefined {
  return typeof error === "object" && error !== null ? partialUpdates.get(error) : undefined;
}

const SIG_CACHE_MAX = 100_000;
/** With `writeBehind`, connected blocks reach the store at most this long (ms) after the first of them. */
export const FLUSH_AFTER_MS = 250;
/**
 * With `writeBehind`, connected blocks waiting for their commit, at most: the next block to connect commits
 * them first. A commit of this many full blocks holds the thread about as long as one block's checks do not.
 */
export const MAX_UNFLUSHED_BLOCKS = 16;
/** Their encoded bytes (block and undo data) at most, likewise. */
export const MAX_UNFLUSHED_BYTES = 8_000_000;
const ignore = () => {};
/** Hashes marked invalid kept at most; past that the set starts over. */
const MAX_INVALID = 10_000;

/**
 * The block chain of one network over one store. Open with `Chain.open`.
 * @example Mine a regtest block and connect it
 * ```ts
 * import { Chain, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate, solveSync } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const block = solveSync(createTemplate(chain, undefined, "00".repeat(20)).block);
 * const result = await chain.processBlock(block);
 * assert.equal(result.status, "connected");
 * assert.equal(chain.height, 1);
 * assert.equal(chain.tip.hash, result.hash);
 * ```
 */
export class Chain {
  /** The network's parameters. */
  readonly params: NetworkParams;
  #store: Store;
  #index = new Map<string, BlockEntry>();
  #active: BlockEntry[] = [];
  #coins: CoinSet;
  #orphans = new Map<string, Orphan>();
  #orphanBytes = 0;
  #maxOrphans: number;
  #maxOrphanBytes: number;
  #invalid = new Set<string>();
  /** The txids `checkBlock` computed for a block, carried to its connection instead of hashed again. */
  #txids = new WeakMap<Block, string[]>();
  /** Its wtxids likewise, for the compact form the block is relayed in. */
  #wtxids = new WeakMap<Block, string[]>();
  #sigCache = new Set<string>();
  #sigStats: SigCacheStats = { lookups: 0, hits: 0 };
  #verifier: VerifyQueue | undefined;
  #seq = 0;
  /** Blocks accepted but not yet written: `#connect` writes them with their effects, in one transaction. */
  #unstored = new Map<string, { block: Block; row: IndexRow; data: Uint8Array }>();
  /**
   * A store write failed during an activation: a stored block may now beat the tip (the tip may even have lost
   * work), so the next activation aims at the best valid block, not only at the new one.
   */
  #activationFailed = false;
  #writeBehind: boolean;
  #onFlushError: (error: unknown) => void;
  /** Connected blocks' store changes not yet committed (`writeBehind`), in order, and their blocks' bytes. */
  #unflushed: BlockChange[] = [];
  #unflushedBlocks = new Map<string, { block: Block; data: Uint8Array }>();
  #unflushedBytes = 0;
  #flushTimer?: ReturnType<typeof setTimeout>;
  /** `processBlock` and `resume` run one at a time. */
  #queue = new SerialQueue();
  #now: () => number;

  private constructor(store: Store, params: NetworkParams, opts: ChainOptions) {
    this.#store = store;
    this.params = params;
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.#maxOrphans = opts.maxOrphans ?? MAX_ORPHAN_BLOCKS;
    this.#maxOrphanBytes = opts.maxOrphanBytes ?? MAX_ORPHAN_BLOCK_BYTES;
    this.#verifier = opts.verifier;
    this.#coins = new CoinSet(store);
    this.#writeBehind = opts.writeBehind ?? false;
    this.#onFlushError = opts.onFlushError ?? ignore;
  }

  /**
   * Loads the chain from `store`, writing the network's genesis block into an empty one. Start-up reads the
   * index and the UTXO set; it re-validates and re-hashes nothing.
   * @example A new store starts at the genesis block
   * ```ts
   * import { Chain, NETWORKS, openStore } from "@peerchain/peerchain";
   * import assert from "node:assert/strict";
   *
   * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
   * assert.equal(chain.height, 0);
   * assert.equal(chain.tip.hash, NETWORKS.regtest.genesisHash);
   * ```
   */
  static open(store: Store, params: NetworkParams, opts: ChainOptions = {}): Chain {
    const chain = new Chain(store, params, opts);
    chain.#load(opts.coinsInBackground ?? false);
    return chain;
  }

  #load(coinsInBackground: boolean): void {
    const genesisHash = this.params.genesisHash;
    if (this.#store.getMeta("tip") === undefined) {
      const g = this.params.genesis;
      const header = encodeHeader(g.header);
      const row = {
        hash: genesisHash,
        height: 0,
        header,
        chainWork: blockWork(g.header.bits),
        status: BlockStatus.VALID,
      };
      this.#store.init(row, encodeBlock(g), this.params.name);
    }
    const network = this.#store.getMeta("network");
    if (network !== this.params.name) {
      throw new StoreError(
        `this store holds the ${network} chain, not ${this.params.name}: use another data directory`,
      );
    }
    for (const r of this.#store.loadIndex()) {
      // Headers are decoded when read (StoredEntry): the link to the parent needs only its hash.
      const parent = r.height > 0 ? this.#index.get(r.prevHash ?? prevHashOf(r.header)) : undefined;
      if (r.height > 0 && !parent) continue; // unreachable row: ignore rather than refuse to start
      const entry = new StoredEntry(r.hash, r.height, r.header, parent, r.chainWork, r.status, this.#seq++);
      this.#index.set(r.hash, entry);
    }
    const tip = this.#index.get(this.#store.getMeta("tip")!);
    if (!tip || !this.#index.has(genesisHash)) {
      throw new StoreError("the store's tip or genesis block is missing");
    }
    for (let e: BlockEntry | undefined = tip; e; e = e.parent) this.#active[e.height] = e;
    if (!coinsInBackground) this.#coins.loadAll();
  }

  /**
   * Saves a snapshot of the block index in the store, which the next `open` reads instead of every row (see
   * lib/store/index_snapshot.ts). Only a cache: a snapshot the store no longer matches is not used.
   */
  saveIndexSnapshot(): void {
    this.#store.saveIndexSnapshot(prevHashOf);
  }

  /**
   * Reads the UTXO set into memory a page per turn of the event loop (for a chain opened with
   * `coinsInBackground`; at once done otherwise). Stops early when `signal` aborts: the store keeps answering.
   */
  loadCoins(signal?: AbortSignal): Promise<void> {
    return this.#coins.loadInBackground(signal);
  }

  /** The last block of the active chain. */
  get tip(): BlockEntry {
    return this.#active[this.#active.length - 1];
  }

  /** Height of the tip. */
  get height(): number {
    return this.#active.length - 1;
  }

  /** The entry of a known block (active or not), or undefined. */
  entry(hash: string): BlockEntry | undefined {
    return this.#index.get(hash);
  }

  /** The active chain's entry at `height`, or undefined. */
  entryAt(height: number): BlockEntry | undefined {
    return this.#active[height];
  }

  /** True when the block is on the active chain. */
  isActive(entry: BlockEntry): boolean {
    return this.#active[entry.height] === entry;
  }

  /** True when the block is stored or waiting as an orphan. */
  has(hash: string): boolean {
    return this.#index.has(hash) || this.#orphans.has(hash);
  }

  /** A stored block, decoded, or undefined. */
  getBlock(hash: string): Block | undefined {
    const pending = this.#unstored.get(hash) ?? this.#unflushedBlocks.get(hash);
    if (pending) return pending.block;
    const bytes = this.#store.getBlock(hash);
    return bytes && decodeBlock(bytes);
  }

  /** The active chain's blocks at heights `from` to `to` (within the chain), decoded, a few per store query. */
  *activeBlocks(from: number, to: number): IterableIterator<{ height: number; block: Block }> {
    this.flush(); // what the store lacks: one commit, then one read path
    for (
      const [height, hash, bytes] of this.#store.blocksBetween(Math.max(from, 0), Math.min(to, this.height))
    ) {
      if (this.#active[height]?.hash === hash) yield { height, block: decodeBlock(bytes) };
    }
  }

  /** A stored block's canonical bytes, for relaying without re-encoding. */
  getBlockBytes(hash: string): Uint8Array | undefined {
    return this.#unstored.get(hash)?.data ?? this.#unflushedBlocks.get(hash)?.data ??
      this.#store.getBlock(hash);
  }

  /** The unspent output at `outpoint` on the active chain. */
  getCoin(outpoint: OutPoint): Coin | undefined {
    return this.#coins.get(outpointKey(outpoint));
  }

  /** Number of unspent outputs. */
  get coinCount(): number {
    return this.#coins.size;
  }

  /** Every unspent output (for consistency checks and tools). */
  *coins(): IterableIterator<CoinEntry> {
    yield* this.#coins.entries();
  }

  /** Unspent outputs paying any of `pubKeyHashes`. */
  coinsOf(pubKeyHashes: ReadonlySet<string>): OwnedCoin[] {
    const out: OwnedCoin[] = [];
    for (const [key, coin] of this.#coins.paying(pubKeyHashes)) {
      const [id, index] = key.split(":");
      out.push({ outpoint: { txid: id, index: Number(index) }, coin });
    }
    return out;
  }

  /** Number of orphan blocks waiting for their parent. */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** Their encoded bytes. */
  get orphanBytes(): number {
    return this.#orphanBytes;
  }

  /** What the next block on the tip must carry: height, parent, bits, and the earliest allowed time. */
  nextBlockContext(): { height: number; prevHash: string; bits: number; minTime: number } {
    const tip = this.tip;
    return {
      height: tip.height + 1,
      prevHash: tip.hash,
      bits: nextBits(tip, this.params),
      minTime: minChildTime(tip, this.params),
    };
  }

  /** A block locator: the tip, then hashes back at doubling steps, ending at genesis. */
  locator(): string[] {
    const out: string[] = [];
    let step = 1;
    for (let h = this.height; h > 0; h -= step) {
      out.push(this.#active[h].hash);
      if (out.length >= 10) step *= 2;
    }
    out.push(this.#active[0].hash);
    return out;
  }

  /** Hashes of the active chain after the first locator hash we have on it, at most `max`. */
  hashesAfter(locator: string[], max = 500): string[] {
    let start = 0;
    for (const hash of locator) {
      const e = this.#index.get(hash);
      if (e && this.isActive(e)) {
        start = e.height;
        break;
      }
    }
    return this.#active.slice(start + 1, start + 1 + max).map((e) => e.hash);
  }

  /**
   * Validates a block and, if it makes a chain with more work than the tip, reorganises onto it. Calls are
   * serialised. Throws `ValidationError` when the block is refused; its `score` says how much to blame the sender.
   * @example const r = await chain.processBlock(block); if (r.status === "orphan") askFor(r.missingParent);
   */
  processBlock(block: Block, bytes?: Uint8Array, opts: ProcessOptions = {}): Promise<ProcessResult> {
    return this.#queue.run(() => this.#process(block, bytes, opts.requested ?? true, opts.knownIds));
  }

  /**
   * The checks `processBlock` starts with, on the header alone: known, proof of work, parent, difficulty, time
   * and work. Throws the `ValidationError` `processBlock` would; returns "orphan" when the parent is unknown
   * (the header then carries work near the current difficulty). Lets a caller refuse a block, or keep an orphan
   * (`keepOrphan`), before decoding its body. The chain may move before `processBlock` runs: it checks again.
   */
  checkHeader(header: BlockHeader, opts: ProcessOptions = {}): "orphan" | "extends" {
    const hash = blockHashSync(header);
    const known = this.#index.get(hash);
    ensure(
      !this.#invalid.has(hash) && !(known && known.status & BlockStatus.FAILED),
      "duplicate-invalid",
      "known invalid",
    );
    ensure(!known && !this.#orphans.has(hash), "duplicate", "block already known", NO_BLAME);
    return this.#checkHeader(header, hash, opts.requested ?? true) ? "extends" : "orphan";
  }

  /**
   * Keeps a block whose parent is unknown as its bytes, unread: call right after `checkHeader` said "orphan".
   * Its body costs nothing until the parent comes; then it is decoded and checked like any other block (a
   * damaged one is dropped then). Bounded like every orphan, in count and bytes.
   */
  keepOrphan(header: BlockHeader, bytes: Uint8Array): void {
    const hash = blockHashSync(header);
    if (!this.#orphans.has(hash) && !this.#index.has(hash)) this.#addOrphan(hash, header.prevHash, bytes);
  }

  async #process(
    block: Block,
    bytes: Uint8Array | undefined,
    requested: boolean,
    knownIds?: BlockIds,
  ): Promise<ProcessResult> {
    const hash = blockHashSync(block.header);
    const known = this.#index.get(hash);
    ensure(
      !this.#invalid.has(hash) && !(known && known.status & BlockStatus.FAILED),
      "duplicate-invalid",
      "known invalid",
    );
    // Stored but never connected (a crash or a failed store write came between): connect the best chain now.
    if (known && !this.isActive(known) && (known.chainWork > this.tip.chainWork || this.#activationFailed)) {
      return await this.#resumeWith(known);
    }
    ensure(!known && !this.#orphans.has(hash), "duplicate", "block already known", NO_BLAME);
    // The header first: a block refused for its work or its time costs no look at its transactions.
    const parent = this.#checkHeader(block.header, hash, requested);
    this.#keepIds(block, checkBlock(block, hash, this.params, knownIds));
    const update: ChainUpdate = { disconnected: [], connected: [] };
    if (!parent) {
      this.#addOrphan(hash, block.header.prevHash, bytes ?? encodeBlock(block));
      return { status: "orphan", hash, missingParent: block.header.prevHash, update };
    }
    const entry = this.#accept(hash, block, parent, bytes);
    try {
      if (this.#activationFailed) await this.#retryBest(update);
      await this.#activateIfBetter(entry, update);
      await this.#adoptOrphans(hash, update);
    } catch (e) {
      throw this.#withPartialUpdate(e, update);
    } finally {
      this.#storeHeldBack();
    }
    const result = { hash, height: entry.height, update: this.#net(update) };
    return { status: this.isActive(entry) ? "connected" : "side", ...result };
  }

  /**
   * Header checks, cheapest first: proof of work; for an orphan (undefined is returned), work near the current
   * difficulty; else the parent's validity, difficulty, time and time-warp rules, and work: a block that would
   * not extend a chain with at least the tip's work is refused unless it was asked for, and must then still
   * carry work near the current difficulty.
   */
  #checkHeader(header: BlockHeader, hash: string, requested: boolean): BlockEntry | undefined {
    ensure(
      checkProofOfWork(hash, header.bits, this.params.powLimit),
      "high-hash",
      "proof of work does not meet bits",
    );
    const parent = this.#index.get(header.prevHash);
    if (!parent) {
      if (this.#invalid.has(header.prevHash)) {
        this.#markInvalid(hash);
        throw new ValidationError("bad-prevblk", "builds on an invalid block");
      }
      this.#checkNearDifficulty(header, "an orphan");
      return undefined;
    }
    if (parent.status & BlockStatus.FAILED) {
      this.#markInvalid(hash);
      throw new ValidationError("bad-prevblk", "builds on an invalid block");
    }
    try {
      checkHeaderContext(header, parent, this.params, this.#now());
    } catch (e) {
      if (e instanceof ValidationError && e.score > 0) this.#markInvalid(hash);
      throw e;
    }
    const tip = this.tip;
    if (parent.chainWork + blockWork(header.bits) < tip.chainWork) {
      // A lighter branch: one we did not ask for is not worth a byte of disk (Core's AcceptBlock). A block a
      // height or two behind lost a race honestly; one far behind the tip was sent to waste our resources.
      ensure(
        requested,
        "too-little-chainwork",
        () =>
          `unrequested block at height ${
            parent.height + 1
          } has less chain work than the tip at ${tip.height}`,
        parent.height + STALE_BLOCK_DEPTH <= tip.height ? 10 : NO_BLAME,
      );
      this.#checkNearDifficulty(header, "a block of a branch with less work");
    }
    return parent;
  }

  /** Refuses a block off the best chain whose own work is far below what the tip's next block needs. */
  #checkNearDifficulty(header: BlockHeader, what: string): void {
    const needed = blockWork(nextBits(this.tip, this.params));
    ensure(
      blockWork(header.bits) * NEAR_DIFFICULTY_FACTOR >= needed,
      "low-difficulty",
      () =>
        `${what} with bits ${
          header.bits.toString(16)
        } carries less than 1/${NEAR_DIFFICULTY_FACTOR} of the current difficulty`,
      10,
    );
  }

  /**
   * Connects the stored block with the most work if it beats the tip: a process killed between storing a
   * block and connecting it leaves such a block behind. Call once after opening.
   * @example await mempool.chainUpdated(await chain.resume());
   */
  resume(): Promise<ChainUpdate> {
    return this.#queue.run(async () => {
      const best = this.#bestValid();
      return best === this.tip ? { disconnected: [], connected: [] } : (await this.#resumeWith(best)).update;
    });
  }

  async #resumeWith(entry: BlockEntry): Promise<ProcessResult> {
    const update: ChainUpdate = { disconnected: [], connected: [] };
    try {
      if (this.#activationFailed) await this.#retryBest(update);
      await this.#activateIfBetter(entry, update);
    } catch (e) {
      throw this.#withPartialUpdate(e, update);
    }
    const status = this.isActive(entry) ? "connected" : "side";
    return { status, hash: entry.hash, height: entry.height, update: this.#net(update) };
  }

  /** Stores a block whose header passed `#checkHeader`, after checking its transactions against its height. */
  #accept(hash: string, block: Block, parent: BlockEntry, bytes?: Uint8Array): BlockEntry {
    try {
      checkTxContext(block, parent.height + 1);
    } catch (e) {
      if (e instanceof ValidationError && e.score > 0) this.#markInvalid(hash);
      throw e;
    }
    const entry: BlockEntry = {
      hash,
      height: parent.height + 1,
      header: block.header,
      parent,
      chainWork: parent.chainWork + blockWork(block.header.bits),
      status: 0,
      seq: this.#seq++,
    };
    const row = {
      hash,
      height: entry.height,
      header: encodeHeader(block.header),
      chainWork: entry.chainWork,
      status: 0,
    };
    const data = bytes ?? encodeBlock(block);
    // The usual case, a block on the tip with more work, is written in the same transaction that connects
    // it (one commit per block instead of two); anything else is stored now, and known only once stored.
    if (parent === this.tip) this.#unstored.set(hash, { block, row, data });
    else this.#store.putBlock(row, data);
    this.#index.set(hash, entry);
    return entry;
  }

  /** Stores what `#accept` held back and was not connected (its activation failed elsewhere, or threw). */
  #storeHeldBack(): void {
    let failure: unknown;
    for (const [hash, { row, data }] of this.#unstored) {
      const entry = this.#index.get(hash);
      if (!entry || entry.status & BlockStatus.FAILED) continue;
      try {
        this.#store.putBlock(row, data);
      } catch (e) {
        this.#index.delete(hash); // not on disk: not known either, so a peer's resend is taken afresh
        failure ??= e;
      }
    }
    this.#unstored.clear();
    if (failure) throw failure;
  }

  /** Marks `hash` invalid for its content: sent again, it is refused at once (`duplicate-invalid`). */
  #markInvalid(hash: string): void {
    if (this.#invalid.size > MAX_INVALID) this.#invalid.clear();
    this.#invalid.add(hash);
  }

  /** Keeps an orphan, dropping the oldest ones while the pool is over its count or bytes. */
  #addOrphan(hash: string, prevHash: string, bytes: Uint8Array): void {
    if (bytes.length > this.#maxOrphanBytes) return; // never fits: it pushes nothing out
    while (
      this.#orphans.size && (this.#orphans.size >= this.#maxOrphans ||
        this.#orphanBytes + bytes.length > this.#maxOrphanBytes)
    ) {
      this.#dropOrphan(this.#orphans.keys().next().value!);
    }
    this.#orphans.set(hash, { prevHash, bytes });
    this.#orphanBytes += bytes.length;
  }

  #dropOrphan(hash: string): void {
    const o = this.#orphans.get(hash);
    if (!o) return;
    this.#orphans.delete(hash);
    this.#orphanBytes -= o.bytes.length;
  }

  /** Connects the orphans that build on `parentHash`, and theirs in turn; invalid or too light ones are dropped. */
  async #adoptOrphans(parentHash: string, update: ChainUpdate): Promise<void> {
    const ready = [parentHash];
    while (ready.length) {
      const p = ready.pop()!;
      for (const [hash, orphan] of this.#orphans) {
        if (orphan.prevHash !== p) continue;
        this.#dropOrphan(hash);
        let block: Block;
        try {
          block = decodeBlock(orphan.bytes);
        } catch {
          continue; // kept unread, and not a block after all: dropped
        }
        try {
          // Pushed unasked (or it would not have been an orphan): it must now build a chain worth the tip's.
          const parent = this.#checkHeader(block.header, hash, false)!;
          this.#keepIds(block, checkBlock(block, hash, this.params));
          const entry = this.#accept(hash, block, parent, orphan.bytes);
          await this.#activateIfBetter(entry, update);
          ready.push(hash);
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e; // an invalid orphan is simply dropped
        }
      }
    }
  }

  /**
   * After a failed store write, moves to the best valid chain (the tip may have lost work, and a block seen
   * first may wait): a block of it that fails to connect now is marked failed, not blamed on the call's block.
   */
  async #retryBest(update: ChainUpdate): Promise<void> {
    this.#activationFailed = false;
    try {
      await this.#activateIfBetter(this.#bestValid(), update);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
    }
  }

  /** Moves the tip to the most-work valid chain if `candidate` beats it, throwing the candidate's refusal. */
  async #activateIfBetter(candidate: BlockEntry, update: ChainUpdate): Promise<void> {
    if (!beats(candidate, this.tip)) return;
    let target = candidate;
    let failure: ValidationError | undefined;
    while (target !== this.tip) {
      const fork = this.#fork(this.tip, target);
      // Disconnecting reads undo data from the store: what waits for its commit goes first.
      if (fork !== this.tip) this.flush();
      while (this.tip !== fork) update.disconnected.push(this.#disconnectTip());
      const path: BlockEntry[] = [];
      for (let e: BlockEntry = target; e !== fork; e = e.parent!) path.unshift(e);
      for (const e of path) {
        const block = this.getBlock(e.hash)!;
        try {
          const txids = await this.#connect(e, block);
          update.connected.push({ hash: e.hash, height: e.height, block, txids });
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          failure = err;
          this.#markFailed(e);
          break;
        }
      }
      if (!failure) return;
      target = this.#bestValid();
    }
    if (failure) throw failure;
  }

  #fork(a: BlockEntry, b: BlockEntry): BlockEntry {
    while (a.height > b.height) a = a.parent!;
    while (b.height > a.height) b = b.parent!;
    while (a !== b) {
      a = a.parent!;
      b = b.parent!;
    }
    return a;
  }

  #markFailed(bad: BlockEntry): void {
    for (const e of this.#index.values()) {
      if (e.height < bad.height || e.status & BlockStatus.FAILED) continue;
      let a: BlockEntry = e;
      while (a.height > bad.height) a = a.parent!;
      if (a !== bad) continue;
      this.#store.setStatus(e.hash, e.status | BlockStatus.FAILED);
      e.status |= BlockStatus.FAILED; // only once the store has it
    }
  }

  /**
   * The valid block with the most work, the first seen on ties (Bitcoin's rule), whichever is the tip: after a
   * branch fails, or a store write did, the tip may be an equal-work block seen later.
   */
  #bestValid(): BlockEntry {
    let best = this.#active[0];
    for (const e of this.#index.values()) { // insertion order is arrival order
      if (!(e.status & BlockStatus.FAILED) && e.chainWork > best.chainWork) best = e;
    }
    return best;
  }

  /**
   * The txids of `block`, a block this chain returned (`getBlock`, `activeBlocks`, a `ChangedBlock`), in block
   * order: those `checkBlock` computed when it arrived, else hashed now and kept with the block.
   */
  txidsOf(block: Block): string[] {
    return this.#txidsOf(block);
  }

  /**
   * The wtxids of `block`, a block this chain returned, in block order: those `checkBlock` computed when it
   * arrived (the merkle leaves), else hashed now and kept with the block. The compact form's short ids use them.
   */
  wtxidsOf(block: Block): string[] {
    let ids = this.#wtxids.get(block);
    if (!ids) this.#wtxids.set(block, ids = block.txs.map(wtxid));
    return ids;
  }

  #keepIds(block: Block, ids: BlockIds): void {
    this.#txids.set(block, ids.txids);
    this.#wtxids.set(block, ids.wtxids);
  }

  /** The block's txids: those `checkBlock` computed when it arrived, else hashed now (a block read back). */
  #txidsOf(block: Block): string[] {
    let ids = this.#txids.get(block);
    if (!ids) this.#txids.set(block, ids = block.txs.map(txid));
    return ids;
  }

  /**
   * Validates `block` against the UTXO set and makes it the tip, in one store transaction; returns its txids.
   * The signature checks start first, on other threads (the verifier pool's workers, or WebCrypto's), while
   * this thread checks the inputs against the UTXO set; a refusal there stops the checks not yet started.
   */
  async #connect(entry: BlockEntry, block: Block): Promise<string[]> {
    const height = entry.height, params = this.params;
    const ids = this.#txidsOf(block);
    const unverified: { tx: Transaction; id: string }[] = [];
    const verified: string[] = [];
    for (let i = 1; i < block.txs.length; i++) {
      const w = signatureKey(block.txs[i], ids[i]);
      this.#sigStats.lookups++;
      if (this.#sigCache.has(w)) this.#sigStats.hits++;
      else {
        unverified.push({ tx: block.txs[i], id: ids[i] });
        verified.push(w);
      }
    }
    const stop = new AbortController();
    const signatures = checkBlockSignatures(unverified, this.#verifier, stop.signal);
    signatures.catch(ignore); // awaited below, unless the inputs refuse the block first
    const created = new Map<string, Coin>();
    const spentHere = new Set<string>();
    const undo: CoinEntry[] = [];
    const view: CoinView = {
      getCoin: (o) => {
        const key = outpointKey(o);
        return spentHere.has(key) ? undefined : created.get(key) ?? this.#coins.get(key);
      },
    };
    let fees = 0;
    try {
      block.txs.forEach((tx, i) => {
        const id = ids[i];
        if (i > 0) {
          fees += checkInputs(tx, view, height, params).fee;
          for (const input of tx.inputs) {
            const key = outpointKey(input.prevout);
            const coin = created.get(key);
            if (coin) created.delete(key);
            else undo.push([key, this.#coins.get(key)!]);
            spentHere.add(key);
          }
        }
        tx.outputs.forEach((o, j) =>
          created.set(`${id}:${j}`, { amount: o.amount, pubKeyHash: o.pubKeyHash, height, coinbase: i === 0 })
        );
      });
      const reward = block.txs[0].outputs.reduce((s, o) => s + o.amount, 0);
      const allowed = blockSubsidy(height, params) + fees;
      ensure(
        reward <= allowed,
        "bad-cb-amount",
        () => `coinbase pays ${reward}, more than subsidy and fees ${allowed}`,
      );
    } catch (e) {
      stop.abort();
      throw e;
    }
    const spent = undo.map(([key]) => key);
    const undoBytes = encodeUndo(undo);
    await signatures;
    for (const w of verified) this.cacheSignatures(w);
    const status = entry.status | BlockStatus.VALID;
    const unstored = this.#unstored.get(entry.hash);
    const change: BlockChange = {
      hash: entry.hash,
      status,
      spent,
      created: [...created],
      undo: undoBytes,
      tip: entry.hash,
      block: unstored && { row: { ...unstored.row, status }, data: unstored.data },
    };
    // The UTXO set read from the store while it loads must agree with memory: write-behind waits for it.
    if (this.#writeBehind && this.#coins.loaded) this.#defer(change, unstored?.block ?? block);
    else this.#store.applyBlock(change);
    this.#unstored.delete(entry.hash);
    entry.status = status; // only once the store has it, or holds it to commit
    for (const key of spent) this.#coins.delete(key);
    for (const [key, coin] of created) this.#coins.set(key, coin);
    this.#active.push(entry);
    return ids;
  }

  /**
   * Holds a connected block's store change for the next commit; with the bound already reached, commits what
   * waits first (a store failure then refuses this block before memory changes).
   */
  #defer(change: BlockChange, block: Block): void {
    const size = (change.block?.data.length ?? 0) + (change.undo?.length ?? 0);
    if (
      this.#unflushed.length >= MAX_UNFLUSHED_BLOCKS || this.#unflushedBytes + size > MAX_UNFLUSHED_BYTES
    ) {
      this.flush();
    }
    this.#unflushed.push(change);
    this.#unflushedBytes += size;
    if (change.block) this.#unflushedBlocks.set(change.hash, { block, data: change.block.data });
    this.#flushTimer ??= setTimeout(() => {
      this.#flushTimer = undefined;
      try {
        this.flush();
      } catch (e) {
        this.#onFlushError(e);
      }
    }, FLUSH_AFTER_MS);
  }

  /**
   * Commits the connected blocks that wait for it (`writeBehind`) in one store transaction, the tip with them.
   * Throws `StoreError` when the store refuses them: they stay waiting, in memory, and the next commit retries.
   * Call before closing the store.
   */
  flush(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (!this.#unflushed.length) return;
    this.#store.applyBlocks(this.#unflushed);
    this.#unflushed = [];
    this.#unflushedBlocks.clear();
    this.#unflushedBytes = 0;
  }

  /**
   * Commits what waits (`flush`) and writes every later block before `processBlock` returns: call before
   * closing the store. Throws `StoreError` as `flush` does.
   */
  close(): void {
    this.#writeBehind = false;
    this.flush();
  }

  /** Connected blocks not yet committed to the store (`writeBehind`). */
  get unflushed(): number {
    return this.#unflushed.length;
  }

  #disconnectTip(): ChangedBlock {
    const entry = this.tip;
    if (!entry.parent) throw new Error("cannot disconnect the genesis block");
    const block = this.getBlock(entry.hash)!;
    const undoBytes = this.#store.getUndo(entry.hash);
    if (!undoBytes) throw new StoreError(`undo data of block ${entry.hash} is missing`);
    const restored = decodeUndo(undoBytes);
    const removed: string[] = [];
    const txids = this.#txidsOf(block);
    block.txs.forEach((tx, i) => tx.outputs.forEach((_, j) => removed.push(`${txids[i]}:${j}`)));
    this.#store.applyBlock({
      hash: entry.hash,
      spent: removed,
      created: restored,
      undo: null,
      tip: entry.parent.hash,
    });
    for (const key of removed) this.#coins.delete(key);
    for (const [key, coin] of restored) this.#coins.set(key, coin);
    this.#active.pop();
    return { hash: entry.hash, height: entry.height, block, txids };
  }

  /** `error`, with what the call had changed on the active chain, if anything, for `partialUpdate`. */
  #withPartialUpdate(error: unknown, update: ChainUpdate): unknown {
    if (!(error instanceof ValidationError)) this.#activationFailed = true;
    const net = this.#net(update);
    if ((net.connected.length || net.disconnected.length) && typeof error === "object" && error !== null) {
      partialUpdates.set(error, net);
    }
    return error;
  }

  /** Net effect of an update: blocks disconnected and connected again cancel out; each block once. */
  #net(update: ChainUpdate): ChainUpdate {
    const pick = (changed: ChangedBlock[], active: boolean) => {
      const seen = new Map<string, ChangedBlock>();
      for (const c of changed) if (this.isActive(this.#index.get(c.hash)!) === active) seen.set(c.hash, c);
      return [...seen.values()];
    };
    return { disconnected: pick(update.disconnected, false), connected: pick(update.connected, true) };
  }

  /** Signature-cache lookups and hits while connecting blocks since the chain was opened (a copy). */
  get sigCacheStats(): SigCacheStats {
    return { ...this.#sigStats };
  }

  /** Records that signatures verified (key: `signatureKey`), so block connection need not check them again. */
  cacheSignatures(key: string): void {
    if (this.#sigCache.size >= SIG_CACHE_MAX) this.#sigCache.delete(this.#sigCache.values().next().value!);
    this.#sigCache.add(key);
  }
}
