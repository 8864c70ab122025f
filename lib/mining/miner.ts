/**
 * The miner: builds templates on the tip, searches nonces in the worker pool, hands found blocks to the node,
 * and restarts the moment the tip changes (a stale search is aborted) or the mempool offers more fees.
 * @module
 */
import type { Block } from "../primitives/block.ts";
import { MinerPool } from "./pool.ts";
import type { BlockTemplate } from "./template.ts";

/** What the miner needs from its node. */
export interface MinerHost {
  /** A fresh template on the current tip. */
  template(): BlockTemplate;
  /** Validates, connects and relays a found block; returns its hash. */
  submit(block: Block): Promise<string>;
  /** Calls `onChange` whenever the tip changes; returns an unsubscribe function. */
  watchTip(onChange: () => void): () => void;
  /** Total fees in the mempool, to notice when a template is worth rebuilding. */
  mempoolFees(): number;
}

/** Progress a person can watch. */
export interface MinerStatus {
  /** True while searching. */
  mining: boolean;
  /** Hashes per second over the last seconds. */
  hashrate: number;
  /** Height being mined. */
  height: number;
  /** Compact target being mined. */
  bits: number;
  /** Blocks found since start. */
  found: number;
}

const REFRESH_MS = 5_000;

/** Mines on demand (`mineBlocks`) or continuously (`start`/`stop`). */
export class Miner {
  #host: MinerHost;
  #threads?: number;
  #pool?: MinerPool;
  #continuous = false;
  #running?: Promise<void>;
  #abort?: AbortController;
  #requests: { n: number; got: string[]; done: (e?: Error) => void }[] = [];
  #height = 0;
  #bits = 0;
  #foundTotal = 0;
  #onFound?: (hash: string) => void;

  /** A miner for `host`, with `threads` workers (started on first use); `onFound` hears of each block. */
  constructor(host: MinerHost, opts: { threads?: number; onFound?: (hash: string) => void } = {}) {
    this.#host = host;
    this.#threads = opts.threads;
    this.#onFound = opts.onFound;
  }

  /** What the miner is doing. */
  status(): MinerStatus {
    return {
      mining: this.#running !== undefined,
      hashrate: this.#pool?.hashrate ?? 0,
      height: this.#height,
      bits: this.#bits,
      found: this.#foundTotal,
    };
  }

  /** Starts mining until `stop()`. */
  start(): void {
    this.#continuous = true;
    this.#ensureRunning();
  }

  /** Stops continuous mining (and any `mineBlocks` in progress). */
  async stop(): Promise<void> {
    this.#continuous = false;
    this.#settle();
    this.#abort?.abort();
    await this.#running;
  }

  /** Mines `n` blocks now and resolves with their hashes (fewer if stopped first). */
  async mineBlocks(n: number): Promise<string[]> {
    const got: string[] = [];
    if (n <= 0) return got;
    await new Promise<void>((resolve, reject) => {
      this.#requests.push({ n, got, done: (e) => e ? reject(e) : resolve() });
      this.#ensureRunning();
    });
    return got;
  }

  #settle(error?: Error): void {
    for (const r of this.#requests.splice(0)) r.done(error);
  }

  /**
   * Pauses the workers (if any) until the returned release is called: the node holds them while it checks
   * and connects a block from the network, so the checks get the cores. See `MinerPool.hold`.
   */
  hold(): () => void {
    return this.#pool?.hold() ?? (() => {});
  }

  /** Stops and terminates the workers. */
  async close(): Promise<void> {
    await this.stop();
    this.#pool?.close();
    this.#pool = undefined;
  }

  #ensureRunning(): void {
    if (this.#running) return;
    this.#running = this.#loop()
      .catch((e) => this.#settle(e instanceof Error ? e : new Error(String(e))))
      .finally(() => this.#running = undefined);
  }

  async #loop(): Promise<void> {
    this.#pool ??= new MinerPool({ threads: this.#threads });
    while (this.#continuous || this.#requests.length > 0) {
      const { block } = this.#host.template();
      this.#height = block.txs[0].lockTime;
      this.#bits = block.header.bits;
      const abort = this.#abort = new AbortController();
      const fees = this.#host.mempoolFees();
      const unwatch = this.#host.watchTip(() => abort.abort());
      // Rebuild the template now and then if the mempool has gained fees since it was made.
      const refresh = setInterval(() => this.#host.mempoolFees() > fees && abort.abort(), REFRESH_MS);
      try {
        const result = await this.#pool.search(block.header, { signal: abort.signal });
        if (!result) continue;
        const hash = await this.#host.submit({ header: result.header, txs: block.txs });
        this.#foundTotal++;
        const r = this.#requests[0];
        if (r) {
          r.got.push(hash);
          if (r.got.length >= r.n) this.#requests.shift()!.done();
        }
        this.#onFound?.(hash);
      } finally {
        clearInterval(refresh);
        unwatch();
      }
    }
  }
}
