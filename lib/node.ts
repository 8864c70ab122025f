/**
 * A `Node`: the one place that wires the parts together. It owns the data directory (lock, store, wallet),
 * the chain and mempool, the network role, and the miner; it turns network input into ledger verdicts and
 * ledger changes into relays and events for the menu and the RPC.
 * @module
 */
import { loadOrCreateIdentity, type NodeIdentity } from "./net/identity.ts";
import { Chain, type ChainUpdate, partialUpdate } from "./chain/chain.ts";
import { Mempool, type MempoolEntry } from "./chain/mempool.ts";
import { checkProofOfWork } from "./consensus/pow.ts";
import { nextBits } from "./chain/block_rules.ts";
import { ClockSkew, skewWarning } from "./node/clock_skew.ts";
import { type NetworkName, type NetworkParams, NETWORKS } from "./consensus/params.ts";
import { type Block, decodeBlock, encodeBlock } from "./primitives/block.ts";
import { blockHashSync, type BlockHeader, decodeHeader, HEADER_SIZE } from "./primitives/header.ts";
import {
  decodeTransaction,
  encodeTransaction,
  type OutPoint,
  type Transaction,
  txid,
} from "./primitives/transaction.ts";
import { type DirLock, lockDataDir } from "./store/lock.ts";
import type { Store } from "./store/store.ts";
import { Wallet, type WalletView, walletViewOf } from "./wallet/wallet.ts";
import { RecentFeeRates, suggestFeeRate } from "./wallet/fee_rate.ts";
import type { LedgerPort, Verdict } from "./net/ledger_port.ts";
import { compactLedger, type CompactSide } from "./node/compact.ts";
import { malformed, refused } from "./node/verdict.ts";
import { countVerdict } from "./runtime/metrics.ts";
import { BanList } from "./net/ban.ts";
import { StallMonitor } from "./runtime/stall_monitor.ts";
import { turns } from "./runtime/turns.ts";
import { SerialQueue } from "./runtime/serial_queue.ts";
import { background } from "./runtime/background.ts";
import { Network, type Role } from "./net/network.ts";
import { LEGACY_PROTOCOL_VERSION } from "./net/messages.ts";
import { type TrackerFile, trackerFile } from "./net/tracker.ts";
import { type NodeConfig, type NodeEvent, type NodeOptions, resolveNodeOptions } from "./node/config.ts";
import { LanDiscovery } from "./net/discovery.ts";
import { Miner } from "./mining/miner.ts";
import { createTemplate } from "./mining/template.ts";
import { SyncMeter, type SyncProgress } from "./node/sync_progress.ts";
import { VerifyPool } from "./crypto/verify_pool.ts";
import { VerifyQueue } from "./crypto/verify_queue.ts";

export { syncLine, type SyncProgress } from "./node/sync_progress.ts";
export { type NodeConfig, type NodeEvent, type NodeOptions, resolveNodeOptions } from "./node/config.ts";
export type { NetworkConfig } from "./net/config.ts";

/**
 * Rows of the block index a start may read one by one (no snapshot, or one older than that many blocks) before
 * it saves a new snapshot in the background; below it the snapshot saved at the next stop is enough.
 */
export const INDEX_SNAPSHOT_ROWS = 1000;
/** What `Node.start` opens before the node exists, handed to its constructor in one piece. */
interface NodeParts {
  /** The resolved configuration. */
  config: NodeConfig;
  /** The data directory's lock, held until `stop`. */
  lock: DirLock;
  /** The chain store. */
  store: Store;
  /** The chain, opened on `store`. */
  chain: Chain;
  /** The wallet, rescanned. */
  wallet: Wallet;
  /** Misbehaviour scores and bans, from `bans.json`. */
  bans: BanList;
  /** Signature checks on every core. */
  verifyPool: VerifyPool;
  /** The tracker files, read. */
  tracker: TrackerFile;
  /** One line per tracker-file line that could not be read. */
  trackerWarnings: readonly string[];
  /** The node key. */
  identity: NodeIdentity;
}

