/**
 * What the explorer shows, as plain JSON objects: the `/api/...` answers, and what the HTML pages are rendered
 * from (so the two never disagree). Every answer is bounded: lists are paged with a fixed most, block headers
 * for charts come from the chain's in-memory index, block summaries from a bounded cache, transactions and
 * addresses from the `ChainIndex`. Amounts are integers of base units (1 coin = 10^8).
 * @module
 */
import { amountsAsCoins } from "../consensus/amount.ts";
import { blockSubsidy } from "../consensus/params.ts";
import { type Block, MAX_BLOCK_SIZE } from "../primitives/block.ts";
import { RESERVED_BYTES } from "../mining/template.ts";
import { bitsToTarget, blockWork } from "../consensus/pow.ts";
import { AddressError, decodeAddress, encodeAddress } from "../crypto/address.ts";
import { pubKeyHash } from "../crypto/key_hash.ts";
import { isCoinbase, type Transaction, txid, txSize } from "../primitives/transaction.ts";
import type { Node, NodeOverview } from "../node.ts";
import type { ChainIndex } from "./chain_index.ts";
import { type NetworkView, networkView } from "./network_view.ts";
import type { LostNode } from "./network_map.ts";

/** Something asked for that does not exist or cannot exist: a 404 with `message`. */
export class NotFound extends Error {
  override name = "NotFound";
}

/** Blocks listed on the dashboard. */
const DASHBOARD_BLOCKS = 10;
/** Most blocks one `/api/blocks` answer lists. */
export const MAX_BLOCKS_PAGE = 100;
/** Transactions per page of a block. */
const BLOCK_TXS_PAGE = 50;
/** History rows per page of an address. */
const HISTORY_PAGE = 50;
/** Inputs or outputs shown of one transaction at most. */
const MAX_TX_ITEMS_SHOWN = 500;
/** Blocks the charts span. */
const CHART_BLOCKS = 200;
/** Blocks the hash rate is averaged over. */
const HASHRATE_WINDOW = 10;
const SUMMARY_CACHE = 1024;
const FORKS_KEPT = 20;
const RECENT_HASHES = 128;

/** A block as the lists show it. */
export interface BlockSummary {
  hash: string;
  height: number;
  /** Header time, seconds since the epoch. */
  time: number;
  /** Transactions, coinbase included. */
  txCount: number;
  /** Encoded bytes. */
  size: number;
  /** The address the coinbase pays first: who mined it. */
  miner: string | null;
  /** What the coinbase pays in all (subsidy and fees). */
  reward: number;
  /** The fees its transactions paid (the reward less the subsidy). */
  fees: number;
}

/** A block that left the active chain or never joined it. */
export interface ForkEvent {
  /** "reorg": the tip moved to another branch; "side": a block arrived on a branch with less work. */
  kind: "reorg" | "side";
  /** When the node saw it, ms since the epoch. */
  at: number;
  /** The last block both branches share (reorg), or the side block's parent height. */
  forkHeight: number;
  /** Blocks that left the active chain (reorg) or the side block itself, tip first. */
  stale: { height: number; hash: string }[];
  /** Blocks that joined the active chain (reorg). */
  joined: { height: number; hash: string }[];
}

/** Fee-rate buckets of the mempool histogram: lower bounds in base units per byte. */
const FEE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128] as const;

/** The mempool at a glance. */
export interface MempoolSummary {
  count: number;
  bytes: number;
  /** Sum of fees. */
  fees: number;
  /** One bucket per `FEE_BUCKETS` entry: transactions with fee rate from `min` up to the next bound. */
  histogram: { min: number; count: number; bytes: number }[];
  /** The newest transactions, newest first. */
  newest: { txid: string; fee: number; size: number; feeRate: number; time: number }[];
  /** The next block as this node's miner would fill it from the mempool now. */
  nextBlock: NextBlock;
}

/** The next block as the mempool would fill it (the miner's own selection), fee rates in base units a byte. */
export interface NextBlock {
  /** Transactions it would hold (besides the coinbase). */
  count: number;
  /** Their bytes. */
  bytes: number;
  /** Their fees. */
  fees: number;
  /** Lowest, median and highest fee rate among them (null when empty). */
  minFeeRate: number | null;
  medianFeeRate: number | null;
  maxFeeRate: number | null;
  /** The fee rate the wallet suggests for a payment now (`Node.suggestedFeeRate`: the menu shows the same). */
  suggestedFeeRate: number;
}

