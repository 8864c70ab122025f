/**
 * A cheap `LedgerPort` for simulated nodes: real regtest blocks (80-byte header and a coinbase, mined in
 * microseconds: regtest accepts half of all hashes), kept once in a `BlockStore` shared by every node, and
 * per node only the set of blocks it has, its tip (the highest block: every block carries the same work
 * here), its active chain and orphans waiting for a parent. The store records when each node connected each
 * block and from which node, which is how the world measures spread and hops. Transactions are opaque bytes
 * (id: their double SHA-256), taken once each and never mined, so that relaying one is seen as relaying one
 * (`SIM_TX_MAX` at most per node).
 * @module
 */
import { toHexReversed } from "../crypto/hex.ts";
import { sha256dSync } from "../crypto/sha256.ts";
import { blockSubsidy, NETWORKS } from "../consensus/params.ts";
import { blockWork, checkProofOfWork } from "../consensus/pow.ts";
import type { LedgerPort, TipInfo, Verdict } from "../net/ledger_port.ts";
import { blockMerkleRoot, decodeBlock, encodeBlock } from "../primitives/block.ts";
import { HEADER_SIZE } from "../primitives/header.ts";
import type { Transaction } from "../primitives/transaction.ts";
import { solveSync } from "../mining/template.ts";

const PARAMS = NETWORKS.regtest;
const BITS = PARAMS.genesis.header.bits;
const WORK = blockWork(BITS);
/** Orphans a node keeps at most (the oldest goes first). */
export const MAX_SIM_ORPHANS = 64;

/** When a node connected a block, and who sent it (undefined: mined there, or the sender said nothing). */
export interface Arrival {
  /** Virtual ms since the start of the run. */
  readonly t: number;
  /** The sender's node id as its hello gave it. */
  readonly from: string | undefined;
}

/** A block as the simulation keeps it, once for all nodes. */
export interface SimBlock {
  /** Display-order hash. */
  readonly hash: string;
  /** The parent's hash. */
  readonly prevHash: string;
  /** Height (genesis 0). */
  readonly height: number;
  /** Canonical bytes. */
  readonly bytes: Uint8Array;
  /** Header time, seconds. */
  readonly time: number;
  /** Per node id: when it connected this block and from whom. */
  readonly arrivals: Map<string, Arrival>;
}

/** What the ledgers need to know about time: virtual ms since the start, and `Date.now`-like ms. */
export interface LedgerClock {
  /** Exact virtual ms since the start. */
  readonly elapsed: number;
  /** Whole ms since the epoch. */
  now(): number;
}

/** A `LedgerClock` on the wall clock, for light ledgers over real sockets (the benchmarks). */
export function wallClock(): LedgerClock {
  const epoch = Date.now();
  return {
    get elapsed() {
      return Date.now() - epoch;
    },
    now: () => Date.now(),
  };
}

/** Every block of the simulation, shared by all nodes. */
export class BlockStore {
  /** The regtest genesis block. */
  readonly genesis: SimBlock;
  readonly #blocks = new Map<string, SimBlock>();
  readonly #clock: LedgerClock;

  /** A store holding only genesis. */
  constructor(clock: LedgerClock) {
    this.#clock = clock;
    const g = PARAMS.genesis;
    this.genesis = {
      hash: PARAMS.genesisHash,
      prevHash: g.header.prevHash,
      height: 0,
      bytes: encodeBlock(g),
      time: g.header.time,
      arrivals: new Map(),
    };
    this.#blocks.set(this.genesis.hash, this.genesis);
  }

  /** The block with `hash`, if any node has made or validated it. */
  get(hash: string): SimBlock | undefined {
    return this.#blocks.get(hash);
  }

  /** Number of blocks, genesis included. */
  get size(): number {
    return this.#blocks.size;
  }

