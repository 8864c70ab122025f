/**
 * An independent oracle for the UTXO set: replays the active chain's stored blocks from height 1, so a test
 * can compare it with the set the store kept incrementally (through commits, crashes and reorgs).
 * @module
 */
import type { Chain } from "../../lib/chain/chain.ts";
import type { Coin } from "../../lib/chain/coins.ts";
import { outpointKey, txid } from "../../lib/primitives/transaction.ts";

/** The replayed UTXO set and what the replay went through. */
export interface Rebuilt {
  coins: Map<string, Coin>;
  /** Non-coinbase transactions replayed. */
  spends: number;
  /** Inputs that spent an output created earlier in the same block. */
  chainedInputs: number;
  /** Blocks after which there were fewer coins than before. */
  shrinkingBlocks: number;
}

/** Raised when the active chain cannot be replayed: a missing block or an input spending nothing. */
export class RebuildError extends Error {
  override name = "RebuildError";
}

/**
 * Replays heights 1..tip of `chain`'s active chain from its stored blocks. The genesis output is left out, as
 * the chain never makes it spendable.
 * @example assert.deepEqual(diffCoins(chain.coins(), rebuildCoins(chain).coins), []);
 */
export function rebuildCoins(chain: Chain): Rebuilt {
  const coins = new Map<string, Coin>();
  let spends = 0, chainedInputs = 0, shrinkingBlocks = 0;
  for (let height = 1; height <= chain.height; height++) {
    const hash = chain.entryAt(height)!.hash;
    const block = chain.getBlock(hash);
    if (!block) throw new RebuildError(`block ${hash} at height ${height} is not stored`);
    const createdHere = new Set<string>(), sizeBefore = coins.size;
    block.txs.forEach((tx, i) => {
      const id = txid(tx);
      if (i > 0) spends++;
      for (const input of tx.inputs) {
        const key = outpointKey(input.prevout);
        if (!coins.delete(key)) {
          throw new RebuildError(`input ${key} at height ${height} spends no unspent output`);
        }
        if (createdHere.has(key)) chainedInputs++;
      }
      tx.outputs.forEach((o, j) => {
        const key = `${id}:${j}`;
        coins.set(key, { amount: o.amount, pubKeyHash: o.pubKeyHash, height, coinbase: i === 0 });
        createdHere.add(key);
      });
    });
    if (coins.size < sizeBefore) shrinkingBlocks++;
  }
  return { coins, spends, chainedInputs, shrinkingBlocks };
}

const sameCoin = (a: Coin, b: Coin) =>
  a.amount === b.amount && a.pubKeyHash === b.pubKeyHash && a.height === b.height &&
  a.coinbase === b.coinbase;

/**
 * The differences between two UTXO sets, at most `max` of them, readable in an assertion message; empty
 * when they are equal.
 */
export function diffCoins(
  actual: Iterable<[string, Coin]>,
  expected: ReadonlyMap<string, Coin>,
  max = 10,
): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [key, coin] of actual) {
    seen.add(key);
    const want = expected.get(key);
    if (!want) out.push(`extra ${key} ${JSON.stringify(coin)}`);
    else if (!sameCoin(coin, want)) {
      out.push(`changed ${key}: ${JSON.stringify(coin)} instead of ${JSON.stringify(want)}`);
    }
  }
  for (const [key, coin] of expected) if (!seen.has(key)) out.push(`missing ${key} ${JSON.stringify(coin)}`);
  return out.slice(0, max);
}
