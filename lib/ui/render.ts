/**
 * Text for the menu: colours (only on a terminal, never with `NO_COLOR`), aligned tables, the status line
 * and one-line news. Pure functions of what they are given, so they are easy to test.
 * @module
 */
import type { NodeEvent, NodeStatus } from "../node.ts";
import { formatAmount } from "../consensus/amount.ts";

/** Colour functions; each returns its text unchanged when colour is off. */
export interface Palette {
  /** Emphasis. */
  bold(text: string): string;
  /** Secondary text. */
  dim(text: string): string;
  /** Refusals and errors. */
  red(text: string): string;
  /** Success. */
  green(text: string): string;
  /** Warnings and things in progress. */
  yellow(text: string): string;
  /** Names and values. */
  cyan(text: string): string;
}

const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string) => text;

/** A palette that colours when `enabled`. */
export function palette(enabled: boolean): Palette {
  if (!enabled) return { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
  };
}

/**
 * True when colours should be used: stdout is a terminal and `NO_COLOR` is unset or empty
 * (https://no-color.org). An unreadable `NO_COLOR` (permission not granted) counts as unset.
 */
export function wantColour(isTerminal = Deno.stdout.isTerminal()): boolean {
  let noColor: string | undefined;
  try {
    noColor = Deno.env.get("NO_COLOR");
  } catch {
    noColor = undefined;
  }
  return isTerminal && !noColor;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Width of `text` on screen: escape sequences take no room. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, "")].length;
}

/** Column alignment: numbers read best right-aligned. */
export type Align = "left" | "right";

/**
 * Lines of a table whose columns line up, with a header row and a rule under it.
 * @example table(["height", "hash"], [["1", "00ab…"]], ["right", "left"])
 */
export function table(
  headers: string[],
  rows: string[][],
  align: Align[] = [],
  p = palette(false),
): string[] {
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? "")))
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => {
      const pad = " ".repeat(widths[i] - visibleWidth(c));
      return align[i] === "right" ? pad + c : i === cells.length - 1 ? c : c + pad;
    }).join("  ");
  return [p.bold(line(headers)), p.dim(widths.map((w) => "─".repeat(w)).join("  ")), ...rows.map(line)];
}

/** The first characters of a hash, enough to tell blocks apart on screen. */
export function shortHash(hash: string, length = 16): string {
  return hash.length > length ? `${hash.slice(0, length)}…` : hash;
}

/** Hashes per second in the unit a person reads at a glance. */
export function formatHashrate(perSecond: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s"];
  let v = perSecond, i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(2)} ${units[i]}`;
}

/**
 * How long ago something `seconds` old happened, in the largest unit that fits: `12 s ago`, `5 min ago`,
 * `3 h ago`, `2 d ago`; `just now` under a second (or up to a minute ahead: regtest stamps blocks ahead),
 * `5 min in the future` beyond (a clock ahead of this one).
 * @example formatAgo(125) // "2 min ago"
 */
export function formatAgo(seconds: number): string {
  if (seconds < -60) return `${formatAgo(-seconds).replace(" ago", "")} in the future`;
  if (seconds < 1) return "just now"; // a regtest block is stamped up to a few seconds ahead
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** Seconds since the epoch as local date and time, `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The local clock, `HH:MM:SS`, for news lines. */
export function clock(date = new Date()): string {
  return formatTime(date.getTime() / 1000).slice(11);
}

/**
 * One line: role, primary SuperPeer, peer count, `height: N`, short tip, balance, and the hash rate while mining, from the
 * fields of `Node.status()` (`role`, `primary`, `peers`, `height`, `tip`, `balance`, `immature`, `pending` in base
 * units, `mining`, `hashrate`), the data directory, and a clock warning; wrapped between fields to fit `width`.
 */
export function statusLine(
  s:
    & Readonly<
      Pick<
        NodeStatus,
        | "role"
        | "primary"
        | "peers"
        | "height"
        | "tip"
        | "balance"
        | "immature"
        | "pending"
        | "mining"
        | "hashrate"
      >
    >
    & { clockWarning?: string | null; dataDir?: string },
  p: Palette = palette(false),
  width = Infinity,
): string {
  const parts = [
    p.bold(String(s.role)),
    `primary ${s.primary ?? "none (looking)"}`,
    `links ${s.peers}`,
    p.cyan(`height: ${s.height}`),
    `tip ${shortHash(String(s.tip), 12)}`,
    `balance ${formatAmount(s.balance)} coins` +
    (s.immature > 0 ? ` (+${formatAmount(s.immature)} immature)` : "") +
    (s.pending > 0 ? ` (+${formatAmount(s.pending)} incoming)` : ""),
  ];
  if (s.dataDir) parts.push(p.dim(`data ${s.dataDir}`));
  if (s.clockWarning) parts.push(p.red("clock off: see news"));
  if (s.mining) parts.push(p.yellow(`mining ${formatHashrate(Number(s.hashrate))}`));
  // Wrap between parts rather than mid-word when the terminal is narrow.
  const sep = " · ";
  const lines: string[][] = [[]];
  let used = 0;
  for (const part of parts) {
    const w = visibleWidth(part);
    if (lines.at(-1)!.length && used + sep.length + w > width) {
      lines.push([]);
      used = 0;
    }
    used += (lines.at(-1)!.length ? sep.length : 0) + w;
    lines.at(-1)!.push(part);
  }
  return lines.map((l) => l.join(p.dim(sep))).join("\n");
}

/** A news line for an event worth telling a person, or undefined for the ones the screen already shows. */
export function newsLine(e: NodeEvent, p = palette(false)): string | undefined {
  switch (e.type) {
    case "role":
      return e.role === "superpeer"
        ? p.yellow(`this node is now a SuperPeer (${e.reason})`)
        : `this node is now a Peer (${e.reason})`;
    case "superpeer-linked":
      return `linked to SuperPeer ${e.peer.listen} (${e.primary ? "primary" : "backup"})`;
    case "superpeer-lost":
      return p.yellow(`lost SuperPeer ${e.peer.listen}${e.primary ? ": the backup takes over" : ""}`);
    case "peer-joined":
      return p.green(`peer joined: ${e.peer.listen}`);
    case "peer-left":
      return `peer left: ${e.peer.listen}`;
    case "mesh-linked":
      return `SuperPeer linked: ${e.peer.listen}`;
    case "mesh-lost":
      return `SuperPeer link lost: ${e.peer.listen}`;
    case "misbehaviour":
      return p.red(`misbehaviour from ${e.host} (+${e.score}): ${e.reason}`);
    case "block":
      return `block ${e.height} ${shortHash(e.hash)} ${e.source === "local" ? "mined here" : "arrived"}`;
    case "side":
      return p.dim(`side block ${e.height} ${shortHash(e.hash)} (a branch with less work)`);
    case "reorg":
      return p.yellow(`reorganised: ${e.disconnected} block(s) out, ${e.connected} in`);
    case "tx":
      return `transaction ${shortHash(e.txid)} ${e.source === "local" ? "sent" : "arrived"}`;
    case "mined": // the "block … mined here" line already told it
      return undefined;
    case "discovery":
      return e.found.length
        ? `found on this LAN: SuperPeer${e.found.length > 1 ? "s" : ""} ${e.found.join(", ")}`
        : "no SuperPeer answered on this LAN";
    case "clock":
      return e.warning
        ? p.red(`warning: ${e.warning}`)
        : "this computer's clock agrees with its peers' again";
  }
}