  /** Builds and solves a block on `parent` paying `payTo` (40 hex digits); stores it. */
  mine(parent: SimBlock, payTo: string): SimBlock {
    const height = parent.height + 1;
    const coinbase: Transaction = {
      version: 1,
      inputs: [],
      outputs: [{ amount: blockSubsidy(height, PARAMS), pubKeyHash: payTo }],
      lockTime: height,
    };
    const time = Math.max(parent.time + 1, Math.floor(this.#clock.now() / 1000));
    const block = solveSync({
      header: {
        version: 1,
        prevHash: parent.hash,
        merkleRoot: blockMerkleRoot([coinbase]),
        time,
        bits: BITS,
        nonce: 0,
      },
      txs: [coinbase],
    });
    const bytes = encodeBlock(block);
    const b: SimBlock = {
      hash: hashOf(bytes),
      prevHash: parent.hash,
      height,
      bytes,
      time,
      arrivals: new Map(),
    };
    this.#blocks.set(b.hash, b);
    return b;
  }

  /**
   * The stored block for `bytes` whose hash is `hash`; a block no node has seen is checked here first (header
   * fields, proof of work, merkle root, coinbase height) and stored. Its parent must be stored already.
   */
  admit(hash: string, bytes: Uint8Array): SimBlock | { code: string; reason: string } {
    const known = this.#blocks.get(hash);
    if (known) {
      return sameBytes(known.bytes, bytes)
        ? known
        : { code: "mutated", reason: "block body does not match its header" };
    }
    let block;
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      return { code: "malformed", reason: (e as Error).message };
    }
    const parent = this.#blocks.get(block.header.prevHash);
    if (!parent) return { code: "orphan", reason: "parent unknown" };
    const h = block.header;
    if (h.bits !== BITS || !checkProofOfWork(hash, h.bits, PARAMS.powLimit)) {
      return { code: "pow", reason: "bad proof of work" };
    }
    if (block.txs.length !== 1 || block.txs[0].inputs.length !== 0) {
      return { code: "txs", reason: "a simulated block holds only its coinbase" };
    }
    if (block.txs[0].lockTime !== parent.height + 1) return { code: "height", reason: "coinbase height" };
    if (blockMerkleRoot(block.txs) !== h.merkleRoot) return { code: "merkle", reason: "bad merkle root" };
    const b: SimBlock = {
      hash,
      prevHash: parent.hash,
      height: parent.height + 1,
      bytes: bytes.slice(),
      time: h.time,
      arrivals: new Map(),
    };
    this.#blocks.set(hash, b);
    return b;
  }
}

/** The display-order hash of a block's bytes (of its first 80 bytes). */
export function hashOf(bytes: Uint8Array): string {
  return toHexReversed(sha256dSync(bytes.subarray(0, HEADER_SIZE)));
}

/** Transactions one simulated ledger keeps at most (the oldest forgotten first). */
export const SIM_TX_MAX = 1_000;

/** A simulated transaction's id: the double SHA-256 of its bytes, display order. */
function txIdOf(bytes: Uint8Array): string {
  return toHexReversed(sha256dSync(bytes));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One node's ledger over the shared store. */
export class SimLedger implements LedgerPort {
  /** Always regtest. */
  readonly network = "regtest" as const;
  /** The regtest genesis hash. */
  readonly genesis: string = PARAMS.genesisHash;
  /** A fixed address: the simulation has no wallets. */
  readonly walletAddress = "sim";
  /** The node this ledger belongs to (the key of its arrivals). */
  readonly nodeId: string;
  readonly #store: BlockStore;
  readonly #clock: LedgerClock;
  readonly #known = new Set<string>();
  #active: SimBlock[];
  #orphans = new Map<string, { bytes: Uint8Array; from: string | undefined }[]>();
  #orphanCount = 0;
  /** Transactions taken, by id, oldest first. */
  #txs = new Map<string, Uint8Array>();

  /** A ledger that knows only genesis. */
  constructor(store: BlockStore, nodeId: string, clock: LedgerClock) {
    this.#store = store;
    this.nodeId = nodeId;
    this.#clock = clock;
    this.#known.add(store.genesis.hash);
    this.#active = [store.genesis];
  }

  /** The tip block. */
  get tipBlock(): SimBlock {
    return this.#active[this.#active.length - 1];
  }

  /** True when this node has connected `hash`. */
  knows(hash: string): boolean {
    return this.#known.has(hash);
  }

  tip(): TipInfo {
    const t = this.tipBlock;
    return { hash: t.hash, height: t.height, work: WORK * BigInt(t.height + 1) };
  }

  locator(): string[] {
    const out: string[] = [];
    let step = 1;
    for (let h = this.#active.length - 1; h > 0; h -= step) {
      out.push(this.#active[h].hash);
      if (out.length >= 10) step *= 2;
    }
    out.push(this.#active[0].hash);
    return out;
  }

  hashesAfter(locator: string[], max: number): string[] {
    let from = 0;
    for (const hash of locator) {
      const b = this.#known.has(hash) ? this.#store.get(hash) : undefined;
      if (b && this.#active[b.height] === b) {
        from = b.height;
        break;
      }
    }
    return this.#active.slice(from + 1, from + 1 + max).map((b) => b.hash);
  }

  blockBytes(hash: string): Uint8Array | undefined {
    return this.#known.has(hash) ? this.#store.get(hash)?.bytes : undefined;
  }

  txBytes(id: string): Uint8Array | undefined {
    return this.#txs.get(id);
  }

  has(kind: "block" | "tx", id: string): boolean {
    return kind === "block" ? this.#known.has(id) : this.#txs.has(id);
  }

  receiveBlock(bytes: Uint8Array, from?: string): Promise<Verdict> {
    return Promise.resolve(this.#receive(bytes, from));
  }

  receiveTx(bytes: Uint8Array): Promise<Verdict> {
    return Promise.resolve(this.takeTx(bytes));
  }

  /** Takes a transaction (any bytes but none): accepted the first time, known after. */
  takeTx(bytes: Uint8Array): Verdict {
    if (bytes.length === 0) {
      return { kind: "rejected", code: "sim", reason: "an empty transaction", score: 0 };
    }
    const id = txIdOf(bytes);
    if (this.#txs.has(id)) return { kind: "known", id };
    this.#txs.set(id, bytes.slice());
    if (this.#txs.size > SIM_TX_MAX) this.#txs.delete(this.#txs.keys().next().value!);
    return { kind: "accepted", id };
  }

  pendingTxids(): string[] {
    return [];
  }

  idOf(kind: "block" | "tx", bytes: Uint8Array): string | undefined {
    // A block is named by its header's hash, as #receive names it; a transaction as takeTx names it.
    if (kind === "tx") return bytes.length ? txIdOf(bytes) : undefined;
    return bytes.length >= HEADER_SIZE ? hashOf(bytes) : undefined;
  }

  /** Mines a block on this node's tip and connects it here; the caller relays `bytes`. */
  mine(): SimBlock {
    const payTo = this.nodeId.padEnd(40, "0").slice(0, 40).replace(/[^0-9a-f]/g, "0");
    const b = this.#store.mine(this.tipBlock, payTo);
    this.#connect(b, undefined);
    return b;
  }

  #receive(bytes: Uint8Array, from: string | undefined): Verdict {
    if (bytes.length < HEADER_SIZE) {
      return { kind: "rejected", code: "malformed", reason: "shorter than a header", score: 20 };
    }
    const hash = hashOf(bytes);
    if (this.#known.has(hash)) return { kind: "known", id: hash };
    const prevHash = toHexReversed(bytes.subarray(4, 36));
    if (!this.#known.has(prevHash)) {
      this.#addOrphan(prevHash, bytes, from);
      return { kind: "orphan", id: hash };
    }
    const b = this.#store.admit(hash, bytes);
    if (!("arrivals" in b)) return { kind: "rejected", id: hash, ...b, score: 100 };
    this.#connect(b, from);
    return { kind: "accepted", id: hash };
  }

  #connect(b: SimBlock, from: string | undefined): void {
    this.#known.add(b.hash);
    b.arrivals.set(this.nodeId, { t: this.#clock.elapsed, from });
    if (b.height > this.tipBlock.height) this.#setTip(b);
    const waiting = this.#orphans.get(b.hash);
    if (!waiting) return;
    this.#orphans.delete(b.hash);
    this.#orphanCount -= waiting.length;
    for (const o of waiting) this.#receive(o.bytes, o.from);
  }

  #setTip(b: SimBlock): void {
    const chain = this.#active;
    chain.length = b.height + 1;
    for (let x: SimBlock | undefined = b; x && chain[x.height] !== x; x = this.#store.get(x.prevHash)) {
      chain[x.height] = x;
    }
  }

  #addOrphan(prevHash: string, bytes: Uint8Array, from: string | undefined): void {
    if (this.#orphanCount >= MAX_SIM_ORPHANS) {
      const [oldest, list] = this.#orphans.entries().next().value!;
      list.shift();
      this.#orphanCount--;
      if (list.length === 0) this.#orphans.delete(oldest);
    }
    const list = this.#orphans.get(prevHash) ?? [];
    if (list.some((o) => sameBytes(o.bytes, bytes))) return;
    list.push({ bytes: bytes.slice(), from });
    this.#orphans.set(prevHash, list);
    this.#orphanCount++;
  }
}
