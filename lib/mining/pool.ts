/**
 * A pool of long-lived mining workers that search for a nonce (rolling the time when the nonces run out).
 *
 * Workers are created once and reused for every search. A search is a generation number in shared memory:
 * starting another search, aborting, or a worker's find bumps it, and every worker stops within one batch
 * (a few ms). Every find is checked again here through WebCrypto before it is returned.
 * @module
 */
import { bitsToTarget, checkProofOfWork } from "../consensus/pow.ts";
import { blockHash, type BlockHeader, encodeHeader } from "../primitives/header.ts";
import type { InitMessage, JobMessage, WorkerReply } from "./worker.ts";

/** A header that meets its own bits. */
export interface SearchResult {
  /** The header with the winning time and nonce. */
  header: BlockHeader;
  /** Its block hash, display order. */
  hash: string;
  /** Hashes all workers computed for this search. */
  hashes: number;
}

/** Options of `MinerPool.search`. */
export interface SearchOptions {
  /** Aborting resolves the search with null and stops the workers. */
  signal?: AbortSignal;
  /** Never roll the time past this (seconds); default now + 7200 - 60. */
  maxTime?: number;
  /** First nonce of the first time slot (later slots start at 0). */
  startNonce?: number;
  /** Called a few times a second while searching. */
  onProgress?: (p: { hashes: number; hashrate: number }) => void;
}

/** Thrown for a closed pool, a failing worker or a find that fails the WebCrypto check. */
export class MiningError extends Error {
  /** The error's name, for logs. */
  override name = "MiningError";
}

const TWO_32 = 0x1_0000_0000;
const SAMPLE_MS = 250;
const RATE_WINDOW_MS = 3000;

interface Active {
  gen: number;
  /** Ends the search with this outcome (later calls are ignored). */
  finish(r: SearchResult | null | Error): void;
  /** One worker reached maxTime. */
  workerDone(): void;
  /** A worker reports a find: confirm it and finish. */
  found(time: number, nonce: number): void;
}

/** Mining workers when not told: all cores but one (one core stays free for the node itself), at least one. */
export function defaultMiningThreads(): number {
  return Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1);
}

