/**
 * The coin types for the chain's users: defined in `lib/primitives/coin.ts`, below the store that keeps coins,
 * and re-exported here so that imports of `lib/chain/coins.ts` keep working.
 * @module
 */
export type { Coin, CoinView, OwnedCoin } from "../primitives/coin.ts";
