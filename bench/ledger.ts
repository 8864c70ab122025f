/**
 * Ledger benchmark: raw Ed25519 verification (one thread, and on every core), mempool acceptance (one at a
 * time, and a burst through the verifier pool), and connecting blocks of 100 signed transactions to disk (in
 * this thread, through the pool, and warm: after the mempool saw their transactions). The machine's load
 * average is printed beside the figures. Also builds those blocks for the network section (`buildFullChain`).
 * Run alone with `deno run -A bench/ledger.ts`, or through `deno task bench`.
 * @module
 */
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { generateKeyPair, sign, verify } from "../lib/crypto/ed25519.ts";
import { type Block, MAX_BLOCK_SIZE } from "../lib/primitives/block.ts";
import { type Transaction, txid, txSize } from "../lib/primitives/transaction.ts";
import { fromHexReversed } from "../lib/crypto/hex.ts";
import { Mempool } from "../lib/chain/mempool.ts";
import { openStore } from "../lib/store/store.ts";
import { VerifyPool } from "../lib/crypto/verify_pool.ts";
import { VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { coinbaseOut, mine, newKey, newLedger, spend, type TestKey } from "../tests/support/ledger.ts";
import { cpuMs, loadAverage, median, percentile } from "./stats.ts";
import { MinerPool } from "../lib/mining/pool.ts";
import type { RawVerifyJob } from "./verify_raw_worker.ts";

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

/** How `connectRate` connects. */
export interface ConnectOptions {
  /** The chain's signature-check queue (default: the in-thread `verifyQueue`). */
  verifier?: VerifyQueue;
  /** Let a mempool accept each block's transactions first (untimed), as on a network that relays them. */
  warm?: boolean;
  /** Called before each block is processed; what it returns after (a miner's hold, as the node does). */
  around?: () => () => void;
}

/**
 * Blocks per second connecting `full` after `setup` into a fresh store on disk (nothing cached unless `warm`),
 * and the signature cache's hit rate over those blocks.
 */
export async function connectRate(
  setup: Block[],
  full: Block[],
  opts: ConnectOptions = {},
): Promise<number> {
  return (await connectRun(setup, full, opts)).rate;
}

async function connectRun(
  setup: Block[],
  full: Block[],
  opts: ConnectOptions,
): Promise<{ rate: number; hitRate: number; mainMs: number; processMs: number }> {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bench-" });
  const store = openStore(`${dir}/chain.sqlite`);
  try {
    const chain = Chain.open(store, NETWORKS.regtest, { verifier: opts.verifier });
    const pool = new Mempool(chain, { maxBytes: 50_000_000, verifier: opts.verifier });
    for (const b of setup) await pool.chainUpdated((await chain.processBlock(b)).update);
    const before = chain.sigCacheStats;
    const mainBefore = await cpuMs(Deno.pid, Deno.pid), processBefore = await cpuMs(Deno.pid);
    let ms = 0;
    for (const b of full) {
      if (opts.warm) await Promise.all(b.txs.slice(1).map((tx) => pool.accept(tx)));
      const t = performance.now();
      const release = opts.around?.();
      const r = await chain.processBlock(b);
      release?.();
      ms += performance.now() - t;
      if (opts.warm) await pool.chainUpdated(r.update);
    }
    const mainMs = (await cpuMs(Deno.pid, Deno.pid) - mainBefore) / full.length;
    const processMs = (await cpuMs(Deno.pid) - processBefore) / full.length;
    if (chain.height !== setup.length + full.length) throw new Error("bench: blocks were not connected");
    const after = chain.sigCacheStats;
    const lookups = after.lookups - before.lookups;
    return {
      rate: full.length / (ms / 1000),
      hitRate: lookups ? (after.hits - before.hits) / lookups : 0,
      mainMs,
      processMs,
    };
  } finally {
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * This thread's CPU time per signature check (µs) for blocks of 100 checks through `queue`: what checking
 * costs the event loop. Deno runs WebCrypto's Ed25519 on its own blocking threads either way; what stays here
 * is the JavaScript around each check (promises, key lookup), or with the pool, packing and messages.
 */
async function mainThreadUsPerCheck(queue: VerifyQueue, items: VerifyItemLike[], rounds: number) {
  const before = await cpuMs(Deno.pid, Deno.pid);
  for (let r = 0; r < rounds; r++) {
    for (let b = 0; b < items.length; b += 100) {
      if (await queue.verifyAll(items.slice(b, b + 100), { urgent: true }) >= 0) {
        throw new Error("bench: bad");
      }
    }
  }
  return ((await cpuMs(Deno.pid, Deno.pid)) - before) * 1000 / (rounds * items.length);
}

type VerifyItemLike = Parameters<VerifyQueue["verifyAll"]>[0][number];

/**
 * How late a 5 ms timer fires (p99 and max, ms) while `full` is connected into a fresh store and a mining pool
 * (default threads: all cores but one) searches a header it will not solve: the stall a ping would see.
 */
async function lagWhileMining(setup: Block[], full: Block[], verifier?: VerifyQueue, hold = false) {
  const miner = new MinerPool();
  const abort = new AbortController();
  try {
    await miner.ready();
    const header = { ...full[0].header, bits: 0x1d00ffff }; // difficulty 1: minutes per find on one core
    const search = miner.search(header, { signal: abort.signal });
    const lags: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lags.push(Math.max(0, now - last - 5));
      last = now;
    }, 5);
    try {
      await connectRate(setup, full, { verifier, around: hold ? () => miner.hold() : undefined });
    } finally {
      clearInterval(timer);
      abort.abort();
      await search;
    }
    return { p99: percentile(lags, 99), max: Math.max(...lags) };
  } finally {
    miner.close();
  }
}

/**
 * Raw WebCrypto verifies per second on `threads` workers at once (each keeping `lanes` pending), the ceiling
 * for signature checks on every core.
 */
async function rawParallel(item: Omit<RawVerifyJob, "count" | "lanes">, threads: number, count: number) {
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL("./verify_raw_worker.ts", import.meta.url), { type: "module" }),
  );
  try {
    const run = (w: Worker, n: number) =>
      new Promise<{ ms: number; valid: number }>((resolve, reject) => {
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage({ ...item, count: n, lanes: 16 } satisfies RawVerifyJob);
      });
    await Promise.all(workers.map((w) => run(w, 200))); // load the module, import the key
    const t = performance.now();
    const done = await Promise.all(workers.map((w) => run(w, Math.ceil(count / threads))));
    const ms = performance.now() - t;
    if (done.some((d) => d.valid !== Math.ceil(count / threads))) throw new Error("bench: a verify failed");
    return (threads * Math.ceil(count / threads)) / (ms / 1000);
  } finally {
    for (const w of workers) w.terminate();
  }
}

