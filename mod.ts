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
export {
  type BlockEntry,
  BlockStatus,
  Chain,
  type ChainUpdate,
  type ChangedBlock,
  type ProcessResult,
} from "./lib/chain/chain.ts";
export { Mempool, type MempoolEntry } from "./lib/chain/mempool.ts";
export { ValidationError } from "./lib/chain/errors.ts";
export type { Coin, CoinView, OwnedCoin } from "./lib/chain/coins.ts";
export { type CoinEntry, type IndexRow, openStore, Store, StoreError } from "./lib/store/store.ts";
export { DataDirLocked, type DirLock, lockDataDir } from "./lib/store/lock.ts";
export { type BlockTemplate, createTemplate } from "./lib/mining/template.ts";
export { Miner, type MinerHost, type MinerStatus } from "./lib/mining/miner.ts";
export { MinerPool, type SearchOptions, type SearchResult } from "./lib/mining/pool.ts";
export {
  type Balance,
  DEFAULT_FEE_RATE,
  InsufficientFunds,
  Wallet,
  WalletError,
  type WalletView,
} from "./lib/wallet/wallet.ts";
export { AddressError, decodeAddress, encodeAddress, pubKeyHash } from "./lib/crypto/address.ts";
export { Node, type NodeEvent, type NodeOptions, type NodeStatus } from "./lib/node.ts";
export {
  type LinkInfo,
  Network,
  type NetworkEvent,
  type NetworkOptions,
  type Role,
} from "./lib/net/network.ts";
export type { NetworkTimings } from "./lib/net/config.ts";
export type { BanList } from "./lib/net/ban.ts";
export type { TrackerContents, TrackerFile } from "./lib/net/tracker.ts";
export type { Clock, Listener, Stream, TimerId, Transport } from "./lib/net/transport.ts";
export type { HostPort, PeerEntry, SuperPeerEntry } from "./lib/net/messages.ts";
export type { LedgerPort, TipInfo, Verdict } from "./lib/net/ledger_port.ts";
export type { IndexedHeader } from "./lib/chain/block_rules.ts";
export type { Link } from "./lib/net/link.ts";
export type { Connection } from "./lib/net/connection.ts";
export type {
  BlocksMessage,
  DataMessage,
  FullMessage,
  GetAddrMessage,
  GetBlocksMessage,
  HelloMessage,
  InvKind,
  InvLikeMessage,
  JoinMessage,
  MembersMessage,
  MeshMessage,
  Message,
  PingMessage,
  PongMessage,
  PrimaryMessage,
  RedirectMessage,
  RejectMessage,
  SuperPeersMessage,
  WelcomeMessage,
} from "./lib/net/messages.ts";