/** What anyone may see of a node: its place in the network, its chain, mempool and mining; nothing of its wallet. */
export interface NodeOverview {
  /** Its place in the overlay. */
  role: Role;
  /** This node's primary SuperPeer ("host:port"; itself when it is one), or null while looking for one. */
  primary: string | null;
  /**
   * The same as `primary`, under its old name.
   * @deprecated Read `primary`; `hub` stays in `--json` and RPC output for one version (see CHANGELOG.md).
   */
  hub: string | null;
  /** Where this node listens. */
  listen: string;
  /** The network it follows. */
  network: NetworkName;
  /** Height of the tip. */
  height: number;
  /** Hash of the tip. */
  tip: string;
  /** Greeted links that carry blocks (Peers served, SuperPeers held, mesh links). */
  peers: number;
  /** Transactions in the mempool. */
  mempool: number;
  /** True while mining. */
  mining: boolean;
  /** Hashes per second while mining. */
  hashrate: number;
}

/**
 * What the wallet holds, in base units: what it can spend now, what is maturing, and what is unconfirmed,
 * told apart by who paid it: others (`incoming`) or this wallet itself (`change` of its own payments).
 */
export interface WalletBalances {
  /** Mature confirmed coins no mempool transaction spends. */
  spendable: number;
  /** Coinbase coins still maturing. */
  immature: number;
  /** Blocks until the next immature coin matures (spendable in the block after), or null when none. */
  maturesIn: number | null;
  /** Unconfirmed payments from others. */
  incoming: number;
  /** Unconfirmed change of this wallet's own payments. */
  change: number;
}

/** A node's state at a glance, its wallet's included; amounts in base units (1 coin = 10^8). */
export interface NodeStatus extends NodeOverview {
  /** The SuperPeers this node links to ("host:port"): its own as a Peer, its mesh neighbours as a SuperPeer. */
  superpeers: string[];
  /** A Peer's backup SuperPeers ("host:port"): the ones it holds besides its primary; empty on a SuperPeer. */
  backups: string[];
  /** Nodes this node knows of in the whole network. */
  networkSize: number;
  /**
   * Peers of the previous protocol this node serves ("host:port" as they claim it): a rolling upgrade's
   * stragglers, served for one release though they prove no node id; upgrade them.
   */
  legacyPeers: string[];
  /**
   * The same as `networkSize`, under its old snake_case name.
   * @deprecated Read `networkSize`; `network_size` stays in `--json` and RPC output for one version.
   */
  network_size: number;
  /** This node's wallet address. */
  address: string;
  /** Its data directory (chain, wallet, keys): which of several nodes on one machine this is. */
  dataDir: string;
  /** Spendable confirmed coins, base units. */
  balance: number;
  /** Coinbase coins still maturing, base units. */
  immature: number;
  /** Unconfirmed payments from others to this wallet, base units. */
  pending: number;
  /** Unconfirmed change of this wallet's own payments, base units. */
  change: number;
  /** The median of peers' clocks minus this node's, in seconds (null: no sample yet; see lib/clock_skew.ts). */
  clockOffset: number | null;
  /** What to do about this node's clock, or null while it agrees with its peers'. */
  clockWarning: string | null;
  /** Transactions waiting for a missing parent. */
  orphanTxs: number;
  /** Blocks waiting for a missing parent. */
  orphanBlocks: number;
  /** The longest the node's event loop was blocked since it started, in ms (measured inside the node). */
  maxStallMs: number;
  /** The longest it was blocked in the last 5 to 10 seconds, in ms. */
  recentStallMs: number;
  /** The explorer's URL, or null when it is off. */
  explorer: string | null;
}

/** A node that cannot start for a reason the user can fix: the message is one line saying what to do. */
export class NodeStartError extends Error {
  /** The error's name, for logs. */
  override name = "NodeStartError";
}

/** Creates the data directory; one that is a file (or under one) is a `NodeStartError`. */
async function makeDataDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory)) throw e;
    throw new NodeStartError(
      `the data directory ${dir} is a file, not a directory (choose another with --data-dir)`,
    );
  }
}