/** Series for the charts, one entry per block, oldest first. */
export interface ChartSeries {
  height: number[];
  time: number[];
  /** Seconds since the previous block (null for genesis and block 1). */
  interval: (number | null)[];
  /** Target of the easiest allowed block divided by this block's target. */
  difficulty: number[];
  /** Estimated network hashes per second over the last blocks (null when their times do not advance). */
  hashrate: (number | null)[];
}

/** This node as the explorer shows it: its overview (nothing of its wallet), its id, and the index. */
export interface ExplorerStatus extends NodeOverview {
  /** The node's id in the overlay. */
  nodeId: string;
  /** The tip's time, seconds since the epoch. */
  tipTime: number;
  /** How far the transaction and address index has caught up. */
  index: { height: number; synced: boolean };
  /** A Peer's primary SuperPeer ("host:port"), null on a SuperPeer or while looking (`hub` by its old name). */
  primary: string | null;
}

const coinbaseOf = (block: Block) => block.txs[0];

/** Reads the explorer's answers from a node and its index; keeps the small caches the dashboard needs. */
export class ExplorerData {
  readonly node: Node;
  readonly index: ChainIndex;
  #summaries = new Map<string, BlockSummary>();
  #forks: ForkEvent[] = [];
  /** The active chain's recent hashes as this explorer last saw them, to tell what a reorg replaced. */
  #recent = new Map<number, string>();
  #charts?: { tip: string; series: ChartSeries };
  #lost: LostNode[] = [];

  constructor(node: Node, index: ChainIndex) {
    this.node = node;
    this.index = index;
    this.noteTip();
  }

