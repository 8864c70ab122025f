/**
 * What the menu shows for peers, the chain, a block, the mempool and the wallet: lines of text built from
 * the node's state, tables aligned.
 * @module
 */
import { formatAmount } from "../consensus/amount.ts";
import { encodeAddress, pubKeyHash } from "../crypto/address.ts";
import type { Node } from "../node.ts";
import { isCoinbase, txid } from "../primitives/transaction.ts";
import { formatTime, type Palette, palette, shortHash, table } from "./render.ts";

/** The overlay as this node sees it: the SuperPeers with their Peer counts, then this node's own links. */
export function peersScreen(node: Node, p: Palette = palette(false)): string[] {
  const net = node.net;
  const head = `${p.bold("Network")}: this node is a ${net.role}, listening on ${net.listen}; ` +
    `${net.networkSize} node${net.networkSize === 1 ? "" : "s"} known`;
  const linked = new Set(net.superpeers.map((s) => s.nodeId));
  const sps = net.directory().sort((a, b) => a.listen.localeCompare(b.listen));
  const spRows = sps.map((e) => [
    e.listen,
    e.nodeId,
    String(e.peers),
    `${e.load}/${e.capacity}`,
    e.nodeId === net.nodeId ? p.cyan("this node") : linked.has(e.nodeId) ? "linked" : "",
  ]);
  const links = net.linkInfo();
  const linkRows = links.map((l) => [
    l.kind === "member" ? "our Peer" : l.kind === "mesh" ? "SuperPeer (mesh)" : "our SuperPeer",
    l.kind === "mesh" ? "" : l.primary ? "primary" : "backup",
    l.listen,
    l.nodeId,
    l.pingMs === undefined ? "" : `${l.pingMs} ms`,
  ]);
  return [
    head,
    "",
    p.bold(`SuperPeers (${sps.length})`),
    ...(spRows.length
      ? table(["address", "node id", "peers", "load", ""], spRows, ["left", "left", "right", "right"], p)
      : [p.dim("none known yet (looking for one)")]),
    "",
    p.bold(`This node's links (${links.length})`),
    ...(linkRows.length
      ? table(
        ["link", "", "address", "node id", "ping"],
        linkRows,
        ["left", "left", "left", "left", "right"],
        p,
      )
      : [p.dim("no links")]),
  ];
}

/** The last `count` blocks of the active chain, newest first. */
export function chainScreen(node: Node, count: number, p: Palette = palette(false)): string[] {
  const rows: string[][] = [];
  for (let h = node.chain.height; h >= 0 && rows.length < count; h--) {
    const e = node.chain.entryAt(h)!;
    const txs = node.chain.getBlock(e.hash)?.txs.length;
    rows.push([
      String(h),
      e.hash,
      formatTime(e.header.time),
      e.header.bits.toString(16).padStart(8, "0"),
      txs === undefined ? "?" : String(txs),
    ]);
  }
  return [
    `${p.bold("Chain")}: ${rows.length} of ${node.chain.height + 1} blocks, newest first`,
    "",
    ...table(["height", "hash", "time", "bits", "txs"], rows, ["right", "left", "left", "left", "right"], p),
  ];
}

/** The hash of the active block at a height, or of any known block by hash; undefined when unknown. */
export function findBlock(node: Node, ref: string): string | undefined {
  const s = ref.trim().toLowerCase();
  // A hash first: 64 digits are a hash that happens to have no letters, not a height.
  if (/^[0-9a-f]{64}$/.test(s)) return node.chain.entry(s)?.hash;
  if (/^\d+$/.test(s)) return node.chain.entryAt(Number(s))?.hash;
  return undefined;
}

