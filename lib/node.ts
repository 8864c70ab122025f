/**
 * A `Node`: the one place that wires the parts together. It owns the data directory (lock, store, wallet),
 * the chain and mempool, the network role, and the miner; it turns network input into ledger verdicts and
 * ledger changes into relays and events for the menu and the RPC.
 * @module
 */
import { loadOrCreateIdentity, type NodeIdentity } from "./net/identity.ts";
import { Chain, type ChainUpdate } from "./chain/chain.ts";
import { Mempool, type MempoolEntry } from "./chain/mempool.ts";
import { COIN } from "./consensus/amount.ts";
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
import { openStore, type Store } from "./store/store.ts";
import { Wallet, type WalletView } from "./wallet/wallet.ts";
import { readWalletFile } from "./wallet/wallet_file.ts";
import { type LedgerPort, malformed, refused, type Verdict } from "./net/ledger_port.ts";
import { BanList } from "./net/ban.ts";
import { StallMonitor } from "./stall_monitor.ts";
import { turns } from "./turns.ts";
import { SerialQueue } from "./serial_queue.ts";
import { Network, type NetworkEvent, type NetworkOptions, type Role } from "./net/network.ts";
import type { HostPort } from "./net/messages.ts";
import { readTracker, trackerFile } from "./net/tracker.ts";
import { LanDiscovery } from "./net/discovery.ts";
import { Miner } from "./mining/miner.ts";
import { createTemplate } from "./mining/template.ts";
import { SyncMeter, type SyncProgress } from "./sync_progress.ts";

export { syncLine, type SyncProgress } from "./sync_progress.ts";

/** How to start a node. */
export interface NodeOptions {
  /** Which network to join. */
  network: NetworkName;
  /** The data directory (created if missing). */
  dataDir: string;
  /** The tracker file (`server_tracker.txt`). */
  trackerPath: string;
  /** The address to bind (`--listen`); port 0 picks a free one. What others dial is `Network.listen`. */
  bind: HostPort;
  /** The address others should dial, when it differs from `bind`. */
  advertise?: string;
  /** The host others should dial when `bind` is all interfaces. */
  advertiseHost?: string;
  /** Addresses to join instead of the tracker's. */
  connect?: string[];
  /** Receives every event from the start, including the first join or promotion. */
  onEvent?: (e: NodeEvent) => void;
  /** Mining workers (default: all cores but one). */
  threads?: number;
  /** Peers this node serves at most when it is a SuperPeer (`--max-peers`). */
  maxPeers?: number;
  /** Look for SuperPeers on the LAN by UDP broadcast when no remembered address answers (`--discover`). */
  discover?: boolean;
  /** Network timings, for tests. */
  timings?: Pick<NetworkOptions, "connectTimeoutMs" | "pingIntervalMs" | "deadAfterMs" | "probeIntervalMs">;
}

/** What a node reports as it happens. */
export type NodeEvent =
  | NetworkEvent
  | { type: "block"; hash: string; height: number; source: "local" | "network" }
  /** A valid block on a branch with less work than the tip: stored, not connected. */
  | { type: "side"; hash: string; height: number; source: "local" | "network" }
  | { type: "reorg"; disconnected: number; connected: number }
  | { type: "tx"; txid: string; source: "local" | "network" }
  | { type: "mined"; hash: string }
  | { type: "discovery"; found: string[]; ms: number };

/** What anyone may see of a node: its place in the network, its chain, mempool and mining; nothing of its wallet. */
export interface NodeOverview {
  /** Its place in the overlay. */
  role: Role;
  /** This node's primary SuperPeer ("host:port"; itself when it is one), or null while looking for one. */
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

/** A node's state at a glance, its wallet's included; balances in coins, as bitcoin-cli prints them. */
export interface NodeStatus extends NodeOverview {
  /** The SuperPeers this node links to ("host:port"): its own as a Peer, its mesh neighbours as a SuperPeer. */
  superpeers: string[];
  /** Nodes this node knows of in the whole network. */
  network_size: number;
  /** This node's wallet address. */
  address: string;
  /** Spendable confirmed coins. */
  balance: number;
  /** Coinbase coins still maturing. */
  immature: number;
  /** Unconfirmed coins to this wallet. */
  pending: number;
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
  /** The explorer's URL, set by whoever serves it (the CLI); null while none does. */
  explorerUrl: string | null = null;
  #store: Store;
  #lock: DirLock;
  #listeners = new Set<(e: NodeEvent) => void>();
  #stopped = false;
  #miner?: Miner;
  #threads?: number;
  #tipWatchers = new Set<() => void>();
  #bans: BanList;
  #stalls = new StallMonitor();
  /** Peers' messages are checked one per turn of the event loop, small ones mostly first (lib/turns.ts). */
  #turns = turns;
  #sync = new SyncMeter();
  #discovery: LanDiscovery;
  #knewNobody = false;
  /** Payments are built one at a time, so two at once never pick the same coins. */
  #sending = new SerialQueue();

