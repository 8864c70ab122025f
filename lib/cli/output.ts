/**
 * How subcommand results are printed: labelled lines with units for a person by default, one JSON value with
 * `--json`. Amounts are decimal coin strings in JSON and `N coins` in text; errors under `--json` are one
 * JSON object `{"error": {"code", "message"}}` on stderr with a stable `code` name.
 * @module
 */
import { formatAgo, formatHashrate, formatTime } from "../ui/render.ts";

/** An error code name for `--json` errors besides the RPC's (`RPC_ERROR_NAMES`). */
export const CLI_ERROR_NAMES = {
  /** The command line cannot be run (exit 2). */
  usage: "usage",
  /** No node answers for that data directory (exit 3). */
  noNode: "no-node",
  /** The node refused the cookie in rpc.json (exit 1). */
  badCookie: "bad-cookie",
} as const;

/** The one line an error is under `--json`. */
export function jsonError(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

type Obj = Record<string, unknown>;

const coins = (v: unknown) => `${v} coin${v === "1" ? "" : "s"}`;
const rows = (pairs: [string, string][]) => {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
};
const nowS = () => Date.now() / 1000;

function statusText(s: Obj): string {
  const superpeers = (s.superpeers as string[] | undefined) ?? [];
  const backups = (s.backups as string[] | undefined) ?? superpeers.filter((x) => x !== s.primary);
  const role = s.role === "superpeer"
    ? `SuperPeer, linked to ${superpeers.length} other SuperPeer${superpeers.length === 1 ? "" : "s"}`
    : s.primary
    ? `Peer of ${s.primary} (primary)` + (backups.length ? `, backup ${backups.join(", ")}` : ", no backup")
    : "Peer, looking for a SuperPeer";
  const balance = [`${coins(s.balance)} spendable`];
  if (s.immature !== "0") balance.push(`${s.immature} immature`);
  if (s.pending !== "0") balance.push(`${s.pending} incoming`);
  if (s.change !== "0") balance.push(`${s.change} change`);
  const out: [string, string][] = [
    ["network", `${s.network}, listening on ${s.listen}`],
    ["role", role],
    ["links", `${s.peers}, ${s.networkSize} node${s.networkSize === 1 ? "" : "s"} in the network`],
    [
      "height",
      `${s.height}, tip ${String(s.tip).slice(0, 16)}…` +
      (typeof s.tipTime === "number" ? `, ${formatAgo(nowS() - s.tipTime)}` : ""),
    ],
    ["mempool", `${s.mempool} transaction${s.mempool === 1 ? "" : "s"}`],
    ["mining", s.mining ? `on, ${formatHashrate(Number(s.hashrate))}` : "off"],
    ["balance", balance.join(", ")],
    ["address", String(s.address)],
    ["data", String(s.dataDir)],
    ["explorer", s.explorer ? String(s.explorer) : "off"],
  ];
  if (Number(s.orphanBlocks) || Number(s.orphanTxs)) {
    out.push(["orphans", `${s.orphanBlocks} blocks, ${s.orphanTxs} transactions waiting for a parent`]);
  }
  const legacy = (s.legacyPeers as string[] | undefined) ?? [];
  if (legacy.length) {
    out.push([
      "old peers",
      `${legacy.join(", ")}: protocol 2, served as Peers for this release only; upgrade peerchain there`,
    ]);
  }
  out.push(["stalls", `longest ${s.maxStallMs} ms, lately ${s.recentStallMs} ms (event loop)`]);
  if (typeof s.clockOffset === "number") {
    out.push([
      "clock",
      s.clockWarning ? `WARNING: ${s.clockWarning}` : `within ${Math.abs(s.clockOffset)} s of its peers'`,
    ]);
  }
  return rows(out);
}

function balanceText(b: Obj): string {
  const out: [string, string][] = [["spendable", coins(b.spendable)]];
  out.push([
    "immature",
    coins(b.immature) + (b.maturesIn === null ? "" : ` (the next matures in ${b.maturesIn} blocks)`),
  ]);
  out.push(["incoming", `${coins(b.incoming)} (unconfirmed payments from others)`]);
  out.push(["change", `${coins(b.change)} (unconfirmed change of your own payments)`]);
  return rows(out);
}

function peersText(p: Obj): string {
  type Link = { listen: string; kind: string; primary: boolean; inbound: boolean; pingMs?: number };
  type Sp = { listen: string; peers: number; load: number; capacity: number };
  const primary = p.primary as { listen: string } | null;
  const lines = [
    `role      ${p.role === "superpeer" ? "SuperPeer" : "Peer"}, primary ${
      primary?.listen ?? "none (looking)"
    }, ` +
    `${p.networkSize} node${p.networkSize === 1 ? "" : "s"} in the network`,
  ];
  const links = p.links as Link[];
  lines.push(`links     ${links.length}`);
  for (const l of links) {
    const what = l.kind === "member"
      ? `Peer served here (${l.primary ? "primary" : "backup"})`
      : l.kind === "superpeer"
      ? `SuperPeer (${l.primary ? "primary" : "backup"})`
      : "SuperPeer mesh link";
    const ping = l.pingMs === undefined ? "" : `, ping ${l.pingMs} ms`;
    lines.push(`  ${l.listen.padEnd(22)} ${what}, ${l.inbound ? "inbound" : "outbound"}${ping}`);
  }
  const sps = p.superpeers as Sp[];
  lines.push(`SuperPeers known: ${sps.length}`);
  for (const s of sps) {
    lines.push(`  ${s.listen.padEnd(22)} ${s.peers} Peers, load ${s.load} of ${s.capacity}`);
  }
  return lines.join("\n");
}

function blockText(b: Obj): string {
  type Tx = { txid: string; inputs: unknown[]; outputs: { address: string; amount: string }[] };
  const txs = b.txs as Tx[];
  const lines = [
    rows([
      ["block", `${b.height} ${b.hash}`],
      ["time", `${formatTime(Number(b.time))} (${formatAgo(nowS() - Number(b.time))})`],
      ["confirmations", Number(b.confirmations) ? String(b.confirmations) : "0 (not on the active chain)"],
      ["previous", String(b.prevHash)],
      ["bits", `${b.bits}, nonce ${b.nonce}`],
      ["transactions", String(txs.length)],
    ]),
  ];
  for (const tx of txs) {
    const paid = tx.outputs.map((o) => `${o.amount} to ${o.address}`).join(", ");
    lines.push(`  ${tx.txid}  ${tx.inputs.length ? `${tx.inputs.length} in` : "coinbase"}: ${paid}`);
  }
  return lines.join("\n");
}

function txText(t: Obj): string {
  type In = { txid: string; index: number; amount: string | null };
  type Out = { index: number; address: string; amount: string };
  const lines = [
    rows([
      ["transaction", String(t.txid)],
      [
        "status",
        t.status === "pending"
          ? "pending (in the mempool)"
          : `confirmed in block ${t.height}, ${t.confirmations} confirmation${
            t.confirmations === 1 ? "" : "s"
          }`,
      ],
      ["fee", t.fee === null ? "unknown (an input is no longer visible here)" : coins(t.fee)],
      ["value", `${coins(t.value)} out`],
    ]),
  ];
  const inputs = t.inputs as In[];
  lines.push(t.coinbase ? "inputs: none (coinbase)" : `inputs: ${inputs.length}`);
  for (const i of inputs) {
    lines.push(`  ${i.txid}:${i.index}  ${i.amount === null ? "amount unknown" : coins(i.amount)}`);
  }
  const outputs = t.outputs as Out[];
  lines.push(`outputs: ${outputs.length}`);
  for (const o of outputs) lines.push(`  ${o.index}  ${coins(o.amount)} to ${o.address}`);
  return lines.join("\n");
}

/** The text a person reads for `command`'s `result`. */
export function humanText(command: string, result: unknown): string {
  const r = result as Obj;
  switch (command) {
    case "status":
      return statusText(r);
    case "balance":
      return balanceText(r);
    case "peers":
      return peersText(r);
    case "block":
      return blockText(r);
    case "tx":
      return txText(r);
    case "address":
      return String(r.address);
    case "send":
      return `sent ${coins(r.amount)}: transaction ${r.txid}, fee ${coins(r.fee)}`;
    case "mine":
      return (r.hashes as string[]).join("\n");
    case "mining":
      return r.mining ? "mining: on" : "mining: off";
    case "stop":
      return "stopping";
    case "chain":
      return (result as { height: number; hash: string; time: number }[]).map((b) =>
        `${String(b.height).padStart(7)}  ${b.hash}  ${formatTime(b.time)} (${formatAgo(nowS() - b.time)})`
      ).join("\n");
    case "mempool": {
      const txs = result as { txid: string; fee: string; size: number; feeRate: number }[];
      if (!txs.length) return "the mempool is empty";
      return [
        `${txs.length} transaction${txs.length === 1 ? "" : "s"} waiting for a block:`,
        ...txs.map((t) => `  ${t.txid}  fee ${coins(t.fee)}, ${t.size} bytes, ${t.feeRate} units/byte`),
      ].join("\n");
    }
    case "bans": {
      const bans = result as { host: string; until: number; secondsLeft: number }[];
      if (!bans.length) return "no host is banned";
      return bans.map((b) =>
        `${b.host.padEnd(24)} banned until ${formatTime(b.until)} (${Math.ceil(b.secondsLeft / 60)} min left)`
      ).join("\n");
    }
    case "unban":
      return `${r.host} is no longer banned`;
    default:
      return JSON.stringify(result, null, 2);
  }
}

/** Prints `result` of `command`: text, or one JSON value with `json`. */
export function printResult(command: string, result: unknown, json: boolean): void {
  console.log(json ? JSON.stringify(result) : humanText(command, result));
}
