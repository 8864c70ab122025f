/**
 * Block templates: a coinbase paying the miner (committing to the height), the mempool's transactions by fee
 * rate up to the size limit, the merkle root computed once, the required bits and a time after the median
 * time past. Also a synchronous solver for trivial difficulties (regtest, tests).
 * @module
 */
import { blockSubsidy } from "../consensus/params.ts";
import { checkProofOfWork } from "../consensus/pow.ts";
import type { Chain } from "../chain/chain.ts";
import type { Mempool } from "../chain/mempool.ts";
import { type Block, blockMerkleRoot, MAX_BLOCK_SIZE } from "../primitives/block.ts";
import { blockHashSync } from "../primitives/header.ts";
import type { Transaction } from "../primitives/transaction.ts";

/** Room kept for the header and the coinbase. */
export const RESERVED_BYTES = 1_000;

/** A block to mine, with nonce 0, and what it pays. */
export interface BlockTemplate {
  /** The block, with nonce 0. */
  block: Block;
  /** Its height. */
  height: number;
  /** Sum of the included transactions' fees. */
  fees: number;
}

/**
 * A template on the chain's tip paying `payTo` (a 40-hex key hash).
 * @example A template pays the subsidy to the miner at the next height
 * ```ts
 * import { blockSubsidy, Chain, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const { block, height } = createTemplate(chain, undefined, "ab".repeat(20));
 * assert.equal(height, 1);
 * assert.equal(block.header.prevHash, chain.tip.hash);
 * assert.deepEqual(block.txs[0].outputs, [{ amount: blockSubsidy(1, NETWORKS.regtest), pubKeyHash: "ab".repeat(20) }]);
 * ```
 */
export function createTemplate(
  chain: Chain,
  mempool: Mempool | undefined,
  payTo: string,
  opts: { time?: number; maxBytes?: number } = {},
): BlockTemplate {
  const ctx = chain.nextBlockContext();
  const entries = mempool?.selectForBlock((opts.maxBytes ?? MAX_BLOCK_SIZE) - RESERVED_BYTES) ?? [];
  const fees = entries.reduce((s, e) => s + e.fee, 0);
  const coinbase: Transaction = {
    version: 1,
    inputs: [],
    outputs: [{ amount: blockSubsidy(ctx.height, chain.params) + fees, pubKeyHash: payTo }],
    lockTime: ctx.height,
  };
  const txs = [coinbase, ...entries.map((e) => e.tx)];
  const time = Math.max(opts.time ?? Math.floor(Date.now() / 1000), ctx.minTime);
  const header = {
    version: 1,
    prevHash: ctx.prevHash,
    merkleRoot: blockMerkleRoot(txs),
    time,
    bits: ctx.bits,
    nonce: 0,
  };
  return { block: { header, txs }, height: ctx.height, fees };
}

/**
 * Searches nonces synchronously until the header meets its bits; for regtest's trivial difficulty (about two
 * tries). Throws after `maxTries`, so it is never used for real difficulty.
 * @example Solve a regtest block
 * ```ts
 * import { blockHash, Chain, checkProofOfWork, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate, solveSync } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const { header } = solveSync(createTemplate(chain, undefined, "00".repeat(20)).block);
 * assert.equal(checkProofOfWork(await blockHash(header), header.bits), true);
 * ```
 */
export function solveSync(block: Block, maxTries = 1_000_000): Block {
  const header = { ...block.header };
  for (let i = 0; i < maxTries; i++, header.nonce = (header.nonce + 1) >>> 0) {
    if (checkProofOfWork(blockHashSync(header), header.bits)) return { header, txs: block.txs };
  }
  throw new Error(`no nonce found in ${maxTries} tries: use the miner for this difficulty`);
}
