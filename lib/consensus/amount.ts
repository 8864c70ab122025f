/**
 * Amounts: integers of base units end to end (1 coin = 10^8 units), parsed from and printed as exact decimal
 * text. No floating point touches an amount.
 * @module
 */

/** Base units in one coin. */
export const COIN = 100_000_000;
/** No amount, and no sum of amounts, may exceed this (fits exactly in a double). */
export const MAX_MONEY = 21_000_000 * COIN;

/** Raised for text that is not an exact, positive amount of at most 8 decimals. */
export class AmountError extends Error {
  /** The error's name, for logs. */
  override name = "AmountError";
}

/** True for an integer amount in [0, MAX_MONEY]. */
export function isMoneyRange(units: number): boolean {
  return Number.isSafeInteger(units) && units >= 0 && units <= MAX_MONEY;
}

/**
 * Base units of a decimal coin amount, exactly; throws `AmountError` with a message a person can act on.
 * @example Coins to base units and back
 * ```ts
 * import { AmountError, COIN, formatAmount, parseAmount } from "@peerchain/peerchain";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseAmount("1.5"), 1.5 * COIN);
 * assert.equal(formatAmount(150_000_000), "1.5");
 * assert.throws(() => parseAmount("0.000000001"), AmountError); // finer than one base unit
 * ```
 */
export function parseAmount(text: string): number {
  const s = text.trim();
  if (s === "") throw new AmountError("amount is empty: write it in coins, for example 1.5");
  const m = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/.exec(s);
  if (!m) {
    throw new AmountError(
      `"${text}" is not an amount: use digits and one dot, for example 1.5 (no sign, comma or exponent)`,
    );
  }
  const whole = m[1] ?? "0", frac = m[2] ?? m[3] ?? "";
  if (frac.length > 8) {
    throw new AmountError(`"${text}" has more than 8 decimals: the smallest unit is 0.00000001`);
  }
  if (whole.replace(/^0+/, "").length > 8) {
    throw new AmountError(`"${text}" exceeds the 21,000,000 coin supply`);
  }
  const units = Number(whole) * COIN + Number(frac.padEnd(8, "0"));
  if (units > MAX_MONEY) throw new AmountError(`"${text}" exceeds the 21,000,000 coin supply`);
  if (units === 0) throw new AmountError("amount must be more than zero");
  return units;
}

/**
 * Decimal text of base units, without trailing zeros.
 * @example formatAmount(150000000) // "1.5"
 */
export function formatAmount(units: number): string {
  const sign = units < 0 ? "-" : "";
  const abs = Math.abs(units);
  const whole = Math.floor(abs / COIN), frac = String(abs % COIN).padStart(8, "0").replace(/0+$/, "");
  return `${sign}${whole}${frac ? "." + frac : ""}`;
}

/**
 * A `JSON.stringify` replacer that writes the whole-number values of the keys named in `keys` as decimal
 * coin strings (`formatAmount`), leaving everything else as it is: how an object of base units becomes JSON
 * in the one unit rule (JSON amounts are decimal coin strings, "1.5").
 * @example JSON.stringify({ fee: 1980, size: 192 }, amountsAsCoins(new Set(["fee"]))) // '{"fee":"0.0000198","size":192}'
 */
export function amountsAsCoins(keys: ReadonlySet<string>): (key: string, value: unknown) => unknown {
  return (key, value) => keys.has(key) && Number.isSafeInteger(value) ? formatAmount(value as number) : value;
}
