/**
 * The RPC methods: what scripts can ask a running node, and how one JSON-RPC 2.0 request or batch is
 * answered (`answerRpc`). Each method returns plain JSON with amounts as exact decimal coin strings ("1.5");
 * refusals are `RpcRefused` with an application error code (`RPC_ERRORS`), which the CLI turns into exit
 * code 1 and, under `--json`, a stable error name (`RPC_ERROR_NAMES`).
 * @module
 */
import { AmountError, formatAmount, parseAmount } from "../consensus/amount.ts";
import { ValidationError } from "../chain/errors.ts";
import type { Node } from "../node.ts";
import type { LinkInfo, Role } from "../net/network.ts";
import type { PeerEntry, SuperPeerEntry } from "../net/messages.ts";
import type { Block } from "../primitives/block.ts";
import { type Transaction, txid } from "../primitives/transaction.ts";
import { InsufficientFunds, WalletError } from "../wallet/errors.ts";
import { AddressError, encodeAddress } from "../crypto/address.ts";
import { WALLET_METHODS } from "./wallet_methods.ts";

/**
 * JSON-RPC error codes: the standard ones (negative) and this node's application codes (positive), each
 * with its stable name in `RPC_ERROR_NAMES`.
 */
export const RPC_ERRORS = {
  /** The body is not JSON. */
  parse: -32700,
  /** Not a JSON-RPC request (no method, or an empty batch). */
  invalidRequest: -32600,
  /** No such method. */
  notFound: -32601,
  /** The method's parameters are not what it takes. */
  badParams: -32602,
  /** A fault of the node. */
  internal: -32603,
  /** Refused for another reason (the message says why). */
  refused: 1,
  /** The address is not a valid address of this network. */
  badAddress: 2,
  /** The amount is not an exact positive amount of at most 8 decimals within the supply. */
  badAmount: 3,
  /** The wallet cannot pay the amount and its fee. */
  insufficientFunds: 4,
  /** No such block, transaction or ban on this node. */
  unknown: 5,
  /** The chain or mempool refused the transaction. */
  rejected: 6,
} as const;

/** The stable name of each error code, as `--json` errors print it. */
export const RPC_ERROR_NAMES: Readonly<Record<number, string>> = {
  [RPC_ERRORS.parse]: "parse-error",
  [RPC_ERRORS.invalidRequest]: "invalid-request",
  [RPC_ERRORS.notFound]: "unknown-method",
  [RPC_ERRORS.badParams]: "bad-params",
  [RPC_ERRORS.internal]: "internal",
  [RPC_ERRORS.refused]: "refused",
  [RPC_ERRORS.badAddress]: "bad-address",
  [RPC_ERRORS.badAmount]: "bad-amount",
  [RPC_ERRORS.insufficientFunds]: "insufficient-funds",
  [RPC_ERRORS.unknown]: "not-found",
  [RPC_ERRORS.rejected]: "rejected",
};

/** Requests in one batch at most; a larger batch is refused whole. */
export const RPC_BATCH_MAX = 100;

/** A request the node understood but refuses; `message` says what to do, `code` is an `RPC_ERRORS` code. */
export class RpcRefused extends Error {
  /** The error's name, for logs. */
  override name = "RpcRefused";
  /** A refusal with application error `code` (default `RPC_ERRORS.refused`). */
  constructor(message: string, readonly code: number = RPC_ERRORS.refused) {
    super(message);
  }
}

/** A method's parameters are not what it takes. */
export class RpcBadParams extends Error {
  /** The error's name, for logs. */
  override name = "RpcBadParams";
}

/** What the `peers` method returns: this node's place in the overlay, its links and the SuperPeers it knows. */
export interface PeersReply {
  /** Its role. */
  role: Role;
  /** Its primary SuperPeer (itself when it is one), or null while looking for one. */
  primary: PeerEntry | null;
  /**
   * The same as `primary`, under its old name.
   * @deprecated Read `primary`; `hub` stays for one version (see CHANGELOG.md).
   */
  hub: PeerEntry | null;
  /** Its greeted links. */
  links: LinkInfo[];
  /** Every SuperPeer it knows, with its load. */
  superpeers: SuperPeerEntry[];
  /** Nodes it knows of in the whole network. */
  networkSize: number;
  /**
   * The same as `networkSize`, under its old snake_case name.
   * @deprecated Read `networkSize`; `network_size` stays for one version (see CHANGELOG.md).
   */
  network_size: number;
}

