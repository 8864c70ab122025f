/**
 * Compact relay (BIP-152's idea) on the wire: a block travels as `cmpctblock` (header, coinbase, short ids);
 * the receiver's ledger rebuilds it from its mempool (`LedgerPort.rebuildCompact`), asks the sender only for
 * what it lacks (`getblocktxn`, answered by `blocktxn`), and falls back to the full block (`getdata`) when it
 * does not rebuild: a short-id collision, duplicate ids, or transactions that do not match the header. The
 * rebuilt block then goes to `receiveBlock` like a pushed one, whose check skips signatures the mempool
 * already verified. Messages of protocol 3 (unreleased when they joined it, so no version bump).
 * @module
 */
import { fromHex, toHex } from "../crypto/hex.ts";
import { MALFORMED_SCORE } from "./ban.ts";
import type { CompactOutcome, LedgerPort } from "./ledger_port.ts";
import type { Link } from "./link.ts";
import type { BlockTxnMessage, CompactBlockMessage, GetBlockTxnMessage } from "./messages.ts";
import type { ServeQueue } from "./serve.ts";

/** Compact blocks kept while their missing transactions are asked for, at most (the oldest goes first). */
export const MAX_WAITING_COMPACT = 16;
/** Their bytes at most, together (a compact block of a full 1 MB block is about 36 kB). */
export const MAX_WAITING_COMPACT_BYTES = 2_000_000;

/** What the compact relay asks of the relay around it. */
export interface CompactHooks {
  /** Hands a rebuilt block's bytes on as if `link` had pushed it; `others` are where it goes next. */
  takeBlock(link: Link, bytes: Uint8Array, others: () => Link[]): Promise<void>;
  /** `link` announced a block whose parent we lack: download from it. */
  orphan(link: Link): void;
  /** `link` sent something refused with a score. */
  misbehaved(link: Link, score: number, reason: string): void;
}

/** A compact block waiting for the transactions asked of its sender. */
interface Waiting {
  link: Link;
  bytes: Uint8Array;
  positions: number[];
}

/** Sends blocks compact and rebuilds the ones received. */
export class CompactRelay {
  #ledger: LedgerPort;
  #hooks: CompactHooks;
  #serve: ServeQueue;
  /** By block id, oldest first; bounded by `MAX_WAITING_COMPACT` and `MAX_WAITING_COMPACT_BYTES`. */
  #waiting = new Map<string, Waiting>();
  #waitingBytes = 0;

  constructor(ledger: LedgerPort, hooks: CompactHooks, serve: ServeQueue) {
    this.#ledger = ledger;
    this.#hooks = hooks;
    this.#serve = serve;
  }

  /** A block's `cmpctblock` message under a fresh random nonce, or undefined to send it in full. */
  message(block: Uint8Array): CompactBlockMessage | undefined {
    if (!this.#ledger.compactBlock || !this.#ledger.rebuildCompact) return undefined;
    const n = new BigUint64Array(1);
    crypto.getRandomValues(n);
    const compact = this.#ledger.compactBlock(block, n[0]);
    // A block of a coinbase alone is smaller whole.
    return compact && compact.length < block.length
      ? { type: "cmpctblock", data: toHex(compact) }
      : undefined;
  }

  /** Compact blocks waiting for transactions, and their bytes (for tests and metrics). */
  get waiting(): { count: number; bytes: number } {
    return { count: this.#waiting.size, bytes: this.#waitingBytes };
  }

  /** A `cmpctblock` from `link`. */
  async onCompact(link: Link, msg: CompactBlockMessage, others: () => Link[]): Promise<void> {
    const bytes = fromHex(msg.data);
    if (!this.#ledger.rebuildCompact) {
      // We relay full blocks only: ask for this one whole.
      const id = this.#ledger.idOf("block", bytes);
      if (id) link.conn.send({ type: "getdata", kind: "block", ids: [id] });
      return;
    }
    await this.#act(link, bytes, this.#ledger.rebuildCompact(bytes), others);
  }

  /** A `blocktxn` from `link`: only the answer to our `getblocktxn` for that block, on that link, counts. */
  async onBlockTxn(link: Link, msg: BlockTxnMessage, others: () => Link[]): Promise<void> {
    const w = this.#waiting.get(msg.hash);
    if (!w || w.link !== link || !this.#ledger.rebuildCompact) {
      this.#hooks.misbehaved(link, MALFORMED_SCORE, "blocktxn: not requested");
      return;
    }
    this.#drop(msg.hash);
    const r = this.#ledger.rebuildCompact(w.bytes, { positions: w.positions, txs: msg.data.map(fromHex) });
    // Still missing after the fill: the sender did not send what we asked; ask for the block whole.
    if (r.kind === "missing") return this.#full(link, r.id);
    await this.#act(link, w.bytes, r, others);
  }

  /** A `getblocktxn` from `link`: the transactions of a block we hold, within the serving budgets. */
  async onGetBlockTxn(link: Link, msg: GetBlockTxnMessage): Promise<void> {
    await this.#serve.serveOne(link, () => {
      const txs = this.#ledger.blockTransactions?.(msg.hash, msg.positions);
      if (!txs) {
        link.conn.send({ type: "notfound", kind: "block", ids: [msg.hash] });
        return 0;
      }
      link.conn.send({ type: "blocktxn", hash: msg.hash, data: txs.map(toHex) });
      return txs.reduce((n, t) => n + t.length, 0);
    });
  }

  async #act(link: Link, bytes: Uint8Array, r: CompactOutcome, others: () => Link[]): Promise<void> {
    switch (r.kind) {
      case "malformed":
        return this.#hooks.misbehaved(link, MALFORMED_SCORE, `cmpctblock: ${r.reason}`);
      case "known":
        return;
      case "refused": {
        const v = r.verdict;
        if (v.kind === "rejected" && v.score > 0) {
          this.#hooks.misbehaved(link, v.score, `cmpctblock: ${v.code}: ${v.reason}`);
        }
        return;
      }
      case "orphan":
        return this.#hooks.orphan(link);
      case "failed":
        return this.#full(link, r.id);
      case "missing":
        if (this.#waiting.has(r.id)) return; // asked already (of this or another link)
        this.#keep(r.id, { link, bytes, positions: r.missing });
        link.conn.send({ type: "getblocktxn", hash: r.id, positions: r.missing });
        return;
      case "rebuilt":
        return await this.#hooks.takeBlock(link, r.block, others);
    }
  }

  /** Asks `link` for block `id` whole. */
  #full(link: Link, id: string): void {
    link.conn.send({ type: "getdata", kind: "block", ids: [id] });
  }

  #keep(id: string, w: Waiting): void {
    // What a closed link owed us is asked of no one: another link's announcement brings the block.
    for (const [old, o] of this.#waiting) if (o.link.conn.isClosed) this.#drop(old);
    this.#waiting.set(id, w);
    this.#waitingBytes += w.bytes.length;
    for (const old of this.#waiting.keys()) {
      if (this.#waiting.size <= MAX_WAITING_COMPACT && this.#waitingBytes <= MAX_WAITING_COMPACT_BYTES) break;
      if (old === id) continue;
      this.#drop(old);
    }
  }

  #drop(id: string): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    this.#waiting.delete(id);
    this.#waitingBytes -= w.bytes.length;
  }
}
