/**
 * peerchain's ledger: keys and hashes, the block and transaction encodings, the consensus rules, the chain
 * with its mempool, the SQLite store and the wallet. Nothing here opens a socket: the network, the mining
 * workers, the node and its RPC are separate entry points (`@peerchain/peerchain/net`, `/mining`, `/node`,
 * `/rpc`), so a program that only validates or builds transactions loads none of them.
 *
 * @example Validate and connect blocks in memory
 * ```ts
 * import { Chain, Mempool, NETWORKS, openStore } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const mempool = new Mempool(chain);
 * assert.equal(chain.height, 0);
 * assert.equal(chain.tip.hash, NETWORKS.regtest.genesisHash);
 * assert.equal(mempool.size, 0);
 * ```
 * @module
 */

export { sha256, sha256d } from "./lib/crypto/sha256.ts";
export {
  exportPrivateKey,
  generateKeyPair,
  importPrivateKey,
  type KeyPair,
  sign,
  verify,
} from "./lib/crypto/ed25519.ts";
export { AddressError, decodeAddress, encodeAddress, pubKeyHash } from "./lib/crypto/address.ts";
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
export {
  type BlockEntry,
  BlockStatus,
  Chain,
  type ChainOptions,
  type ChainUpdate,
  type ChangedBlock,
  type ProcessOptions,
  type ProcessResult,
  type SigCacheStats,
} from "./lib/chain/chain.ts";
export {
  type AcceptOptions,
  type ChainFollowUp,
  Mempool,
  type MempoolEntry,
  type MempoolOptions,
} from "./lib/chain/mempool.ts";
export type { OrphanTxsOptions } from "./lib/chain/orphan_txs.ts";
export {
  type VerifyAllOptions,
  type VerifyItem,
  VerifyQueue,
  verifyQueue,
} from "./lib/crypto/verify_queue.ts";
export { VerifyPool, type VerifyPoolOptions } from "./lib/crypto/verify_pool.ts";
export { ValidationError } from "./lib/chain/errors.ts";
export type { BlockIds, IndexedHeader } from "./lib/chain/block_rules.ts";
export type { Coin, CoinView, OwnedCoin } from "./lib/primitives/coin.ts";
export {
  type BlockChange,
  type CoinEntry,
  type CoinPage,
  type IndexRow,
  openStore,
  Store,
  STORE_VERSION,
  StoreError,
} from "./lib/store/store.ts";
export { DataDirLocked, type DirLock, lockDataDir } from "./lib/store/lock.ts";
export {
  type Balance,
  type ChainReader,
  type CheckedWallet,
  type DatedEntry,
  DEFAULT_FEE_RATE,
  type HistoryEntry,
  InsufficientFunds,
  Wallet,
  WalletError,
  WalletLocked,
  type WalletOptions,
  type WalletView,
  WrongPassphrase,
} from "./lib/wallet/wallet.ts";
export { WALLET_FILE_VERSION } from "./lib/wallet/wallet_file.ts";
