/**
 * The interactive menu: a status line and the latest news above a menu of the original's actions. News
 * (blocks, transactions, peers joining and leaving, failover) arrives while the menu waits: the menu prompt
 * is withdrawn and the whole screen redrawn, keeping the highlighted entry, so nothing corrupts the prompt.
 * Sub-prompts are never interrupted; their news waits for the next redraw.
 * @module
 */
import { ValidationError } from "../chain/errors.ts";
import { AmountError, formatAmount, parseAmount } from "../consensus/amount.ts";
import { AddressError } from "../crypto/address.ts";
import type { Node } from "../node.ts";
import { WalletError } from "../wallet/wallet.ts";
import {
  ask,
  choose,
  confirmYes,
  PromptAborted,
  PromptCancelled,
  restoreTerminal,
  waitForKey,
} from "./prompts.ts";
import { clock, formatHashrate, newsLine, palette, statusLine, visibleWidth, wantColour } from "./render.ts";
import { syncLine } from "../node/sync_progress.ts";
import { blockScreen, chainScreen, findBlock, mempoolScreen, peersScreen } from "./screens.ts";
import { walletFlow, withMenuPassphrase } from "./wallet_menu.ts";

/** Loads the prompt library before the menu draws anything (cli.ts reaches the menu's modules only through this one). */
export { preloadPrompts } from "./prompts.ts";

type Action =
  | "refresh"
  | "peers"
  | "chain"
  | "block"
  | "send"
  | "mine"
  | "mine-toggle"
  | "mempool"
  | "wallet"
  | "quit";

/** How the menu talks to the terminal; the defaults are the process's own. */
export interface MenuOptions {
  /** Writes text to the screen. */
  write?: (text: string) => void;
  /** Colours on or off (default: on a terminal without `NO_COLOR`). */
  colour?: boolean;
}

/** The one-time question when a node that knew nobody found nobody. */
export const DISCOVERY_QUESTION = "No SuperPeer found. Look for one on this LAN (UDP broadcast)?";

/** What the discovery offer needs of a node. */
export interface DiscoveryOfferHost {
  /** The node started knowing no address (an empty tracker file, no `--connect`). */
  readonly knewNobody: boolean;
  /** LAN discovery is already on. */
  readonly discovering: boolean;
  /** Its place in the network. */
  readonly net: {
    readonly role: string;
    readonly linkCount: number;
    readonly primary: { readonly listen: string } | null;
  };
  /** Turns discovery on, searches the LAN and joins what it found; resolves with the SuperPeers that answered. */
  discover(): Promise<string[]>;
}

/** True when the menu offers LAN discovery: the node knew nobody, is alone, and discovery is off. */
export function shouldOfferDiscovery(node: DiscoveryOfferHost): boolean {
  return node.knewNobody && !node.discovering && node.net.role === "superpeer" && node.net.linkCount === 0;
}

/**
 * The one-time offer of LAN discovery. Nothing is broadcast unless the person answers yes (the default is
 * no; Ctrl-C is no). Returns the lines to show, or undefined when there was nothing to offer.
 */
export async function offerDiscovery(
  node: DiscoveryOfferHost,
  confirm: (message: string) => Promise<boolean>,
  p = palette(false),
  write: (text: string) => void = () => {},
): Promise<string[] | undefined> {
  if (!shouldOfferDiscovery(node)) return undefined;
  let yes = false;
  try {
    yes = await confirm(DISCOVERY_QUESTION);
  } catch (e) {
    if (!(e instanceof PromptCancelled)) throw e;
  }
  if (!yes) {
    return [
      "Not looking: this node is a SuperPeer on its own. Others join it with a copy of its tracker file",
      p.dim("(or start every node with --discover to find each other on the LAN)."),
    ];
  }
  write(p.dim("Looking for SuperPeers on this LAN…\n"));
  const found = await node.discover();
  if (!found.length) {
    return [
      p.yellow("No SuperPeer answered on this LAN."),
      "This node stays a SuperPeer and answers others who look (with --discover or this menu).",
    ];
  }
  const head = `Found ${found.length} SuperPeer${found.length > 1 ? "s" : ""} on this LAN: ${
    found.join(", ")
  }.`;
  const { role, primary, linkCount } = node.net;
  if (role === "peer" && primary) {
    return [p.green(head), `Joined SuperPeer ${primary.listen}: this node is part of its network now.`];
  }
  return [
    p.green(head),
    linkCount
      ? "This node links to them as a SuperPeer: one network now."
      : p.yellow("None of them took this node: it stays a SuperPeer and answers others who look."),
  ];
}

