/**
 * The wallet's errors.
 * @module
 */

/** A wallet file or request that cannot be served; the message says what to do. */
export class WalletError extends Error {
  /** The error's name, for logs. */
  override name = "WalletError";
}

/** Not enough spendable coins for a payment and its fee. */
export class InsufficientFunds extends WalletError {
  /** The error's name, for logs. */
  override name = "InsufficientFunds";
  /**
   * An insufficient-funds error.
   * @param available Base units the wallet could spend now.
   * @param needed Base units the payment and its fee need.
   */
  constructor(message: string, readonly available: number, readonly needed: number) {
    super(message);
  }
}
