/** The suggested fee rate (lib/wallet/fee_rate.ts): the default while the waiting payments fit in a block. */
import assert from "node:assert/strict";
import { type Block, MAX_BLOCK_SIZE } from "../lib/primitives/block.ts";
import { type Transaction, txSize } from "../lib/primitives/transaction.ts";
import {
  BLOCK_RESERVED_BYTES,
  DEFAULT_FEE_RATE,
  FULL_BLOCK_SHARE,
  RECENT_BLOCKS,
  RecentFeeRates,
  suggestFeeRate,
} from "../lib/wallet/fee_rate.ts";

Deno.test("the suggested fee rate is the default while the mempool fits in one block, else beats its edge", () => {
  assert.equal(suggestFeeRate([]), DEFAULT_FEE_RATE);
  assert.equal(
    suggestFeeRate([{ feeRate: 50, size: 1_000 }]),
    DEFAULT_FEE_RATE,
    "room for more: the default",
  );
  const room = 10_000 - BLOCK_RESERVED_BYTES;
  // Two payments fill the block exactly; the third (rate 7.5) is left out, so a payment must beat 7.5: 8.
  const full = [{ feeRate: 30, size: room / 2 }, { feeRate: 7.5, size: 200 }, {
    feeRate: 20,
    size: room / 2,
  }];
  assert.equal(suggestFeeRate(full, 10_000, 1), 8);
  assert.equal(suggestFeeRate(full, 10_000), DEFAULT_FEE_RATE, "never below the floor");
  // A crowded block: the edge is at the 40-per-byte payment.
  const crowded = [100, 90, 80, 40, 30].map((feeRate) => ({ feeRate, size: room / 3 }));
  assert.equal(suggestFeeRate(crowded, 10_000, 1), 41);
});

Deno.test("recent full blocks raise the suggestion to the median of their lowest rates; blocks not full do not", () => {
  // A block of `count` one-input two-output payments; `rateOfLock` gives their rates from their lock times.
  const block = (count: number): Block => ({
    header: {} as Block["header"],
    txs: Array.from({ length: count + 1 }, (_, i) => ({
      version: 1,
      inputs: i === 0 ? [] : [{
        prevout: { txid: "00".repeat(32), index: i },
        publicKey: new Uint8Array(32),
        signature: new Uint8Array(64),
      }],
      outputs: [{ amount: 1, pubKeyHash: "00".repeat(20) }, { amount: 1, pubKeyHash: "00".repeat(20) }],
      lockTime: i,
    })),
  });
  const full = Math.ceil(FULL_BLOCK_SHARE * MAX_BLOCK_SIZE / txSize(block(1).txs[1]));
  const rates = new RecentFeeRates();
  const rateOfLock = (base: number) => (tx: Transaction) => tx.inputs.length ? base + tx.lockTime : undefined;
  rates.blockConnected(block(100), rateOfLock(50));
  assert.equal(rates.floor, 0, "a block with room turned nobody away");
  rates.blockConnected(block(full), rateOfLock(20)); // lowest 21
  rates.blockConnected(block(full), rateOfLock(5)); // lowest 6
  rates.blockConnected(block(full), rateOfLock(30)); // lowest 31
  assert.equal(rates.floor, 21, "the median of 6, 21 and 31");
  for (let i = 0; i < RECENT_BLOCKS; i++) rates.blockConnected(block(full), rateOfLock(1.5)); // lowest 2.5
  assert.equal(rates.floor, 3, `only the last ${RECENT_BLOCKS} count, rounded up`);
  rates.blockConnected(block(full), () => undefined);
  assert.equal(rates.floor, 3, "a full block of unknown rates records nothing");
});