/** Redraws for news come at most this often, so a burst of blocks does not flicker the screen. */
const REDRAW_MS = 700;
/** While mining, the status line's hash rate is refreshed this often. */
const MINING_REFRESH_MS = 2000;
const NEWS_KEPT = 100;
const MAX_CHAIN_ROWS = 100;

function writeStdout(text: string): void {
  const bytes = new TextEncoder().encode(text);
  for (let done = 0; done < bytes.length;) done += Deno.stdout.writeSync(bytes.subarray(done));
}

function screenSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 100, rows: 40 };
  }
}

/** Runs the menu until the person chooses Quit or presses Ctrl-C at the menu; the caller then stops the node. */
export async function runMenu(node: Node, opts: MenuOptions = {}): Promise<void> {
  const write = opts.write ?? writeStdout;
  const p = palette(opts.colour ?? wantColour());
  const news: string[] = [];
  let view: () => string[] = () => [
    `Welcome. This node's address is ${p.cyan(node.wallet.address)}.`,
    "Choose Mine block to earn coins, New transaction to pay someone; Ctrl-C here quits.",
  ];
  news.push(
    `${p.dim(clock())} started as a ${node.net.role}, SuperPeer ${node.net.primary?.listen ?? "none yet"}`,
  );
  let current: AbortController | undefined;
  let redrawTimer: ReturnType<typeof setTimeout> | undefined;
  let lastDraw = 0;

  const requestRedraw = () => {
    if (!current || redrawTimer !== undefined) return;
    redrawTimer = setTimeout(() => {
      redrawTimer = undefined;
      current?.abort();
    }, Math.max(0, REDRAW_MS - (Date.now() - lastDraw)));
  };
  const unsubscribe = node.subscribe((e) => {
    // During an initial sync the progress line under the status tells it; a news line per block would not.
    if (e.type === "block" && e.source === "network" && node.syncProgress()) return requestRedraw();
    const line = newsLine(e, p);
    if (!line) return;
    news.push(`${p.dim(clock())} ${line}`);
    if (news.length > NEWS_KEPT) news.shift();
    requestRedraw();
  });
  const ticker = setInterval(
    () => (node.miner.status().mining || node.syncProgress()) && requestRedraw(),
    MINING_REFRESH_MS,
  );
  addEventListener("unload", restoreTerminal);

  const draw = () => {
    lastDraw = Date.now();
    const { columns, rows } = screenSize();
    const rule = p.dim("─".repeat(Math.max(10, Math.min(columns, 110))));
    const newsRows = rows >= 30 ? 5 : 3;
    const shown = news.slice(-newsRows);
    const head = [
      `${p.bold("peerchain")} ${p.dim(`${node.params.name} · ${node.net.listen} · ${node.dataDir}`)}${
        node.explorerUrl ? ` · explorer ${p.cyan(node.explorerUrl)}` : ""
      }`,
      ...statusLine(node.status(), p, columns).split("\n"),
      ...syncRows(node, p),
      rule,
      ...(shown.length ? shown : [p.dim("no news yet")]),
      rule,
    ];
    const menuRows = 15; // the menu, its description and key help
    let body: string[];
    try {
      body = view();
    } catch (e) {
      body = [p.red(`could not show this: ${(e as Error).message}`)];
    }
    const room = Math.max(3, rows - head.length - menuRows);
    // Lines wider than the terminal wrap and take more than one row each.
    const height = (l: string) => Math.max(1, Math.ceil(visibleWidth(l) / Math.max(1, columns)));
    const fitted: string[] = [];
    let used = 0;
    for (const line of body) {
      if (used + height(line) > room - 1 && fitted.length < body.length - 1) {
        fitted.push(p.dim(`… ${body.length - fitted.length} more lines (a taller terminal shows them)`));
        break;
      }
      fitted.push(line);
      used += height(line);
    }
    write(`\x1b[H\x1b[2J${[...head, ...fitted, ""].join("\n")}\n`);
  };

  const actions: Record<Exclude<Action, "quit">, () => Promise<() => string[]>> = {
    refresh: () => Promise.resolve(view),
    peers: () => Promise.resolve(() => peersScreen(node, p)),
    chain: async () => {
      const n = await ask({
        message: "How many blocks?",
        default: "10",
        validate: (s) =>
          /^\d+$/.test(s.trim()) && +s >= 1 && +s <= MAX_CHAIN_ROWS ||
          `give a whole number from 1 to ${MAX_CHAIN_ROWS}`,
      });
      return () => chainScreen(node, Number(n), p);
    },
    block: async () => {
      const ref = await ask({
        message: "Block height or hash:",
        default: String(node.chain.height),
        validate: (s) =>
          findBlock(node, s) !== undefined ||
          `no such block: give a height from 0 to ${node.chain.height} or a block hash (64 hex digits)`,
      });
      const hash = findBlock(node, ref)!;
      return () => blockScreen(node, hash, p);
    },
    send: () => sendFlow(node, p).then((lines) => () => lines),
    mine: () => mineFlow(node, p, write).then((lines) => () => lines),
    "mine-toggle": async () => {
      if (node.miner.status().mining) {
        await node.miner.stop();
        return () => ["Continuous mining stopped."];
      }
      node.miner.start();
      return continuousMiningView(node, p);
    },
    mempool: () => Promise.resolve(() => mempoolScreen(node, p)),
    wallet: () => walletFlow(node, p).then((lines) => () => lines),
  };

  let highlighted: Action = "refresh";
  try {
    draw();
    const offered = await offerDiscovery(node, confirmYes, p, write);
    if (offered) view = () => offered;
    for (;;) {
      draw();
      const mining = node.miner.status().mining;
      current = new AbortController();
      let action: Action;
      try {
        action = await choose<Action>({
          message: "What next?",
          default: highlighted,
          signal: current.signal,
          onActive: (a) => highlighted = a,
          highlight: p.cyan,
          choices: [
            { value: "refresh", name: "Refresh", description: "Redraw the status and the last view" },
            {
              value: "peers",
              name: "Show peers",
              description: "The SuperPeers with their Peer counts, and this node's links",
            },
            { value: "chain", name: "Show chain", description: "The last blocks of the active chain" },
            { value: "block", name: "Show block", description: "One block by height or hash" },
            { value: "send", name: "New transaction", description: "Pay coins to an address" },
            {
              value: "mine",
              name: "Mine block",
              description: "Mine one block now (any key cancels)",
              disabled: mining && "(mining already: stop continuous mining first)",
            },
            {
              value: "mine-toggle",
              name: `Mine continuously (${mining ? "on" : "off"})`,
              description: mining ? "Stop mining" : "Mine until told to stop",
            },
            { value: "mempool", name: "Show mempool", description: "Transactions waiting for a block" },
            {
              value: "wallet",
              name: "Wallet",
              description: "Balances, new address, history, seed words backup, encryption",
            },
            { value: "quit", name: "Quit", description: "Stop the node and leave" },
          ],
        });
      } catch (e) {
        if (e instanceof PromptAborted) continue; // news: redraw
        if (e instanceof PromptCancelled) return; // Ctrl-C at the menu quits
        throw e;
      } finally {
        current = undefined;
        clearTimeout(redrawTimer);
        redrawTimer = undefined;
      }
      if (action === "quit") return;
      try {
        view = await actions[action]();
      } catch (e) {
        if (e instanceof PromptCancelled) view = () => [p.dim("Cancelled: back at the menu.")];
        else view = () => [p.red(`error: ${e instanceof Error ? e.message : String(e)}`)];
      }
    }
  } finally {
    unsubscribe();
    clearInterval(ticker);
    clearTimeout(redrawTimer);
    removeEventListener("unload", restoreTerminal);
    restoreTerminal();
    write("\n"); // what follows (the node's "stopping" line) starts on a line of its own
  }
}

