/**
 * Signature checks on every core: a pool of Web Workers, each verifying Ed25519 signatures with WebCrypto.
 *
 * `check(item)` is the verifier a `VerifyQueue` runs its checks through: the queue keeps its bound, its turns
 * and its cancellation, while the checks it starts in one go are packed into one batch per worker (sent when
 * the current task ends), so a block's hundred signatures cost a message or two per worker, not a hundred.
 * Each worker holds at most `maxPerWorker` checks; past that, checks wait here (the queue in front bounds how
 * many can). Once the pool is closed, or a worker fails, checks run in this thread: those a worker held and
 * had not answered are verified here, so a check never gets a verdict nobody computed. While the workers
 * start (until one answered its first batch), each holds one batch and the other checks run in this thread:
 * a worker takes 0.5-1 s to load on a busy machine, and a syncing node sat idle that long waiting for them.
 * @module
 */
import { packBatch, type VerifyBatch, type VerifyVerdicts } from "./verify_batch.ts";
import type { VerifyItem } from "./verify_queue.ts";
import { verify } from "./ed25519.ts";

/** Checks in one batch at most: a worker starts a batch's checks at once, so this bounds its pending calls. */
export const MAX_BATCH = 32;
/**
 * Checks one worker holds at most (batches sent and not yet answered): two batches, so the next one is there
 * when a worker finishes one and it never waits for a round trip.
 */
export const MAX_PER_WORKER = 2 * MAX_BATCH;

interface Pending {
  item: VerifyItem;
  done: (ok: boolean) => void;
}

interface Slot {
  worker: Worker;
  /** Checks sent to this worker and not answered. */
  held: number;
  /** Batches sent, by id: their checks' callbacks, in order. */
  batches: Map<number, Pending[]>;
}

/** Options of `VerifyPool`. */
export interface VerifyPoolOptions {
  /** Workers (default: one per core). */
  threads?: number;
  /** Checks one worker holds at most (default `MAX_PER_WORKER`). */
  maxPerWorker?: number;
}

/**
 * Verifier workers, one per core by default. Close it to end the workers.
 * @example Check signatures on the workers through a bounded queue
 * ```ts
 * import { generateKeyPair, sign, VerifyPool, VerifyQueue } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * const { privateKey, publicKey } = await generateKeyPair();
 * const message = new Uint8Array(32);
 * const signature = await sign(privateKey, message);
 * const pool = new VerifyPool({ threads: 2 });
 * try {
 *   const queue = new VerifyQueue(pool.capacity, pool.check);
 *   const forged = signature.map((b, i) => i === 0 ? b ^ 1 : b);
 *   const items = [{ publicKey, signature, message }, { publicKey, signature: forged, message }];
 *   assert.equal(await queue.verifyAll(items), 1);
 * } finally {
 *   pool.close();
 * }
 * ```
 */
export class VerifyPool {
  /** Number of workers. */
  readonly threads: number;
  /** Checks the workers hold at most, together: the in-flight bound a queue in front should use. */
  readonly capacity: number;
  readonly #maxPerWorker: number;
  readonly #slots: Slot[] = [];
  #waiting: Pending[] = [];
  #nextId = 0;
  #flushQueued = false;
  #closed = false;
  #answered = 0;
  /** Checks verified in this thread while the workers started. */
  #startedInThread = 0;

