/**
 * The network layer as a library (`@peerchain/peerchain/net`): the overlay (`Network`) that a node runs over a
 * `LedgerPort`, and the wire format beneath it — length-prefixed JSON frames, message schemas, addresses and
 * the tracker file. Importing it opens no socket; `Network.start` does.
 *
 * @example Frames survive being split anywhere
 * ```ts
 * import { encodeFrame, FrameDecoder } from "@peerchain/peerchain/net";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeFrame({ type: "ping", nonce: 7 });
 * const decoder = new FrameDecoder();
 * decoder.push(bytes.subarray(0, 3)); // a length prefix cut short
 * assert.equal(decoder.next(), undefined);
 * decoder.push(bytes.subarray(3));
 * assert.deepEqual(decoder.next(), { type: "ping", nonce: 7 });
 * ```
 *
 * @example Addresses and the tracker file
 * ```ts
 * import { AddressFormatError, parseHostPort, parseTracker } from "@peerchain/peerchain/net";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseHostPort("192.168.1.20:8765"), { hostname: "192.168.1.20", port: 8765 });
 * assert.deepEqual(parseHostPort("[::1]:8765"), { hostname: "::1", port: 8765 });
 * assert.throws(() => parseHostPort("lan-box:99999"), AddressFormatError);
 *
 * // The primary SuperPeer first, then fallbacks; a line that is no address becomes a warning.
 * const { addrs, warnings } = parseTracker("10.0.0.5 8765\n10.0.0.6:8765\nnot an address\n");
 * assert.deepEqual(addrs.map((a) => `${a.hostname}:${a.port}`), ["10.0.0.5:8765", "10.0.0.6:8765"]);
 * assert.equal(warnings.length, 1);
 * ```
 * @module
 */

export { type LinkInfo, Network, type NetworkEvent, type NetworkOptions, type Role } from "./network.ts";
export type { NetworkTimings } from "./config.ts";
export {
  ed25519Check,
  generateIdentity,
  loadOrCreateIdentity,
  type NodeIdentity,
  NodeKeyError,
  type SignatureCheck,
} from "./identity.ts";
export type { Discover, DiscoverHost } from "./discovery.ts";
export type { Ban, BanList } from "./ban.ts";
export type { Clock, FrameChannel, Listener, Stream, TimerId, Transport } from "./transport.ts";
export type { CompactOutcome, LedgerPort, TipInfo, Verdict } from "./ledger_port.ts";
export type { Link } from "./link.ts";
export type { Connection } from "./connection.ts";
export {
  encodeFrame,
  FrameDecoder,
  FrameError,
  type FrameObject,
  MAX_FRAME,
  type TextFrame,
} from "./frame.ts";
export {
  formatTracker,
  parseTracker,
  readTracker,
  type TrackerContents,
  type TrackerFile,
  writeTracker,
} from "./tracker.ts";
export {
  AddressFormatError,
  type BlocksMessage,
  type BlockTxnMessage,
  type CompactBlockMessage,
  type DataMessage,
  type Digest,
  type DirSumMessage,
  type FullMessage,
  type GetAddrMessage,
  type GetBlocksMessage,
  type GetBlockTxnMessage,
  type GetHashesMessage,
  type HashesMessage,
  type HelloMessage,
  type HostPort,
  type IHaveMessage,
  type InvKind,
  type InvLikeMessage,
  type IWantMessage,
  type JoinMessage,
  type MembersMessage,
  type MeshMessage,
  type Message,
  parseHostPort,
  type PeerEntry,
  type PingMessage,
  type PongMessage,
  type PrimaryMessage,
  type ProofMessage,
  PROTOCOL_VERSION,
  type RedirectMessage,
  type RejectMessage,
  type Removal,
  type SuperPeerEntry,
  type SuperPeersMessage,
  type WelcomeMessage,
} from "./messages.ts";
