/**
 * Ledger benchmark: raw Ed25519 verification, mempool acceptance, and connecting blocks of 100 signed
 * transactions to disk. Also builds those blocks for the network section (`buildFullChain`).
 * Run alone with `deno run -A bench/ledger.ts`, or through `deno task bench`.
 * @module
 */
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { generateKeyPair, sign, verify } from "../lib/crypto/ed25519.ts";
import { type Block, MAX_BLOCK_SIZE } from "../lib/primitives/block.ts";
import { type Transaction, txid, txSize } from "../lib/primitives/transaction.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { openStore } from "../lib/store/store.ts";
import { coinbaseOut, mine, newKey, newLedger, spend, type TestKey } from "../tests/support/ledger.ts";
import { median } from "./stats.ts";

/** Transactions in each "full" block: the figures named `_full_` are over blocks of this many. */
export const FULL_BLOCK_TXS = 100;

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

/**
 * A regtest chain whose last `blocks` blocks each carry `FULL_BLOCK_TXS` signed transactions from 200
 * senders: `setup` (coinbases and fan-outs) then `full`. A node that has not seen the transactions verifies
 * every signature of a full block.
 */
export async function buildFullChain(blocks: number): Promise<{ setup: Block[]; full: Block[] }> {
  const a = await makeSpends(blocks * FULL_BLOCK_TXS, 200);
  const setup: Block[] = [];
  for (let h = 1; h <= a.chain.height; h++) setup.push(a.chain.getBlock(a.chain.entryAt(h)!.hash)!);
  const builder = newLedger({ maxBytes: 50_000_000 });
  for (const b of setup) await builder.chain.processBlock(b);
  const full: Block[] = [];
  for (let i = 0; i < blocks; i++) {
    for (const tx of a.txs.slice(i * FULL_BLOCK_TXS, (i + 1) * FULL_BLOCK_TXS)) {
      await builder.mempool.accept(tx);
    }
    full.push(...await mine(builder.chain, builder.mempool, a.miner.pkh, 1));
  }
  for (const b of full) {
    if (b.txs.length !== FULL_BLOCK_TXS + 1) throw new Error("bench: a block is not full");
  }
  return { setup, full };
}

/** Blocks per second connecting `full` after `setup` into a fresh store on disk (nothing cached). */
export async function connectRate(setup: Block[], full: Block[]): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bench-" });
  const store = openStore(`${dir}/chain.sqlite`);
  try {
    const chain = Chain.open(store, NETWORKS.regtest);
    for (const b of setup) await chain.processBlock(b);
    const rate = await timed(full.length, async () => {
      for (const b of full) await chain.processBlock(b);
    });
    if (chain.height !== setup.length + full.length) throw new Error("bench: blocks were not connected");
    return rate;
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function timed(n: number, fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return n / ((performance.now() - t) / 1000);
}

/** "min a / median b / max c over what", each to `digits` decimals. */
export function spread(xs: number[], what: string, digits = 2): string {
  const f = (x: number) => x.toFixed(digits);
  return `min ${f(Math.min(...xs))} / median ${f(median(xs))} / max ${f(Math.max(...xs))} over ${what}`;
}

/**
 * A pool of `chains` chains of `length` unconfirmed payments each (the longest the mempool allows), bounded at
 * exactly its own size, and `extra` richer payments that each must evict to get in.
 */
async function makeChains(chains: number, length: number, extra: number) {
  const { chain, mempool } = newLedger({ maxBytes: 50_000_000 });
  const key = await newKey();
  const [cb] = await mine(chain, mempool, key.pkh, 11);
  const each = Math.floor((50e8 - 100_000) / (chains + extra));
  const fan = await spend(
    key,
    [coinbaseOut(cb)],
    Array.from({ length: chains + extra }, () => ({ amount: each, pubKeyHash: key.pkh })),
  );
  await mempool.accept(fan);
  await mine(chain, mempool, key.pkh, 1);
  const fanId = txid(fan);
  const txs: Transaction[] = [];
  for (let c = 0; c < chains; c++) {
    let prev = { txid: fanId, index: c }, amount = each;
    for (let i = 0; i < length; i++) {
      amount -= 1_000 + c; // fee rates differ between chains
      const tx = await spend(key, [prev], [{ amount, pubKeyHash: key.pkh }]);
      txs.push(tx);
      prev = { txid: txid(tx), index: 0 };
    }
  }
  const rich: Transaction[] = [];
  for (let i = 0; i < extra; i++) {
    rich.push(
      await spend(key, [{ txid: fanId, index: chains + i }], [{
        amount: each - 50_000,
        pubKeyHash: key.pkh,
      }]),
    );
  }
  const pool = new Mempool(chain, { maxBytes: txs.reduce((s, tx) => s + txSize(tx), 0) });
  for (const tx of txs) await pool.accept(tx);
  return { pool, rich };
}

/**
 * Block templates and eviction at a full pool of 5,000 transactions in chains of 25 (issue 11 measured 84 ms a
 * template for one chain of 5,000, which the chain limits no longer allow).
 */
async function benchPool(quick: boolean): Promise<Record<string, number>> {
  const chains = quick ? 40 : 200;
  const { pool, rich } = await makeChains(chains, 25, 500);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    pool.selectForBlock(MAX_BLOCK_SIZE - 1_000);
    times.push(performance.now() - t);
  }
  const evict = await timed(rich.length, async () => {
    for (const tx of rich) await pool.accept(tx);
  });
  return {
    [`template_ms_${chains * 25}_in_chains_of_25`]: +median(times).toFixed(2),
    [`accept_evicting_per_s_at_${chains * 25}`]: Math.round(evict),
  };
}