  /** Starts the workers. */
  constructor(opts: VerifyPoolOptions = {}) {
    const n = opts.threads ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`threads must be 1..256, got ${n}`);
    const per = opts.maxPerWorker ?? MAX_PER_WORKER;
    if (!Number.isInteger(per) || per < 1) throw new RangeError(`maxPerWorker must be a positive integer`);
    this.threads = n;
    this.#maxPerWorker = per;
    this.capacity = n * per;
  }

  /** The workers, started at the first check (a node that never checks a signature starts none). */
  #start(): void {
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(new URL("./verify_worker.ts", import.meta.url), {
        type: "module",
        name: `verifier-${i}`,
      });
      const slot: Slot = { worker, held: 0, batches: new Map() };
      worker.onmessage = (e: MessageEvent<VerifyVerdicts>) => this.#answer(slot, e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        this.close(); // a broken worker: the rest of this process's checks run in this thread
      };
      this.#slots.push(slot);
    }
  }

  /** Checks waiting here for room on a worker. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Checks sent to the workers and not yet answered. */
  get inFlight(): number {
    return this.#slots.reduce((s, w) => s + w.held, 0);
  }

  /** Batches sent to the workers since the pool was made (one message each). */
  get batches(): number {
    return this.#nextId;
  }

  /** Checks the workers answered since the pool was made. */
  get answered(): number {
    return this.#answered;
  }

  /** Checks verified in this thread because no worker had started yet. */
  get startedInThread(): number {
    return this.#startedInThread;
  }

  /** True once `close` ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Verifies one signature on a worker: true when valid. Bound; pass it as a `VerifyQueue`'s check. */
  readonly check = (item: VerifyItem): Promise<boolean> => {
    // The worker would say false too; lengths past a byte would not pack.
    if (item.publicKey.length !== 32 || item.signature.length !== 64) return Promise.resolve(false);
    if (this.#closed) return inThread(item);
    return new Promise((done) => {
      this.#waiting.push({ item, done });
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => {
          this.#flushQueued = false;
          this.#flush();
        });
      }
    });
  };

  /** Ends the workers; checks not yet answered, and later ones, are verified in this thread. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      this.#takeBack(slot);
    }
    for (const p of this.#waiting.splice(0)) inThread(p.item).then(p.done);
  }

  /** Hands waiting checks to the workers with room, the least loaded first, in batches of at most MAX_BATCH. */
  #flush(): void {
    if (this.#closed) return;
    if (!this.#slots.length) this.#start();
    while (this.#waiting.length) {
      // No worker has answered yet (they are still loading): each holds its first batch, the rest run here.
      if (this.#answered === 0 && this.#slots.every((s) => s.held > 0)) {
        const now = this.#waiting.splice(0);
        this.#startedInThread += now.length;
        for (const p of now) inThread(p.item).then(p.done);
        return;
      }
      let slot: Slot | undefined;
      for (const s of this.#slots) if (s.held < this.#maxPerWorker && (!slot || s.held < slot.held)) slot = s;
      if (!slot) return;
      // Every worker busy and less than a batch waiting: wait for an answer (which flushes again) and send
      // then, together with what came meanwhile. Checks that arrive one at a time (a burst of payments, each
      // at its own turn) would otherwise travel one per message: 1,650 messages for 2,000 checks, measured.
      if (slot.held > 0 && this.#waiting.length < MAX_BATCH) return;
      const room = Math.min(this.#maxPerWorker - slot.held, MAX_BATCH);
      // Spread a burst over the workers rather than filling the first.
      const fair = Math.ceil(this.#waiting.length / this.#slots.length);
      const batch = this.#waiting.splice(0, Math.max(1, Math.min(room, fair)));
      const id = this.#nextId++;
      slot.batches.set(id, batch);
      slot.held += batch.length;
      const data = packBatch(batch.map((p) => p.item)).buffer;
      const message: VerifyBatch = { id, data };
      slot.worker.postMessage(message, [data]);
    }
  }

  #answer(slot: Slot, m: VerifyVerdicts): void {
    const batch = slot.batches.get(m.id);
    if (!batch) return;
    slot.batches.delete(m.id);
    slot.held -= batch.length;
    this.#answered += batch.length;
    const ok = new Uint8Array(m.ok);
    batch.forEach((p, i) => p.done(ok[i] === 1));
    this.#flush();
  }

  /** The worker is gone: what it held and had not answered is verified in this thread. */
  #takeBack(slot: Slot): void {
    for (const batch of slot.batches.values()) for (const p of batch) inThread(p.item).then(p.done);
    slot.batches.clear();
    slot.held = 0;
  }
}

function inThread(item: VerifyItem): Promise<boolean> {
  return verify(item.publicKey, item.signature, item.message);
}
