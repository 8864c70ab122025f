/**
 * Message schemas: one hand-written check per message type, turning any JSON value into a typed
 * `Message` or a `MessageError`. Nothing else reads a message before it passes here. Unknown fields
 * are ignored (forward compatibility) and dropped from the result. Also the `host:port` address format.
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";
import { MAX_STANDARD_TX_SIZE } from "../consensus/policy.ts";
import { DIR_SUM_BUCKETS, DIR_SUM_BUCKETS_MAX } from "./config.ts";

/**
 * Protocol version sent in `hello`: 3 proves node ids (a nonce in `hello`, then a `proof`); 2 was the
 * super-peer overlay with claimed ids, 1 the star with elections.
 */
export const PROTOCOL_VERSION = 3;
/**
 * The previous protocol, for one release of a rolling upgrade: its nodes prove no node id, so they may still
 * join this node as Peers (only by dialling it, their role and other claims ignored, flagged in `status`),
 * never serve as anyone's SuperPeer. A node of an older protocol is refused with a reason.
 */
export const LEGACY_PROTOCOL_VERSION = 2;
/** The oldest protocol this node talks to (`LEGACY_PROTOCOL_VERSION`, as a Peer it serves only). */
export const MIN_PROTOCOL_VERSION = LEGACY_PROTOCOL_VERSION;

/** Most ids in one `inv`, `getdata` or `notfound`. */
export const MAX_INV = 1000;
/** Most entries in one `superpeers`, `members` or `welcome` list (longer lists travel as pages). */
const MAX_LIST = 500;
/** Most addresses in a `full` or `redirect`. */
export const MAX_ADDRS = 16;
/** Most hashes in a `getblocks` locator. */
export const MAX_LOCATOR = 101;
/** Most block hashes in one `hashes` message (the answer to a `gethashes`). */
export const MAX_HASHES = 2000;
/** Most blocks in one `blocks` message. */
export const MAX_BLOCKS_PER_MESSAGE = 500;
/** Largest decoded `block` payload in bytes. */
export const MAX_DATA_BYTES = 2_000_000;
/**
 * Largest decoded `tx` payload in bytes: the standard size limit, so an oversized transaction is refused here,
 * before it is decoded, hashed or looked at (and its sender is scored for a malformed message).
 */
export const MAX_TX_DATA_BYTES = MAX_STANDARD_TX_SIZE;

/**
 * Most transactions one `getblocktxn` asks for or one `blocktxn` carries: at least the most a block can hold
 * after its coinbase (`MAX_SHORT_IDS`, 5,882; tests/bounds_test.ts asserts the relation).
 */
export const MAX_BLOCKTXN = 6_000;

/** A message that fails its schema; `message` names the offending field. */
export class MessageError extends Error {
  /** Creates a schema error. */
  constructor(message: string) {
    super(message);
    this.name = "MessageError";
  }
}

/** An address that is not `host:port`, `host port` or `[ipv6]:port` with a port in 1..65535. */
export class AddressFormatError extends Error {
  /** Creates an address error quoting the bad input. */
  constructor(message: string) {
    super(message);
    this.name = "AddressFormatError";
  }
}

/** The kind of object an inventory names. */
export type InvKind = "block" | "tx";

/** A host (name, IPv4, or IPv6 without brackets) and a TCP port. */
export interface HostPort {
  /** Host name, IPv4, or IPv6 without brackets. */
  readonly hostname: string;
  /** TCP port. */
  readonly port: number;
}