type Params = unknown[];
type Method = (node: Node, params: Params) => unknown | Promise<unknown>;

/** Blocks `tx` looks through for a confirmed transaction none of whose outputs is unspent. */
export const TX_SEARCH_BLOCKS = 1000;

function intParam(p: unknown, name: string, dflt: number, max: number): number {
  if (p === undefined || p === null) return dflt;
  const n = typeof p === "string" && /^\d+$/.test(p) ? Number(p) : p;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new RpcBadParams(`${name} must be a whole number from 1 to ${max}`);
  }
  return n;
}

function blockJson(node: Node, block: Block, hash: string) {
  const entry = node.chain.entry(hash)!;
  const prefix = node.params.addressPrefix;
  return {
    hash,
    height: entry.height,
    confirmations: node.chain.isActive(entry) ? node.chain.height - entry.height + 1 : 0,
    time: block.header.time,
    bits: block.header.bits.toString(16).padStart(8, "0"),
    nonce: block.header.nonce,
    prevHash: block.header.prevHash,
    merkleRoot: block.header.merkleRoot,
    txs: block.txs.map((tx) => ({
      txid: txid(tx),
      inputs: tx.inputs.map((i) => ({ txid: i.prevout.txid, index: i.prevout.index })),
      outputs: tx.outputs.map((o) => ({
        address: encodeAddress(o.pubKeyHash, prefix),
        amount: formatAmount(o.amount),
      })),
    })),
  };
}

/** Where a transaction is: in the mempool, or in a block of the active chain (found by its outputs, or among the last `TX_SEARCH_BLOCKS` blocks). */
function findTx(node: Node, id: string): { tx: Transaction; height?: number; fee?: number } | undefined {
  const pooled = node.mempool.get(id);
  if (pooled) return { tx: pooled.tx, fee: pooled.fee };
  const inBlock = (height: number) => {
    const block = node.chain.getBlock(node.chain.entryAt(height)!.hash);
    const tx = block?.txs.find((t) => txid(t) === id);
    return tx && { tx, height };
  };
  // An unspent output names the block's height: try the first outputs.
  for (let index = 0; index < 16; index++) {
    const coin = node.chain.getCoin({ txid: id, index });
    if (coin) return inBlock(coin.height);
  }
  for (let h = node.chain.height; h >= 0 && h > node.chain.height - TX_SEARCH_BLOCKS; h--) {
    const found = inBlock(h);
    if (found) return found;
  }
  return undefined;
}

/** The amount an input spends, when this node can still see it (unspent, in the mempool, or in the block the spend is in). */
function inputAmount(node: Node, prevTxid: string, index: number): number | undefined {
  const o = { txid: prevTxid, index };
  const coin = node.chain.getCoin(o) ?? node.mempool.getCoin(o);
  if (coin) return coin.amount;
  return findTx(node, prevTxid)?.tx.outputs[index]?.amount;
}

function txJson(node: Node, id: string) {
  const found = findTx(node, id);
  if (!found) {
    throw new RpcRefused(
      `no transaction ${id} on this node (neither pending nor in the last ${TX_SEARCH_BLOCKS} blocks)`,
      RPC_ERRORS.unknown,
    );
  }
  const { tx, height } = found;
  const prefix = node.params.addressPrefix;
  const coinbase = tx.inputs.length === 0;
  const inputs = tx.inputs.map((i) => {
    const amount = coinbase ? undefined : inputAmount(node, i.prevout.txid, i.prevout.index);
    return {
      txid: i.prevout.txid,
      index: i.prevout.index,
      amount: amount === undefined ? null : formatAmount(amount),
      units: amount,
    };
  });
  const outSum = tx.outputs.reduce((s, o) => s + o.amount, 0);
  let fee: number | undefined = found.fee ?? (coinbase ? 0 : undefined);
  if (fee === undefined && inputs.every((i) => i.units !== undefined)) {
    fee = inputs.reduce((s, i) => s + i.units!, 0) - outSum;
  }
  return {
    txid: id,
    status: height === undefined ? "pending" : "confirmed",
    height: height ?? null,
    confirmations: height === undefined ? 0 : node.chain.height - height + 1,
    coinbase,
    inputs: inputs.map(({ units: _, ...i }) => i),
    outputs: tx.outputs.map((o, index) => ({
      index,
      address: encodeAddress(o.pubKeyHash, prefix),
      amount: formatAmount(o.amount),
    })),
    value: formatAmount(outSum),
    fee: fee === undefined ? null : formatAmount(fee),
  };
}

