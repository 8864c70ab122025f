/**
 * The explorer's JSON API, described once: `/api` renders this list as a page (the README's table says the
 * same). GET only; amounts are exact decimal coin strings or base units as each answer says; times are seconds
 * since the epoch; errors are `404 {"error": "..."}`.
 * @module
 */

/** One endpoint: its path (with its parameters) and what it answers. */
export interface ApiEntry {
  /** The path, e.g. `/api/tx/TXID`. */
  path: string;
  /** What it answers. */
  answer: string;
}

/** Every endpoint of the explorer, in the order the page lists them. */
export const API_DOCS: readonly ApiEntry[] = [
  {
    path: "/api/status",
    answer:
      "network, nodeId, listen, role, primary (a Peer's primary SuperPeer, null on a SuperPeer), peers, " +
      "height, tip, tipTime, mempool, mining, hashrate, index {height, synced}; nothing of the wallet",
  },
  {
    path: "/api/dashboard",
    answer: "{status, network, blocks, forks, mempool, charts}: everything the dashboard shows",
  },
  {
    path: "/api/blocks?before=HEIGHT&limit=N",
    answer:
      "{blocks: [{hash, height, time, txCount, size, miner, reward, fees}], next}, newest first, limit 1 to " +
      "100; pass next as before for older ones (null at genesis)",
  },
  {
    path: "/api/block/HEIGHT or /api/block/HASH?page=N",
    answer:
      "the summary plus active, confirmations, version, prevHash, nextHash, merkleRoot, bits, difficulty, " +
      "nonce, subsidy, page, pages, txs [{txid, coinbase, inputs, outputs, value, size}] (50 a page)",
  },
  {
    path: "/api/tx/TXID",
    answer:
      "txid, status (pending or confirmed), block {height, hash} or null, confirmations, time, coinbase, " +
      "size, fee, feeRate, value, inputCount, outputCount, inputs [{txid, index, address, amount}], " +
      "outputs [{index, address, amount, spentBy}] (500 of each at most)",
  },
  {
    path: "/api/address/ADDRESS?before=ID",
    answer: "address, balance, immature, pending, received, sent, txCount, history [{id, txid, height, " +
      "received, sent, confirmations}] (50, newest first), next, pendingTxs, index",
  },
  {
    path: "/api/mempool",
    answer: "count, bytes, fees, histogram [{min, count, bytes}] (fee-rate buckets from 1, 2, 4 … 128 base " +
      "units a byte), newest (10), nextBlock {count, bytes, fees, minFeeRate, medianFeeRate, maxFeeRate, suggestedFeeRate}: the " +
      "next block as this node's miner would fill it",
  },
  {
    path: "/api/network",
    answer: "{view: {self, superpeers [{nodeId, listen, peers}], links [{nodeId, listen, role, inbound, " +
      "primary}], networkSize}, lost [{nodeId, listen, role, since}]}",
  },
  {
    path: "/api/charts",
    answer: "{height, time, interval, difficulty, hashrate}: arrays over the last 200 blocks",
  },
  {
    path: "/api/search?q=",
    answer:
      "{path} of the page a height, a hash, a txid (or its first 8+ hex digits) or an address leads to, " +
      "or {path: null, matches [{kind, id, height}], more} when several ids start so",
  },
  {
    path: "/events",
    answer: "Server-Sent Events: status, block, reorg, side, tx, mempool, network, lagged {dropped}",
  },
  {
    path: "/metrics",
    answer: "the node's figures in Prometheus' text format, every name under peerchain_",
  },
];