/** First frame each way. */
export interface HelloMessage {
  /** Always "hello". */
  readonly type: "hello";
  /** `PROTOCOL_VERSION` of the sender. */
  readonly protocol: number;
  /** Its network: another is refused. */
  readonly network: NetworkName;
  /** Its genesis hash: another is refused. */
  readonly genesis: string;
  /** Its node id. */
  readonly nodeId: string;
  /** Where others can dial it ("host:port"), or null. */
  readonly listen: string | null;
  /** Its wallet address, shown to people. */
  readonly address: string;
  /** Its tip: hash, height and cumulative work (hex). */
  readonly tip: { readonly hash: string; readonly height: number; readonly work: string };
  /** Its role when it sent this: a claim, used only to choose what to ask it for. */
  readonly role: "peer" | "superpeer";
  /** A fresh random nonce (64 hex digits) the other side's `proof` must sign; absent before protocol 3. */
  readonly nonce?: string;
}
/** Second frame each way: the sender's signature proving its node id, bound to this link (`identity.ts`). */
export interface ProofMessage {
  /** Always "proof". */
  readonly type: "proof";
  /** The signature, lowercase hex (64 bytes for Ed25519). */
  readonly signature: string;
}
/** Refusal sent before closing. */
export interface RejectMessage {
  /** Always "reject". */
  readonly type: "reject";
  /** Machine-readable reason, e.g. "network". */
  readonly code: string;
  /** Readable detail. */
  readonly reason: string;
}
/** Liveness probe. */
export interface PingMessage {
  /** Always "ping". */
  readonly type: "ping";
  /** Echoed by the pong. */
  readonly nonce: number;
}
/** Answer to a `ping`, echoing its nonce. */
export interface PongMessage {
  /** Always "pong". */
  readonly type: "pong";
  /** The ping's nonce. */
  readonly nonce: number;
}
/** A node and where it listens. */
export interface PeerEntry {
  /** The node's id. */
  readonly nodeId: string;
  /** Where it listens, `host:port`. */
  readonly listen: string;
}
/** A SuperPeer as the directory knows it: what it says of itself, versioned by its own sequence number. */
export interface SuperPeerEntry extends PeerEntry {
  /** Peers that hold it as their primary SuperPeer (each Peer is counted once in the network). */
  readonly peers: number;
  /** Peers linked to it, primary or backup. */
  readonly load: number;
  /** The most Peers it serves (`--max-peers`). */
  readonly capacity: number;
  /** Its own counter (ms clock): a higher one replaces a lower one. */
  readonly seq: number;
  /**
   * Its signature over the other fields (`entryMessage`, lowercase hex): an entry counts only when signed by
   * the node it describes. Optional in the type for local use; a received entry without one is refused.
   */
  readonly sig?: string;
}
/** An entry named by its id and sequence number only: what a digest (`ihave`) announces. */
export interface Digest {
  /** The SuperPeer's node id. */
  readonly nodeId: string;
  /** The sequence number of the entry the sender holds. */
  readonly seq: number;
}
/** A SuperPeer withdrawing its own entry as of its `seq`, signed by it (`removalMessage`). */
export interface Removal {
  /** The SuperPeer's node id. */
  readonly nodeId: string;
  /** Its counter at the withdrawal. */
  readonly seq: number;
  /** Its signature; a removal without a valid one is not acted on, nor forwarded. */
  readonly sig?: string;
}
/** After `hello`, a node asks a SuperPeer to serve it: as its primary SuperPeer or as its backup. */
export interface JoinMessage {
  /** Always "join". */
  readonly type: "join";
  /** True for the primary SuperPeer (which the Peer is counted under), false for the backup. */
  readonly primary: boolean;
  /**
   * A backup join: the node id of the SuperPeer the Peer already holds, which a full SuperPeer must not
   * name as one to try (it has room, but not for this Peer's second link).
   */
  readonly holds?: string;
}
/** After `hello`, a SuperPeer asks another for a mesh link. */
export interface MeshMessage {
  /** Always "mesh". */
  readonly type: "mesh";
}
/** After `hello`, a node asks only where the SuperPeers are; the answer is a `redirect`. */
export interface GetAddrMessage {
  /** Always "getaddr". */
  readonly type: "getaddr";
}
/** A SuperPeer took a `join` or `mesh`: here is the first page of what it knows. */
export interface WelcomeMessage {
  /** Always "welcome". */
  readonly type: "welcome";
  /** SuperPeers it knows of, itself included (more may follow in `superpeers` pages). */
  readonly superpeers: readonly SuperPeerEntry[];
  /** Its Peers in the order they joined (more may follow in `members` pages); empty on a mesh link. */
  readonly members: readonly PeerEntry[];
}
/** A full SuperPeer's answer to `join`: try these, or become a SuperPeer (and link to me) to add capacity. */
export interface FullMessage {
  /** Always "full". */
  readonly type: "full";
  /** SuperPeers it believes have room, "host:port". */
  readonly try: readonly string[];
  /** True when none has room: the asker should promote itself and link to the mesh. */
  readonly promote: boolean;
}
/** A node that is not a SuperPeer (or no longer one) names the SuperPeers it is linked to, then closes. */
export interface RedirectMessage {
  /** Always "redirect". */
  readonly type: "redirect";
  /** SuperPeers, "host:port". */
  readonly to: readonly string[];
}
/** Directory changes: SuperPeers added or updated, and SuperPeers gone (as of their sequence number). */
export interface SuperPeersMessage {
  /** Always "superpeers". */
  readonly type: "superpeers";
  /** New or newer entries. */
  readonly add: readonly SuperPeerEntry[];
  /** Entries to drop, unless a newer one is known: each withdrawn by its own SuperPeer. */
  readonly remove: readonly Removal[];
}
/**
 * Directory news as a digest (gossipsub's IHAVE): the entries the sender holds that changed, by id and sequence;
 * the receiver asks (`iwant`) for those it lacks or holds older.
 */