/** Runs the ledger section; `quick` shrinks the workloads. */
export async function benchLedger(opts: { quick?: boolean } = {}): Promise<Record<string, number | string>> {
  const n = opts.quick ? 1000 : 4000, rounds = opts.quick ? 5 : 10;
  const kp = await generateKeyPair();
  const msg = crypto.getRandomValues(new Uint8Array(32));
  const sig = await sign(kp.privateKey, msg);
  const rawLoop = async (count: number) => {
    for (let i = 0; i < count; i++) await verify(kp.publicKey, sig, msg);
  };

  // Mempool acceptance, one transaction at a time, from 200 different senders, against the plain verify loop,
  // in rounds that alternate the two (the machine's speed drifts; alternating compares like with like). Each
  // round accepts the same `n` transactions and then empties the pool, so rounds are long (hundreds of ms)
  // without building more transactions; the pool verifies every signature on every acceptance.
  const a = await makeSpends(n, 200);
  await rawLoop(200);
  for (const tx of a.txs.slice(0, 200)) await a.mempool.accept(tx); // warm both paths up
  for (const tx of a.txs.slice(0, 200)) a.mempool.removeWithDescendants(txid(tx));
  const raws: number[] = [], validates: number[] = [], roundMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    raws.push(await timed(n, () => rawLoop(n)));
    const t = performance.now();
    validates.push(
      await timed(n, async () => {
        for (const tx of a.txs) await a.mempool.accept(tx);
      }),
    );
    roundMs.push(performance.now() - t);
    if (a.mempool.size !== n) throw new Error("bench: not every transaction was accepted");
    for (const tx of a.txs) a.mempool.removeWithDescendants(txid(tx));
  }
  const ratios = raws.map((x, i) => validates[i] / x);
  // The same work with transactions accepted concurrently, as a burst from the network arrives.
  const validateParallel = await timed(n, async () => {
    await Promise.all(a.txs.map((tx) => a.mempool.accept(tx)));
  });

  // Blocks of 100 such transactions, connected by fresh nodes with a store on disk. The fresh nodes have not
  // seen the transactions, so they verify every signature. Three runs over the same blocks.
  const { setup, full } = await buildFullChain(n / FULL_BLOCK_TXS);
  const connects: number[] = [];
  for (let i = 0; i < 3; i++) connects.push(await connectRate(setup, full));
  const connect = median(connects);
  return {
    verify_raw_per_s: Math.round(median(raws)),
    validate_tx_per_s: Math.round(median(validates)),
    validate_ratio: +median(ratios).toFixed(3),
    validate_ratio_spread: spread(
      ratios,
      `${rounds} rounds of ${n} transactions (${Math.round(median(roundMs))} ms each)`,
    ),
    validate_tx_parallel_per_s: Math.round(validateParallel),
    connect_blocks_per_s: +connect.toFixed(1),
    connect_blocks_spread: spread(
      connects,
      `3 fresh stores, ${full.length} blocks of ${FULL_BLOCK_TXS} tx`,
      1,
    ),
    connect_tx_per_s: Math.round(connect * FULL_BLOCK_TXS),
    ...await benchPool(opts.quick ?? false),
    hash:
      "synchronous TypeScript SHA-256 for txids and merkle roots (cross-checked against WebCrypto in tests)",
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchLedger({ quick: Deno.args.includes("--quick") }), null, 2));
}
