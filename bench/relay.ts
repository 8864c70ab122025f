/**
 * Full blocks over the network (issue 22): compact relay and sync. Each figure's name says what it measures:
 *
 * - `propagation_empty_p50_ms`: coinbase-only blocks mined on a Peer until every other node has them (node
 *   processes on 127.0.0.1, the test cluster's timings), beside the full blocks' figures of the same size of
 *   network.
 * - `propagation_full_cold_p50_ms`: blocks of 100 signed transactions no node has seen, from their arrival at the
 *   hub until every node has validated them (each node fetches the transactions it lacks).
 * - `propagation_full_warm_p50_ms`: the same blocks after their transactions were relayed to every node
 *   (untimed), as on a live network: they cross compact and rebuild from the mempool.
 * - `relay_bytes_per_full_block` (warm) and `relay_bytes_cold_per_full_block`: bytes of frames a receiving node
 *   took in to get one full block from its SuperPeer (the compact block, plus `getblocktxn` and `blocktxn` when it
 *   lacked transactions, plus a full block if it fell back), two nodes in this process; beside them the block's
 *   own size and the frame a whole `block` message takes (hex in JSON).
 * - `relay_hop_warm_p50_ms` / `relay_hop_cold_p50_ms`: the same two nodes, from `a` being handed a block to `b`
 *   having connected it: one hop without process, socket or explorer costs beside it.
 * - `sigcache_hit_rate`: of the signatures in those warm blocks, the share the receiver found already checked
 *   by its mempool.
 * - `sync_full_over_connect`: a fresh node syncing full blocks from a peer, as a ratio to connecting the same
 *   blocks in process (`bench/network.ts` measures the same on its own run): from its first block's log line
 *   to its last's, as the connect figure times blocks only. `sync_full_from_link_*` times from the link
 *   instead, the first round trips and the rest of the process's start (explorer, RPC) included.
 *
 * `deno run --allow-read --allow-write --allow-run --allow-net=127.0.0.1 --allow-env bench/relay.ts [--quick]`
 * @module
 */
import { type Block, encodeBlock } from "../lib/primitives/block.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { traffic } from "../lib/runtime/metrics.ts";
import { startLocalNode } from "../tests/support/local_node.ts";
import { withTempDir } from "../tests/support/temp_dir.ts";
import { waitFor } from "../tests/support/wait.ts";
import { buildFullChain, connectRate, FULL_BLOCK_TXS, spread } from "./ledger.ts";
import { propagationEmpty, propagationFull, syncFull } from "./network.ts";
import { loadAverage, median } from "./stats.ts";

/** The message types a block's relay takes, whole or compact. */
const BLOCK_TYPES = ["block", "cmpctblock", "getblocktxn", "blocktxn"];

/** Bytes of frames received so far, over the block relay's message types. */
function blockRelayBytes(): number {
  return BLOCK_TYPES.reduce((n, t) => n + traffic.receivedBytes.get(t), 0);
}

/** What one receiver took in per full block, and the share of its signatures found checked. */
interface RelayCost {
  bytes: number[];
  /** Per block, ms from `a` being handed it to `b` having connected it (one hop, both nodes in this process). */
  hopMs: number[];
  hitRate: number;
}

/**
 * Two nodes in this process, `b` a Peer of `a`: `setup` is submitted to `a` (and reaches `b`), then each full
 * block, its transactions submitted first when `warm`. Counts the block relay's frames received per block
 * (only `b` receives block frames: nothing goes back to the link a block came from).
 */
async function relayCost(setup: Block[], full: Block[], warm: boolean): Promise<RelayCost> {
  let out: RelayCost = { bytes: [], hopMs: [], hitRate: 0 };
  await withTempDir(async (dir) => {
    const a = await startLocalNode(`${dir}/a`);
    const b = await startLocalNode(`${dir}/b`, { connect: [a.net.listen] });
    try {
      await waitFor(() => b.net.linkCount === 1 && a.net.role === "superpeer", 30_000, "b linked to a");
      for (const block of setup) await a.submitBlock(block);
      await waitFor(() => b.chain.height === setup.length, 60_000, "b has the setup blocks");
      const before = b.chain.sigCacheStats;
      for (const block of full) {
        if (warm) {
          for (const tx of block.txs.slice(1)) await a.submitTx(tx);
          const ids = block.txs.slice(1).map(txid);
          await waitFor(() => ids.every((id) => b.mempool.has(id)), 30_000, "b has the block's transactions");
        }
        await new Promise((r) => setTimeout(r, 100)); // the transactions' relay is over
        const at = blockRelayBytes();
        let arrived = 0;
        const unsubscribe = b.subscribe((e) => {
          if (e.type === "block") arrived = performance.now();
        });
        const t = performance.now();
        await a.submitBlock(block);
        await waitFor(() => arrived > 0, 30_000, "b has the block", { everyMs: 5 });
        unsubscribe();
        out.hopMs.push(arrived - t);
        out.bytes.push(blockRelayBytes() - at);
      }
      const after = b.chain.sigCacheStats;
      const lookups = after.lookups - before.lookups;
      out = { ...out, hitRate: lookups ? (after.hits - before.hits) / lookups : 0 };
    } finally {
      await b.stop();
      await a.stop();
    }
  }, "peerchain-bench-relay-");
  return out;
}