export interface IHaveMessage {
  /** Always "ihave". */
  readonly type: "ihave";
  /** Entries the sender holds. */
  readonly entries: readonly Digest[];
  /**
   * True when this digest answers a summary (`dirsum`): what it offers is what the receiver missed, not news, and
   * what the receiver pulls from it goes no further.
   */
  readonly sync?: boolean;
}
/**
 * A directory's summary, sent when a mesh link forms (issue 19): per bucket of node ids, a hash of what its
 * entries claim (`Directory.summary`). The receiver answers with a digest (`ihave`) of its entries in the
 * buckets that differ, once per link.
 */
export interface DirSumMessage {
  /** Always "dirsum". */
  readonly type: "dirsum";
  /** Hashes of 8 lowercase hex digits each, a power of two of them in [`DIR_SUM_BUCKETS`, `DIR_SUM_BUCKETS_MAX`]. */
  readonly buckets: string;
}
/** Asks for entries a digest announced (gossipsub's IWANT); the answer is a `superpeers` message. */
export interface IWantMessage {
  /** Always "iwant". */
  readonly type: "iwant";
  /** Node ids whose entries are wanted. */
  readonly ids: readonly string[];
}
/** A SuperPeer's roster changes, sent to its Peers (who walk it in order if they lose their only SuperPeer). */
export interface MembersMessage {
  /** Always "members". */
  readonly type: "members";
  /** True when `add` starts the roster afresh (it replaces what the Peer held). */
  readonly reset?: boolean;
  /** Peers that joined, in order. */
  readonly add: readonly PeerEntry[];
  /** Node ids of Peers that left. */
  readonly remove: readonly string[];
}
/** A Peer tells a SuperPeer it now holds it as primary (true) or backup (false). */
export interface PrimaryMessage {
  /** Always "primary". */
  readonly type: "primary";
  /** The new standing. */
  readonly primary: boolean;
}
/** Announces, requests or reports missing blocks or transactions by id. */
export interface InvLikeMessage<T extends "inv" | "getdata" | "notfound"> {
  /** "inv", "getdata" or "notfound". */
  readonly type: T;
  /** Blocks or transactions. */
  readonly kind: InvKind;
  /** Hashes, display order. */
  readonly ids: readonly string[];
}
/** A transaction or block in canonical binary encoding (lowercase hex). */
export interface DataMessage<T extends "tx" | "block"> {
  /** "tx" or "block". */
  readonly type: T;
  /** The canonical encoding, lowercase hex. */
  readonly data: string;
}
/** Block request from a locator. */
export interface GetBlocksMessage {
  /** Always "getblocks". */
  readonly type: "getblocks";
  /** The asker's block locator. */
  readonly locator: readonly string[];
  /** Last hash wanted, or null for as many as fit. */
  readonly stop: string | null;
}
/** A batch of blocks (lowercase hex each). */
export interface BlocksMessage {
  /** Always "blocks". */
  readonly type: "blocks";
  /** Consecutive blocks, lowercase hex each; empty when there are no more. */
  readonly data: readonly string[];
}

/**
 * A block as its header, the coinbase and a short id per other transaction (`lib/primitives/compact_block.ts`,
 * BIP-152's idea): the receiver rebuilds it from its mempool.
 */
