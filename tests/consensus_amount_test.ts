/**
 * Amounts are exact integers of base units: decimal text in and out, with no floating-point rounding.
 * @module
 */
import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import {
  AmountError,
  COIN,
  formatAmount,
  isMoneyRange,
  MAX_MONEY,
  parseAmount,
} from "../lib/consensus/amount.ts";

Deno.test("parseAmount: exact base units", () => {
  const cases: [string, number][] = [
    ["1.5", 150_000_000],
    ["0.00000001", 1],
    ["1", COIN],
    ["0.1", 10_000_000],
    ["0.3", 30_000_000], // 0.1 + 0.2 !== 0.3 in floating point; here it must be exact
    ["12.34567891", 1_234_567_891],
    ["20999999.99999999", MAX_MONEY - 1],
    ["21000000", MAX_MONEY],
    ["21000000.00000000", MAX_MONEY],
    ["0001.50", 150_000_000],
    [".5", 50_000_000],
    [" 2.5 ", 250_000_000],
  ];
  for (const [text, units] of cases) assert.equal(parseAmount(text), units, JSON.stringify(text));
});

Deno.test("parseAmount: refuses anything but a positive amount of at most 8 decimals, with AmountError", () => {
  const bad = [
    "0.000000001",
    "-1",
    "+1",
    "1e3",
    "",
    "   ",
    "1,5",
    "abc",
    "0",
    "0.00000000",
    "21000001",
    "21000000.00000001",
    "99999999999999999999",
    " 1.5.2",
    "1.5.2",
    ".",
    "0x10",
    "Infinity",
    "NaN",
    "1 000",
    "１",
  ];
  for (const text of bad) {
    assert.throws(() => parseAmount(text), (e: unknown) => {
      assert.ok(e instanceof AmountError, `${JSON.stringify(text)} threw ${e}`);
      assert.equal(e.name, "AmountError");
      assert.ok(e.message.length > 10, "the message should say what is wrong");
      return true;
    }, JSON.stringify(text));
  }
});

Deno.test("formatAmount: shortest exact decimal", () => {
  assert.equal(formatAmount(150_000_000), "1.5");
  assert.equal(formatAmount(1), "0.00000001");
  assert.equal(formatAmount(COIN), "1");
  assert.equal(formatAmount(MAX_MONEY), "21000000");
  assert.equal(formatAmount(MAX_MONEY - 1), "20999999.99999999");
  assert.equal(formatAmount(0), "0");
  assert.equal(formatAmount(-150_000_000), "-1.5");
});

Deno.test("formatAmount and parseAmount round-trip every amount in [1, MAX_MONEY]", () => {
  const amounts = fc.oneof(
    fc.integer({ min: 1, max: MAX_MONEY }),
    fc.integer({ min: 1, max: 1000 }),
    fc.integer({ min: MAX_MONEY - 1000, max: MAX_MONEY }),
    fc.integer({ min: 1, max: 21_000_000 }).map((c) => c * COIN),
  );
  fc.assert(
    fc.property(amounts, (units) => {
      const text = formatAmount(units);
      assert.match(text, /^\d+(\.\d{0,7}[1-9])?$/);
      assert.equal(parseAmount(text), units);
    }),
    { numRuns: 500 },
  );
});

Deno.test("isMoneyRange: integers in [0, MAX_MONEY] only", () => {
  for (const ok of [0, 1, MAX_MONEY]) assert.ok(isMoneyRange(ok), String(ok));
  for (const bad of [-1, MAX_MONEY + 1, 0.5, NaN, Infinity, 2 ** 53]) {
    assert.ok(!isMoneyRange(bad), String(bad));
  }
});
