/**
 * A node's configuration: `NodeOptions` is what a caller gives (most of it optional), `NodeConfig` what the
 * node runs with, every default filled in once by `resolveNodeOptions` (btcd `connmgr.New`'s way: defaults
 * set in one place, at construction, never looked up again) and every value checked there.
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";
import type { HostPort } from "../net/messages.ts";
import { type NetworkConfig, type NetworkTimings, resolveNetworkConfig } from "../net/config.ts";
import type { NetworkEvent } from "../net/network.ts";
import { learnedTrackerPath } from "../net/tracker.ts";
import { defaultMiningThreads } from "../mining/pool.ts";
import { openStore, type Store } from "../store/store.ts";

/** What a node reports as it happens. */
export type NodeEvent =
  | NetworkEvent
  | { type: "block"; hash: string; height: number; source: "local" | "network" }
  /** A valid block on a branch with less work than the tip: stored, not connected. */
  | { type: "side"; hash: string; height: number; source: "local" | "network" }
  | { type: "reorg"; disconnected: number; connected: number }
  | { type: "tx"; txid: string; source: "local" | "network" }
  | { type: "mined"; hash: string }
  | { type: "discovery"; found: string[]; ms: number }
  /**
   * The median of peers' clocks moved past the warning threshold (`warning` says what to do) or back
   * within it (`warning` null); `offset`: their median minus this node's clock, in seconds.
   */
  | { type: "clock"; offset: number | null; warning: string | null };

/** How to start a node. */
export interface NodeOptions {
  /** Which network to join. */
  network: NetworkName;
  /** The data directory (created if missing). */
  dataDir: string;
  /** The tracker file (`server_tracker.txt`): read, never written. */
  trackerPath: string;
  /**
   * Where this node writes the SuperPeers it learned, read before `trackerPath` (default
   * `learnedTrackerPath(trackerPath, network)`: `server_tracker.<network>.txt` beside it).
   */
  learnedTrackerPath?: string;
  /** The address to bind (`--listen`); port 0 picks a free one. What others dial is `Network.listen`. */
  bind: HostPort;
  /** The address others should dial, when it differs from `bind`. */
  advertise?: string;
  /** The host others should dial when `bind` is all interfaces. */
  advertiseHost?: string;
  /** Addresses to join instead of the tracker's (none, or an empty list: the tracker's). */
  connect?: readonly string[];
  /** Receives every event from the start, including the first join or promotion. */
  onEvent?: (e: NodeEvent) => void;
  /** Mining workers (default `defaultMiningThreads()`: all cores but one). */
  threads?: number;
  /** Peers this node serves at most when it is a SuperPeer (`--max-peers`, default `DEFAULT_MAX_PEERS`). */
  maxPeers?: number;
  /** Look for SuperPeers on the LAN by UDP broadcast when no remembered address answers (`--discover`). */
  discover?: boolean;
  /** Opens the chain store at a path (default `openStore`): a test hands in one whose writes fail on demand. */
  openStore?: (path: string) => Store;
  /**
   * Commit connected blocks to the store a moment after their relay, a few per commit (default true, see
   * `ChainOptions.writeBehind`); false commits each before `receiveBlock` returns (the store-failure tests).
   */
  writeBehind?: boolean;
  /**
   * The network's timings (tests run with short ones); one left out, or given as `undefined` (the command
   * line passes the timing flags it was not given), keeps its `DEFAULT_TIMINGS` value.
   */
  timings?: { readonly [K in keyof NetworkTimings]?: NetworkTimings[K] | undefined };
}

/** A node's resolved configuration: `NodeOptions` with every default filled in and every value checked. */
export interface NodeConfig {
  /** Which network to join. */
  readonly network: NetworkName;
  /** The data directory. */
  readonly dataDir: string;
  /** The tracker file: read, never written. */
  readonly trackerPath: string;
  /** Where this node writes the SuperPeers it learned. */
  readonly learnedTrackerPath: string;
  /** The address to bind. */
  readonly bind: Readonly<HostPort>;
  /** The address others should dial, when it differs from `bind`. */
  readonly advertise: string | undefined;
  /** The host others should dial when `bind` is all interfaces. */
  readonly advertiseHost: string | undefined;
  /** Addresses to join instead of the tracker's; undefined: the tracker's. Never empty. */
  readonly connect: readonly string[] | undefined;
  /** Receives every event from the start. */
  readonly onEvent: ((e: NodeEvent) => void) | undefined;
  /** Mining workers. */
  readonly threads: number;
  /** LAN discovery on from the start. */
  readonly discover: boolean;
  /** Opens the chain store at a path. */
  readonly openStore: (path: string) => Store;
  /** Commit connected blocks behind their relay (`ChainOptions.writeBehind`). */
  readonly writeBehind: boolean;
  /** The network's numbers, resolved by the network's own `resolveNetworkConfig`: every timing, the capacity. */
  readonly net: Readonly<NetworkConfig>;
}

/** A whole number of ms a timing may be: at least 1 ms, at most a day. */
const TIMING_MAX_MS = 86_400_000;

/**
 * The configuration a node runs with: `opts` with every default filled in (the network's timings and
 * capacity by `resolveNetworkConfig`, where the network keeps its defaults; `defaultMiningThreads()`; the
 * learned tracker file beside the tracker file). A timing or `maxPeers` out of range is a `RangeError` naming it.
 * @example resolveNodeOptions({ network: "regtest", dataDir: "d", trackerPath: "t.txt", bind }).net.deadAfterMs // 8000
 */
export function resolveNodeOptions(opts: NodeOptions): NodeConfig {
  const net = resolveNetworkConfig({ ...opts.timings, maxPeers: opts.maxPeers });
  for (const key of ["connectTimeoutMs", "pingIntervalMs", "deadAfterMs", "probeIntervalMs"] as const) {
    const v = net[key];
    if (!Number.isInteger(v) || v < 1 || v > TIMING_MAX_MS) {
      throw new RangeError(
        `timings.${key} must be a whole number of ms from 1 to ${TIMING_MAX_MS}, got ${v}`,
      );
    }
  }
  if (!Number.isInteger(net.capacity) || net.capacity < 1) {
    throw new RangeError(`maxPeers must be a whole number of at least 1, got ${net.capacity}`);
  }
  // Its range (1..256) is the miner pool's to check, when mining starts.
  const threads = opts.threads ?? defaultMiningThreads();
  return {
    network: opts.network,
    dataDir: opts.dataDir,
    trackerPath: opts.trackerPath,
    learnedTrackerPath: opts.learnedTrackerPath ?? learnedTrackerPath(opts.trackerPath, opts.network),
    bind: { ...opts.bind },
    advertise: opts.advertise,
    advertiseHost: opts.advertiseHost,
    connect: opts.connect?.length ? [...opts.connect] : undefined,
    onEvent: opts.onEvent,
    threads,
    discover: opts.discover ?? false,
    openStore: opts.openStore ?? openStore,
    writeBehind: opts.writeBehind ?? true,
    net,
  };
}