export interface CompactBlockMessage {
  /** Always "cmpctblock". */
  readonly type: "cmpctblock";
  /** The compact block's canonical encoding, lowercase hex. */
  readonly data: string;
}
/** Asks the sender of a compact block for the transactions at these positions (1 = first after the coinbase). */
export interface GetBlockTxnMessage {
  /** Always "getblocktxn". */
  readonly type: "getblocktxn";
  /** The block's hash. */
  readonly hash: string;
  /** Positions in the block, ascending, each once. */
  readonly positions: readonly number[];
}
/** The answer to a `getblocktxn`: the transactions at the positions asked, in that order. */
export interface BlockTxnMessage {
  /** Always "blocktxn". */
  readonly type: "blocktxn";
  /** The block's hash. */
  readonly hash: string;
  /** The transactions, canonical encoding in lowercase hex each. */
  readonly data: readonly string[];
}

/** Asks for the hashes of the active chain after the locator's fork point (a sync's first step, no bodies). */
export interface GetHashesMessage {
  /** Always "gethashes". */
  readonly type: "gethashes";
  /** The asker's block locator. */
  readonly locator: readonly string[];
}
/** The answer to a `gethashes`: consecutive block hashes, oldest first; empty when there are none. */
export interface HashesMessage {
  /** Always "hashes". */
  readonly type: "hashes";
  /** Block hashes, display order. */
  readonly ids: readonly string[];
}

/** Every message of the protocol. */
export type Message =
  | HelloMessage
  | ProofMessage
  | RejectMessage
  | PingMessage
  | PongMessage
  | JoinMessage
  | MeshMessage
  | GetAddrMessage
  | WelcomeMessage
  | FullMessage
  | RedirectMessage
  | SuperPeersMessage
  | IHaveMessage
  | DirSumMessage
  | IWantMessage
  | MembersMessage
  | PrimaryMessage
  | InvLikeMessage<"inv">
  | InvLikeMessage<"getdata">
  | InvLikeMessage<"notfound">
  | DataMessage<"tx">
  | DataMessage<"block">
  | GetBlocksMessage
  | BlocksMessage
  | CompactBlockMessage
  | GetBlockTxnMessage
  | BlockTxnMessage
  | GetHashesMessage
  | HashesMessage;

/** The `type` strings of `Message`. */
export type MessageType = Message["type"];

type Obj = Record<string, unknown>;

const HASH_RE = /^[0-9a-f]{64}$/;
const WORK_RE = /^[0-9a-f]{1,64}$/;
const HEX_RE = /^(?:[0-9a-f]{2})*$/;
/**
 * A directory summary: hashes of 8 hex digits, as many as a power of two within [`DIR_SUM_BUCKETS`,
 * `DIR_SUM_BUCKETS_MAX`] (the sender's choice, by the size of its directory).
 */
const DIR_SUM_HEX = 8 * DIR_SUM_BUCKETS_MAX;
const DIR_SUM_RE = new RegExp(`^(?:[0-9a-f]{8}){${DIR_SUM_BUCKETS},${DIR_SUM_BUCKETS_MAX}}$`);

function summaryHex(v: unknown, at: string): string {
  const s = str(v, at, DIR_SUM_HEX, DIR_SUM_RE);
  const n = s.length / 8;
  if ((n & (n - 1)) !== 0) {
    throw new MessageError(`${at}: expected a power of two of 8-digit hashes, got ${n}`);
  }
  return s;
}
// Printable ASCII without spaces: ids end up in logs and menus, so no control characters.
const NONCE_RE = /^[0-9a-f]{64}$/;
const NODE_ID_RE = /^[\x21-\x7e]{1,64}$/;
// deno-lint-ignore no-control-regex -- refusing control characters is the point
const PRINTABLE_RE = /^[^\x00-\x1f\x7f]*$/;

function field(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function obj(v: unknown, at: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new MessageError(`${at}: expected an object`);
  }
  return v as Obj;
}

function int(v: unknown, at: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new MessageError(`${at}: expected an integer${min === 0 ? " >= 0" : ""}`);
  }
  return v;
}