/**
 * CPU time per item (µs) that `fn` costs this thread and the whole process (every thread: workers, and the
 * blocking threads where Deno runs WebCrypto's Ed25519), with its rate per second.
 */
async function costed(n: number, fn: () => Promise<void>) {
  const main = await cpuMs(Deno.pid, Deno.pid), all = await cpuMs(Deno.pid);
  const rate = await timed(n, fn);
  const us = async (before: number, thread?: number) => ((await cpuMs(Deno.pid, thread)) - before) * 1000 / n;
  return { rate, mainUs: await us(main, Deno.pid), processUs: await us(all) };
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
  let parallel: Record<string, number | string> = {};
  const rawLoop = async (count: number) => {
    for (let i = 0; i < count; i++) await verify(kp.publicKey, sig, msg);
  };
  /** Raw verifies in this thread with `lanes` pending at once, as each raw worker runs them. */
  const rawLanes = async (count: number, lanes: number) => {
    let started = 0;
    const lane = async () => {
      while (started < count) {
        started++;
        await verify(kp.publicKey, sig, msg);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
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

  // Every core: raw verifies on one worker per core, against the same transactions accepted as a burst (as
  // from the network) by a mempool whose checks go through the verifier pool, and by one checking them in
  // this thread. Interleaved rounds, since the machine's speed drifts with the other work on it.
  const verifierPool = new VerifyPool();
  const verifier = new VerifyQueue(verifierPool.capacity, verifierPool.check);
  const loads: number[] = [];
  const noteLoad = async () => {
    const l = await loadAverage();
    if (l !== null) loads.push(l);
  };
  await noteLoad();
  try {
    const parallelPool = new Mempool(a.chain, { maxBytes: 50_000_000, verifier });
    const burst = async (pool: Mempool) => {
      const cost = await costed(n, async () => {
        await Promise.all(a.txs.map((tx) => pool.accept(tx)));
      });
      if (pool.size !== n) throw new Error("bench: not every transaction was accepted");
      for (const tx of a.txs) pool.removeWithDescendants(txid(tx));
      return cost;
    };
    await burst(parallelPool); // starts the workers
    const rawPars: number[] = [],
      valPars: number[] = [],
      valPar1s: number[] = [],
      rawLaneRates: number[] = [];
    const cpu = {
      raw: [] as number[],
      rawMain: [] as number[],
      val: [] as number[],
      valMain: [] as number[],
    };
    for (let r = 0; r < 3; r++) {
      rawPars.push(
        await rawParallel({ publicKey: kp.publicKey, signature: sig, message: msg }, verifierPool.threads, n),
      );
      const lanes = await costed(n, () => rawLanes(n, 16));
      rawLaneRates.push(lanes.rate);
      cpu.raw.push(lanes.processUs);
      cpu.rawMain.push(lanes.mainUs);
      const pooled = await burst(parallelPool);
      valPars.push(pooled.rate);
      cpu.val.push(pooled.processUs);
      cpu.valMain.push(pooled.mainUs);
      valPar1s.push((await burst(a.mempool)).rate);
    }
    await noteLoad();

    // Blocks of 100 such transactions, connected by fresh nodes with a store on disk. The fresh nodes have not
    // seen the transactions, so they verify every signature: in this thread, and through the pool, in
    // alternation. Then warm: each block's transactions reached the node's mempool first.
    const { setup, full } = await buildFullChain(n / FULL_BLOCK_TXS);
    const singles: number[] = [], connects: number[] = [], warms: number[] = [], hitRates: number[] = [];
    const blockCpu = { single: [] as string[], pool: [] as string[], singleMain: [] as number[] };
    const cpuOf = (r: { mainMs: number; processMs: number }) =>
      `${r.mainMs.toFixed(1)} main / ${r.processMs.toFixed(1)} process`;
    for (let i = 0; i < 3; i++) {
      const single = await connectRun(setup, full, {});
      singles.push(single.rate);
      blockCpu.single.push(cpuOf(single));
      blockCpu.singleMain.push(single.mainMs);
      const pooled = await connectRun(setup, full, { verifier });
      connects.push(pooled.rate);
      blockCpu.pool.push(cpuOf(pooled));
      const warm = await connectRun(setup, full, { verifier, warm: true });
      warms.push(warm.rate);
      hitRates.push(warm.hitRate);
    }
    await noteLoad();

    // What checking costs the event loop, and how late a timer fires while blocks connect beside a miner.
    const blockItems = full.slice(0, 10).flatMap((b) =>
      b.txs.slice(1).flatMap((tx) => {
        const message = fromHexReversed(txid(tx));
        return tx.inputs.map((i) => ({ publicKey: i.publicKey, signature: i.signature, message }));
      })
    );
    const inThread = new VerifyQueue();
    const mainUs: Record<string, number[]> = { inThread: [], pool: [] };
    const lag: Record<string, { p99: number; max: number }[]> = { inThread: [], pool: [], held: [] };
    for (let r = 0; r < 3; r++) {
      mainUs.inThread.push(await mainThreadUsPerCheck(inThread, blockItems, 5));
      mainUs.pool.push(await mainThreadUsPerCheck(verifier, blockItems, 5));
      lag.inThread.push(await lagWhileMining(setup, full));
      lag.pool.push(await lagWhileMining(setup, full, verifier));
      lag.held.push(await lagWhileMining(setup, full, verifier, true));
    }
    await noteLoad();
    const lagFigure = (xs: { p99: number; max: number }[]) =>
      `p99 ${xs.map((x) => x.p99.toFixed(1)).join(" / ")} ms, max ${
        xs.map((x) => x.max.toFixed(1)).join(" / ")
      } ms over 3 runs`;
    const connect = median(connects), single = median(singles);
    const rawPar = median(rawPars), valPar = median(valPars), validate = median(validates);
    parallel = {
      verify_raw_parallel_per_s: Math.round(rawPar),
      verify_raw_parallel_spread: spread(rawPars, `3 runs of ${n} on ${verifierPool.threads} workers`, 0),
      validate_tx_parallel_per_s: Math.round(valPar),
      validate_tx_parallel_spread: spread(valPars, `3 bursts of ${n} through the verifier pool`, 0),
      validate_tx_parallel_single_thread_per_s: Math.round(median(valPar1s)),
      // WebCrypto's Ed25519 runs on Deno's blocking threads, not the calling one: in one thread with 16 pending,
      // raw verifies already use every core. What a payment costs beyond its verify is CPU on some core.
      verify_raw_in_thread_16_pending_per_s: Math.round(median(rawLaneRates)),
      cpu_us_per_raw_verify_process: +median(cpu.raw).toFixed(1),
      cpu_us_per_raw_verify_main_thread: +median(cpu.rawMain).toFixed(1),
      cpu_us_per_validate_tx_parallel_process: +median(cpu.val).toFixed(1),
      cpu_us_per_validate_tx_parallel_main_thread: +median(cpu.valMain).toFixed(1),
      cpu_us_spread: `raw verify in thread (16 pending) process ${
        cpu.raw.map((x) => x.toFixed(0)).join(" / ")
      }, main ${cpu.rawMain.map((x) => x.toFixed(0)).join(" / ")}; payment burst through the pool process ${
        cpu.val.map((x) => x.toFixed(0)).join(" / ")
      }, main ${cpu.valMain.map((x) => x.toFixed(0)).join(" / ")} (3 runs of ${n}; CPU ticks are 10 ms)`,
      validate_parallel_over_raw_parallel: +(valPar / rawPar).toFixed(3),
      validate_parallel_over_validate: +(valPar / validate).toFixed(3),
      connect_blocks_per_s: +connect.toFixed(1),
      connect_blocks_spread: spread(
        connects,
        `3 fresh stores, ${full.length} blocks of ${FULL_BLOCK_TXS} tx`,
        1,
      ),
      connect_single_thread_blocks_per_s: +single.toFixed(1),
      connect_single_thread_spread: spread(singles, `3 fresh stores, the same blocks`, 1),
      connect_over_single_thread: +(connect / single).toFixed(3),
      cpu_ms_per_block_connect_single_thread_main: +median(blockCpu.singleMain).toFixed(1),
      cpu_ms_per_block_connect_spread: `in thread ${blockCpu.single.join(", ")}; pool ${
        blockCpu.pool.join(", ")
      } (ms of CPU per block while connecting, 3 runs)`,
      connect_tx_per_s: Math.round(connect * FULL_BLOCK_TXS),
      connect_warm_blocks_per_s: +median(warms).toFixed(1),
      sigcache_hit_rate: +median(hitRates).toFixed(3),
      verifier_threads: verifierPool.threads,
      main_thread_us_per_check_in_thread: +median(mainUs.inThread).toFixed(1),
      main_thread_us_per_check_pool: +median(mainUs.pool).toFixed(1),
      main_thread_us_spread: `in thread ${mainUs.inThread.map((x) => x.toFixed(1)).join(" / ")}, pool ${
        mainUs.pool.map((x) => x.toFixed(1)).join(" / ")
      } (3 runs of ${5 * blockItems.length} checks in blocks of 100; CPU ticks are 10 ms)`,
      lag_p99_ms_connecting_while_mining_held: +median(lag.held.map((x) => x.p99)).toFixed(1),
      lag_p99_ms_connecting_while_mining_pool: +median(lag.pool.map((x) => x.p99)).toFixed(1),
      lag_p99_ms_connecting_while_mining_in_thread: +median(lag.inThread.map((x) => x.p99)).toFixed(1),
      lag_connecting_while_mining_spread: `pool, miner held during each block (as the node does) ${
        lagFigure(lag.held)
      }; pool ${lagFigure(lag.pool)}; in thread ${lagFigure(lag.inThread)}`,
    };
  } finally {
    verifierPool.close();
  }
  return {
    load_avg_1m: loads.map((l) => l.toFixed(2)).join(" -> "),
    verify_raw_per_s: Math.round(median(raws)),
    validate_tx_per_s: Math.round(median(validates)),
    validate_ratio: +median(ratios).toFixed(3),
    validate_ratio_spread: spread(
      ratios,
      `${rounds} rounds of ${n} transactions (${Math.round(median(roundMs))} ms each)`,
    ),
    ...parallel,
    ...await benchPool(opts.quick ?? false),
    hash:
      "synchronous TypeScript SHA-256 for txids and merkle roots (cross-checked against WebCrypto in tests)",
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchLedger({ quick: Deno.args.includes("--quick") }), null, 2));
}