/**
 * Mining workers, each scanning its own share of the nonces.
 * @example Search a header's nonces in a worker
 * ```ts
 * import { blockHash, Chain, NETWORKS, openStore } from "@peerchain/peerchain";
 * import { createTemplate, MinerPool } from "@peerchain/peerchain/mining";
 * import assert from "node:assert/strict";
 *
 * const chain = Chain.open(openStore(":memory:"), NETWORKS.regtest);
 * const { block } = createTemplate(chain, undefined, "00".repeat(20));
 * const pool = new MinerPool({ threads: 1 });
 * try {
 *   const found = await pool.search(block.header);
 *   assert.ok(found);
 *   assert.equal(found.hash, await blockHash(found.header));
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class MinerPool {
  /** Number of workers. */
  readonly threads: number;
  readonly #workers: Worker[] = [];
  readonly #control: Int32Array;
  readonly #counts: Float64Array;
  readonly #ready: Promise<string>;
  #gen = 0;
  #active: Active | undefined;
  #samples: { t: number; n: number }[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /** Starts the workers; `kernel: "ts"` forces the TypeScript kernel (for comparisons). */
  constructor(opts: { threads?: number; kernel?: "auto" | "ts" } = {}) {
    const n = opts.threads ?? defaultMiningThreads();
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`threads must be 1..256, got ${n}`);
    this.threads = n;
    // [generation, busy flag per worker, holds]
    this.#control = new Int32Array(new SharedArrayBuffer(4 * (2 + n)));
    this.#counts = new Float64Array(new SharedArrayBuffer(8 * n));
    const readies: Promise<string>[] = [];
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: `miner-${i}` });
      this.#workers.push(w);
      readies.push(
        new Promise<string>((resolve, reject) => {
          w.onmessage = (e: MessageEvent<WorkerReply>) => {
            if (e.data.type === "ready") resolve(e.data.kernel);
            else if (e.data.type === "error") reject(new MiningError(`mining worker: ${e.data.message}`));
            this.#onMessage(e.data);
          };
          w.onerror = (e) => {
            e.preventDefault();
            const err = new MiningError(`mining worker failed: ${e.message}`);
            reject(err);
            this.#active?.finish(err);
          };
        }),
      );
      const init: InitMessage = {
        type: "init",
        index: i,
        control: this.#control.buffer as SharedArrayBuffer,
        counts: this.#counts.buffer as SharedArrayBuffer,
        kernel: opts.kernel ?? "auto",
      };
      w.postMessage(init);
    }
    this.#ready = Promise.all(readies).then((names) => names[0]);
    this.#ready.catch(() => {}); // surfaced by ready() and search()
  }

  /** Resolves with the kernel the workers use ("wasm-simd" or "ts") once they are warmed up. */
  ready(): Promise<string> {
    return this.#ready;
  }

  /** Hash rate over the last few seconds (hashes/s), 0 when idle. */
  get hashrate(): number {
    if (this.#active === undefined) return 0;
    return this.#rate();
  }

  /** Workers still scanning (0 soon after a search ends or is aborted). */
  get busyWorkers(): number {
    let busy = 0;
    for (let i = 0; i < this.threads; i++) busy += Atomics.load(this.#control, 1 + i);
    return busy;
  }

  /** Total hashes computed by all workers since the pool started. */
  get totalHashes(): number {
    let sum = 0;
    for (let i = 0; i < this.threads; i++) sum += this.#counts[i];
    return sum;
  }

  /**
   * Searches nonces (rolling `time` upward by 1 s once all nonces are exhausted, never beyond maxTime) for a
   * header meeting `header.bits`. Resolves null when aborted, superseded by another search, or at maxTime.
   */
  async search(header: BlockHeader, opts: SearchOptions = {}): Promise<SearchResult | null> {
    if (this.#closed) throw new MiningError("the miner pool is closed");
    this.#active?.finish(null);
    const gen = this.#stop();
    const target = bitsToTarget(header.bits);
    if (target <= 0n) throw new MiningError(`bits 0x${header.bits.toString(16)} encode no valid target`);
    const bytes = encodeHeader(header);
    const maxTime = opts.maxTime ?? Math.floor(Date.now() / 1000) + 7200 - 60;
    const start = opts.startNonce ?? 0;
    if (!Number.isInteger(start) || start < 0 || start >= TWO_32) {
      throw new RangeError("startNonce must be a u32");
    }
    if (opts.signal?.aborted || header.time > maxTime) return null;
    await this.#ready;
    if (this.#closed || gen !== this.#gen || opts.signal?.aborted) return null;

    const base = this.totalHashes;
    const result = new Promise<SearchResult | null | Error>((resolve) => {
      let done = 0;
      const finish = (r: SearchResult | null | Error) => {
        if (this.#active?.gen !== gen) return;
        this.#active = undefined;
        this.#stop();
        opts.signal?.removeEventListener("abort", onAbort);
        clearInterval(this.#timer);
        this.#timer = undefined;
        resolve(r);
      };
      const onAbort = () => finish(null);
      opts.signal?.addEventListener("abort", onAbort);
      this.#active = {
        gen,
        finish,
        workerDone: () => {
          if (++done === this.threads) finish(null);
        },
        found: (time, nonce) => {
          this.#stop(); // the others need not keep going while WebCrypto confirms
          const found = { ...header, time, nonce };
          blockHash(found).then((hash) => {
            if (!checkProofOfWork(hash, header.bits)) {
              finish(
                new MiningError(`kernel reported nonce ${nonce} at time ${time} but WebCrypto disagrees`),
              );
            } else finish({ header: found, hash, hashes: this.totalHashes - base });
          }, (e) => finish(e instanceof Error ? e : new MiningError(String(e))));
        },
      };
      this.#samples = [{ t: performance.now(), n: base }];
      const timer = setInterval(() => {
        this.#sample();
        opts.onProgress?.({ hashes: this.totalHashes - base, hashrate: this.#rate() });
      }, SAMPLE_MS);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    });
    for (let i = 0; i < this.threads; i++) {
      const job: JobMessage = {
        type: "job",
        gen,
        header: bytes,
        target,
        ...share(start, TWO_32, i, this.threads),
        ...nextShare(i, this.threads),
        maxTime,
      };
      Atomics.store(this.#control, 1 + i, 1);
      this.#workers[i].postMessage(job);
    }
    const r = await result;
    if (r instanceof Error) throw r;
    return r;
  }

  /** Holds in force (`hold`). */
  get holds(): number {
    return Atomics.load(this.#control, this.threads + 1);
  }

  /**
   * Pauses the workers between batches (within a few ms) until the returned release is called, so that
   * checking a block that arrived gets the cores: the search underway is about to go stale anyway. Holds
   * nest; a search goes on where it stood once none is left. Releasing twice releases once.
   */
  hold(): () => void {
    const at = this.threads + 1;
    Atomics.add(this.#control, at, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      Atomics.sub(this.#control, at, 1);
      Atomics.notify(this.#control, at);
    };
  }

  /** Stops any search and terminates the workers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#active?.finish(null);
    this.#stop();
    for (const w of this.#workers) w.terminate();
  }

  #onMessage(m: WorkerReply): void {
    const active = this.#active;
    if (m.type === "error") {
      active?.finish(new MiningError(`mining worker: ${m.message}`));
      return;
    }
    if (m.type === "ready" || active === undefined || m.gen !== active.gen) return;
    if (m.type === "done") active.workerDone();
    else active.found(m.time, m.nonce);
  }

  /** Invalidates the current generation (workers stop within a batch) and returns the next one. */
  #stop(): number {
    this.#gen = (this.#gen + 1) | 0;
    Atomics.store(this.#control, 0, this.#gen);
    return this.#gen;
  }

  #sample(): void {
    const now = performance.now();
    this.#samples.push({ t: now, n: this.totalHashes });
    while (this.#samples.length > 1 && now - this.#samples[1].t >= RATE_WINDOW_MS) this.#samples.shift();
  }

  /** Hashes/s from the oldest sample in the window to now. */
  #rate(): number {
    const a = this.#samples[0];
    const dt = a === undefined ? 0 : performance.now() - a.t;
    return dt > 0 ? ((this.totalHashes - a.n) * 1000) / dt : 0;
  }
}

/** Worker `i`'s part of [lo, hi) split `n` ways, as the first time slot. */
function share(lo: number, hi: number, i: number, n: number): { lo: number; hi: number } {
  const len = hi - lo;
  return { lo: lo + Math.floor((len * i) / n), hi: lo + Math.floor((len * (i + 1)) / n) };
}

/** Worker `i`'s part of all 2^32 nonces, for the time slots after the first. */
function nextShare(i: number, n: number): { nextLo: number; nextHi: number } {
  const s = share(0, TWO_32, i, n);
  return { nextLo: s.lo, nextHi: s.hi };
}