function str(v: unknown, at: string, max: number, re: RegExp = PRINTABLE_RE): string {
  if (typeof v !== "string" || v.length > max || !re.test(v)) {
    throw new MessageError(`${at}: expected a string of at most ${max} characters matching ${re.source}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, at: string, options: readonly T[]): T {
  if (typeof v !== "string" || !(options as readonly string[]).includes(v)) {
    throw new MessageError(`${at}: expected one of ${options.join(", ")}`);
  }
  return v as T;
}

function hash(v: unknown, at: string): string {
  if (typeof v !== "string" || !HASH_RE.test(v)) {
    throw new MessageError(`${at}: expected 64 lowercase hex digits`);
  }
  return v;
}

function arr<T>(v: unknown, at: string, max: number, item: (x: unknown, at: string) => T): T[] {
  if (!Array.isArray(v)) throw new MessageError(`${at}: expected an array`);
  if (v.length > max) throw new MessageError(`${at}: ${v.length} items exceed ${max}`);
  return v.map((x, i) => item(x, `${at}[${i}]`));
}

function data(v: unknown, at: string, max = MAX_DATA_BYTES): string {
  if (typeof v !== "string" || v.length === 0) throw new MessageError(`${at}: expected non-empty hex`);
  if (v.length > max * 2) throw new MessageError(`${at}: more than ${max} bytes`);
  if (!HEX_RE.test(v)) throw new MessageError(`${at}: expected an even number of lowercase hex digits`);
  return v;
}

function listen(v: unknown, at: string): string {
  if (typeof v !== "string" || v.length > 300) throw new MessageError(`${at}: expected "host:port"`);
  try {
    parseHostPort(v, { allowSpace: false });
  } catch (e) {
    throw new MessageError(`${at}: ${(e as Error).message}`);
  }
  return v;
}

const nodeId = (v: unknown, at: string) => str(v, at, 64, NODE_ID_RE);

function bool(v: unknown, at: string): boolean {
  if (typeof v !== "boolean") throw new MessageError(`${at}: expected true or false`);
  return v;
}

function peerEntry(x: unknown, at: string): PeerEntry {
  const p = obj(x, at);
  return {
    nodeId: nodeId(field(p, "nodeId"), `${at}.nodeId`),
    listen: listen(field(p, "listen"), `${at}.listen`),
  };
}

function superPeerEntry(x: unknown, at: string): SuperPeerEntry {
  const p = obj(x, at);
  return {
    ...peerEntry(x, at),
    peers: int(field(p, "peers"), `${at}.peers`, 0),
    load: int(field(p, "load"), `${at}.load`, 0),
    capacity: int(field(p, "capacity"), `${at}.capacity`, 0),
    seq: int(field(p, "seq"), `${at}.seq`, 0),
    ...(field(p, "sig") === undefined ? {} : { sig: str(field(p, "sig"), `${at}.sig`, 256, HEX_RE) }),
  };
}

function invLike<T extends "inv" | "getdata" | "notfound">(type: T, o: Obj): InvLikeMessage<T> {
  return {
    type,
    kind: oneOf(field(o, "kind"), `${type}.kind`, ["block", "tx"] as const),
    ids: arr(field(o, "ids"), `${type}.ids`, MAX_INV, hash),
  };
}

const PARSERS: { readonly [K in MessageType]: (o: Obj) => Extract<Message, { type: K }> } = {
  hello(o) {
    const tip = obj(field(o, "tip"), "hello.tip");
    const l = field(o, "listen");
    return {
      type: "hello",
      protocol: int(field(o, "protocol"), "hello.protocol", 0),
      network: oneOf(field(o, "network"), "hello.network", ["main", "regtest"] as const),
      genesis: hash(field(o, "genesis"), "hello.genesis"),
      nodeId: nodeId(field(o, "nodeId"), "hello.nodeId"),
      listen: l === null ? null : listen(l, "hello.listen"),
      address: str(field(o, "address"), "hello.address", 100),
      tip: {
        hash: hash(field(tip, "hash"), "hello.tip.hash"),
        height: int(field(tip, "height"), "hello.tip.height", 0),
        work: str(field(tip, "work"), "hello.tip.work", 64, WORK_RE),
      },
      role: oneOf(field(o, "role"), "hello.role", ["peer", "superpeer"] as const),
      ...(field(o, "nonce") === undefined
        ? {}
        : { nonce: str(field(o, "nonce"), "hello.nonce", 64, NONCE_RE) }),
    };
  },
  proof: (o) => ({ type: "proof", signature: str(field(o, "signature"), "proof.signature", 256, HEX_RE) }),
  reject: (o) => ({
    type: "reject",
    code: str(field(o, "code"), "reject.code", 64),
    reason: str(field(o, "reason"), "reject.reason", 500),
  }),
  ping: (o) => ({ type: "ping", nonce: int(field(o, "nonce"), "ping.nonce") }),
  pong: (o) => ({ type: "pong", nonce: int(field(o, "nonce"), "pong.nonce") }),
  join: (o) => ({
    type: "join",
    primary: bool(field(o, "primary"), "join.primary"),
    ...(field(o, "holds") === undefined ? {} : { holds: nodeId(field(o, "holds"), "join.holds") }),
  }),
  mesh: () => ({ type: "mesh" }),
  getaddr: () => ({ type: "getaddr" }),
  welcome: (o) => ({
    type: "welcome",
    superpeers: arr(field(o, "superpeers"), "welcome.superpeers", MAX_LIST, superPeerEntry),
    members: arr(field(o, "members"), "welcome.members", MAX_LIST, peerEntry),
  }),
  full: (o) => ({
    type: "full",
    try: arr(field(o, "try"), "full.try", MAX_ADDRS, listen),
    promote: bool(field(o, "promote"), "full.promote"),
  }),
  redirect: (o) => ({ type: "redirect", to: arr(field(o, "to"), "redirect.to", MAX_ADDRS, listen) }),
  superpeers: (o) => ({
    type: "superpeers",
    add: arr(field(o, "add"), "superpeers.add", MAX_LIST, superPeerEntry),
    remove: arr(field(o, "remove"), "superpeers.remove", MAX_LIST, (x, at) => {
      const r = obj(x, at);
      return {
        nodeId: nodeId(field(r, "nodeId"), `${at}.nodeId`),
        seq: int(field(r, "seq"), `${at}.seq`, 0),
        ...(field(r, "sig") === undefined ? {} : { sig: str(field(r, "sig"), `${at}.sig`, 256, HEX_RE) }),
      };
    }),
  }),
  ihave: (o) => ({
    type: "ihave",
    entries: arr(field(o, "entries"), "ihave.entries", MAX_LIST, (x, at) => {
      const d = obj(x, at);
      return {
        nodeId: nodeId(field(d, "nodeId"), `${at}.nodeId`),
        seq: int(field(d, "seq"), `${at}.seq`, 0),
      };
    }),
    ...(field(o, "sync") === undefined ? {} : { sync: bool(field(o, "sync"), "ihave.sync") }),
  }),
  iwant: (o) => ({ type: "iwant", ids: arr(field(o, "ids"), "iwant.ids", MAX_LIST, nodeId) }),
  dirsum: (o) => ({
    type: "dirsum",
    buckets: summaryHex(field(o, "buckets"), "dirsum.buckets"),
  }),
  members: (o) => ({
    type: "members",
    ...(field(o, "reset") === undefined ? {} : { reset: bool(field(o, "reset"), "members.reset") }),
    add: arr(field(o, "add"), "members.add", MAX_LIST, peerEntry),
    remove: arr(field(o, "remove"), "members.remove", MAX_LIST, nodeId),
  }),
  primary: (o) => ({ type: "primary", primary: bool(field(o, "primary"), "primary.primary") }),
  inv: (o) => invLike("inv", o),
  getdata: (o) => invLike("getdata", o),
  notfound: (o) => invLike("notfound", o),
  tx: (o) => ({ type: "tx", data: data(field(o, "data"), "tx.data", MAX_TX_DATA_BYTES) }),
  block: (o) => ({ type: "block", data: data(field(o, "data"), "block.data") }),
  getblocks: (o) => {
    const stop = field(o, "stop");
    return {
      type: "getblocks",
      locator: arr(field(o, "locator"), "getblocks.locator", MAX_LOCATOR, hash),
      stop: stop === null ? null : hash(stop, "getblocks.stop"),
    };
  },
  blocks: (o) => ({
    type: "blocks",
    data: arr(field(o, "data"), "blocks.data", MAX_BLOCKS_PER_MESSAGE, (x, at) => data(x, at)),
  }),
  gethashes: (o) => ({
    type: "gethashes",
    locator: arr(field(o, "locator"), "gethashes.locator", MAX_LOCATOR, hash),
  }),
  hashes: (o) => ({ type: "hashes", ids: arr(field(o, "ids"), "hashes.ids", MAX_HASHES, hash) }),
  cmpctblock: (o) => ({ type: "cmpctblock", data: data(field(o, "data"), "cmpctblock.data") }),
  getblocktxn: (o) => ({
    type: "getblocktxn",
    hash: hash(field(o, "hash"), "getblocktxn.hash"),
    positions: positions(field(o, "positions"), "getblocktxn.positions"),
  }),
  blocktxn: (o) => ({
    type: "blocktxn",
    hash: hash(field(o, "hash"), "blocktxn.hash"),
    data: transactions(field(o, "data"), "blocktxn.data"),
  }),
};

/** Positions of a `getblocktxn`: ascending, each once, within a block. */
function positions(v: unknown, at: string): number[] {
  const ps = arr(v, at, MAX_BLOCKTXN, (x, a) => int(x, a, 1));
  ps.forEach((p, i) => {
    if (i > 0 && p <= ps[i - 1]) throw new MessageError(`${at}[${i}]: positions must ascend`);
  });
  return ps;
}

/** Transactions of a `blocktxn`: each at most a standard transaction, all together at most a block message. */
function transactions(v: unknown, at: string): string[] {
  const txs = arr(v, at, MAX_BLOCKTXN, (x, a) => data(x, a, MAX_TX_DATA_BYTES));
  const total = txs.reduce((n, t) => n + t.length / 2, 0);
  if (total > MAX_DATA_BYTES) throw new MessageError(`${at}: ${total} bytes exceed ${MAX_DATA_BYTES}`);
  return txs;
}

/** Checks `json` against its type's schema; returns a fresh typed message or throws `MessageError`. */
export function parseMessage(json: unknown): Message {
  try {
    const o = obj(json, "message");
    const type = field(o, "type");
    if (typeof type !== "string" || !Object.hasOwn(PARSERS, type)) {
      throw new MessageError(`unknown message type ${JSON.stringify(String(type)).slice(0, 80)}`);
    }
    return PARSERS[type as MessageType](o);
  } catch (e) {
    // The checks above only throw MessageError; this keeps the promise even for exotic inputs.
    if (e instanceof MessageError) throw e;
    throw new MessageError(`malformed message: ${String(e)}`);
  }
}

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function checkHost(host: string, input: string): string {
  const bad = (why: string) => new AddressFormatError(`bad address ${JSON.stringify(input)}: ${why}`);
  if (host.includes(":")) {
    try {
      new URL(`http://[${host}]/`);
    } catch {
      throw bad("invalid IPv6 address");
    }
    return host;
  }
  const v4 = IPV4_RE.exec(host);
  if (v4) {
    if (v4.slice(1).some((o) => Number(o) > 255)) throw bad("IPv4 octet above 255");
    return host;
  }
  if (/^[\d.]+$/.test(host)) throw bad("invalid IPv4 address");
  if (host.length === 0 || host.length > 253 || !host.split(".").every((l) => LABEL_RE.test(l))) {
    throw bad("invalid host name");
  }
  return host;
}