  private constructor(
    opts: NodeOptions,
    lock: DirLock,
    store: Store,
    chain: Chain,
    wallet: Wallet,
    bans: BanList,
    identity: NodeIdentity,
  ) {
    this.params = NETWORKS[opts.network];
    this.dataDir = opts.dataDir;
    this.#lock = lock;
    this.#store = store;
    this.chain = chain;
    this.mempool = new Mempool(chain);
    this.wallet = wallet;
    this.#bans = bans;
    this.#threads = opts.threads;
    if (opts.onEvent) this.#listeners.add(opts.onEvent);
    // Always there, but inert (nothing bound or sent) unless `--discover` or the menu turns it on.
    this.#discovery = new LanDiscovery({
      network: this.params.name,
      genesis: this.params.genesisHash,
      port: this.params.defaultPort,
      enabled: opts.discover,
      onFind: (found, ms) => this.#emit({ type: "discovery", found, ms }),
    });
    this.net = new Network(this.#ledgerPort(), {
      identity,
      bind: opts.bind,
      advertise: opts.advertise,
      advertiseHost: opts.advertiseHost,
      tracker: trackerFile(opts.trackerPath),
      connect: opts.connect,
      maxPeers: opts.maxPeers,
      bans,
      discover: this.#discovery,
      ...opts.timings,
      onEvent: (e) => this.#emit(e),
    });
  }

  /**
   * Opens the data directory (refusing one in use), loads the chain and wallet, and joins the network.
   * @example A node of its own: it finds no hub in an empty tracker file, so it becomes one, and mines
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
    await Deno.mkdir(opts.dataDir, { recursive: true });
    const lock = lockDataDir(opts.dataDir);
    let store: Store | undefined;
    try {
      const params = NETWORKS[opts.network];
      // Read the wallet before the store may be created or migrated: a wallet this program refuses (newer,
      // corrupt, another network's) must leave the whole data directory as it was.
      await readWalletFile(`${opts.dataDir}/wallet.json`, params.name);
      store = openStore(`${opts.dataDir}/chain.sqlite`);
      const chain = Chain.open(store, params);
      const wallet = await Wallet.open(`${opts.dataDir}/wallet.json`, params);
      const bans = await BanList.open(`${opts.dataDir}/bans.json`);
      // The node key (node_key, 0600): its public key is this node's id, kept across restarts.
      const identity = await loadOrCreateIdentity(opts.dataDir);
      const node = new Node(opts, lock, store, chain, wallet, bans, identity);
      // A crash between storing a block and connecting it leaves it unconnected: finish the job first.
      await node.#afterChainUpdate(await chain.resume(), "local");
      node.#knewNobody = !opts.connect?.length &&
        (await readTracker(opts.trackerPath).catch(() => ({ addrs: [] }))).addrs.length === 0;
      await node.net.start();
      return node;
    } catch (e) {
      store?.close();
      lock.release();
      throw e;
    }
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
      hub: this.net.hub?.listen ?? null,
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

  /** The node's state in one object: what `status --json` prints and the menu's status line shows. */
  status(): NodeStatus {
    const bal = this.wallet.balance(this.walletView());
    return {
      ...this.overview(),
      superpeers: this.net.superpeers.map((s) => s.listen),
      network_size: this.net.networkSize,
      address: this.wallet.address,
      balance: bal.confirmed / COIN,
      immature: bal.immature / COIN,
      pending: bal.pending / COIN,
      orphanTxs: this.mempool.orphanCount,
      orphanBlocks: this.chain.orphanCount,
      maxStallMs: this.#stalls.longestMs,
      recentStallMs: this.#stalls.recentMs,
      explorer: this.explorerUrl,
    };
  }

  /** The initial sync's progress while one is going on (far enough behind the tip peers announce), else undefined. */
  syncProgress(): SyncProgress | undefined {
    return this.#sync.progress(performance.now(), this.chain.height);
  }

  /** What the wallet needs to see of the chain and the mempool. */
  walletView(): WalletView {
    return {
      height: this.chain.height,
      coinbaseMaturity: this.params.coinbaseMaturity,
      coinsOf: (pkhs) => this.chain.coinsOf(pkhs),
      mempoolCoinsOf: (pkhs) => this.mempool.coinsOf(pkhs),
      isSpentInMempool: (o) => this.mempool.isSpent(o),
    };
  }

  /**
   * Validates and connects a block (ours), updates the mempool, relays it if it joined the best chain, and
   * reports it. Throws `ValidationError` when refused.
   */
  async submitBlock(block: Block, bytes: Uint8Array = encodeBlock(block)): Promise<string> {
    const r = await this.chain.processBlock(block, bytes);
    await this.#afterChainUpdate(r.update, "local");
    if (r.status === "connected") this.net.relayBlock(bytes);
    if (r.status === "side") this.#emit({ type: "side", hash: r.hash, height: r.height, source: "local" });
    return r.hash;
  }

  /** Validates a transaction into the mempool and relays it; throws `ValidationError` when refused. */
  async submitTx(tx: Transaction): Promise<string> {
    const [entry, ...unlocked] = await this.mempool.accept(tx, { urgent: true });
    this.net.relayTx(encodeTransaction(tx));
    this.#emit({ type: "tx", txid: entry.txid, source: "local" });
    this.#announce(unlocked);
    return entry.txid;
  }

  /** Pays `amount` base units to `address` from the wallet; returns the txid. */
  send(address: string, amount: number): Promise<{ txid: string; fee: number }> {
    return this.#sending.run(async () => {
      // Unconfirmed coins whose chain is at the mempool's limit cannot be spent until a block confirms some.
      const spendable = {
        ...this.walletView(),
        canSpend: (o: OutPoint) => this.mempool.roomForChild(o.txid),
      };
      const { tx, fee } = await this.wallet.createTransaction(spendable, address, amount);
      return { txid: await this.submitTx(tx), fee };
    });
  }

  /** Relays and reports transactions that entered the mempool because others did (orphans whose parent came). */
  #announce(entries: MempoolEntry[]): void {
    for (const e of entries) {
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
    }, { threads: this.#threads, onFound: (hash) => this.#emit({ type: "mined", hash }) });
  }

  async #afterChainUpdate(update: ChainUpdate, source: "local" | "network"): Promise<void> {
    const { restored, unlocked } = await this.mempool.chainUpdated(update);
    // Transactions a reorg put back in the mempool are news to peers that never saw them unconfirmed.
    for (const e of restored) this.net.relayTx(encodeTransaction(e.tx));
    if (update.connected.length) { for (const w of this.#tipWatchers) w(); }
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
      receiveBlock: (bytes, _from, requested) => this.receiveBlock(bytes, requested),
      receiveTx: (bytes) => this.receiveTx(bytes),
      pendingTxids: () => this.mempool.entries().map((e) => e.txid),
      peerTip: (height) => this.#sync.announce(height),
    };
  }

  /**
   * Takes a block's bytes as a peer sent them (`requested`: in answer to our `getblocks`); never throws: the
   * verdict says what became of it. The header is checked before the body is decoded, so a block refused for
   * its work or its time costs one header hash, and an orphan is kept as bytes until its parent comes.
   */
  async receiveBlock(bytes: Uint8Array, requested = false): Promise<Verdict> {
    if (!this.#turns.free()) await this.#turns.next(bytes.length);
    let header: BlockHeader;
    try {
      header = decodeHeader(bytes.subarray(0, HEADER_SIZE));
    } catch (e) {
      return malformed(e);
    }
    const hash = blockHashSync(header);
    if (this.chain.has(hash)) return { kind: "known", id: hash };
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
    try {
      block = decodeBlock(bytes);
    } catch (e) {
      return malformed(e);
    }
    try {
      const r = await this.chain.processBlock(block, bytes, { requested });
      await this.#afterChainUpdate(r.update, "network");
      if (r.status === "side") this.#emit({ type: "side", hash, height: r.height, source: "network" });
      return { kind: r.status === "connected" ? "accepted" : r.status, id: hash };
    } catch (e) {
      return refused(e, hash);
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
      this.#emit({ type: "tx", txid: entry.txid, source: "network" });
      this.#announce(unlocked);
      return { kind: "accepted", id: entry.txid };
    } catch (e) {
      return refused(e, txid(tx));
    }
  }

  /** Stops the network, closes the store and releases the data directory. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stalls.stop();
    await this.#miner?.close();
    await this.net.stop();
    this.#discovery.close();
    await this.#bans.flush().catch(() => {}); // a ban that could not be written still held while we ran
    this.#store.close();
    this.#lock.release();
  }
}