/** A block's header and transactions. */
export function blockScreen(node: Node, hash: string, p: Palette = palette(false)): string[] {
  const entry = node.chain.entry(hash);
  const block = node.chain.getBlock(hash);
  if (!entry || !block) return [p.red(`no block ${hash} on this node`)];
  const h = block.header;
  const prefix = node.params.addressPrefix;
  const confirmations = node.chain.isActive(entry) ? node.chain.height - entry.height + 1 : 0;
  const lines = [
    `${p.bold("Block")} ${entry.height}  ${hash}`,
    `  confirmations ${confirmations}${confirmations === 0 ? " (not on the active chain)" : ""}`,
    `  time          ${formatTime(h.time)}`,
    `  previous      ${h.prevHash}`,
    `  merkle root   ${h.merkleRoot}`,
    `  bits ${h.bits.toString(16).padStart(8, "0")}   nonce ${h.nonce}   version ${h.version}`,
    "",
  ];
  const rows: string[][] = [];
  for (const tx of block.txs) {
    const id = txid(tx);
    const from = isCoinbase(tx)
      ? "coinbase"
      : `${tx.inputs.length} input${tx.inputs.length === 1 ? "" : "s"}`;
    tx.outputs.forEach((o, i) => {
      rows.push([
        i === 0 ? shortHash(id) : "",
        i === 0 ? from : "",
        encodeAddress(o.pubKeyHash, prefix),
        formatAmount(o.amount),
      ]);
    });
  }
  return [...lines, ...table(["txid", "from", "to", "amount"], rows, ["left", "left", "left", "right"], p)];
}

/** Unconfirmed transactions, oldest first. */
export function mempoolScreen(node: Node, p: Palette = palette(false), now = Date.now()): string[] {
  const entries = node.mempool.entries();
  const head = `${p.bold("Mempool")}: ${entries.length} transaction${entries.length === 1 ? "" : "s"}, ` +
    `${node.mempool.bytes} bytes, fees ${formatAmount(node.mempool.totalFees)}`;
  if (entries.length === 0) return [head];
  const rows = entries.map((e) => [
    e.txid,
    formatAmount(e.fee),
    String(e.size),
    e.feeRate.toFixed(1),
    `${Math.max(0, Math.round((now - e.time) / 1000))} s`,
  ]);
  return [
    head,
    "",
    ...table(["txid", "fee", "bytes", "units/byte", "age"], rows, [
      "left",
      "right",
      "right",
      "right",
      "right",
    ], p),
  ];
}

/** The wallet: address, balances and the latest payments in and out. */
export function walletScreen(node: Node, p: Palette = palette(false), recent = 8): string[] {
  const view = node.walletView();
  const bal = node.wallet.balance(view);
  const mine = node.wallet.pubKeyHashes;
  const lines = [
    `${p.bold("Wallet")}  address ${p.cyan(node.wallet.address)}`,
    `  confirmed ${formatAmount(bal.confirmed)}   immature ${formatAmount(bal.immature)}   ` +
    `pending ${formatAmount(bal.pending)}   (coins)`,
    "",
  ];
  const rows: string[][] = [];
  // Outgoing payments still waiting for a block: pool transactions spending our keys' coins.
  for (const e of node.mempool.entries().reverse()) {
    if (!e.tx.inputs.some((i) => mine.has(pubKeyHash(i.publicKey)))) continue;
    const out = e.tx.outputs.filter((o) => !mine.has(o.pubKeyHash)).reduce((s, o) => s + o.amount, 0);
    rows.push(["pending", "sent", `-${formatAmount(out + e.fee)}`, shortHash(e.txid)]);
  }
  for (const { outpoint, coin } of view.mempoolCoinsOf(mine).toReversed()) {
    rows.push(["pending", "received", formatAmount(coin.amount), shortHash(outpoint.txid)]);
  }
  const confirmed = view.coinsOf(mine).filter((c) => c.coin.amount > 0).sort((a, b) =>
    b.coin.height - a.coin.height
  );
  for (const { outpoint, coin } of confirmed) {
    const mature = !coin.coinbase || view.height + 1 - coin.height >= view.coinbaseMaturity;
    rows.push([
      String(coin.height),
      coin.coinbase ? (mature ? "mined" : "mined (maturing)") : "received",
      formatAmount(coin.amount),
      shortHash(outpoint.txid),
    ]);
  }
  if (rows.length === 0) return [...lines, p.dim("no payments yet: mine a block or ask someone to pay you")];
  const shown = rows.slice(0, recent);
  return [
    ...lines,
    `Recent payments (unspent coins and pending payments, newest first${
      rows.length > recent ? `, ${recent} of ${rows.length}` : ""
    }):`,
    ...table(["height", "kind", "amount", "txid"], shown, ["right", "left", "right", "left"], p),
  ];
}
