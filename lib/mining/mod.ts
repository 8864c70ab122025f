/**
 * Mining as a library (`@peerchain/peerchain/mining`): block templates on a chain's tip, a synchronous solver
 * for regtest, the worker pool that searches nonces with a SIMD wasm SHA-256d kernel, and the `Miner` that
 * keeps mining on whatever the tip becomes. Workers start only when a pool is made.
 *
 * @example Mine regtest blocks onto a chain
 * ```ts
 * import { Chain, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate, solveSync } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * for (let i = 0; i < 3; i++) {
 *   await chain.processBlock(solveSync(createTemplate(chain, undefined, "00".repeat(20)).block));
 * }
 * assert.equal(chain.height, 3);
 * ```
 * @module
 */

export { type BlockTemplate, createTemplate, solveSync } from "./template.ts";
export { MinerPool, MiningError, type SearchOptions, type SearchResult } from "./pool.ts";
export { Miner, type MinerHost, type MinerStatus } from "./miner.ts";
