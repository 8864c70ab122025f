/**
 * The RPC methods: what scripts can ask a running node. Each returns plain JSON; refusals are `RpcRefused`
 * (bad address, insufficient funds, invalid amount, unknown block), which the CLI turns into exit code 1.
 * @module
 */
import { AmountError, COIN, formatAmount, parseAmount } from "../consensus/amount.ts";
import { ValidationError } from "../chain/errors.ts";
import type { Node } from "../node.ts";
import type { LinkInfo, Role } from "../net/network.ts";
import type { PeerEntry, SuperPeerEntry } from "../net/messages.ts";
import type { Block } from "../primitives/block.ts";
import { txid } from "../primitives/transaction.ts";
import { WalletError } from "../wallet/wallet.ts";
import { AddressError, encodeAddress } from "../crypto/address.ts";
import { WALLET_METHODS } from "./wallet_methods.ts";

/** A request the node understood but refuses; `message` says what to do. */
export class RpcRefused extends Error {
  override name = "RpcRefused";
}

/** A method's parameters are not what it takes. */
export class RpcBadParams extends Error {
  override name = "RpcBadParams";
}

/** What the `peers` method returns: this node's place in the overlay, its links and the SuperPeers it knows. */
export interface PeersReply {
  /** Its role. */
  role: Role;
  /** Its primary SuperPeer (itself when it is one), or null while looking for one. */
  hub: PeerEntry | null;
  /** Its greeted links. */
  links: LinkInfo[];
  /** Every SuperPeer it knows, with its load. */
  superpeers: SuperPeerEntry[];
  /** Nodes it knows of in the whole network. */
  network_size: number;
}

type Params = unknown[];
type Method = (node: Node, params: Params) => unknown | Promise<unknown>;

const coins = (units: number) => units / COIN;

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

/** Every method by name. */
export const METHODS: Record<string, Method> = {
  status: (node) => node.status(),
  peers: (node): PeersReply => ({
    role: node.net.role,
    hub: node.net.hub,
    links: node.net.linkInfo(),
    superpeers: node.net.directory(),
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
    if (!hash || !block) throw new RpcRefused(`no block ${s} on this node`);
    return blockJson(node, block, hash);
  },
  mempool: (node) =>
    node.mempool.entries().map((e) => ({
      txid: e.txid,
      fee: formatAmount(e.fee),
      size: e.size,
      feeRate: +e.feeRate.toFixed(3),
    })),
  balance: (node) => {
    const b = node.wallet.balance(node.walletView());
    return { confirmed: coins(b.confirmed), immature: coins(b.immature), pending: coins(b.pending) };
  },
  address: (node) => ({ address: node.wallet.address }),
  send: async (node, [address, amount, feeRate, passphrase]) => {
    if (typeof address !== "string" || (typeof amount !== "string" && typeof amount !== "number")) {
      throw new RpcBadParams("send takes an address and an amount in coins");
    }
    const rate = feeRate === undefined || feeRate === null ? undefined : Number(feeRate);
    if (rate !== undefined && !(Number.isSafeInteger(rate) && rate >= 1 && rate <= 1_000_000)) {
      throw new RpcBadParams("--fee-rate takes a whole number of base units per byte, 1 to 1000000");
    }
    if (passphrase !== undefined && passphrase !== null && typeof passphrase !== "string") {
      throw new RpcBadParams("a passphrase is text");
    }
    try {
      const units = parseAmount(String(amount));
      const { txid, fee } = await node.send(address, units, {
        feeRate: rate,
        passphrase: passphrase ?? undefined,
      });
      return { txid, fee: coins(fee) };
    } catch (e) {
      if (
        e instanceof AmountError || e instanceof AddressError || e instanceof WalletError ||
        e instanceof ValidationError
      ) {
        throw new RpcRefused(e.message);
      }
      throw e;
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
};
