/**
 * The mempool: fully validated transactions waiting for a block, and (apart) transactions waiting for a parent
 * that has not arrived. First seen wins a conflict. Checks run cheapest first: size and structure, then inputs
 * known, then fees, room and chain limits, and signatures last, so a refusal never waits for (or starts) a
 * signature check. Unconfirmed chains are bounded (25 transactions, 101 kB, each way), and each entry keeps its
 * package counts up to date as transactions come and go, so templates and eviction cost O(n log n), not O(n²).
 * The pool is bounded in bytes and in count, and evicts the lowest fee rate; it follows the chain, dropping what blocks
 * confirm or conflict with, taking back still-valid transactions from disconnected blocks, and accepting the
 * waiting transactions whose parents arrive.
 * @module
 */
import {
  MAX_ANCESTOR_BYTES,
  MAX_ANCESTORS,
  MAX_DESCENDANT_BYTES,
  MAX_DESCENDANTS,
  MAX_MEMPOOL_BYTES,
  MAX_MEMPOOL_TXS,
  MAX_ORPHAN_TXS,
  MAX_STANDARD_TX_SIZE,
} from "../consensus/policy.ts";
import {
  isCoinbase,
  type OutPoint,
  outpointKey,
  type Transaction,
  txid,
  txSize,
} from "../primitives/transaction.ts";
import type { Chain, ChainUpdate } from "./chain.ts";
import type { Coin, CoinView, OwnedCoin } from "./coins.ts";
import { ensure, NO_BLAME, ValidationError } from "./errors.ts";
import { Heap } from "./heap.ts";
import { OrphanTxs, type OrphanTxsOptions } from "./orphan_txs.ts";
import { checkInputs, checkSignatures, checkTransaction, signatureKey } from "./tx_rules.ts";
import { type VerifyQueue, verifyQueue } from "../crypto/verify_queue.ts";

export { MAX_STANDARD_TX_SIZE };

/** A transaction in the pool. */
export interface MempoolEntry {
  /** The transaction. */
  readonly tx: Transaction;
  /** Its id. */
  readonly txid: string;
  /** Inputs minus outputs, base units. */
  readonly fee: number;
  /** Encoded bytes. */
  readonly size: number;
  /** Fee per byte. */
  readonly feeRate: number;
  /** Milliseconds since the epoch when accepted. */
  readonly time: number;
  /** Pool transactions it depends on, directly or not, itself included. */
  readonly ancestorCount: number;
  /** Their encoded bytes, its own included. */
  readonly ancestorSize: number;
  /** Pool transactions that depend on it, directly or not, itself included. */
  readonly descendantCount: number;
  /** Their encoded bytes, its own included. */
  readonly descendantSize: number;
}

interface PoolEntry extends MempoolEntry {
  ancestorCount: number;
  ancestorSize: number;
  descendantCount: number;
  descendantSize: number;
  /** Pool transactions whose outputs it spends. */
  readonly parents: Set<PoolEntry>;
  /** Pool transactions that spend its outputs. */
  readonly children: Set<PoolEntry>;
  /** Arrival order: breaks ties in fee rate (older first in templates). */
  readonly seq: number;
}

/** Options of a `Mempool`. */
export interface MempoolOptions {
  /** Bound on the sum of encoded sizes (default `MAX_MEMPOOL_BYTES`). */
  maxBytes?: number;
  /** Bound on the number of transactions (default `MAX_MEMPOOL_TXS`). */
  maxCount?: number;
  /** Lowest fee rate accepted, base units per byte (default 1). */
  minFeeRate?: number;
  /** Bounds and seams of the pool of transactions waiting for a parent. */
  orphans?: OrphanTxsOptions;
  /** The signature-check queue (default: the process-wide `verifyQueue`); injectable for tests. */
  verifier?: VerifyQueue;
}

/** How `Mempool.accept` treats a transaction. */
export interface AcceptOptions {
  /** Keep it if its inputs are missing (a parent may be on its way): for transactions from the network. */
  allowOrphan?: boolean;
  /** Check its signatures ahead of network transactions: for our own payments. */
  urgent?: boolean;
}