/** A refusal of the wallet, the amount parser or the chain as the RPC error it is. */
function refusal(e: unknown): never {
  if (e instanceof InsufficientFunds) throw new RpcRefused(e.message, RPC_ERRORS.insufficientFunds);
  if (e instanceof AmountError) throw new RpcRefused(e.message, RPC_ERRORS.badAmount);
  if (e instanceof AddressError) throw new RpcRefused(e.message, RPC_ERRORS.badAddress);
  if (e instanceof WalletError) throw new RpcRefused(e.message);
  if (e instanceof ValidationError) throw new RpcRefused(e.message, RPC_ERRORS.rejected);
  throw e;
}

/** Every method by name. */
export const METHODS: Record<string, Method> = {
  status: (node) => {
    const s = node.status();
    return {
      ...s,
      tipTime: node.chain.tip.header.time,
      balance: formatAmount(s.balance),
      immature: formatAmount(s.immature),
      pending: formatAmount(s.pending),
      change: formatAmount(s.change),
    };
  },
  peers: (node): PeersReply => ({
    role: node.net.role,
    primary: node.net.primary,
    hub: node.net.primary,
    links: node.net.linkInfo(),
    superpeers: node.net.directory(),
    networkSize: node.net.networkSize,
    network_size: node.net.networkSize,
  }),
  chain: (node, [n]) => {
    const count = intParam(n, "N", 10, 1000);
    const out = [];
    for (let h = node.chain.height; h >= 0 && out.length < count; h--) {
      const e = node.chain.entryAt(h)!;
      out.push({
        height: h,
        hash: e.hash,
        time: e.header.time,
        bits: e.header.bits.toString(16).padStart(8, "0"),
      });
    }
    return out;
  },
  block: (node, [ref]) => {
    const s = String(ref ?? "");
    let hash: string | undefined;
    // A hash first: 64 digits are a hash that happens to have no letters, not a height.
    if (/^[0-9a-f]{64}$/i.test(s)) hash = node.chain.entry(s.toLowerCase())?.hash;
    else if (/^\d+$/.test(s)) hash = node.chain.entryAt(Number(s))?.hash;
    else throw new RpcBadParams("give a block hash (64 hex digits) or a height");
    const block = hash && node.chain.getBlock(hash);
    if (!hash || !block) throw new RpcRefused(`no block ${s} on this node`, RPC_ERRORS.unknown);
    return blockJson(node, block, hash);
  },
  tx: (node, [id]) => {
    const s = String(id ?? "");
    if (!/^[0-9a-f]{64}$/i.test(s)) throw new RpcBadParams("give a transaction id (64 hex digits)");
    return txJson(node, s.toLowerCase());
  },
  mempool: (node) =>
    node.mempool.entries().map((e) => ({
      txid: e.txid,
      fee: formatAmount(e.fee),
      size: e.size,
      // Base units per byte, to the thousandth: a rate, not an amount.
      feeRate: Math.round(e.feeRate * 1000) / 1000,
    })),
  balance: (node) => {
    const b = node.balances();
    return {
      spendable: formatAmount(b.spendable),
      immature: formatAmount(b.immature),
      maturesIn: b.maturesIn,
      incoming: formatAmount(b.incoming),
      change: formatAmount(b.change),
    };
  },
  address: (node) => ({ address: node.wallet.address }),
  send: async (node, [address, amount, feeRate, passphrase]) => {
    if (typeof address !== "string" || typeof amount !== "string") {
      throw new RpcBadParams('send takes an address and an amount in coins as a decimal string, e.g. "1.5"');
    }
    const rate = feeRate === undefined || feeRate === null ? undefined : Number(feeRate);
    if (rate !== undefined && !(Number.isSafeInteger(rate) && rate >= 1 && rate <= 1_000_000)) {
      throw new RpcBadParams("--fee-rate takes a whole number of base units per byte, 1 to 1000000");
    }
    if (passphrase !== undefined && passphrase !== null && typeof passphrase !== "string") {
      throw new RpcBadParams("a passphrase is text");
    }
    try {
      const units = parseAmount(amount);
      const { txid, fee } = await node.send(address, units, {
        feeRate: rate,
        passphrase: passphrase ?? undefined,
      });
      return { txid, amount: formatAmount(units), fee: formatAmount(fee) };
    } catch (e) {
      refusal(e);
    }
  },
  ...WALLET_METHODS,
  mine: async (node, [n]) => ({ hashes: await node.miner.mineBlocks(intParam(n, "N", 1, 10_000)) }),
  "mining.start": (node) => {
    node.miner.start();
    return { mining: true };
  },
  "mining.stop": async (node) => {
    await node.miner.stop();
    return { mining: false };
  },
  bans: (node) => {
    const now = Date.now();
    return node.bans.banned().map((b) => ({
      host: b.host,
      until: Math.floor(b.until / 1000),
      secondsLeft: Math.max(0, Math.ceil((b.until - now) / 1000)),
    }));
  },
  unban: async (node, [host]) => {
    if (typeof host !== "string" || host === "") {
      throw new RpcBadParams("unban takes a host, e.g. 192.168.1.7");
    }
    const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
    if (!node.bans.isListed(h)) throw new RpcRefused(`${host} is not banned`, RPC_ERRORS.unknown);
    node.bans.unban(h);
    await node.bans.flush();
    return { host: h, banned: false };
  },
};

