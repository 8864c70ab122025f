/**
 * Network parameters: one table for `main` and `regtest`, including each network's fixed genesis block.
 * @module
 */
import type { Block } from "../primitives/block.ts";
import { bitsToTarget } from "./pow.ts";
import { COIN } from "./amount.ts";

/** Everything that differs between networks. */
export interface NetworkParams {
  /** `"main"` or `"regtest"`. */
  name: NetworkName;
  /** The fixed first block, identical on every peer. */
  genesis: Block;
  /** Its hash, display order (checked against `genesis` by the tests). */
  genesisHash: string;
  /** The easiest target allowed. */
  powLimit: bigint;
  /** Seconds between blocks that retargeting aims for. */
  targetSpacing: number;
  /** Blocks between retargets. */
  retargetInterval: number;
  /** Regtest keeps its difficulty fixed. */
  noRetargeting: boolean;
  /**
   * Time-warp guard (Bitcoin's BIP94, scaled): the first block of a retarget period may be at most this many
   * seconds older than the block before it. BIP94 allows 600 s, one of Bitcoin's block spacings; here it is one
   * of ours. See `checkHeaderContext` in lib/chain/block_rules.ts for why.
   */
  maxTimewarp: number;
  /** Coinbase subsidy of the first blocks, in base units. */
  initialSubsidy: number;
  /** Blocks between halvings of the subsidy. */
  halvingInterval: number;
  /** Confirmations before a coinbase output may be spent. */
  coinbaseMaturity: number;
  /** TCP port a node listens on by default. */
  defaultPort: number;
  /** Human-readable prefix of addresses, so a main address is refused on regtest. */
  addressPrefix: string;
}

/** The names of the networks. */
export type NetworkName = "main" | "regtest";

/** Largest allowed distance of a block's time into the future, in seconds. */
export const MAX_FUTURE_BLOCK_TIME = 2 * 60 * 60;
/** Blocks whose median time a new block must exceed. */
export const MEDIAN_TIME_SPAN = 11;

function genesisBlock(bits: number, nonce: number): Block {
  return {
    header: {
      version: 1,
      prevHash: "0".repeat(64),
      merkleRoot: "09d2b02709c6eca6b5d56e32a9a0a81cff81434fbdf7ca332d220df7ee51dbb8",
      time: 1795000000,
      bits,
      nonce,
    },
    // Pays to a key hash of zeros, which no key has: like Bitcoin's, the genesis output is never spendable.
    txs: [{
      version: 1,
      inputs: [],
      outputs: [{ amount: 50 * COIN, pubKeyHash: "00".repeat(20) }],
      lockTime: 0,
    }],
  };
}

/**
 * The parameter table.
 * @example NETWORKS.regtest.coinbaseMaturity // 10
 */
export const NETWORKS: Readonly<Record<NetworkName, NetworkParams>> = {
  // About 2^24 hashes a block at the start: some seconds on one laptop core; retargeting then aims at 10 s.
  main: {
    name: "main",
    genesis: genesisBlock(0x1e00ffff, 615861),
    genesisHash: "00000092efd470fba6ba58981d44d57ddbb840727541d9b3afda986e0d83b570",
    powLimit: bitsToTarget(0x1f00ffff),
    targetSpacing: 10,
    retargetInterval: 60,
    noRetargeting: false,
    maxTimewarp: 10,
    initialSubsidy: 50 * COIN,
    halvingInterval: 210_000,
    coinbaseMaturity: 20,
    defaultPort: 8765,
    addressPrefix: "pc",
  },
  // Half of all hashes meet the target: a block in microseconds, for tests and demos.
  regtest: {
    name: "regtest",
    genesis: genesisBlock(0x207fffff, 0),
    genesisHash: "793932a487e65766cff20c56d5c20e889afcdefbc2b96e781825e2b13bb5930e",
    powLimit: bitsToTarget(0x207fffff),
    targetSpacing: 10,
    retargetInterval: 60,
    noRetargeting: true,
    maxTimewarp: 10,
    initialSubsidy: 50 * COIN,
    halvingInterval: 150,
    coinbaseMaturity: 10,
    defaultPort: 18765,
    addressPrefix: "pcrt",
  },
};

/**
 * The coinbase subsidy at `height`, halving every `halvingInterval` blocks.
 * @example Fifty coins, then half
 * ```ts
 * import { blockSubsidy, COIN, NETWORKS } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const main = NETWORKS.main;
 * assert.equal(blockSubsidy(0, main), 50 * COIN);
 * assert.equal(blockSubsidy(main.halvingInterval, main), 25 * COIN);
 * ```
 */
export function blockSubsidy(height: number, params: NetworkParams): number {
  const halvings = Math.floor(height / params.halvingInterval);
  return halvings >= 64 ? 0 : Math.floor(params.initialSubsidy / 2 ** halvings);
}