/** What the pool takes back after `Chain.processBlock`. */
export interface ChainFollowUp {
  /** Transactions of disconnected blocks that are still valid (and orphans they unlocked). */
  restored: MempoolEntry[];
  /** Waiting transactions whose parents the connected blocks confirmed (and their children). */
  unlocked: MempoolEntry[];
}

/** Context checks passed: what adding the transaction takes. */
interface Plan {
  fee: number;
  feeRate: number;
  parents: Set<PoolEntry>;
  ancestors: ReadonlySet<PoolEntry>;
  /** Entries to evict (with their descendants) to make room. */
  victims: ReadonlySet<PoolEntry>;
}

/** The smallest transaction a template could still add: one input and one output. */
const MIN_TX_SIZE = 170;
/**
 * A transaction with at most this many inputs may have its signatures checked while its inputs and fees are,
 * when the verifier has room to spare (see `#acceptOne`).
 */
const SPECULATE_MAX_INPUTS = 2;

/** Does nothing: for promises whose failure is of no interest. */
function ignore(): void {}

/** An empty set, shared (never modified): no ancestors, no victims. */
const NONE: ReadonlySet<never> = new Set();

/**
 * The entries linked to `e` through `link`, directly or not: its ancestors (`"parents"`: the pool
 * transactions it depends on) or its descendants (`"children"`: those that depend on it). `e` itself is not
 * included. One walk for both directions.
 */
export function relatives<T extends { readonly parents: Set<T>; readonly children: Set<T> }>(
  e: T,
  link: "parents" | "children",
): Set<T> {
  const out = new Set<T>();
  const todo = [...e[link]];
  while (todo.length) {
    const x = todo.pop()!;
    if (out.has(x)) continue;
    out.add(x);
    for (const y of x[link]) todo.push(y);
  }
  return out;
}

/** Orders the fee-rate index: lower fee rate first; among equals, the newer first (evicted first). */
function evictsBefore(a: PoolEntry, b: PoolEntry): boolean {
  return a.feeRate < b.feeRate || (a.feeRate === b.feeRate && a.seq > b.seq);
}

/** Orders templates: higher fee rate first; among equals, the older first. */
function minesBefore(a: PoolEntry, b: PoolEntry): boolean {
  return evictsBefore(b, a);
}

/**
 * The pool of unconfirmed transactions over a chain.
 * @example A transaction spending coins that do not exist is refused
 * ```ts
 * import { Chain, Mempool, NETWORKS, openStore, ValidationError } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const mempool = new Mempool(chain);
 * const tx = {
 *   version: 1,
 *   inputs: [{ prevout: { txid: "11".repeat(32), index: 0 }, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }],
 *   outputs: [{ amount: 5_000, pubKeyHash: "22".repeat(20) }],
 *   lockTime: 0,
 * };
 * await assert.rejects(mempool.accept(tx), (e) => e instanceof ValidationError && e.code === "bad-txns-inputs-missingorspent");
 * assert.equal(mempool.size, 0);
 * ```
 */
