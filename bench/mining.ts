/**
 * Mining benchmark: the kernels in workers against native SHA-256 (openssl) and WebCrypto, scaling over all
 * cores, cancellation latency, and how responsive the main thread stays while every worker mines.
 *
 * Run alone: `deno run --allow-read --allow-run --allow-net=127.0.0.1 --allow-env bench/mining.ts [--quick]`.
 * @module
 */
import { sha256d } from "../lib/crypto/sha256.ts";
import type { BlockHeader } from "../lib/primitives/header.ts";
import { encodeHeader } from "../lib/primitives/header.ts";
import { MinerPool } from "../lib/mining/pool.ts";
import { percentile } from "./stats.ts";
import { sleep } from "../tests/support/wait.ts";

/** A header no search finds in a benchmark's seconds (about 2^48 hashes per block). */
const HARD: BlockHeader = {
  version: 1,
  prevHash: "00".repeat(32),
  merkleRoot: "11".repeat(32),
  time: 1_700_000_000,
  bits: 0x1a00ffff,
  nonce: 0,
};

/** openssl speed's rate in bytes/s for `args`, or null when openssl is missing or its output is unexpected. */
async function opensslRate(args: string[]): Promise<number | null> {
  try {
    const out = await new Deno.Command("openssl", {
      args: ["speed", ...args],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    if (!out.success) return null;
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const m = /^\S+\s+([\d.]+)k\s*$/.exec(lines[lines.length - 1]);
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** Sequential WebCrypto SHA-256d of an 80-byte header, hashes/s. */
async function webcryptoRate(ms: number): Promise<number> {
  const bytes = encodeHeader(HARD);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    await sha256d(bytes);
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

/** Hashes/s of `pool` over `ms` on a search that finds nothing, after `warmMs` of mining; leaves it mining. */
async function poolRate(pool: MinerPool, signal: AbortSignal, ms: number, warmMs = 300): Promise<number> {
  pool.search(HARD, { signal }).catch(() => {});
  await sleep(warmMs);
  const n0 = pool.totalHashes, t0 = performance.now();
  await sleep(ms);
  return ((pool.totalHashes - n0) * 1000) / (performance.now() - t0);
}

/** One worker's rate with the given kernel; returns the kernel's name too. */
async function oneWorker(kernel: "auto" | "ts", ms: number): Promise<{ hps: number; name: string }> {
  const pool = new MinerPool({ threads: 1, kernel });
  try {
    const name = await pool.ready();
    const ac = new AbortController();
    const hps = await poolRate(pool, ac.signal, ms);
    ac.abort();
    return { hps, name };
  } finally {
    pool.close();
  }
}

const CLIENT = `
const [port, count, gapMs] = Deno.args.map(Number);
const conn = await Deno.connect({ hostname: "127.0.0.1", port });
const buf = new Uint8Array(8), rtts = [];
for (let i = 0; i < count; i++) {
  const t0 = performance.now();
  await conn.write(buf);
  let got = 0;
  while (got < 8) { const n = await conn.read(buf.subarray(got)); if (n === null) throw new Error("closed"); got += n; }
  rtts.push(performance.now() - t0);
  await new Promise((r) => setTimeout(r, gapMs));
}
conn.close();
console.log(JSON.stringify(rtts));
`;

/** Round trips (ms) of pings from a child process answered by this thread's event loop. */
async function pingRtts(count: number, gapMs: number): Promise<number[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serve = (async () => {
    const conn = await listener.accept();
    const buf = new Uint8Array(64);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        await conn.write(buf.subarray(0, n));
      }
    } finally {
      conn.close();
    }
  })();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", CLIENT, String(listener.addr.port), String(count), String(gapMs)],
      stdout: "piped",
      stderr: "piped",
    });
    const out = await child.output();
    if (!out.success) throw new Error(`ping client failed: ${new TextDecoder().decode(out.stderr)}`);
    await serve;
    return JSON.parse(new TextDecoder().decode(out.stdout)) as number[];
  } finally {
    listener.close();
  }
}

const round = (x: number, digits = 0) => Number(x.toFixed(digits));

/** Runs the mining benchmark; `quick` keeps it under about 20 s. */
export async function benchMining(
  opts: { quick?: boolean } = {},
): Promise<Record<string, number | string | null>> {
  const quick = opts.quick ?? false;
  const secs = quick ? 1 : 3;
  const measureMs = quick ? 1500 : 4000;

  const small = await opensslRate(["-seconds", String(secs), "-bytes", "64", "sha256"]);
  const bulk = await opensslRate(["-seconds", String(secs), "-evp", "sha256", "-bytes", "16384"]);
  const native_hps = small === null ? null : small / 64;
  const native_bulk_hps = bulk === null ? null : bulk / 128;
  const webcrypto_hps = await webcryptoRate(quick ? 500 : 1500);

  const ts = await oneWorker("ts", measureMs);
  const best = await oneWorker("auto", measureMs);

  const workers = navigator.hardwareConcurrency ?? 2;
  const pool = new MinerPool({ threads: workers });
  let all_hps: number, rtts: number[];
  const cancels: number[] = [];
  try {
    await pool.ready();
    const ac = new AbortController();
    const pings = pingRtts(quick ? 100 : 300, 10);
    all_hps = await poolRate(pool, ac.signal, measureMs);
    rtts = await pings;
    ac.abort();
    // Cancellation: abort → every worker idle, a few times.
    for (let i = 0; i < (quick ? 3 : 8); i++) {
      const c = new AbortController();
      pool.search(HARD, { signal: c.signal }).catch(() => {});
      await sleep(150);
      const t0 = performance.now();
      c.abort();
      while (pool.busyWorkers > 0 && performance.now() - t0 < 5000) await sleep(0);
      cancels.push(performance.now() - t0);
    }
  } finally {
    pool.close();
  }

  return {
    native_hps: native_hps === null ? null : round(native_hps),
    native_formula: native_hps === null
      ? "openssl missing or unreadable: no native figures"
      : `openssl speed -seconds ${secs} -bytes 64 sha256: ${round(small!)} B/s / 64 B per hash`,
    native_bulk_hps: native_bulk_hps === null ? null : round(native_bulk_hps),
    native_bulk_formula:
      `openssl speed -seconds ${secs} -evp sha256 -bytes 16384: B/s / 128 B (2 blocks) per hash`,
    webcrypto_hps: round(webcrypto_hps),
    kernel: best.name,
    worker_hps: round(best.hps),
    ts_worker_hps: round(ts.hps),
    workers,
    all_hps: round(all_hps),
    ratio_one: native_hps === null ? null : round(best.hps / native_hps, 3),
    ratio_bulk: native_bulk_hps === null ? null : round(best.hps / native_bulk_hps, 3),
    all_vs_sum: round(all_hps / (workers * best.hps), 3),
    cancel_ms: round(Math.max(...cancels), 2),
    cancel_median_ms: round(percentile(cancels, 50), 2),
    ping_p50_ms: round(percentile(rtts, 50), 2),
    ping_p99_ms: round(percentile(rtts, 99), 2),
    ping_count: rtts.length,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await benchMining({ quick: Deno.args.includes("--quick") }), null, 2));
}
