/** The suggested fee rate (lib/wallet/fee_rate.ts): the default while the waiting payments fit in a block. */
import assert from "node:assert/strict";
import { BLOCK_RESERVED_BYTES, DEFAULT_FEE_RATE, suggestFeeRate } from "../lib/wallet/fee_rate.ts";

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