/** Runs the relay benchmark; `quick` uses fewer nodes and blocks. */
export async function benchRelay(opts: { quick?: boolean } = {}): Promise<Record<string, number | string>> {
  const q = opts.quick ?? false;
  const nodes = q ? 5 : 9, emptyBlocks = q ? 5 : 10, syncRuns = q ? 2 : 3;
  const loadBefore = await loadAverage();
  // Sync over the whole chain (as bench/network.ts does); propagation and relay bytes over its first blocks.
  const { setup, full } = await buildFullChain(q ? 10 : 100);
  const some = full.slice(0, q ? 6 : 20);
  const prop = await propagationEmpty(nodes, emptyBlocks);
  const cold = await propagationFull(nodes, setup, some);
  const warm = await propagationFull(nodes, setup, some, true);
  const warmCost = await relayCost(setup, some, true);
  const coldCost = await relayCost(setup, some, false);
  const connects: number[] = [];
  for (let i = 0; i < syncRuns; i++) connects.push(await connectRate(setup, full));
  const syncs = await syncFull(setup, full, syncRuns);
  const loadAfter = await loadAverage();

  const blockBytes = median(some.map((b) => encodeBlock(b).length));
  const frameBytes = median(
    some.map((b) => JSON.stringify({ type: "block", data: encodeBlock(b).toHex() }).length + 4),
  );
  const round = (x: number, d = 1) => +x.toFixed(d);
  return {
    setup:
      `${nodes} nodes; ${emptyBlocks} empty and ${some.length} full blocks (${FULL_BLOCK_TXS} signed tx ` +
      `each) propagated cold and warm; relay bytes between two nodes in process; ${syncRuns} fresh nodes ` +
      `syncing ${full.length} full blocks`,
    propagation_empty_p50_ms: median(prop),
    propagation_empty_spread: spread(prop, `${prop.length} blocks`, 0),
    propagation_full_cold_p50_ms: median(cold),
    propagation_full_cold_spread: spread(cold, `${cold.length} blocks`, 0),
    propagation_full_warm_p50_ms: median(warm),
    propagation_full_warm_spread: spread(warm, `${warm.length} blocks`, 0),
    warm_over_empty: round(median(warm) / Math.max(1, median(prop)), 2),
    relay_hop_warm_p50_ms: round(median(warmCost.hopMs)),
    relay_hop_cold_p50_ms: round(median(coldCost.hopMs)),
    relay_bytes_per_full_block: median(warmCost.bytes),
    relay_bytes_cold_per_full_block: median(coldCost.bytes),
    full_block_bytes: blockBytes,
    full_block_frame_bytes: frameBytes,
    relay_over_block: round(median(warmCost.bytes) / blockBytes, 3),
    sigcache_hit_rate: round(warmCost.hitRate, 3),
    sigcache_hit_rate_cold: round(coldCost.hitRate, 3),
    sync_full_blocks_per_s: round(median(syncs.blocks)),
    sync_full_spread: spread(syncs.blocks, `${syncRuns} fresh nodes`, 1),
    sync_full_from_link_blocks_per_s: round(median(syncs.fromLink)),
    connect_same_blocks_per_s: round(median(connects)),
    sync_full_over_connect: round(median(syncs.blocks) / median(connects), 2),
    sync_full_from_link_over_connect: round(median(syncs.fromLink) / median(connects), 2),
    load_avg_1m: `${loadBefore?.toFixed(2)} -> ${loadAfter?.toFixed(2)}`,
  };
}

if (import.meta.main) {
  const figures = await benchRelay({ quick: Deno.args.includes("--quick") });
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(32)} ${v}`);
}