/** The sync progress line under the status line while an initial sync runs. */
function syncRows(node: Node, p: ReturnType<typeof palette>): string[] {
  const progress = node.syncProgress();
  return progress ? [p.yellow(syncLine(progress))] : [];
}

/**
 * What the screen shows while mining continuously: the hash rate, the blocks found and the time since it
 * started, redrawn as it goes (the menu redraws every few seconds while mining).
 */
function continuousMiningView(node: Node, p: ReturnType<typeof palette>): () => string[] {
  const started = performance.now();
  const foundBefore = node.miner.status().found;
  return () => {
    const s = node.miner.status();
    if (!s.mining) return [p.dim("Continuous mining is off.")];
    const found = s.found - foundBefore;
    const secs = Math.round((performance.now() - started) / 1000);
    return [
      p.yellow(`Mining continuously at ${formatHashrate(s.hashrate)}`) +
      `: ${found} block${found === 1 ? "" : "s"} found in ${secs} s, now mining block ${s.height}.`,
      "New blocks appear in the news. Choose Mine continuously again to stop.",
    ];
  };
}

/** Asks for an address and an amount, each checked as it is entered, shows the fee and sends on confirmation. */
async function sendFlow(node: Node, p: ReturnType<typeof palette>): Promise<string[]> {
  const fullLength = node.wallet.address.length;
  const addressProblem = (text: string): string | undefined => {
    try {
      node.wallet.parseAddress(text.trim());
      return undefined;
    } catch (e) {
      if (e instanceof AddressError) return e.message;
      throw e;
    }
  };
  const address = (await ask({
    message: "Pay to address:",
    validate: (s) => {
      if (!s.trim()) return "type the address to pay (Ctrl-C goes back to the menu)";
      const problem = addressProblem(s);
      return problem ? `refused: ${problem}` : true;
    },
    hint: (s) => {
      const t = s.trim();
      if (!t) return "";
      if (!addressProblem(t)) return p.green("  ✓ address ok");
      return t.length >= fullLength
        ? p.red("  ✗ not a valid address")
        : p.dim(`  (${t.length}/${fullLength})`);
    },
  })).trim();

  const view = node.walletView();
  const spendable = node.wallet.spendable(view).reduce((s, c) => s + c.coin.amount, 0);
  const feeRate = node.suggestedFeeRate();
  let draft: { units: number; fee: number } | undefined;
  await ask({
    message: `Amount in coins (spendable ${formatAmount(spendable)}):`,
    validate: async (s) => {
      try {
        const units = parseAmount(s);
        const { fee } = await node.wallet.draftPayment(node.walletView(), address, units, { feeRate });
        draft = { units, fee };
        return true;
      } catch (e) {
        if (e instanceof AmountError || e instanceof WalletError || e instanceof AddressError) {
          return e.message;
        }
        throw e;
      }
    },
  });
  const { units, fee } = draft!;
  const sure = await confirmYes(
    `Send ${formatAmount(units)} coins to ${address}, fee ${formatAmount(fee)} at the suggested ${feeRate} ` +
      `units per byte (total ${formatAmount(units + fee)})?`,
  );
  if (!sure) return ["Not sent."];
  try {
    const r = await withMenuPassphrase(
      node,
      (passphrase) => node.send(address, units, { feeRate, passphrase }),
    );
    return [
      p.green(`Sent ${formatAmount(units)} coins to ${address}.`),
      `txid ${r.txid}, fee ${formatAmount(r.fee)}: it waits in the mempool until a block includes it.`,
    ];
  } catch (e) {
    if (e instanceof WalletError || e instanceof ValidationError || e instanceof AddressError) {
      return [p.red(`Not sent: ${e.message}`)];
    }
    throw e;
  }
}

