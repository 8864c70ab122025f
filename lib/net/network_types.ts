/**
 * What the owner of a `Network` gives and sees: its settings (`NetworkOptions`), its events, its role and its
 * links as the status shows them. `network.ts` exports them with the `Network` itself.
 * @module
 */
import type { BanList } from "./ban.ts";
import type { NetworkTimings } from "./config.ts";
import type { Discover } from "./discovery.ts";
import type { NodeIdentity, SignatureCheck } from "./identity.ts";
import type { HostPort, PeerEntry } from "./messages.ts";
import type { TrackerFile } from "./tracker.ts";
import type { Clock, Transport } from "./transport.ts";

/** A node's role in the overlay. */
export type Role = "peer" | "superpeer";

/** What the network tells its owner. */
export type NetworkEvent =
  | { type: "role"; role: Role; reason: string }
  | { type: "superpeer-linked" | "superpeer-lost"; peer: PeerEntry; primary: boolean }
  | { type: "peer-joined" | "peer-left"; peer: PeerEntry }
  | { type: "mesh-linked" | "mesh-lost"; peer: PeerEntry }
  | { type: "misbehaviour"; host: string; score: number; reason: string };

/** One of this node's links as the status and the menu show it. */
export interface LinkInfo extends PeerEntry {
  /** What the link is: a Peer we serve, one of our SuperPeers, or a SuperPeer mesh link. */
  kind: "member" | "superpeer" | "mesh";
  /** Primary (true) or backup (false) for member and superpeer links. */
  primary: boolean;
  /** True when the far end dialled us. */
  inbound: boolean;
  /** Last ping round trip in ms, if measured. */
  pingMs?: number;
  /**
   * The far end's protocol: `LEGACY_PROTOCOL_VERSION` (2) for a Peer of the previous release, served during a
   * rolling upgrade though it proved no node id; `PROTOCOL_VERSION` otherwise.
   */
  protocol: number;
}

/** Settings of a `Network`. */
export interface NetworkOptions extends Partial<NetworkTimings> {
  /** This node's key: its node id, proven in every handshake (`loadOrCreateIdentity`, `generateIdentity`). */
  identity: NodeIdentity;
  /** Checks other nodes' proofs (default Ed25519, ids being public keys; the simulation brings its own). */
  checkSignature?: SignatureCheck;
  /** Where to listen. Port 0 picks a free one. */
  bind: HostPort;
  /** The `host:port` others should dial; defaults to `advertiseHost` (or the bound host) and the bound port. */
  advertise?: string;
  /** The host others should dial when binding all interfaces. */
  advertiseHost?: string;
  /** The tracker list: read at start, rewritten from the SuperPeers this node greeted. */
  tracker: TrackerFile;
  /** Addresses to try instead of the tracker's. */
  connect?: string[];
  /** Peers this node serves at most as a SuperPeer (default `DEFAULT_MAX_PEERS`). */
  maxPeers?: number;
  /** Misbehaviour scores and bans (default: a fresh in-memory list). */
  bans?: BanList;
  /** Streams and listeners (default TCP). */
  transport?: Transport;
  /** Time and timers (default the system clock). */
  clock?: Clock;
  /** Random numbers in [0, 1) (default `Math.random`); seeded in the simulation. */
  random?: () => number;
  /** Receives events; must not throw. */
  onEvent?: (e: NetworkEvent) => void;
  /**
   * LAN discovery (`run --discover`): asked when no remembered address took us, before promoting; answers
   * for us while we are a SuperPeer. Off when absent.
   */
  discover?: Discover;
}
