/**
 * Wallet benchmark: `wallet_restore_s`, restoring a wallet from its seed words and rescanning a chain of
 * 10,000 blocks that holds 1,000 payments to it, each to a fresh address (goal ≤ 2 s); and `send_ms`, one
 * payment (coin selection over 1,000 own coins, signing, and the mempool's acceptance) from an unlocked
 * wallet (goal ≤ 20 ms). The chain is in an in-memory store, so the rescan reads blocks from SQLite without
 * the disk. Run alone with `deno run -A bench/wallet.ts`, or through `deno task bench wallet`.
 * @module
 */
import { COIN } from "../lib/consensus/amount.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { Wallet, walletViewOf } from "../lib/wallet/wallet.ts";
import { coinbaseOut, mine, newKey, newLedger, spend } from "../tests/support/ledger.ts";
import { median, percentile } from "./stats.ts";

const params = NETWORKS.regtest;

/** A chain of `blocks` blocks with `payments` payments of 1 coin to fresh addresses of `wallet`, spread evenly. */
async function buildChain(wallet: Wallet, blocks: number, payments: number) {
  const { chain, mempool } = newLedger({ maxBytes: 50_000_000 });
  const funder = await newKey();
  const first = await mine(chain, mempool, funder.pkh, params.coinbaseMaturity + Math.ceil(payments / 40));
  let coin = { outpoint: coinbaseOut(first[0]), amount: 50 * COIN };
  let funds = 1;
  const every = Math.floor((blocks - chain.height) / payments);
  for (let i = 0; i < payments; i++) {
    if (coin.amount < 2 * COIN) coin = { outpoint: coinbaseOut(first[funds++]), amount: 50 * COIN };
    const to = wallet.parseAddress(await wallet.newAddress());
    const change = coin.amount - COIN - 1_000;
    const tx = await spend(funder, [coin.outpoint], [
      { amount: COIN, pubKeyHash: to },
      { amount: change, pubKeyHash: funder.pkh },
    ]);
    await mempool.accept(tx);
    coin = { outpoint: { txid: txid(tx), index: 1 }, amount: change };
    await mine(chain, mempool, funder.pkh, every);
  }
  if (chain.height < blocks) await mine(chain, mempool, funder.pkh, blocks - chain.height);
  return { chain, mempool, funder };
}

/** The wallet section's figures. */
export async function benchWallet(opts: { quick?: boolean } = {}): Promise<Record<string, unknown>> {
  const blocks = opts.quick ? 2_000 : 10_000, payments = opts.quick ? 200 : 1_000;
  const original = await Wallet.createInMemory(params);
  const words = original.backup().words;
  const t0 = performance.now();
  const { chain, mempool, funder } = await buildChain(original, blocks, payments);
  const buildS = (performance.now() - t0) / 1000;

  const restoreS: number[] = [];
  let restored: Wallet | undefined;
  for (let run = 0; run < (opts.quick ? 2 : 5); run++) {
    const start = performance.now();
    restored = await Wallet.createInMemory(params, words);
    await restored.scanChain(chain);
    restoreS.push((performance.now() - start) / 1000);
  }
  const view = walletViewOf(chain, mempool);
  const balance = restored!.balance(view).confirmed;
  if (balance !== payments * COIN) throw new Error(`bench: restored ${balance} units, not ${payments} coins`);

  // send: 1,000 own coins, unlocked; each payment is accepted, so the next one sees it in the mempool.
  const to = encodeAddress(funder.pkh, params.addressPrefix);
  const sendMs: number[] = [];
  for (let i = 0; i < (opts.quick ? 20 : 50); i++) {
    const start = performance.now();
    const { tx } = await restored!.createTransaction(walletViewOf(chain, mempool), to, COIN / 10);
    await mempool.accept(tx);
    restored!.sawTransaction(tx);
    sendMs.push(performance.now() - start);
  }
  const f = (x: number, d = 2) => +x.toFixed(d);
  return {
    wallet_chain: `${chain.height} blocks, ${payments} payments to ${payments} fresh addresses (built in ${
      f(buildS, 1)
    } s)`,
    wallet_restore_s: f(median(restoreS)),
    wallet_restore_s_range: `${f(Math.min(...restoreS))}-${
      f(Math.max(...restoreS))
    } over ${restoreS.length} runs`,
    wallet_restore_goal_ratio: f(median(restoreS) / 2),
    send_ms: f(median(sendMs)),
    send_ms_p90: f(percentile(sendMs, 90)),
    send_ms_range: `${f(Math.min(...sendMs))}-${f(Math.max(...sendMs))} over ${sendMs.length} payments`,
    send_goal_ratio: f(median(sendMs) / 20),
  };
}

if (import.meta.main) console.log(await benchWallet({ quick: Deno.args.includes("--quick") }));
