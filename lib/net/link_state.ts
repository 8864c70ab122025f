/**
 * What `Network` keeps per link and about its own role, shared by the modules that carry the overlay
 * (`handshake.ts`, `joining.ts`, `superpeer.ts`, `gossip.ts`); one owner, `Network`, changes it.
 * @module
 */
import type { Directory } from "./directory.ts";
import type { Link } from "./link.ts";
import { formatHostPort, type PeerEntry } from "./messages.ts";
import type { Refusal } from "./overlay.ts";

/** Where this node stands: looking for SuperPeers, a Peer of one or two, or a SuperPeer. */
export type RoleState =
  | { kind: "joining" }
  | { kind: "peer"; primary: Link; backup: Link | null }
  | { kind: "superpeer"; since: number };

/** What we asked a link we dialled for, once its hello came. */
export type Intent = { kind: "join"; primary: boolean; holds?: string } | { kind: "mesh" } | {
  kind: "getaddr";
};

/** What came of asking. */
export type AskResult =
  | { kind: "linked"; link: Link }
  | { kind: "full"; try: readonly string[]; promote: boolean; by: Refusal }
  | { kind: "redirect"; to: readonly string[]; superpeer: boolean }
  | { kind: "busy" }
  | { kind: "dead" };

/** What each link is for; kept here, not on the link, so one owner changes it. */
export type LinkState =
  | { kind: "pending" }
  | { kind: "asking"; intent: Intent; resolve: (r: AskResult) => void; addr: string }
  | { kind: "member"; primary: boolean; lastBlock: number; lastTx: number }
  | { kind: "superpeer"; primary: boolean; roster: PeerEntry[]; dir: Directory; addr: string }
  /**
   * `addr`: where we dialled it (undefined when it dialled us); `relayedAt`: when it last sent a block frame of
   * any kind, new to us or not (undefined: never), evidence that it relays blocks.
   */
  | { kind: "mesh"; lastBlock: number; lastTx: number; addr?: string; relayedAt?: number };

/** A link's far end as an entry: its node id and where it listens (its socket address if it gave none). */
export function entryOf(link: Link): PeerEntry {
  return {
    nodeId: link.hello?.nodeId ?? "?",
    listen: link.hello?.listen ?? formatHostPort(link.conn.remote),
  };
}
