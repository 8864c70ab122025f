/**
 * peerchain's public API: the ledger (encodings, consensus math, chain, mempool, wallet, store).
 *
 * @example
 * ```ts
 * import { Chain, Mempool, NETWORKS, openStore } from "./mod.ts";
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const mempool = new Mempool(chain);
 * console.log(chain.height, chain.tip.hash);
 * ```
 * @module
 */

export {
  blockHash,
  type BlockHeader,
  decodeHeader,
  encodeHeader,
  HEADER_SIZE,
} from "./lib/primitives/header.ts";
export {
  type Block,
  blockMerkleRoot,
  decodeBlock,
  encodeBlock,
  MAX_BLOCK_SIZE,
} from "./lib/primitives/block.ts";
export {
  decodeTransaction,
  encodeTransaction,
  type OutPoint,
  sigHash,
  type Transaction,
  txid,
  type TxInput,
  type TxOutput,
  wtxid,
} from "./lib/primitives/transaction.ts";
export { DecodeError } from "./lib/primitives/bytes.ts";
export { merkleRoot } from "./lib/primitives/merkle.ts";
export {
  bitsToTarget,
  blockWork,
  checkProofOfWork,
  retargetBits,
  targetToBits,
} from "./lib/consensus/pow.ts";
export { blockSubsidy, type NetworkName, type NetworkParams, NETWORKS } from "./lib/consensus/params.ts";
export { AmountError, COIN, formatAmount, MAX_MONEY, parseAmount } from "./lib/consensus/amount.ts";
export { sha256, sha256d } from "./lib/crypto/sha256.ts";
export { Chain, type ChainUpdate, type ProcessResult } from "./lib/chain/chain.ts";
export { Mempool, type MempoolEntry } from "./lib/chain/mempool.ts";
export { ValidationError } from "./lib/chain/errors.ts";
export type { Coin, CoinView } from "./lib/chain/coins.ts";
export { openStore, Store, StoreError } from "./lib/store/store.ts";
export { DataDirLocked, lockDataDir } from "./lib/store/lock.ts";
export { createTemplate } from "./lib/mining/template.ts";