  get #prefix(): string {
    return this.node.params.addressPrefix;
  }

  /** The address of a key hash on this network. */
  address(pkh: string): string {
    return encodeAddress(pkh, this.#prefix);
  }

  /** This node's overview, id and index progress. */
  status(): ExplorerStatus {
    const overview = this.node.overview();
    return {
      ...overview,
      nodeId: this.node.net.nodeId,
      tipTime: this.node.chain.tip.header.time,
      index: { height: this.index.height, synced: this.index.synced },
      primary: overview.role === "peer" ? overview.primary : null,
    };
  }

  /** A block's summary, read once from the store and then cached (bounded). */
  summary(hash: string): BlockSummary | undefined {
    const cached = this.#summaries.get(hash);
    if (cached) return cached;
    const entry = this.node.chain.entry(hash);
    const bytes = entry && this.node.chain.getBlockBytes(hash);
    const block = bytes && this.node.chain.getBlock(hash);
    if (!entry || !bytes || !block) return undefined;
    const cb = coinbaseOf(block);
    const s: BlockSummary = {
      hash,
      height: entry.height,
      time: entry.header.time,
      txCount: block.txs.length,
      size: bytes.length,
      miner: cb.outputs.length ? this.address(cb.outputs[0].pubKeyHash) : null,
      reward: cb.outputs.reduce((sum, o) => sum + o.amount, 0),
      fees: 0,
    };
    s.fees = Math.max(0, s.reward - blockSubsidy(entry.height, this.node.params));
    if (this.#summaries.size >= SUMMARY_CACHE) this.#summaries.delete(this.#summaries.keys().next().value!);
    this.#summaries.set(hash, s);
    return s;
  }

  /** Up to `limit` active blocks below height `before` (default: from the tip), newest first. */
  blocks(before?: number, limit = DASHBOARD_BLOCKS): BlockSummary[] {
    const chain = this.node.chain;
    const n = Math.max(1, Math.min(MAX_BLOCKS_PAGE, limit));
    const start = Math.min(chain.height, before === undefined ? chain.height : before - 1);
    const out: BlockSummary[] = [];
    for (let h = start; h >= 0 && out.length < n; h--) {
      const s = this.summary(chain.entryAt(h)!.hash);
      if (s) out.push(s);
    }
    return out;
  }

  /** Interval, difficulty and hash-rate series over the last `CHART_BLOCKS` blocks (cached per tip). */
  charts(): ChartSeries {
    const chain = this.node.chain, tip = chain.tip.hash;
    if (this.#charts?.tip === tip) return this.#charts.series;
    const limit = this.node.params.powLimit;
    const from = Math.max(0, chain.height - CHART_BLOCKS + 1);
    const s: ChartSeries = { height: [], time: [], interval: [], difficulty: [], hashrate: [] };
    // A sliding window over the blocks' work: one `blockWork` per block, not one per block and window slot.
    const start = Math.max(0, from - HASHRATE_WINDOW);
    const works: bigint[] = [], times: number[] = [];
    let window = 0n;
    for (let h = start; h <= chain.height; h++) {
      const e = chain.entryAt(h)!, i = h - start;
      works.push(blockWork(e.header.bits));
      times.push(e.header.time);
      if (i > 0) window += works[i];
      if (i > HASHRATE_WINDOW) window -= works[i - HASHRATE_WINDOW];
      if (h < from) continue;
      const back = Math.max(0, i - HASHRATE_WINDOW), span = times[i] - times[back];
      s.height.push(h);
      s.time.push(e.header.time);
      // The genesis block's time is a constant of the network, not when anyone mined it: no interval after it.
      s.interval.push(h > 1 ? times[i] - times[i - 1] : null);
      s.difficulty.push(difficulty(e.header.bits, limit));
      s.hashrate.push(span > 0 && i > 0 ? Math.round(Number(window) / span) : null);
    }
    this.#charts = { tip, series: s };
    return s;
  }

  /** Reorgs and side blocks seen since start, newest first. */
  forks(): ForkEvent[] {
    return this.#forks;
  }

  /** Records the active chain's newest hashes (call after each block), so a later reorg can be described. */
  noteTip(): void {
    const chain = this.node.chain;
    for (let h = chain.height; h >= 0 && h > chain.height - RECENT_HASHES; h--) {
      const hash = chain.entryAt(h)!.hash;
      if (this.#recent.get(h) === hash) break;
      this.#recent.set(h, hash);
    }
    for (const h of this.#recent.keys()) if (h <= chain.height - RECENT_HASHES) this.#recent.delete(h);
  }

  /** Records a reorg: the recent hashes that the active chain no longer has. */
  noteReorg(at = Date.now()): void {
    const chain = this.node.chain;
    const stale: ForkEvent["stale"] = [];
    for (const [h, hash] of this.#recent) {
      if (chain.entryAt(h)?.hash !== hash) stale.push({ height: h, hash });
    }
    if (!stale.length) return;
    stale.sort((a, b) => b.height - a.height);
    const forkHeight = stale.at(-1)!.height - 1;
    const joined: ForkEvent["joined"] = [];
    for (let h = chain.height; h > forkHeight && joined.length < RECENT_HASHES; h--) {
      joined.push({ height: h, hash: chain.entryAt(h)!.hash });
    }
    for (const s of stale) this.#recent.delete(s.height);
    this.#addFork({ kind: "reorg", at, forkHeight, stale, joined });
    this.noteTip();
  }

  /** Records a block that arrived on a branch with less work than the tip. */
  noteSide(hash: string, height: number, at = Date.now()): void {
    this.#addFork({ kind: "side", at, forkHeight: height - 1, stale: [{ height, hash }], joined: [] });
  }

  #addFork(f: ForkEvent): void {
    this.#forks.unshift(f);
    if (this.#forks.length > FORKS_KEPT) this.#forks.pop();
  }

  mempool(): MempoolSummary {
    const entries = this.node.mempool.entries();
    const histogram = FEE_BUCKETS.map((min) => ({ min, count: 0, bytes: 0 }));
    let bytes = 0, fees = 0;
    for (const e of entries) {
      bytes += e.size;
      fees += e.fee;
      let b = 0;
      while (b + 1 < FEE_BUCKETS.length && e.feeRate >= FEE_BUCKETS[b + 1]) b++;
      histogram[b].count++;
      histogram[b].bytes += e.size;
    }
    const newest = entries.slice(-10).reverse().map((e) => ({
      txid: e.txid,
      fee: e.fee,
      size: e.size,
      feeRate: +e.feeRate.toFixed(3),
      time: e.time,
    }));
    return { count: entries.length, bytes, fees, histogram, newest, nextBlock: this.nextBlock() };
  }

  /** The next block as the miner would fill it now (`Mempool.selectForBlock`, as `createTemplate` does). */
  nextBlock(): NextBlock {
    const picked = this.node.mempool.selectForBlock(MAX_BLOCK_SIZE - RESERVED_BYTES);
    const rates = picked.map((e) => e.feeRate).sort((a, b) => a - b);
    const round = (r: number | undefined) => r === undefined ? null : +r.toFixed(3);
    const mid = rates.length >> 1;
    return {
      count: picked.length,
      bytes: picked.reduce((n, e) => n + e.size, 0),
      fees: picked.reduce((n, e) => n + e.fee, 0),
      minFeeRate: round(rates[0]),
      medianFeeRate: rates.length === 0
        ? null
        : round(rates.length % 2 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2),
      maxFeeRate: round(rates.at(-1)),
      suggestedFeeRate: this.node.suggestedFeeRate(),
    };
  }

  /** The network as this node sees it, and the nodes that vanished from it lately. */
  network(): { view: NetworkView; lost: LostNode[] } {
    return { view: networkView(this.node), lost: this.#lost };
  }

  /** Keeps `lost` (bounded) for the map; returns true when it changed. */
  setLost(lost: LostNode[]): void {
    this.#lost = lost.slice(-32);
  }

  /** Everything the dashboard shows. */
  dashboard() {
    return {
      status: this.status(),
      network: this.network(),
      blocks: this.blocks(),
      forks: this.forks(),
      mempool: this.mempool(),
      charts: this.charts(),
    };
  }

  /** A block by height or hash, with one page of its transactions. */
  block(ref: string, page = 1) {
    const chain = this.node.chain;
    let entry;
    if (/^[0-9a-fA-F]{64}$/.test(ref)) entry = chain.entry(ref.toLowerCase());
    else if (/^\d{1,10}$/.test(ref)) entry = chain.entryAt(Number(ref));
    else throw new NotFound(`"${clip(ref)}" is neither a block height nor a block hash (64 hex digits)`);
    if (!entry) throw new NotFound(`this node has no block ${clip(ref)}`);
    const block = chain.getBlock(entry.hash);
    const summary = this.summary(entry.hash);
    if (!block || !summary) throw new NotFound(`this node has no block ${clip(ref)}`);
    const active = chain.isActive(entry);
    const pages = Math.max(1, Math.ceil(block.txs.length / BLOCK_TXS_PAGE));
    if (!Number.isSafeInteger(page) || page < 1 || page > pages) {
      throw new NotFound(
        `block ${entry.height} has ${pages} page(s) of transactions, not page ${clip(String(page))}`,
      );
    }
    const next = active ? chain.entryAt(entry.height + 1)?.hash ?? null : null;
    const h = entry.header;
    return {
      ...summary,
      active,
      confirmations: active ? chain.height - entry.height + 1 : 0,
      version: h.version,
      prevHash: h.prevHash,
      nextHash: next,
      merkleRoot: h.merkleRoot,
      bits: h.bits.toString(16).padStart(8, "0"),
      difficulty: difficulty(h.bits, this.node.params.powLimit),
      nonce: h.nonce,
      subsidy: blockSubsidy(entry.height, this.node.params),
      page,
      pages,
      txs: block.txs.slice((page - 1) * BLOCK_TXS_PAGE, page * BLOCK_TXS_PAGE).map((tx) => ({
        txid: txid(tx),
        coinbase: isCoinbase(tx),
        inputs: tx.inputs.length,
        outputs: tx.outputs.length,
        value: tx.outputs.reduce((s, o) => s + o.amount, 0),
        size: txSize(tx),
      })),
    };
  }

  /** A transaction in the mempool or on the active chain. */
  tx(id: string) {
    if (!/^[0-9a-fA-F]{64}$/.test(id)) {
      throw new NotFound(`"${clip(id)}" is not a transaction id (64 hex digits)`);
    }
    id = id.toLowerCase();
    const chain = this.node.chain, pending = this.node.mempool.get(id);
    let tx: Transaction, where: { height: number; block: string } | null = null;
    if (pending) tx = pending.tx;
    else {
      const at = this.index.tx(id);
      const block = at && chain.getBlock(at.block);
      const found = block?.txs[at!.pos];
      if (!at || !found || txid(found) !== id) {
        throw new NotFound(
          this.index.synced
            ? `no transaction ${id} in this node's mempool or chain`
            : `no transaction ${id} found yet: the index has reached block ${this.index.height} of ${chain.height}`,
        );
      }
      tx = found;
      where = { height: at.height, block: at.block };
    }
    const coinbase = isCoinbase(tx);
    let inSum = 0, known = true;
    const inputs = tx.inputs.slice(0, MAX_TX_ITEMS_SHOWN).map((i) => {
      const prev = this.#prevout(i.prevout.txid, i.prevout.index);
      if (prev) inSum += prev.amount;
      else known = false;
      return {
        txid: i.prevout.txid,
        index: i.prevout.index,
        address: this.address(prev?.pkh ?? pubKeyHash(i.publicKey)),
        amount: prev?.amount ?? null,
      };
    });
    if (tx.inputs.length > MAX_TX_ITEMS_SHOWN) known = false;
    const outSum = tx.outputs.reduce((s, o) => s + o.amount, 0);
    const outputs = tx.outputs.slice(0, MAX_TX_ITEMS_SHOWN).map((o, n) => ({
      index: n,
      address: this.address(o.pubKeyHash),
      amount: o.amount,
      spentBy: where ? this.index.output(id, n)?.spentBy ?? null : null,
    }));
    const size = txSize(tx);
    const fee = pending ? pending.fee : coinbase ? 0 : known ? inSum - outSum : null;
    return {
      txid: id,
      status: pending ? "pending" as const : "confirmed" as const,
      block: where && { height: where.height, hash: where.block },
      confirmations: where ? chain.height - where.height + 1 : 0,
      time: where ? chain.entryAt(where.height)!.header.time : Math.floor(pending!.time / 1000),
      coinbase,
      size,
      fee,
      feeRate: fee === null ? null : +(fee / size).toFixed(3),
      value: outSum,
      inputCount: tx.inputs.length,
      outputCount: tx.outputs.length,
      inputs,
      outputs,
    };
  }

  /** The output an input spends: confirmed (from the index) or in the mempool. */
  #prevout(id: string, n: number): { pkh: string; amount: number } | undefined {
    const o = this.index.output(id, n);
    if (o) return o;
    const parent = this.node.mempool.get(id)?.tx.outputs[n];
    return parent && { pkh: parent.pubKeyHash, amount: parent.amount };
  }

  /** An address's balance and one page of its history (older than `before`), plus its pending payments. */
  addressInfo(address: string, before?: number) {
    let pkh: string;
    try {
      pkh = decodeAddress(address, this.#prefix);
    } catch (e) {
      if (e instanceof AddressError) {
        throw new NotFound(`"${clip(address)}" is not a ${this.node.params.name} address: ${e.message}`);
      }
      throw e;
    }
    const canonical = this.address(pkh);
    const chain = this.node.chain, params = this.node.params;
    const totals = this.index.totals(pkh);
    const rows = this.index.history(pkh, before, HISTORY_PAGE + 1);
    const more = rows.length > HISTORY_PAGE;
    const history = rows.slice(0, HISTORY_PAGE).map((r) => ({
      ...r,
      confirmations: chain.height - r.height + 1,
    }));
    const pending: { txid: string; received: number; sent: number }[] = [];
    let pendingNet = 0;
    for (const e of this.node.mempool.entries()) {
      let received = 0, sent = 0;
      for (const o of e.tx.outputs) if (o.pubKeyHash === pkh) received += o.amount;
      for (const i of e.tx.inputs) {
        if (pubKeyHash(i.publicKey) === pkh) {
          sent += this.#prevout(i.prevout.txid, i.prevout.index)?.amount ?? 0;
        }
      }
      if (received || sent) {
        pendingNet += received - sent;
        if (pending.length < HISTORY_PAGE) pending.push({ txid: e.txid, received, sent });
      }
    }
    const balance = totals.received - totals.sent;
    return {
      address: canonical,
      balance,
      immature: this.index.immature(pkh, chain.height - params.coinbaseMaturity),
      pending: pendingNet,
      received: totals.received,
      sent: totals.sent,
      txCount: totals.txCount,
      history,
      /** Pass as `before` for the next (older) page; null on the last page. */
      next: more ? history.at(-1)!.id : null,
      pendingTxs: pending,
      index: { height: this.index.height, synced: this.index.synced },
    };
  }

  /** What the search box takes, said whenever a search finds nothing. */
  searchHelp(): string {
    return `the search box takes a block height (0 to ${this.node.chain.height}), a block hash or a transaction ` +
      `id (64 hex digits, or their first ${MIN_SEARCH_PREFIX} or more), or an address (${this.#prefix}1…)`;
  }

  /**
   * Where a search leads: one page (`path`), or the blocks and transactions whose id starts with the typed hex
   * (`matches`, `MAX_SEARCH_MATCHES` at most, `more` when there were others). Nothing found is a `NotFound`
   * saying what the box takes.
   */
  search(q: string): SearchResult {
    const s = q.trim();
    if (!s) throw new NotFound(`type something: ${this.searchHelp()}`);
    const chain = this.node.chain;
    if (/^\d{1,10}$/.test(s)) {
      if (Number(s) <= chain.height) return { path: `/block/${Number(s)}` };
      // Eight digits or more may also be the start of an id: look for one before saying no.
      if (s.length < MIN_SEARCH_PREFIX) {
        throw new NotFound(`no block at height ${s}: the tip is at height ${chain.height}`);
      }
    }
    if (/^[0-9a-fA-F]{64}$/.test(s)) {
      const id = s.toLowerCase();
      if (chain.entry(id)) return { path: `/block/${id}` };
      if (this.node.mempool.has(id) || this.index.tx(id)) return { path: `/tx/${id}` };
      throw new NotFound(`no block or transaction ${id} on this node`);
    }
    if (/^[0-9a-fA-F]+$/.test(s)) {
      if (s.length < MIN_SEARCH_PREFIX) {
        throw new NotFound(`"${clip(s)}" is too short to look up: ${this.searchHelp()}`);
      }
      const matches = this.#prefixMatches(s.toLowerCase());
      if (matches.length === 0) throw new NotFound(`no block or transaction starts with ${clip(s)}`);
      if (matches.length === 1) return { path: `/${matches[0].kind}/${matches[0].id}` };
      const more = matches.length > MAX_SEARCH_MATCHES;
      return { matches: matches.slice(0, MAX_SEARCH_MATCHES), more };
    }
    try {
      return { path: `/address/${this.address(decodeAddress(s, this.#prefix))}` };
    } catch (e) {
      if (!(e instanceof AddressError)) throw e;
      const why = s.toLowerCase().startsWith(`${this.#prefix}1`) ? ` (as an address: ${e.message})` : "";
      throw new NotFound(`nothing matches "${clip(s)}"${why}: ${this.searchHelp()}`);
    }
  }

  /** Blocks of the active chain, confirmed and pending transactions whose id starts with `prefix`. */
  #prefixMatches(prefix: string): SearchMatch[] {
    const limit = MAX_SEARCH_MATCHES + 1;
    const out: SearchMatch[] = this.index.blocksWithPrefix(prefix, limit).map((b) => ({
      kind: "block",
      id: b.hash,
      height: b.height,
    }));
    for (const id of this.index.txidsWithPrefix(prefix, limit)) {
      out.push({ kind: "tx", id, height: this.index.tx(id)?.height ?? null });
    }
    for (const e of this.node.mempool.entries()) {
      if (out.length > MAX_SEARCH_MATCHES) break;
      if (e.txid.startsWith(prefix)) out.push({ kind: "tx", id: e.txid, height: null });
    }
    return out;
  }
}

/** Difficulty as Bitcoin shows it: the easiest target over this block's. */
export function difficulty(bits: number, powLimit: bigint): number {
  const target = bitsToTarget(bits);
  if (target <= 0n) return 0;
  // Scale before converting, so the ratio keeps its digits whatever the size of the numbers.
  const scaled = (powLimit * 1_000_000n) / target;
  return Number(scaled) / 1_000_000;
}

/** Hex digits at least for a search by the start of an id. */
export const MIN_SEARCH_PREFIX = 8;
/** Matches listed at most for a search by the start of an id. */
export const MAX_SEARCH_MATCHES = 20;

/** A block or transaction whose id starts with what was searched; `height` null for a pending one. */
export interface SearchMatch {
  /** Which page it has. */
  kind: "block" | "tx";
  /** Its hash or txid. */
  id: string;
  /** Its block's height, or null while it is in the mempool. */
  height: number | null;
}

/** Where a search leads: one page, or a list of matches. */
export type SearchResult = { path: string } | { matches: SearchMatch[]; more: boolean };

/** At most `n` characters of something a visitor typed, for messages. */
export function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * The API's amount fields: the data objects hold base units; their JSON has decimal coin strings ("1.5"),
 * the unit rule of every JSON surface (RPC, `--json`, this API).
 */
export const API_AMOUNT_KEYS: ReadonlySet<string> = new Set([
  "amount",
  "balance",
  "fee",
  "fees",
  "immature",
  "pending",
  "received",
  "reward",
  "sent",
  "subsidy",
  "value",
]);
/** `JSON.stringify`'s replacer for the API and its `/events` JSON. */
export const apiAmounts = amountsAsCoins(API_AMOUNT_KEYS);
