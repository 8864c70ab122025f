/**
 * Policy: limits a node applies to what it relays, keeps in memory and writes to disk. None of them is a
 * consensus rule (a block may break every one and still be valid); each bounds what a hostile peer can make a
 * node spend. Shared by the mempool, the chain's block pools and the message layer, so each is named once.
 * @module
 */

/**
 * Misbehaviour scores a refusal carries to the network layer: `BAN` bans the sender at once (an invalid block or
 * signature), `NO_BLAME` costs it nothing (it may simply be behind or ahead of us). The chain's refusals and the
 * network's ban list both count in these points.
 */
export const BAN = 100, NO_BLAME = 0;

/** Largest transaction relayed or kept in the mempool, in bytes (Bitcoin Core's 100 kB; a block may hold larger). */
export const MAX_STANDARD_TX_SIZE = 100_000;

/** Encoded bytes of the transactions in the mempool, at most (5 MB: five full blocks of payments). */
export const MAX_MEMPOOL_BYTES = 5_000_000;
/**
 * Transactions in the mempool, at most. The byte bound alone lets a pool of the smallest payments (170 bytes)
 * reach about 29,000 entries, each with its maps, sets and place in the fee-rate index; this bounds that
 * bookkeeping. Typical payments (about 200 bytes) reach both bounds near the same point.
 */
export const MAX_MEMPOOL_TXS = 20_000;

/** Transactions waiting for a missing parent, at most (Bitcoin Core's 100). */
export const MAX_ORPHAN_TXS = 100;
/** Encoded bytes of all transactions waiting for a parent, at most: ten of the largest, hundreds of payments. */
export const MAX_ORPHAN_TX_BYTES = 1_000_000;
/** A transaction waits this long for its parent, in ms, then is dropped (Bitcoin Core's 20 minutes). */
export const ORPHAN_TX_EXPIRY_MS = 20 * 60 * 1000;

/**
 * Unconfirmed ancestors of a mempool transaction, itself included, at most; and unconfirmed descendants of
 * each, itself included (Bitcoin Core's 25 each way). Bounds the work every eviction and block template does
 * per transaction, and the transactions one conflict or one confirmed block can drop.
 */
export const MAX_ANCESTORS = 25, MAX_DESCENDANTS = 25;
/** Encoded bytes of such a package, each way, at most (Bitcoin Core's 101 kvB). */
export const MAX_ANCESTOR_BYTES = 101_000, MAX_DESCENDANT_BYTES = 101_000;

/** Blocks waiting for a missing parent, at most. */
export const MAX_ORPHAN_BLOCKS = 100;
/** Encoded bytes of all blocks waiting for a missing parent, at most: eight full blocks. */
export const MAX_ORPHAN_BLOCK_BYTES = 8_000_000;

/**
 * A block that does not extend the best chain (an orphan, or a requested block on a branch with less work)
 * must carry at least 1/NEAR_DIFFICULTY_FACTOR of the work the next block on our tip needs. One retarget moves
 * difficulty by at most 4 times, so an honest block near the tip always passes, while a branch mined at an
 * easier difficulty long ago cannot fill memory or disk for the price of a few hashes a block.
 */
export const NEAR_DIFFICULTY_FACTOR = 4n;

/**
 * An unrequested block with less work than the tip whose parent lies this many blocks or more below the tip is
 * not a fresh competitor lost in a race (those are a block or two deep): its sender is scored for it.
 */
export const STALE_BLOCK_DEPTH = 6;