export class Mempool implements CoinView {
  /** Bound on the pool's encoded bytes. */
  readonly maxBytes: number;
  /** Bound on the pool's number of transactions. */
  readonly maxCount: number;
  /** Lowest accepted fee rate, base units per byte. */
  readonly minFeeRate: number;
  #chain: Chain;
  #entries = new Map<string, PoolEntry>();
  /**
   * Entries by their transaction object: a block rebuilt from this pool (compact relay, our own template)
   * holds the very objects, so following it finds them without hashing each again.
   */
  #byTx = new WeakMap<Transaction, PoolEntry>();
  #spentBy = new Map<string, PoolEntry>();
  /**
   * Entries by the key hashes their outputs pay: a wallet's coins in the pool are found without a walk over
   * the whole pool (a node paying 40 times a second under the stress load walked thousands of entries each time).
   */
  #byPkh = new Map<string, Set<PoolEntry>>();
  /**
   * Every entry, ascending by `evictsBefore`: built when the pool first needs to evict (one sort), kept up to
   * date while it is near full (a binary search and a move per change), dropped when the pool empties out, so
   * a pool with room pays nothing for it.
   */
  #byFeeRate: PoolEntry[] | undefined;
  #bytes = 0;
  #fees = 0;
  #seq = 0;
  /** Bumped on every change, so `accept` knows whether to re-check after awaiting signatures. */
  #version = 0;
  /**
   * Bumped on every removal. While only additions happened (and the tip stayed), a transaction's inputs and
   * fee still stand: only conflicts, chain limits and room need checking again.
   */
  #removals = 0;
  /** Copies being validated now (`signatureKey`): the same copy from another peer is not checked twice. */
  #validating = new Set<string>();
  #orphans: OrphanTxs;
  /**
   * Waiting transactions whose parents came, but spend a coinbase not yet mature at our height (a node
   * catching up meets them): they are tried again with every new block instead of being dropped.
   */
  #maturing: { tx: Transaction; id: string }[] = [];
  #verifier: VerifyQueue;

  /**
   * An empty pool over `chain`.
   * @example const mempool = new Mempool(chain, { maxBytes: 1_000_000 });
   */
  constructor(chain: Chain, opts: MempoolOptions = {}) {
    this.#chain = chain;
    this.maxBytes = opts.maxBytes ?? MAX_MEMPOOL_BYTES;
    this.maxCount = opts.maxCount ?? MAX_MEMPOOL_TXS;
    this.minFeeRate = opts.minFeeRate ?? 1;
    this.#orphans = new OrphanTxs(opts.orphans);
    this.#verifier = opts.verifier ?? verifyQueue;
  }

  /** Number of transactions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Sum of their encoded sizes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Sum of the fees of all pool transactions. */
  get totalFees(): number {
    return this.#fees;
  }

  /** Transactions waiting for a parent. */
  get orphanCount(): number {
    return this.#orphans.size;
  }

  /** Their encoded bytes. */
  get orphanBytes(): number {
    return this.#orphans.bytes;
  }

  /** True when `id` is in the pool. */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /** True when a copy of `id` waits for a parent. */
  hasOrphan(id: string): boolean {
    return this.#orphans.hasTxid(id);
  }

  /** The entry of `id`, or undefined. */
  get(id: string): MempoolEntry | undefined {
    return this.#entries.get(id);
  }