/**
 * Parses `host:port`, `[ipv6]:port`, or (tracker style) `host port`; the hostname comes back
 * without brackets. Throws `AddressFormatError`.
 */
export function parseHostPort(input: string, options: { allowSpace?: boolean } = {}): HostPort {
  const bad = (why: string) => new AddressFormatError(`bad address ${JSON.stringify(input)}: ${why}`);
  if (typeof input !== "string") throw new AddressFormatError("address must be a string");
  const s = input.trim();
  let host: string, port: string;
  const words = s.split(/\s+/);
  if (words.length === 2 && options.allowSpace !== false) {
    [host, port] = words;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  } else if (words.length !== 1) {
    throw bad('expected "host:port" or "host port"');
  } else if (s.startsWith("[")) {
    const m = /^\[([^\]]*)\]:([^:]*)$/.exec(s);
    if (!m) throw bad('expected "[ipv6]:port"');
    [, host, port] = m;
    if (!host.includes(":")) throw bad("brackets are only for IPv6 addresses");
  } else {
    const i = s.lastIndexOf(":");
    if (i < 0) throw bad("missing port");
    host = s.slice(0, i);
    port = s.slice(i + 1);
    if (host.includes(":")) throw bad('IPv6 addresses need brackets, as in "[::1]:8333"');
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    throw bad("port must be an integer from 1 to 65535");
  }
  return { hostname: checkHost(host, input), port: Number(port) };
}

/** Formats an address as `host:port`, bracketing IPv6 hosts. */
export function formatHostPort(addr: HostPort): string {
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}
