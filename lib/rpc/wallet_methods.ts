/**
 * The wallet's RPC methods: a fresh address, the seed words for a backup, the history, a passphrase (encrypt,
 * unlock for a while, lock) and the suggested fee rate. Amounts in JSON are exact decimal coin strings.
 * Passphrases come from the command line's `--passphrase-file` or prompt, over the local, cookie-guarded RPC.
 * @module
 */
import { formatAmount } from "../consensus/amount.ts";
import type { Node } from "../node.ts";
import { WalletError } from "../wallet/errors.ts";
import { RpcBadParams, RpcRefused } from "./methods.ts";

type Method = (node: Node, params: unknown[]) => unknown | Promise<unknown>;

/** Longest `wallet unlock --for`: a day. */
export const MAX_UNLOCK_SECONDS = 86_400;

function passphraseParam(p: unknown): string | undefined {
  if (p === undefined || p === null) return undefined;
  if (typeof p !== "string" || p === "" || p.length > 1024) {
    throw new RpcBadParams("a passphrase is 1 to 1024 characters");
  }
  return p;
}

/** Runs `f`, turning a wallet's refusal (wrong passphrase, locked, already encrypted) into `RpcRefused`. */
async function refusing<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof WalletError) throw new RpcRefused(e.message);
    throw e;
  }
}

/** One payment of `wallet.history`, as the RPC answers it: amounts are exact decimal coin strings. */
export interface WalletHistoryRow {
  /** The transaction's id. */
  txid: string;
  /** The height of its block, or null while unconfirmed. */
  height: number | null;
  /** Blocks that confirm it (0: in the mempool). */
  confirmations: number;
  /** Paid to this wallet by others, in coins (change is not counted). */
  received: string;
  /** Paid by this wallet to others, in coins. */
  sent: string;
  /** The fee this wallet paid, in coins ("0" when someone else paid it). */
  fee: string;
  /** True for a block reward. */
  coinbase: boolean;
}

/** The wallet's methods by name (merged into `METHODS`). */
export const WALLET_METHODS: Record<string, Method> = {
  "wallet.address": (node) => refusing(async () => ({ address: await node.wallet.newAddress() })),
  "wallet.backup": (node, [passphrase]) =>
    refusing(() =>
      node.wallet.withPassphrase(passphraseParam(passphrase), () => Promise.resolve(node.wallet.backup()))
    ),
  "wallet.history": async (node): Promise<WalletHistoryRow[]> => {
    await node.walletScanned(); // the start-up rescan, when a call comes right after the start
    const mempool = node.mempool.entries().map((e) => e.tx);
    return node.wallet.history({ height: node.chain.height }, mempool).map((e) => ({
      txid: e.txid,
      height: e.height,
      confirmations: e.confirmations,
      received: formatAmount(e.received),
      sent: formatAmount(e.sent),
      fee: formatAmount(e.fee),
      coinbase: e.coinbase,
    }));
  },
  "wallet.info": (node) => ({
    encrypted: node.wallet.encrypted,
    locked: node.wallet.locked,
    addresses: node.wallet.addresses(),
    feeRate: node.suggestedFeeRate(),
  }),
  "wallet.encrypt": (node, [passphrase]) =>
    refusing(async () => {
      const p = passphraseParam(passphrase);
      if (p === undefined) throw new RpcBadParams("wallet encrypt needs a passphrase");
      await node.wallet.encrypt(p);
      return { encrypted: true, locked: node.wallet.locked };
    }),
  "wallet.unlock": (node, [passphrase, seconds]) =>
    refusing(async () => {
      const p = passphraseParam(passphrase);
      if (p === undefined) throw new RpcBadParams("wallet unlock needs a passphrase");
      if (!node.wallet.encrypted) throw new RpcRefused("the wallet is not encrypted: nothing to unlock");
      const s = typeof seconds === "string" && /^\d+$/.test(seconds) ? Number(seconds) : seconds;
      if (typeof s !== "number" || !Number.isSafeInteger(s) || s < 1 || s > MAX_UNLOCK_SECONDS) {
        throw new RpcBadParams(`--for takes 1 to ${MAX_UNLOCK_SECONDS} seconds`);
      }
      await node.wallet.unlock(p, s);
      return { locked: false, seconds: s };
    }),
  "wallet.lock": (node) => {
    node.wallet.lock();
    return { locked: node.wallet.locked };
  },
};