/** A running node. Start with `Node.start`, end with `stop`. */
export class Node {
  /** The network's parameters. */
  readonly params: NetworkParams;
  /** The block chain. */
  readonly chain: Chain;
  /** Unconfirmed transactions. */
  readonly mempool: Mempool;
  /** This node's keys. */
  readonly wallet: Wallet;
  /** Its place in the network. */
  readonly net: Network;
  /** Where its files live. */
  readonly dataDir: string;
  /** The configuration it runs with: its options with every default filled in (`resolveNodeOptions`). */
  readonly config: NodeConfig;
  /** The explorer's URL, set by whoever serves it (the CLI); null while none does. */
  explorerUrl: string | null = null;
  /** One line per tracker-file line this node could not read at start (the lines themselves are kept). */
  readonly trackerWarnings: readonly string[];
  #store: Store;
  #lock: DirLock;
  #listeners = new Set<(e: NodeEvent) => void>();
  #stopped = false;
  #miner?: Miner;
  #tipWatchers = new Set<() => void>();
  #bans: BanList;
  #verifyPool: VerifyPool;
  #stalls = new StallMonitor();
  /** Peers' messages are checked one per turn of the event loop, small ones mostly first (lib/turns.ts). */
  #turns = turns;
  #sync = new SyncMeter();
  #discovery: LanDiscovery;
  #knewNobody = false;
  /** Payments are built one at a time, so two at once never pick the same coins. */
  #sending = new SerialQueue();
  #feeRates = new RecentFeeRates();
  /**
   * The wallet's scans in chain order: the start-up rescan, then the blocks of chain updates that came while
   * it ran. `#walletScansQueued` counts those not finished; at 0 an update is scanned at once.
   */
  #walletScans = new SerialQueue();
  #walletScansQueued = 0;
  #stopping = new AbortController();
  /** The UTXO set being read into memory after the start (the store answers for it meanwhile). */
  #coinsLoading: Promise<void> = Promise.resolve();
  #clock = new ClockSkew();
  #clockWarning: string | null = null;
  /** The ledger's side of compact relay, with the memos that keep a warm block's hop short. */
  #compact: CompactSide;