  /** All entries, oldest first. */
  entries(): MempoolEntry[] {
    return [...this.#entries.values()];
  }

  /** A coin of the chain's UTXO set or an output of a pool transaction (spent or not). */
  getCoin(o: OutPoint): Coin | undefined {
    const chainCoin = this.#chain.getCoin(o);
    if (chainCoin) return chainCoin;
    const out = this.#entries.get(o.txid)?.tx.outputs[o.index];
    return out &&
      { amount: out.amount, pubKeyHash: out.pubKeyHash, height: this.#chain.height + 1, coinbase: false };
  }

  /** True when a pool transaction spends `o`. */
  isSpent(o: OutPoint): boolean {
    return this.#spentBy.has(outpointKey(o));
  }

  /** Outputs of pool transactions paying any of `pubKeyHashes`. */
  coinsOf(pubKeyHashes: ReadonlySet<string>): OwnedCoin[] {
    // The entries paying any of them, through the smaller side: the keys asked for or the keys the pool pays.
    const paying = new Set<PoolEntry>();
    if (pubKeyHashes.size <= this.#byPkh.size) {
      for (const pkh of pubKeyHashes) for (const e of this.#byPkh.get(pkh) ?? []) paying.add(e);
    } else {
      for (const [pkh, set] of this.#byPkh) if (pubKeyHashes.has(pkh)) { for (const e of set) paying.add(e); }
    }
    const out: OwnedCoin[] = [];
    const height = this.#chain.height + 1;
    // Oldest first, as the pool holds them (coin selection breaks ties in this order).
    for (const e of [...paying].sort((a, b) => a.seq - b.seq)) {
      e.tx.outputs.forEach((o, index) => {
        if (!pubKeyHashes.has(o.pubKeyHash)) return;
        const coin = { amount: o.amount, pubKeyHash: o.pubKeyHash, height, coinbase: false };
        out.push({ outpoint: { txid: e.txid, index }, coin });
      });
    }
    return out;
  }

  /**
   * True when a small transaction spending an output of `id` would stay within the chain limits (always, when
   * `id` is not in the pool): the wallet skips unconfirmed coins whose chain is full.
   */
  roomForChild(id: string): boolean {
    const e = this.#entries.get(id);
    if (!e) return true;
    if (e.ancestorCount + 1 > MAX_ANCESTORS || e.ancestorSize + MIN_TX_SIZE > MAX_ANCESTOR_BYTES) {
      return false;
    }
    for (const a of [e, ...relatives(e, "parents")]) {
      if (a.descendantCount + 1 > MAX_DESCENDANTS) return false;
      if (a.descendantSize + MIN_TX_SIZE > MAX_DESCENDANT_BYTES) return false;
    }
    return true;
  }

  /**
   * Validates `tx` fully against the tip's UTXO set plus the pool's outputs and adds it; then accepts the
   * waiting transactions it was the missing parent of. Returns every entry added, `tx`'s first, or none when
   * `tx` itself now waits for a parent (only with `allowOrphan`). Throws `ValidationError`:
   * `txn-already-in-mempool`, `txn-mempool-conflict`, `too-long-mempool-chain`, `bad-sig`, ...
   * @example A transaction whose parent has not arrived waits, with `allowOrphan` (a network transaction)
   * ```ts
   * import { Chain, Mempool, NETWORKS, openStore } from "@peerchain/peerchain";
   * import assert from "node:assert/strict";
   *
   * const mempool = new Mempool(Chain.open(openStore(":memory:"), NETWORKS.regtest));
   * const tx = {
   *   version: 1,
   *   inputs: [{ prevout: { txid: "11".repeat(32), index: 0 }, publicKey: new Uint8Array(32), signature: new Uint8Array(64) }],
   *   outputs: [{ amount: 5_000, pubKeyHash: "22".repeat(20) }],
   *   lockTime: 0,
   * };
   * assert.deepEqual(await mempool.accept(tx, { allowOrphan: true }), []);
   * assert.equal(mempool.size, 0);
   * assert.equal(mempool.orphanCount, 1);
   * ```
   */
  async accept(tx: Transaction, opts: AcceptOptions = {}): Promise<MempoolEntry[]> {
    const id = txid(tx);
    const entry = await this.#acceptOne(tx, id, opts);
    if (!entry) return [];
    if (!this.#orphans.hasChildrenOf(id)) return [entry];
    return [entry, ...await this.#acceptOrphansOf([id])];
  }

  async #acceptOne(tx: Transaction, id: string, opts: AcceptOptions): Promise<PoolEntry | undefined> {
    ensure(
      !this.#entries.has(id),
      "txn-already-in-mempool",
      () => `${id} is already in the mempool`,
      NO_BLAME,
    );
    ensure(!isCoinbase(tx), "coinbase", "a coinbase is only valid in a block");
    const size = txSize(tx);
    // A block could hold up to 1 MB, but one huge transaction would crowd out everyone else's.
    ensure(
      size <= MAX_STANDARD_TX_SIZE,
      "tx-size",
      () => `${size} bytes exceed the ${MAX_STANDARD_TX_SIZE}-byte limit`,
      NO_BLAME,
    );
    // Signatures are the costly check, so they come last: a refused transaction costs none. Except when the
    // verifier has room to spare for all of a payment's checks (at most two): then they start now and run on
    // other threads while everything else is checked here, and a refusal ignores them.
    const q = this.#verifier, urgent = opts.urgent;
    const early = tx.inputs.length <= SPECULATE_MAX_INPUTS && q.waiting === 0 &&
        q.inFlight + tx.inputs.length <= q.max / 2
      ? checkSignatures(tx, id, { urgent, queue: q })
      : undefined;
    early?.catch(ignore); // awaited below unless refused first
    // The txid does not cover signatures: copies are told apart by them too, so a forged copy that arrives
    // first (and waits, or is being checked) cannot keep the honest one out.
    const key = signatureKey(tx, id);
    ensure(
      !this.#validating.has(key) && !this.#orphans.has(key),
      "txn-already-in-mempool",
      () => `${id} is already being validated or waiting for a parent`,
      NO_BLAME,
    );
    checkTransaction(tx);
    this.#validating.add(key);
    try {
      const tip = this.#chain.tip, version = this.#version, removals = this.#removals;
      let plan = this.#plan(tx, id, size);
      if (!plan) return this.#wait(tx, id, key, size, opts);
      // Every cheaper check has passed: only now are signatures worth checking.
      await (early ?? checkSignatures(tx, id, { urgent, queue: q }));
      // The chain or the pool may have changed while the signatures were checked.
      if (tip !== this.#chain.tip || version !== this.#version) {
        const onlyAdded = tip === this.#chain.tip && removals === this.#removals;
        plan = this.#plan(tx, id, size, onlyAdded ? plan.fee : undefined);
        if (!plan) return this.#wait(tx, id, key, size, opts);
      }
      if (plan.victims.size) this.#removeSet(this.#withDescendantsOf(plan.victims));
      const entry = this.#add(tx, id, size, plan);
      this.#chain.cacheSignatures(key);
      return entry;
    } finally {
      this.#validating.delete(key);
    }
  }

  /** Keeps a transaction with missing inputs for later (or refuses it, if orphans are not allowed). */
  #wait(tx: Transaction, id: string, key: string, size: number, opts: AcceptOptions): undefined {
    const missing = tx.inputs.find((i) => this.getCoin(i.prevout) === undefined)!;
    ensure(
      opts.allowOrphan === true && this.#orphans.add(key, id, tx, size),
      "bad-txns-inputs-missingorspent",
      () => `input ${outpointKey(missing.prevout)} does not exist or is already spent`,
      NO_BLAME,
    );
    return undefined;
  }

  /** Accepts the waiting transactions that spend outputs of `parents`, and theirs in turn. */
  async #acceptOrphansOf(parents: string[]): Promise<PoolEntry[]> {
    const out: PoolEntry[] = [];
    while (parents.length) {
      for (const o of this.#orphans.takeChildrenOf(parents.pop()!)) {
        try {
          const entry = await this.#acceptOne(o.tx, o.id, { allowOrphan: true });
          if (entry) {
            out.push(entry);
            parents.push(entry.txid);
          }
        } catch (e) {
          if (!(e instanceof ValidationError)) throw e;
          if (e.code === "bad-txns-premature-spend-of-coinbase") this.#keepMaturing(o.tx, o.id);
          // anything else: invalid after all, dropped
        }
      }
    }
    return out;
  }

  #keepMaturing(tx: Transaction, id: string): void {
    if (this.#maturing.some((m) => m.id === id)) return;
    // Bounded like the orphans: the oldest goes (coinbase maturity is at most a few dozen blocks away).
    if (this.#maturing.length >= MAX_ORPHAN_TXS) this.#maturing.shift();
    this.#maturing.push({ tx, id });
  }

  /** After new blocks: the waiting spends of coinbases that have come of age now join the pool. */
  async #acceptMatured(): Promise<PoolEntry[]> {
    const out: PoolEntry[] = [];
    for (const { tx, id } of this.#maturing.splice(0)) {
      try {
        const entry = await this.#acceptOne(tx, id, { allowOrphan: true });
        if (entry) out.push(entry, ...await this.#acceptOrphansOf([entry.txid]));
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        if (e.code === "bad-txns-premature-spend-of-coinbase") this.#keepMaturing(tx, id);
      }
    }
    return out;
  }

  /**
   * The checks that depend on the chain and the pool, cheapest first: conflicts, inputs, fees, chain limits and
   * room. Undefined when an input is missing (the transaction may be an orphan). `knownFee`: the inputs were
   * checked on this tip and the pool has only grown since, so they stand and are not checked again.
   */
  #plan(tx: Transaction, id: string, size: number, knownFee?: number): Plan | undefined {
    for (const i of tx.inputs) {
      const other = this.#spentBy.get(outpointKey(i.prevout));
      ensure(
        other === undefined,
        "txn-mempool-conflict",
        () => `input ${outpointKey(i.prevout)} is already spent by ${other!.txid}`,
        NO_BLAME,
      );
    }
    ensure(
      this.#chain.getCoin({ txid: id, index: 0 }) === undefined,
      "txn-already-known",
      () => `${id} is already confirmed`,
      NO_BLAME,
    );
    let fee: number;
    try {
      fee = knownFee ?? checkInputs(tx, this, this.#chain.height + 1, this.#chain.params, NO_BLAME).fee;
    } catch (e) {
      // An input nobody has (yet): perhaps its parent is on its way, so the caller may keep it waiting.
      if (e instanceof ValidationError && e.code === "bad-txns-inputs-missingorspent") return undefined;
      throw e;
    }
    const feeRate = fee / size;
    ensure(
      feeRate >= this.minFeeRate,
      "min-fee-not-met",
      () => `fee rate ${feeRate.toFixed(2)} is below ${this.minFeeRate} per byte`,
      NO_BLAME,
    );
    const parents = new Set<PoolEntry>();
    for (const i of tx.inputs) {
      const p = this.#entries.get(i.prevout.txid);
      if (p) parents.add(p);
    }
    const ancestors = this.#checkLimits(parents, size);
    return { fee, feeRate, parents, ancestors, victims: this.#victimsFor(size, feeRate, ancestors) };
  }

  /** The pool ancestors of a newcomer with `parents`; refuses it when it would break a chain limit. */
  #checkLimits(parents: Set<PoolEntry>, size: number): ReadonlySet<PoolEntry> {
    if (parents.size === 0) return NONE; // every input confirmed: the usual case
    const ancestors = new Set<PoolEntry>();
    let ancestorSize = size;
    const todo = [...parents];
    while (todo.length) {
      const a = todo.pop()!;
      if (ancestors.has(a)) continue;
      ancestors.add(a);
      ancestorSize += a.size;
      ensure(
        ancestors.size < MAX_ANCESTORS,
        "too-long-mempool-chain",
        `too many unconfirmed ancestors (limit ${MAX_ANCESTORS})`,
        NO_BLAME,
      );
      for (const p of a.parents) todo.push(p);
    }
    ensure(
      ancestorSize <= MAX_ANCESTOR_BYTES,
      "too-long-mempool-chain",
      () => `unconfirmed ancestors of ${ancestorSize} bytes exceed ${MAX_ANCESTOR_BYTES}`,
      NO_BLAME,
    );
    for (const a of ancestors) {
      ensure(
        a.descendantCount < MAX_DESCENDANTS && a.descendantSize + size <= MAX_DESCENDANT_BYTES,
        "too-long-mempool-chain",
        () =>
          `${a.txid} would have more than ${MAX_DESCENDANTS} unconfirmed descendants or ` +
          `${MAX_DESCENDANT_BYTES} bytes of them`,
        NO_BLAME,
      );
    }
    return ancestors;
  }

  /**
   * What to evict so that a newcomer of `size` fits, in bytes and in count: the lowest fee rates first, each
   * with its descendants, never one of the newcomer's own ancestors; refuses it when only equal or higher fee
   * rates would have to go.
   */
  #victimsFor(size: number, feeRate: number, ancestors: ReadonlySet<PoolEntry>): ReadonlySet<PoolEntry> {
    const fits = (freed: number, freedCount: number) =>
      this.#bytes - freed + size <= this.maxBytes && this.#entries.size - freedCount + 1 <= this.maxCount;
    if (fits(0, 0)) return NONE;
    const victims = new Set<PoolEntry>();
    let freed = 0;
    this.#byFeeRate ??= [...this.#entries.values()].sort((a, b) => evictsBefore(a, b) ? -1 : 1);
    for (const e of this.#byFeeRate) {
      if (fits(freed, victims.size)) break;
      if (e.feeRate >= feeRate) break;
      if (victims.has(e) || ancestors.has(e)) continue; // evicting a parent would leave the newcomer spending nothing
      for (const d of [e, ...relatives(e, "children")]) {
        if (!victims.has(d)) {
          victims.add(d);
          freed += d.size;
        }
      }
    }
    if (!fits(freed, victims.size)) {
      throw new ValidationError(
        "mempool-full",
        `the mempool is full and fee rate ${feeRate.toFixed(2)} is too low`,
        NO_BLAME,
      );
    }
    return victims;
  }

  #add(tx: Transaction, id: string, size: number, plan: Plan): PoolEntry {
    let ancestorSize = size;
    for (const a of plan.ancestors) {
      ancestorSize += a.size;
      a.descendantCount++;
      a.descendantSize += size;
    }
    const e: PoolEntry = {
      tx,
      txid: id,
      fee: plan.fee,
      size,
      feeRate: plan.feeRate,
      time: Date.now(),
      ancestorCount: plan.ancestors.size + 1,
      ancestorSize,
      descendantCount: 1,
      descendantSize: size,
      parents: plan.parents,
      children: new Set(),
      seq: this.#seq++,
    };
    for (const p of plan.parents) p.children.add(e);
    this.#entries.set(id, e);
    this.#byTx.set(e.tx, e);
    for (const i of tx.inputs) this.#spentBy.set(outpointKey(i.prevout), e);
    for (const o of tx.outputs) {
      const set = this.#byPkh.get(o.pubKeyHash);
      if (set) set.add(e);
      else this.#byPkh.set(o.pubKeyHash, new Set([e]));
    }
    this.#byFeeRate?.splice(this.#feeRateIndex(this.#byFeeRate, e), 0, e);
    this.#bytes += size;
    this.#fees += plan.fee;
    this.#version++;
    return e;
  }

  /** Where `e` is (or would go) in the fee-rate index: binary search. */
  #feeRateIndex(index: PoolEntry[], e: PoolEntry): number {
    let lo = 0, hi = index.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (evictsBefore(index[mid], e)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Removes `set` from the pool, keeping every remaining entry's package counts right: the set must hold the
   * descendants of each member (an eviction), or members with no ancestors left in the pool (confirmed ones).
   */
  #removeSet(set: Set<PoolEntry>): void {
    for (const x of set) {
      for (const a of relatives(x, "parents")) {
        if (set.has(a)) continue;
        a.descendantCount--;
        a.descendantSize -= x.size;
      }
      for (const d of relatives(x, "children")) {
        if (set.has(d)) continue;
        d.ancestorCount--;
        d.ancestorSize -= x.size;
      }
    }
    for (const x of set) {
      for (const p of x.parents) p.children.delete(x);
      for (const c of x.children) c.parents.delete(x);
      this.#entries.delete(x.txid);
      this.#byTx.delete(x.tx);
      for (const o of x.tx.outputs) {
        const set = this.#byPkh.get(o.pubKeyHash);
        if (set?.delete(x) && set.size === 0) this.#byPkh.delete(o.pubKeyHash);
      }
      for (const i of x.tx.inputs) {
        const key = outpointKey(i.prevout);
        if (this.#spentBy.get(key) === x) this.#spentBy.delete(key);
      }
      this.#byFeeRate?.splice(this.#feeRateIndex(this.#byFeeRate, x), 1);
      this.#bytes -= x.size;
      this.#fees -= x.fee;
    }
    if (this.#bytes < this.maxBytes / 2 && this.#entries.size < this.maxCount / 2) {
      this.#byFeeRate = undefined; // plenty of room again
    }
    this.#version++;
    this.#removals++;
  }

  #withDescendantsOf(entries: Iterable<PoolEntry>): Set<PoolEntry> {
    const out = new Set<PoolEntry>();
    for (const e of entries) {
      out.add(e);
      for (const d of relatives(e, "children")) out.add(d);
    }
    return out;
  }

  /** Removes `id` and its descendants (for example after a payment is abandoned). */
  removeWithDescendants(id: string): void {
    const e = this.#entries.get(id);
    if (e) this.#removeSet(this.#withDescendantsOf([e]));
  }

  /**
   * Transactions for a block template, highest fee rate first, parents before children, within `maxBytes`.
   * (No child-pays-for-parent: a child waits for its parent's own fee rate.) O(n log n): a heap of the
   * transactions whose pool parents are already in.
   */
  selectForBlock(maxBytes: number): MempoolEntry[] {
    const ready = new Heap(minesBefore, [...this.#entries.values()].filter((e) => e.parents.size === 0));
    const waiting = new Map<PoolEntry, number>();
    const chosen: MempoolEntry[] = [];
    let bytes = 0;
    for (let e = ready.pop(); e && maxBytes - bytes >= MIN_TX_SIZE; e = ready.pop()) {
      if (bytes + e.size > maxBytes) continue; // its descendants never become ready
      chosen.push(e);
      bytes += e.size;
      for (const c of e.children) {
        const left = (waiting.get(c) ?? c.parents.size) - 1;
        if (left === 0) ready.push(c);
        else waiting.set(c, left);
      }
    }
    return chosen;
  }

  /** The txid of `tx`: not hashed again when the pool holds this very object. */
  #idOf(tx: Transaction): string {
    return this.#byTx.get(tx)?.txid ?? txid(tx);
  }

  /** The pool's entry of `tx`, if it holds it (found without hashing when it is the pool's own object). */
  entryOf(tx: Transaction): MempoolEntry | undefined {
    return this.#entries.get(this.#idOf(tx));
  }

  /**
   * Follows the chain after `Chain.processBlock`: drops confirmed and conflicting transactions, takes back
   * still-valid ones from disconnected blocks, drops any whose inputs a reorg took away, and accepts the waiting
   * transactions whose parents were confirmed.
   */
  async chainUpdated(update: ChainUpdate): Promise<ChainFollowUp> {
    const confirmedParents: string[] = [];
    for (const { block, txids } of update.connected) {
      if (this.#entries.size === 0 && this.#orphans.size === 0) break;
      for (const [t, tx] of block.txs.entries()) {
        const id = txids[t];
        const e = this.#entries.get(id);
        if (e) this.#removeSet(new Set([e]));
        for (const i of tx.inputs) {
          const other = this.#spentBy.get(outpointKey(i.prevout));
          if (other) this.removeWithDescendants(other.txid);
        }
        if (this.#orphans.hasChildrenOf(id)) confirmedParents.push(id);
      }
    }
    const restored: MempoolEntry[] = [];
    if (update.disconnected.length) {
      for (const { block } of [...update.disconnected].reverse()) {
        for (const tx of block.txs.slice(1)) {
          try {
            restored.push(...await this.accept(tx));
          } catch (e) {
            if (!(e instanceof ValidationError)) throw e; // no longer valid on the new chain: dropped
          }
        }
      }
      for (const e of this.entries()) {
        if (!this.#entries.has(e.txid)) continue;
        try {
          checkInputs(e.tx, this, this.#chain.height + 1, this.#chain.params);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          this.removeWithDescendants(e.txid);
        }
      }
    }
    const unlocked = await this.#acceptOrphansOf(confirmedParents);
    if (update.connected.length && this.#maturing.length) unlocked.push(...await this.#acceptMatured());
    return { restored: restored.filter((e) => this.#entries.has(e.txid)), unlocked };
  }
}
