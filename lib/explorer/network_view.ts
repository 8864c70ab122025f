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
 * The view of today's network: a star, whose hub is the one SuperPeer and every other node a Peer linked to
 * it. The peer list (hub first) is what every node is told; a Peer links to the hub alone. While a Peer looks
 * for a new hub (after `hub-lost`) it knows no SuperPeer and has no link.
 * @example networkView(node).self.role // "superpeer"
 */
export function networkView(node: Node): NetworkView {
  const net = node.net;
  const self = { nodeId: net.nodeId, listen: net.listen, role: net.role };
  const hub = net.hub;
  const list = net.peers;
  const listed = hub !== null && list.length > 0 && list[0].nodeId === hub.nodeId;
  const superpeers = hub
    ? [{ nodeId: hub.nodeId, listen: hub.listen, peers: listed ? list.length - 1 : null }]
    : [];
  const links: NetworkView["links"] = net.role === "superpeer"
    ? list.filter((p) => p.nodeId !== self.nodeId).map((p) => ({
      nodeId: p.nodeId,
      listen: p.listen,
      role: "peer",
      inbound: true,
      primary: true,
    }))
    : hub
    ? [{ nodeId: hub.nodeId, listen: hub.listen, role: "superpeer", inbound: false, primary: true }]
    : [];
  return { self, superpeers, links, networkSize: Math.max(1, list.length) };
}