/** One JSON-RPC 2.0 response object. */
export type RpcResponse =
  | { jsonrpc: "2.0"; id: unknown; result: unknown }
  | { jsonrpc: "2.0"; id: unknown; error: { code: number; message: string } };

function ok(id: unknown, result: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, result };
}

function err(id: unknown, code: number, message: string): RpcResponse {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

/** Answers one request object; undefined for a notification (a request without an id). */
async function answerOne(node: Node, req: unknown, onStop?: () => void): Promise<RpcResponse | undefined> {
  if (typeof req !== "object" || req === null || Array.isArray(req)) {
    return err(null, RPC_ERRORS.invalidRequest, "a request is an object with a method");
  }
  const r = req as { id?: unknown; method?: unknown; params?: unknown };
  const notification = !("id" in r);
  const id = r.id ?? null;
  const answer = await (async (): Promise<RpcResponse> => {
    if (typeof r.method !== "string") return err(id, RPC_ERRORS.invalidRequest, "no method");
    if (r.method === "stop") {
      queueMicrotask(() => setTimeout(() => onStop?.(), 20));
      return ok(id, { stopping: true });
    }
    const method = Object.hasOwn(METHODS, r.method) ? METHODS[r.method] : undefined;
    if (!method) return err(id, RPC_ERRORS.notFound, `unknown method ${r.method}`);
    try {
      return ok(id, await method(node, Array.isArray(r.params) ? r.params : []));
    } catch (e) {
      if (e instanceof RpcRefused) return err(id, e.code, e.message);
      if (e instanceof RpcBadParams) return err(id, RPC_ERRORS.badParams, e.message);
      return err(id, RPC_ERRORS.internal, e instanceof Error ? e.message : String(e));
    }
  })();
  return notification ? undefined : answer;
}

/**
 * The answer to a parsed JSON-RPC 2.0 body: one response for one request, an array for a batch (in
 * request order, notifications left out; undefined when nothing is to be answered). A batch runs its
 * requests one after another; an empty batch, or one of more than `RPC_BATCH_MAX`, is one invalid-request
 * error. `onStop` is called after `stop` has answered.
 */
export async function answerRpc(
  node: Node,
  body: unknown,
  onStop?: () => void,
): Promise<RpcResponse | RpcResponse[] | undefined> {
  if (!Array.isArray(body)) return await answerOne(node, body, onStop);
  if (body.length === 0) return err(null, RPC_ERRORS.invalidRequest, "an empty batch");
  if (body.length > RPC_BATCH_MAX) {
    return err(null, RPC_ERRORS.invalidRequest, `a batch holds at most ${RPC_BATCH_MAX} requests`);
  }
  const out: RpcResponse[] = [];
  for (const req of body) {
    const a = await answerOne(node, req, onStop);
    if (a) out.push(a);
  }
  return out.length ? out : undefined;
}
