/**
 * The mining Web Worker: scans its share of the nonce space with the best kernel it can load.
 *
 * `Worker.terminate()` cannot interrupt a synchronous loop, so the loop runs in batches of a few milliseconds
 * and between batches reads the pool's generation number from shared memory: when the pool moves on (new
 * tip, abort, another worker's find) the number changes and this worker stops within one batch. Hash counts
 * go to shared memory too, so the pool reads the rate without any message traffic.
 * @module
 */
import { sha256dSync } from "../crypto/sha256.ts";
import { createTsKernel, type Kernel, meetsTarget, prepareJob, setJobTime } from "./kernel.ts";
import { loadWasmKernel } from "./wasm_kernel.ts";

/**
 * Sent once after creation. `control`: Int32Array [generation, busy flag per worker, holds]; `counts`:
 * Float64Array. While holds (the last slot) is above zero, workers pause between batches.
 */
export interface InitMessage {
  type: "init";
  index: number;
  control: SharedArrayBuffer;
  counts: SharedArrayBuffer;
  /** "ts" forces the TypeScript kernel (benchmarks); "auto" takes wasm SIMD when it loads. */
  kernel: "auto" | "ts";
}

/** A search job. The first time slot scans [lo, hi); later slots (time + 1, …) scan [nextLo, nextHi). */
export interface JobMessage {
  type: "job";
  gen: number;
  header: Uint8Array;
  target: bigint;
  lo: number;
  hi: number;
  nextLo: number;
  nextHi: number;
  maxTime: number;
}

/** Worker to pool messages. */
export type WorkerReply =
  | { type: "ready"; kernel: string }
  | { type: "found"; gen: number; time: number; nonce: number }
  | { type: "done"; gen: number }
  | { type: "error"; message: string };

interface Scope {
  postMessage(m: WorkerReply): void;
  onmessage: ((e: MessageEvent<InitMessage | JobMessage>) => void) | null;
}
const scope = self as unknown as Scope;

const MIN_BATCH = 256;
const MAX_BATCH = 1 << 16;
/** A paused worker looks again this often (ms): a new generation ends its wait within this bound. */
const HOLD_POLL_MS = 20;

let kernel: Kernel = createTsKernel();
let index = 0;
let control: Int32Array<ArrayBufferLike> = new Int32Array(1);
let counts: Float64Array<ArrayBufferLike> = new Float64Array(1);
let batch = MIN_BATCH;

async function init(m: InitMessage): Promise<void> {
  index = m.index;
  control = new Int32Array(m.control);
  counts = new Float64Array(m.counts);
  if (m.kernel === "auto") kernel = (await loadWasmKernel()) ?? kernel;
  // V8 cannot tier a running wasm call up, so let it optimise on small calls before any long one.
  kernel.setJob(prepareJob(new Uint8Array(80), 0n));
  for (let i = 0; i < 20; i++) kernel.scan(i * 2048, 2048);
  scope.postMessage({ type: "ready", kernel: kernel.name });
}

/** Scans `job` until found, stale or past maxTime. */
function run(job: JobMessage): void {
  const header = new Uint8Array(job.header);
  const view = new DataView(header.buffer);
  const kjob = prepareJob(header, job.target);
  kernel.setJob(kjob);
  let time = view.getUint32(68, true);
  let lo = job.lo, hi = job.hi;
  const stale = () => Atomics.load(control, 0) !== job.gen;
  const holds = control.length - 1;
  for (;;) {
    let n = lo;
    while (n < hi) {
      // Held (a block is being checked and connected: this search is about to go stale anyway): the cores
      // go to the checks. Atomics.wait sleeps without spinning; the pool wakes it on release.
      for (let h; (h = Atomics.load(control, holds)) > 0 && !stale();) {
        Atomics.wait(control, holds, h, HOLD_POLL_MS);
      }
      if (stale()) return;
      const c = Math.min(batch, hi - n);
      const t0 = performance.now();
      const r = kernel.scan(n >>> 0, c);
      const dt = performance.now() - t0;
      // Aim at 1.5-4 ms per batch: short enough to notice a new tip at once, long enough to cost nothing.
      if (dt < 1.5 && batch < MAX_BATCH) batch *= 2;
      else if (dt > 4 && batch > MIN_BATCH) batch /= 2;
      if (r < 0) {
        counts[index] += c;
        n += c;
        continue;
      }
      counts[index] += r + 1;
      const nonce = n + r;
      n = nonce + 1;
      // The kernel only compared the top word: compare the whole hash, with an independent SHA-256.
      view.setUint32(76, nonce >>> 0, true);
      if (meetsTarget(sha256dSync(header), kjob.target)) {
        scope.postMessage({ type: "found", gen: job.gen, time, nonce: nonce >>> 0 });
        return;
      }
    }
    if (time >= job.maxTime || time >= 0xffffffff) {
      scope.postMessage({ type: "done", gen: job.gen });
      return;
    }
    time++;
    view.setUint32(68, time, true);
    setJobTime(kjob, time);
    kernel.setJob(kjob);
    lo = job.nextLo;
    hi = job.nextHi;
  }
}

scope.onmessage = (e) => {
  const m = e.data;
  try {
    if (m.type === "init") {
      init(m).catch((err) => scope.postMessage({ type: "error", message: String(err) }));
      return;
    }
    // The pool marks a worker busy when it posts a job; an earlier job's end may have cleared that mark.
    Atomics.store(control, 1 + index, 1);
    if (Atomics.load(control, 0) === m.gen) run(m);
  } catch (err) {
    scope.postMessage({ type: "error", message: err instanceof Error ? err.message : String(err) });
  } finally {
    if (m.type === "job") Atomics.store(control, 1 + index, 0);
  }
};