/** Mines one block with a progress line; any key (Ctrl-C too) cancels and stops the miner. */
async function mineFlow(
  node: Node,
  p: ReturnType<typeof palette>,
  write: (s: string) => void,
): Promise<string[]> {
  const started = performance.now();
  const job = node.miner.mineBlocks(1);
  const key = waitForKey();
  const progress = () => {
    const s = node.miner.status();
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    write(
      `\r\x1b[2K${p.yellow("Mining")} block ${s.height || node.chain.height + 1} · ${
        formatHashrate(s.hashrate)
      } · ${secs} s · ${p.dim("press any key to cancel")}`,
    );
  };
  progress();
  const timer = setInterval(progress, 250);
  try {
    const result = await Promise.race([job, key.pressed.then(() => "cancel" as const)]);
    if (result === "cancel") {
      await node.miner.stop();
      await job.catch(() => {});
      return [p.yellow("Mining cancelled: the miner is stopped.")];
    }
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    if (result.length === 0) return [p.yellow("Mining stopped before a block was found.")];
    const height = node.chain.entry(result[0])?.height;
    return [p.green(`Mined block ${height ?? "?"} ${result[0]} in ${secs} s.`)];
  } finally {
    clearInterval(timer);
    key.dispose();
    write("\r\x1b[2K");
  }
}
