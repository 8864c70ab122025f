/**
 * The chain's UTXO set in memory, over the store that keeps it. It can start empty and be read into memory in
 * the background (`loadInBackground`): with 10,000 blocks, reading every coin at start-up was a third of
 * opening the chain. Until it is all in memory, what the map lacks is asked of the store, which holds exactly
 * the same coins (a block's coins change in the store and in memory in the same synchronous step, the store
 * first), so every answer is the same before, during and after the load.
 * @module
 */
import type { Coin } from "../primitives/coin.ts";
import type { CoinEntry, CoinPage } from "../store/store.ts";
import { background } from "../runtime/background.ts";

/** What the set reads of the store (a `Store` is one). */
export interface CoinSource {
  /** The coin at `key`, or undefined. */
  getCoin(key: string): Coin | undefined;
  /** Every coin paying one of `pubKeyHashes`, in the order they were stored. */
  coinsPaying(pubKeyHashes: Iterable<string>): CoinEntry[];
  /** A page of coins after position `after` (-1: from the first). */
  coinPage(after: number): CoinPage;
}

/**
 * The UTXO set: a map from `"txid:index"` to its coin, complete once loaded. Writes go to the store first (the
 * chain's job), then here with `set` and `delete`.
 */
export class CoinSet {
  #map = new Map<string, Coin>();
  #source: CoinSource;
  /** Where the next page starts; null once every coin is in memory. */
  #next: number | null = -1;

  /** A set over `source`, empty until `loadAll` or `loadInBackground`. */
  constructor(source: CoinSource) {
    this.#source = source;
  }

  /** True once every coin is in memory. */
  get loaded(): boolean {
    return this.#next === null;
  }

  /** The coin at `key`, or undefined when there is none (spent or never created). */
  get(key: string): Coin | undefined {
    const coin = this.#map.get(key);
    // Not in memory yet: the store has it, or nobody has (a spent coin left both in one step).
    if (coin !== undefined || this.#next === null) return coin;
    return this.#source.getCoin(key);
  }

  /** Adds or replaces a coin the store just wrote. */
  set(key: string, coin: Coin): void {
    this.#map.set(key, coin);
  }

  /** Drops a coin the store just deleted. */
  delete(key: string): void {
    this.#map.delete(key);
  }

  /** Number of coins (loads what is left first). */
  get size(): number {
    this.loadAll();
    return this.#map.size;
  }

  /** Every coin (loads what is left first). */
  *entries(): IterableIterator<CoinEntry> {
    this.loadAll();
    yield* this.#map;
  }

  /** The coins paying one of `pubKeyHashes`: walked in memory once loaded, asked of the store before. */
  paying(pubKeyHashes: ReadonlySet<string>): CoinEntry[] {
    if (this.#next !== null) return this.#source.coinsPaying(pubKeyHashes);
    const out: CoinEntry[] = [];
    for (const entry of this.#map) if (pubKeyHashes.has(entry[1].pubKeyHash)) out.push(entry);
    return out;
  }

  /** Reads what is left of the set into memory now. */
  loadAll(): void {
    while (this.#next !== null) this.#loadPage();
  }

  /**
   * Reads the set into memory a page per turn of the event loop, from the next turn on, so the node answers
   * meanwhile (and its start is not one page longer); stops early
   * when `signal` aborts (what is not loaded is still read from the store). Resolves when done or stopped.
   */
  async loadInBackground(signal?: AbortSignal): Promise<void> {
    for (;;) {
      // Each page in a turn of its own, the first too: none of it runs inside the caller (a node's start).
      await background.turn();
      if (this.#next === null || signal?.aborted) return;
      this.#loadPage();
    }
  }

  #loadPage(): void {
    const page = this.#source.coinPage(this.#next!);
    // A coin changes in the store and here in one synchronous step: the page and the map agree on it.
    for (const [key, coin] of page.coins) this.#map.set(key, coin);
    this.#next = page.next;
  }
}
