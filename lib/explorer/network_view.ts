/**
 * The explorer's one window on the network layer: what the map draws, read from `node.net` and nothing else
 * of lib/net. Network v2 re-implements `networkView` alone; the map draws any number of SuperPeers and Peers.
 * @module
 */
import type { Node } from "../node.ts";

/** A node's role in the overlay. */
export type ViewRole = "peer" | "superpeer";

/** What this node knows of the network, for the map. */
export interface NetworkView {
  /** This node. */
  self: { nodeId: string; listen: string; role: ViewRole };
  /** SuperPeers this node knows of, with how many Peers each serves (null when unknown). */
  superpeers: { nodeId: string; listen: string; peers: number | null }[];
  /**
   * This node's own links. `inbound`: the other end dialled. `primary`: the link joins a Peer to the
   * SuperPeer it relies on first (seen from either end); links between SuperPeers are never primary.
   */
  links: { nodeId: string; listen: string; role: ViewRole; inbound: boolean; primary: boolean }[];
  /** Nodes this node knows of in the whole network. */
  networkSize: number;
}

/**
 * The view of the super-peer overlay, from what `node.net` tells: its role, its directory of SuperPeers (with
 * the Peers each counts as its own), and its links (Peers it serves, its SuperPeers, mesh links).
 * @example networkView(node).self.role // "superpeer"
 */
export function networkView(node: Node): NetworkView {
  const net = node.net;
  return {
    self: { nodeId: net.nodeId, listen: net.listen, role: net.role },
    superpeers: net.directory().map((e) => ({ nodeId: e.nodeId, listen: e.listen, peers: e.peers })),
    links: net.linkInfo().map((l) => ({
      nodeId: l.nodeId,
      listen: l.listen,
      role: l.kind === "member" ? "peer" : "superpeer",
      inbound: l.inbound,
      primary: l.kind === "mesh" ? false : l.primary,
    })),
    networkSize: net.networkSize,
  };
}