  private constructor(parts: NodeParts) {
    const { config, bans, identity } = parts;
    this.config = config;
    this.trackerWarnings = parts.trackerWarnings;
    this.params = NETWORKS[config.network];
    this.dataDir = config.dataDir;
    this.#lock = parts.lock;
    this.#store = parts.store;
    this.chain = parts.chain;
    this.#verifyPool = parts.verifyPool;
    // Payments are checked here, not on the pool: WebCrypto already verifies on Deno's own threads, and the
    // hand-off to a worker cost payments latency under load (stress load scenario, 200 tx/s over 5 nodes:
    // 66 tx/s and relay p99 1,572 ms through the pool, 118 tx/s and 399 ms in this thread). Blocks, checked in
    // batches, use the pool (`Chain.open`'s verifier).
    this.mempool = new Mempool(parts.chain);
    this.#compact = compactLedger(parts.chain, this.mempool);
    this.wallet = parts.wallet;
    this.#bans = bans;
    if (config.onEvent) this.#listeners.add(config.onEvent);
    // Always there, but inert (nothing bound or sent) unless `--discover` or the menu turns it on.
    this.#discovery = new LanDiscovery({
      network: this.params.name,
      genesis: this.params.genesisHash,
      port: this.params.defaultPort,
      enabled: config.discover,
      onFind: (found, ms) => this.#emit({ type: "discovery", found, ms }),
    });
    this.net = new Network(this.#ledgerPort(), {
      identity,
      bind: { ...config.bind },
      advertise: config.advertise,
      advertiseHost: config.advertiseHost,
      tracker: parts.tracker,
      connect: config.connect && [...config.connect],
      bans,
      discover: this.#discovery,
      connectTimeoutMs: config.net.connectTimeoutMs,
      pingIntervalMs: config.net.pingIntervalMs,
      deadAfterMs: config.net.deadAfterMs,
      probeIntervalMs: config.net.probeIntervalMs,
      maxPeers: config.net.capacity,
      onEvent: (e) => this.#emit(e),
    });
  }

  /**
   * Opens the data directory (refusing one in use), loads the chain and wallet, and joins the network.
   * @example A node of its own: it finds no SuperPeer in an empty tracker file, so it becomes one, and mines
   * ```ts
   * import { Node } from "@peerchain/peerchain/node";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const node = await Node.start({
   *   network: "regtest",
   *   dataDir: `${dir}/data`,
   *   trackerPath: `${dir}/tracker.txt`,
   *   bind: { hostname: "127.0.0.1", port: 0 },
   *   threads: 1,
   * });
   * try {
   *   const [hash] = await node.miner.mineBlocks(1);
   *   assert.equal(node.chain.tip.hash, hash);
   *   assert.equal(node.status().role, "superpeer");
   * } finally {
   *   await node.stop();
   *   await Deno.remove(dir, { recursive: true });
   * }
   * ```
   */
  static async start(opts: NodeOptions): Promise<Node> {
    const config = resolveNodeOptions(opts);
    await makeDataDir(config.dataDir);
    const tracker = trackerFile(config.trackerPath, config.learnedTrackerPath);
    let known;
    try {
      known = await tracker.read();
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new NodeStartError(`cannot read the tracker file ${config.trackerPath}: ${why}`);
    }
    const lock = lockDataDir(config.dataDir);
    let store: Store | undefined;
    // Signature checks on every core; the workers start with the first check.
    const pool = new VerifyPool();
    try {
      const params = NETWORKS[config.network];
      // Read the wallet before the store may be created or migrated: a wallet this program refuses (newer,
      // corrupt, another network's) must leave the whole data directory as it was.
      const checked = await Wallet.check(`${config.dataDir}/wallet.json`, params);
      store = config.openStore(`${config.dataDir}/chain.sqlite`);
      const verifier = new VerifyQueue(pool.capacity, pool.check);
      // The UTXO set is read into memory after the start (a third of opening 10,000 blocks); until then the
      // store answers for it, with the same answers.
      // Connected blocks reach the disk a moment after their relay, a few per commit (`writeBehind`): a crash
      // loses at most those, which the peers that had them first send again.
      const chain = Chain.open(store, params, {
        verifier,
        coinsInBackground: true,
        writeBehind: config.writeBehind,
        onFlushError: (e) => console.error(`chain store: ${e}`),
      });
      const wallet = await Wallet.open(`${config.dataDir}/wallet.json`, params, { checked });
      const bans = await BanList.open(`${config.dataDir}/bans.json`);
      // The node key (node_key, 0600): its public key is this node's id, kept across restarts.
      const identity = await loadOrCreateIdentity(config.dataDir);
      const node = new Node({
        config,
        lock,
        store,
        chain,
        wallet,
        bans,
        verifyPool: pool,
        tracker,
        trackerWarnings: known.warnings,
        identity,
      });
      // The rescan: the wallet's history and used addresses come from the chain itself. It runs in the
      // background (with 10,000 blocks it took 230-380 ms of a 430-640 ms start); blocks connected meanwhile
      // are scanned after it, in order. `walletScanned` waits for it.
      // Its first slice waits for a background turn too, so none of it runs inside the start.
      const to = chain.height;
      node.#scanWallet(async () => {
        await background.turn();
        return await wallet.scanChain(chain, 1, { to, signal: node.#stopping.signal });
      });
      // A crash between storing a block and connecting it leaves it unconnected: finish the job first.
      await node.#afterChainUpdate(await chain.resume(), "local");
      node.#knewNobody = !config.connect && known.addrs.length === 0;
      await node.net.start();
      node.#coinsLoading = chain.loadCoins(node.#stopping.signal).catch(() => {});
      // A start that read many rows of the block index one by one (no snapshot, or an old one after a crash)
      // saves a snapshot in a background turn, not only at the next stop.
      if (store.indexRowsRead >= INDEX_SNAPSHOT_ROWS) {
        background.turn().then(() => !node.#stopped && chain.saveIndexSnapshot()).catch(() => {});
      }
      return node;
    } catch (e) {
      pool.close();
      store?.close();
      lock.release();
      throw e;
    }
  }

  /**
   * Resolves once the wallet has scanned every block connected so far (the start-up rescan included): its
   * history and used addresses are then complete. Balances never wait: they come from the coins.
   */
  async walletScanned(): Promise<void> {
    await this.#walletScans.idle();
  }

  /** Runs a wallet scan after those queued before it; a failed one is left to the next start's rescan. */
  #scanWallet(scan: () => Promise<unknown>): void {
    this.#walletScansQueued++;
    this.#walletScans.run(scan).catch(() => {}).finally(() => this.#walletScansQueued--);
  }

  /** True when this node started knowing no address (an empty tracker file, no `--connect`). */
  get knewNobody(): boolean {
    return this.#knewNobody;
  }

  /** True while LAN discovery is on (`--discover`, or turned on by `discover()`). */
  get discovering(): boolean {
    return this.#discovery.enabled;
  }

  /**
   * Turns LAN discovery on (the menu's "yes"), asks the LAN for SuperPeers and joins what it found (see
   * `Network.joinFound`); returns the addresses that answered. From now on this node answers others'
   * searches while it is a SuperPeer.
   */
  async discover(): Promise<string[]> {
    this.#discovery.enable();
    const found = await this.#discovery.find();
    await this.net.joinFound(found);
    return found;
  }

  /** Receives every event until the returned function is called. */
  subscribe(listener: (e: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: NodeEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch { /* a listener's bug must not stop the node */ }
    }
  }

  /** The node's state without its wallet: what the explorer shows anyone. */
  overview(): NodeOverview {
    const m = this.miner.status();
    return {
      role: this.net.role,
      primary: this.net.primary?.listen ?? null,
      hub: this.net.primary?.listen ?? null,
      listen: this.net.listen,
      network: this.params.name,
      height: this.chain.height,
      tip: this.chain.tip.hash,
      peers: this.net.linkCount,
      mempool: this.mempool.size,
      mining: m.mining,
      hashrate: Math.round(m.hashrate),
    };
  }

  /** The ban list: hosts banned for misbehaviour (`bans`, `unban HOST`). */
  get bans(): BanList {
    return this.#bans;
  }

  /** The wallet's balances, in base units (see `WalletBalances`). */
  balances(): WalletBalances {
    const view = this.walletView();
    const pkhs = this.wallet.pubKeyHashes;
    const b: WalletBalances = { spendable: 0, immature: 0, maturesIn: null, incoming: 0, change: 0 };
    const ours = new Set<string>();
    for (const { outpoint, coin } of this.chain.coinsOf(pkhs)) {
      ours.add(`${outpoint.txid}:${outpoint.index}`);
      const left = coin.coinbase ? coin.height + view.coinbaseMaturity - (view.height + 1) : 0;
      if (left > 0) {
        b.immature += coin.amount;
        b.maturesIn = Math.min(b.maturesIn ?? left, left);
      } else if (!this.mempool.isSpent(outpoint)) b.spendable += coin.amount;
    }
    const pooled = this.mempool.coinsOf(pkhs);
    for (const { outpoint } of pooled) ours.add(`${outpoint.txid}:${outpoint.index}`);
    for (const { outpoint, coin } of pooled) {
      if (this.mempool.isSpent(outpoint)) continue;
      // Change: the transaction that made it spends a coin of this wallet.
      const tx = this.mempool.get(outpoint.txid)?.tx;
      const own = tx?.inputs.some((i) => ours.has(`${i.prevout.txid}:${i.prevout.index}`));
      if (own) b.change += coin.amount;
      else b.incoming += coin.amount;
    }
    return b;
  }

  /** The median of peers' clocks against this one (see lib/clock_skew.ts), and the warning, if any. */
  clockSkew(): { offset: number | null; peers: number; warning: string | null } {
    const m = this.#clock.median(Date.now() / 1000);
    return { ...m, warning: skewWarning(m.offset) };
  }

  /** The node's state in one object: what `status --json` prints and the menu's status line shows. */
  status(): NodeStatus {
    const bal = this.balances();
    const clock = this.clockSkew();
    return {
      ...this.overview(),
      superpeers: this.net.superpeers.map((s) => s.listen),
      backups: this.net.linkInfo().filter((l) => l.kind === "superpeer" && !l.primary).map((l) => l.listen),
      networkSize: this.net.networkSize,
      legacyPeers: this.net.linkInfo().filter((l) => l.protocol === LEGACY_PROTOCOL_VERSION).map((l) =>
        l.listen
      ),
      network_size: this.net.networkSize,
      address: this.wallet.address,
      dataDir: this.dataDir,
      balance: bal.spendable,
      immature: bal.immature,
      pending: bal.incoming,
      change: bal.change,
      clockOffset: clock.offset,
      clockWarning: clock.warning,
      orphanTxs: this.mempool.orphanCount,
      orphanBlocks: this.chain.orphanCount,
      maxStallMs: this.#stalls.longestMs,
      recentStallMs: this.#stalls.recentMs,
      explorer: this.explorerUrl,
    };
  }

  /** The event loop's longest stalls in ms, since the start and recently (what `status` says, without the wallet). */
  stallMs(): { longestMs: number; recentMs: number } {
    return { longestMs: this.#stalls.longestMs, recentMs: this.#stalls.recentMs };
  }

  /** The initial sync's progress while one is going on (far enough behind the tip peers announce), else undefined. */
  syncProgress(): SyncProgress | undefined {
    return this.#sync.progress(performance.now(), this.chain.height);
  }

  /**
   * The fee rate (base units per byte) suggested for a payment now: enough for the next block given the
   * mempool, and no less than the median lowest rate of recent full blocks (`lib/wallet/fee_rate.ts`).
   */
  suggestedFeeRate(): number {
    return Math.max(suggestFeeRate(this.mempool.entries()), this.#feeRates.floor);
  }

  /** What the wallet needs to see of the chain and the mempool. */
  walletView(): WalletView {
    return walletViewOf(this.chain, this.mempool);
  }

  /**
   * Validates and connects a block (ours), updates the mempool, relays it if it joined the best chain, and
   * reports it. Throws `ValidationError` when refused.
   */
  async submitBlock(block: Block, bytes: Uint8Array = encodeBlock(block)): Promise<string> {
    const r = await this.chain.processBlock(block, bytes).catch(async (e) => {
      await this.#afterPartialUpdate(e, "local");
      throw e;
    });
    // Ours: no peer may have it yet, so it is on disk before anyone hears of it (received blocks commit
    // behind their relay: their senders have them).
    this.#commit();
    await this.#afterChainUpdate(r.update, "local");
    if (r.status === "connected") this.net.relayBlock(bytes);
    if (r.status === "side") this.#emit({ type: "side", hash: r.hash, height: r.height, source: "local" });
    return r.hash;
  }

  /** Commits the connected blocks that wait for it; a store that refuses keeps them waiting (said on stderr). */
  #commit(): void {
    try {
      this.chain.flush();
    } catch (e) {
      console.error(`chain store: ${e}`); // not on disk yet: the next commit retries, a restart refetches
    }
  }

  /** Validates a transaction into the mempool and relays it; throws `ValidationError` when refused. */
  async submitTx(tx: Transaction): Promise<string> {
    const [entry, ...unlocked] = await this.mempool.accept(tx, { urgent: true });
    this.#compact.noteTx(entry.tx);
    this.net.relayTx(encodeTransaction(tx));
    this.#emit({ type: "tx", txid: entry.txid, source: "local" });
    this.#announce(unlocked);
    return entry.txid;
  }

  /**
   * Pays `amount` base units to `address` from the wallet at `opts.feeRate` base units per byte (default
   * `DEFAULT_FEE_RATE`); an encrypted, locked wallet needs `opts.passphrase`. Returns the txid and fee.
   */
  send(
    address: string,
    amount: number,
    opts: { feeRate?: number; passphrase?: string } = {},
  ): Promise<{ txid: string; fee: number }> {
    return this.#sending.run(async () => {
      // Unconfirmed coins whose chain is at the mempool's limit cannot be spent until a block confirms some.
      const spendable = {
        ...this.walletView(),
        canSpend: (o: OutPoint) => this.mempool.roomForChild(o.txid),
      };
      const { tx, fee } = await this.wallet.withPassphrase(
        opts.passphrase,
        () => this.wallet.createTransaction(spendable, address, amount, { feeRate: opts.feeRate }),
      );
      const txid = await this.submitTx(tx);
      // Its change address is now used. The key is on disk already (the wallet saw to it), so the mark is
      // saved after the reply, once for the payments of the next second (a crash before it only leaves the
      // mark to the next start's rescan): 40 payments a second wrote the whole wallet file 40 times.
      this.wallet.sawTransaction(tx);
      this.wallet.saveSoon();
      return { txid, fee };
    });
  }

  /** Relays and reports transactions that entered the mempool because others did (orphans whose parent came). */
  #announce(entries: MempoolEntry[]): void {
    for (const e of entries) {
      this.#compact.noteTx(e.tx);
      this.net.relayTx(encodeTransaction(e.tx));
      this.#emit({ type: "tx", txid: e.txid, source: "network" });
    }
  }

  /** The miner (its workers start on first use). */
  get miner(): Miner {
    return this.#miner ??= new Miner({
      template: () => createTemplate(this.chain, this.mempool, this.wallet.pubKeyHash),
      submit: (block) => this.submitBlock(block),
      watchTip: (onChange) => {
        this.#tipWatchers.add(onChange);
        return () => this.#tipWatchers.delete(onChange);
      },
      mempoolFees: () => this.mempool.totalFees,
    }, { threads: this.config.threads, onFound: (hash) => this.#emit({ type: "mined", hash }) });
  }

  /** Follows what a `processBlock` that threw had changed all the same (a store write failed mid-reorg). */
  async #afterPartialUpdate(error: unknown, source: "local" | "network"): Promise<void> {
    const update = partialUpdate(error);
    if (update) await this.#afterChainUpdate(update, source);
  }

  async #afterChainUpdate(update: ChainUpdate, source: "local" | "network"): Promise<void> {
    // The fee rates of the payments a block took, while the mempool still holds them (none during a sync).
    if (this.mempool.size > 0) {
      for (const { block } of update.connected) {
        this.#feeRates.blockConnected(block, (tx) => this.mempool.entryOf(tx)?.feeRate);
      }
    }
    const { restored, unlocked } = await this.mempool.chainUpdated(update);
    // Transactions a reorg put back in the mempool are news to peers that never saw them unconfirmed.
    for (const e of restored) this.net.relayTx(encodeTransaction(e.tx));
    if (update.connected.length) { for (const w of this.#tipWatchers) w(); }
    const scan = () => {
      for (const { height } of update.disconnected) this.wallet.disconnectFrom(height);
      for (const { block, height } of update.connected) this.wallet.scanBlock(block, height);
      // Used marks the file misses are found again by the next start's rescan: a failed save stops nothing.
      return this.wallet.flush().catch(() => {});
    };
    // In order: behind the start-up rescan while it runs, at once (before the events) otherwise.
    if (this.#walletScansQueued > 0) this.#scanWallet(scan);
    else await scan();
    if (update.disconnected.length) {
      this.#emit({
        type: "reorg",
        disconnected: update.disconnected.length,
        connected: update.connected.length,
      });
    }
    for (const { hash, height } of update.connected) {
      if (source === "network") this.#sync.connected(performance.now(), height);
      this.#emit({ type: "block", hash, height, source });
    }
    this.#announce(unlocked);
  }

  #ledgerPort(): LedgerPort {
    const wallet = this.wallet;
    return {
      network: this.params.name,
      genesis: this.params.genesisHash,
      get walletAddress() {
        return wallet.address;
      },
      tip: () => {
        const t = this.chain.tip;
        return { hash: t.hash, height: t.height, work: t.chainWork };
      },
      locator: () => this.chain.locator(),
      hashesAfter: (locator, max) => this.chain.hashesAfter(locator, max),
      blockBytes: (hash) => this.chain.getBlockBytes(hash),
      txBytes: (id) => {
        const e = this.mempool.get(id);
        return e && encodeTransaction(e.tx);
      },
      // A transaction waiting for its parent is not counted: the copy we hold may be a forged one.
      has: (kind, id) => kind === "tx" ? this.mempool.has(id) : this.chain.has(id),
      receiveBlock: (bytes, from, requested) =>
        this.receiveBlock(bytes, requested, from).then((v) => countVerdict("block", v)),
      receiveTx: (bytes) => this.receiveTx(bytes).then((v) => countVerdict("tx", v)),
      pendingTxids: () => this.mempool.entries().map((e) => e.txid),
      idOf: this.#compact.idOf,
      compactBlock: this.#compact.compactBlock,
      blockTransactions: this.#compact.blockTransactions,
      rebuildCompact: this.#compact.rebuildCompact,
      peerTip: (height) => this.#sync.announce(height),
    };
  }

  /**
   * Takes a block's bytes as a peer sent them (`requested`: in answer to our `getblocks`); never throws: the
   * verdict says what became of it. The header is checked before the body is decoded, so a block refused for
   * its work or its time costs one header hash, and an orphan is kept as bytes until its parent comes.
   */
  async receiveBlock(bytes: Uint8Array, requested = false, from?: string): Promise<Verdict> {
    if (!this.#turns.free()) await this.#turns.next(bytes.length);
    let header: BlockHeader;
    try {
      header = decodeHeader(bytes.subarray(0, HEADER_SIZE));
    } catch (e) {
      return malformed(e);
    }
    const hash = blockHashSync(header);
    if (this.chain.has(hash)) return { kind: "known", id: hash };
    if (!requested && from !== undefined) this.#sampleClock(header, hash, from);
    try {
      // An orphan is kept unread: its body costs nothing unless its parent comes.
      if (this.chain.checkHeader(header, { requested }) === "orphan") {
        this.chain.keepOrphan(header, bytes);
        return { kind: "orphan", id: hash };
      }
    } catch (e) {
      return refused(e, hash);
    }
    let block: Block;
    // A block rebuilt from its compact form a moment ago is not decoded again (its bytes are its encoding), nor
    // are its transactions hashed again (the mempool's entries and the compact memo hold their ids).
    const rebuilt = this.#compact.takeRebuilt(bytes);
    try {
      block = rebuilt?.block ?? decodeBlock(bytes);
    } catch (e) {
      return malformed(e);
    }
    // The miner's search is about to go stale: its cores go to this block's checks meanwhile.
    const release = this.#miner?.hold();
    try {
      const r = await this.chain.processBlock(block, bytes, { requested, knownIds: rebuilt?.ids });
      release?.();
      await this.#afterChainUpdate(r.update, "network");
      if (r.status === "side") this.#emit({ type: "side", hash, height: r.height, source: "network" });
      return { kind: r.status === "connected" ? "accepted" : r.status, id: hash };
    } catch (e) {
      await this.#afterPartialUpdate(e, "network");
      return refused(e, hash);
    } finally {
      release?.();
    }
  }

  /**
   * Takes a transaction's bytes as a peer sent them; never throws. One whose parent has not arrived yet waits
   * in the mempool (bounded) and is accepted and relayed when the parent comes.
   */
  async receiveTx(bytes: Uint8Array): Promise<Verdict> {
    if (!this.#turns.free()) await this.#turns.next(bytes.length);
    let tx: Transaction;
    try {
      tx = decodeTransaction(bytes);
    } catch (e) {
      return malformed(e);
    }
    try {
      const entries = await this.mempool.accept(tx, { allowOrphan: true });
      if (entries.length === 0) return { kind: "orphan", id: txid(tx) };
      const [entry, ...unlocked] = entries;
      this.#compact.noteTx(entry.tx);
      this.#emit({ type: "tx", txid: entry.txid, source: "network" });
      this.#announce(unlocked);
      return { kind: "accepted", id: entry.txid };
    } catch (e) {
      return refused(e, txid(tx));
    }
  }

  /**
   * A block a peer pushed on top of our tip was just mined: its time is its miner's clock. Only one with the
   * work our next block needs counts (a sample costs a block's work), one sample per peer.
   */
  #sampleClock(header: BlockHeader, hash: string, from: string): void {
    const tip = this.chain.tip;
    if (header.prevHash !== tip.hash || header.bits !== nextBits(tip, this.params)) return;
    if (!checkProofOfWork(hash, header.bits, this.params.powLimit)) return;
    this.#clock.sample(from, header.time, Date.now() / 1000);
    const { offset, warning } = this.clockSkew();
    if (warning === null ? this.#clockWarning !== null : this.#clockWarning === null) {
      this.#emit({ type: "clock", offset, warning });
    }
    this.#clockWarning = warning;
  }

  /** Stops the network, closes the store and releases the data directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    this.#stalls.stop();
    await this.#miner?.close();
    await this.net.stop();
    this.#discovery.close();
    await this.#bans.flush().catch(() => {}); // a ban that could not be written still held while we ran
    await this.#walletScans.idle(); // a rescan stops at its next turn
    await this.#coinsLoading; // and so does the UTXO set's load
    await this.wallet.flush().catch(() => {}); // and a used mark not yet saved (the next rescan finds it too)
    await this.wallet.settled();
    // Checks still running finish in this thread (nothing is left unverified), then the store closes.
    this.#verifyPool.close();
    try {
      this.chain.close(); // the blocks that wait for their commit
    } catch (e) {
      console.error(`chain store: ${e}`); // not on disk: the next start fetches them again from peers
    }
    try {
      // After the commit above, so it holds every block: the next start reads the block index from it (10-25 ms
      // less of its CPU with 10,000 blocks).
      this.chain.saveIndexSnapshot();
    } catch { /* only a cache: the next start reads the index row by row */ }
    this.#store.close();
    this.#lock.release();
  }
}
