/**
 * The ledger's side of compact relay (`LedgerPort.idOf`, `compactBlock`, `rebuildCompact`): the node encodes
 * a block's compact form and rebuilds one from its mempool, so that `lib/net` handles bytes and ids only.
 * @module
 */
import type { Chain } from "../chain/chain.ts";
import type { Mempool } from "../chain/mempool.ts";
import type { CompactOutcome } from "../net/ledger_port.ts";
import { type Block, decodeBlock, encodeBlock } from "../primitives/block.ts";
import { DecodeError } from "../primitives/bytes.ts";
import {
  compactBlock,
  decodeCompactBlock,
  encodeCompactBlock,
  MAX_SHORT_IDS,
  rebuildBlock,
  shortIdIndex,
  shortIdKey,
} from "../primitives/compact_block.ts";
import { blockHashSync, decodeHeader, HEADER_SIZE } from "../primitives/header.ts";
import {
  decodeTransaction,
  encodeTransaction,
  type Transaction,
  txid,
  wtxid,
} from "../primitives/transaction.ts";
import { refused } from "./verdict.ts";
import type { BlockIds } from "../chain/block_rules.ts";

/** What the compact relay needs of the ledger: the chain's index and the mempool's transactions. */
export interface CompactLedger {
  /** See `LedgerPort.idOf`. */
  idOf(kind: "block" | "tx", bytes: Uint8Array): string | undefined;
  /** See `LedgerPort.compactBlock`. */
  compactBlock(block: Uint8Array, nonce: bigint): Uint8Array | undefined;
  /** See `LedgerPort.blockTransactions`. */
  blockTransactions(hash: string, positions: readonly number[]): Uint8Array[] | undefined;
  /** See `LedgerPort.rebuildCompact`. */
  rebuildCompact(
    compact: Uint8Array,
    fill?: { positions: readonly number[]; txs: readonly Uint8Array[] },
  ): CompactOutcome;
}

/** The id of a block's or transaction's bytes, undefined when they do not decode. */
export function idOf(kind: "block" | "tx", bytes: Uint8Array): string | undefined {
  try {
    if (kind === "block") return blockHashSync(decodeHeader(bytes.subarray(0, HEADER_SIZE)));
    return txid(decodeTransaction(bytes));
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
}

/** The node's side of `compactLedger`: what keeps a warm block's hop from hashing and decoding twice. */
export interface CompactSide extends CompactLedger {
  /**
   * A transaction entered the mempool: its wtxid is hashed now, while payments trickle in, so the block that
   * confirms it rebuilds (short ids, merkle root) without hashing it on the block's own path.
   */
  noteTx(tx: Transaction): void;
  /**
   * The block the last `rebuildCompact` made of these very bytes (the same array), taken (kept once only), with
   * its transactions' ids (the mempool's txids, the memo's wtxids), or undefined: the receiver then need not
   * decode what it has just encoded, nor hash what its mempool hashed.
   */
  takeRebuilt(bytes: Uint8Array): { block: Block; ids: BlockIds } | undefined;
}

/** The compact relay over `chain` and `mempool`. */
export function compactLedger(chain: Chain, mempool: Mempool): CompactSide {
  // A mempool transaction's wtxid, hashed once (the pool is indexed again for every compact block); entries
  // go with their transactions.
  const wtxids = new WeakMap<Transaction, string>();
  const wtxidOf = (tx: Transaction) => {
    let w = wtxids.get(tx);
    if (w === undefined) wtxids.set(tx, w = wtxid(tx));
    return w;
  };
  let last: { bytes: Uint8Array; block: Block; ids: BlockIds } | undefined;
  return {
    idOf,
    noteTx: (tx) => void wtxidOf(tx),
    takeRebuilt(bytes) {
      const r = last;
      last = undefined;
      return r?.bytes === bytes ? { block: r.block, ids: r.ids } : undefined;
    },
    compactBlock(bytes, nonce) {
      try {
        // The chain's own object when it holds the block (just connected: its wtxids came with its checks).
        const held = bytes.length >= HEADER_SIZE
          ? chain.getBlock(blockHashSync(decodeHeader(bytes.subarray(0, HEADER_SIZE))))
          : undefined;
        if (held) return encodeCompactBlock(compactBlock(held, nonce, chain.wtxidsOf(held)));
        return encodeCompactBlock(compactBlock(decodeBlock(bytes), nonce));
      } catch (e) {
        if (e instanceof DecodeError) return undefined;
        throw e;
      }
    },
    blockTransactions(hash, positions) {
      const bytes = chain.getBlockBytes(hash);
      if (!bytes) return undefined;
      const { txs } = decodeBlock(bytes); // stored bytes were checked when the block came
      if (positions.some((p) => !(p >= 0 && p < txs.length))) return undefined;
      return positions.map((p) => encodeTransaction(txs[p]));
    },
    rebuildCompact(bytes, fill) {
      let cb;
      try {
        cb = decodeCompactBlock(bytes);
      } catch (e) {
        if (e instanceof DecodeError) return { kind: "malformed", reason: e.message };
        throw e;
      }
      const id = blockHashSync(cb.header);
      if (chain.has(id)) return { kind: "known", id };
      // Cheap checks first: the header's work and time before any short id is computed over the mempool.
      try {
        if (chain.checkHeader(cb.header, { requested: false }) === "orphan") return { kind: "orphan", id };
      } catch (e) {
        const verdict = refused(e, id);
        return verdict.kind === "known" ? { kind: "known", id } : { kind: "refused", id, verdict };
      }
      const received = new Map<number, Transaction>();
      if (fill) {
        if (fill.positions.length !== fill.txs.length) {
          return {
            kind: "malformed",
            reason: `${fill.txs.length} transactions for ${fill.positions.length}`,
          };
        }
        for (let i = 0; i < fill.txs.length; i++) {
          const p = fill.positions[i];
          if (!Number.isSafeInteger(p) || p < 1 || p > cb.shortIds.length || p > MAX_SHORT_IDS) {
            return { kind: "malformed", reason: `position ${p} is not in the block` };
          }
          try {
            received.set(p, decodeTransaction(fill.txs[i]));
          } catch (e) {
            if (e instanceof DecodeError) return { kind: "malformed", reason: e.message };
            throw e;
          }
        }
      }
      const index = shortIdIndex(
        shortIdKey(cb.header, cb.nonce),
        mempool.entries().map((e) => e.tx),
        wtxidOf,
      );
      const r = rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (s) => index.get(s), received, wtxidOf);
      if (r.status === "missing") return { kind: "missing", id, missing: r.missing };
      if (r.status === "failed") return { kind: "failed", id, reason: r.reason };
      const block = encodeBlock(r.block);
      // The pool's own objects carry their ids; the coinbase and any transaction sent to fill are hashed.
      const txids = r.block.txs.map((tx) => mempool.entryOf(tx)?.txid ?? txid(tx));
      last = { bytes: block, block: r.block, ids: { txids, wtxids: r.block.txs.map(wtxidOf) } };
      return { kind: "rebuilt", id, block };
    },
  };
}
