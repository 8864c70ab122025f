/**
 * Ledger benchmark: raw Ed25519 verification, mempool acceptance, and connecting blocks to disk.
 * Run alone with `deno run -A bench/ledger.ts`, or through `deno task bench`.
 * @module
 */
import { Chain } from "../lib/chain/chain.ts";
import { generateKeyPair, sign, verify } from "../lib/crypto/ed25519.ts";
import type { Block } from "../lib/primitives/block.ts";
import { type Transaction, txid } from "../lib/primitives/transaction.ts";
import { openStore } from "../lib/store/store.ts";
import { coinbaseOut, mine, newKey, newLedger, spend, type TestKey } from "../tests/support/ledger.ts";
import { median } from "./stats.ts";

/** Signed 1-input 2-output transactions spending `count` outputs, each owned by one of `keys` in turn. */
async function makeSpends(count: number, keyCount: number) {
  const { chain, mempool } = newLedger({ maxBytes: 50_000_000 });
  const miner = await newKey();
  const keys: TestKey[] = [];
  for (let i = 0; i < keyCount; i++) keys.push(await newKey());
  // Fan-out transactions (2,000 outputs each, within the mempool's size limit) create `count` outputs,
  // round-robin over the keys, each fan spending its own mature coinbase.
  const perFan = 2000, fans = Math.ceil(count / perFan);
  const coinbases = await mine(chain, mempool, miner.pkh, 10 + fans);
  const per = Math.floor((50e8 - 1_000_000) / perFan);
  const outs: { txid: string; index: number; key: TestKey }[] = [];
  for (let f = 0; f < fans; f++) {
    const n = Math.min(perFan, count - f * perFan);
    const keyOf = (i: number) => keys[(f * perFan + i) % keys.length];
    const fan = await spend(
      miner,
      [coinbaseOut(coinbases[f])],
      Array.from({ length: n }, (_, i) => ({ amount: per, pubKeyHash: keyOf(i).pkh })),
    );
    await mempool.accept(fan);
    const fanId = txid(fan);
    for (let i = 0; i < n; i++) outs.push({ txid: fanId, index: i, key: keyOf(i) });
  }
  await mine(chain, mempool, miner.pkh, 1);
  const txs: Transaction[] = [];
  for (const o of outs) {
    txs.push(
      await spend(o.key, [{ txid: o.txid, index: o.index }], [
        { amount: Math.floor(per / 2), pubKeyHash: miner.pkh },
        { amount: per - Math.floor(per / 2) - 2000, pubKeyHash: o.key.pkh },
      ]),
    );
  }
  return { chain, mempool, miner, txs };
}

async function rate(n: number, fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return n / ((performance.now() - t) / 1000);
}

/** Runs the ledger section; `quick` shrinks the workloads. */
export async function benchLedger(opts: { quick?: boolean } = {}): Promise<Record<string, number | string>> {
  const n = opts.quick ? 1000 : 4000;
  const kp = await generateKeyPair();
  const msg = crypto.getRandomValues(new Uint8Array(32));
  const sig = await sign(kp.privateKey, msg);
  const rawLoop = async (count: number) => {
    for (let i = 0; i < count; i++) await verify(kp.publicKey, sig, msg);
  };

  // Mempool acceptance, one transaction at a time, from 200 different senders, measured in rounds
  // interleaved with the plain verify loop (the machine's speed drifts; interleaving compares like with like).
  const a = await makeSpends(n + 200, 200);
  await rawLoop(200);
  for (const tx of a.txs.splice(0, 200)) await a.mempool.accept(tx); // warm both paths up
  const rounds = 8, per = Math.floor(n / rounds);
  const raws: number[] = [], validates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    raws.push(await rate(per, () => rawLoop(per)));
    const batch = a.txs.slice(r * per, (r + 1) * per);
    validates.push(
      await rate(per, async () => {
        for (const tx of batch) await a.mempool.accept(tx);
      }),
    );
  }
  const verifyRaw = median(raws), validate = median(validates);
  const ratio = median(raws.map((x, i) => validates[i] / x));
  // The same work with transactions accepted concurrently, as a burst from the network arrives.
  const b = await makeSpends(n, 200);
  const validateParallel = await rate(n, async () => {
    await Promise.all(b.txs.map((tx) => b.mempool.accept(tx)));
  });

  // Blocks of 100 such transactions, mined on `a`, connected by a fresh node with a store on disk. The fresh
  // node has not seen the transactions, so it verifies every signature.
  const blocks: Block[] = [];
  for (let i = 0; i < a.chain.height; i++) blocks.push(a.chain.getBlock(a.chain.entryAt(i + 1)!.hash)!);
  const setupHeight = blocks.length;
  const all = a.mempool.entries().map((e) => e.tx);
  const perBlock = 100;
  const txBlocks: Block[] = [];
  // A builder node mines them, 100 at a time.
  const builder = newLedger({ maxBytes: 50_000_000 });
  for (const blk of blocks) await builder.chain.processBlock(blk);
  for (let i = 0; i + perBlock <= all.length; i += perBlock) {
    for (const tx of all.slice(i, i + perBlock)) await builder.mempool.accept(tx);
    txBlocks.push(...await mine(builder.chain, builder.mempool, a.miner.pkh, 1));
  }
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bench-" });
  try {
    const chain = Chain.open(openStore(`${dir}/chain.sqlite`), builder.chain.params);
    for (const blk of blocks) await chain.processBlock(blk);
    const connect = await rate(txBlocks.length, async () => {
      for (const blk of txBlocks) await chain.processBlock(blk);
    });
    if (chain.height !== setupHeight + txBlocks.length) throw new Error("bench: blocks were not connected");
    return {
      verify_raw_per_s: Math.round(verifyRaw),
      validate_tx_per_s: Math.round(validate),
      validate_ratio: +ratio.toFixed(3),
      validate_tx_parallel_per_s: Math.round(validateParallel),
      connect_blocks_per_s: +connect.toFixed(1),
      connect_tx_per_s: Math.round(connect * perBlock),
      hash:
        "synchronous TypeScript SHA-256 for txids and merkle roots (cross-checked against WebCrypto in tests)",
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchLedger({ quick: Deno.args.includes("--quick") }), null, 2));
}
