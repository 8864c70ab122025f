/**
 * The menu's wallet screens: the wallet at a glance, a fresh receiving address, the history, the seed words
 * (after a clear warning and a confirmation), and setting a passphrase. Secrets are asked for without echo.
 * @module
 */
import { formatAmount } from "../consensus/amount.ts";
import type { Node } from "../node.ts";
import { WalletError } from "../wallet/errors.ts";
import { MIN_PASSPHRASE } from "../wallet/keyring.ts";
import { askPassword, choose, confirmYes } from "./prompts.ts";
import type { palette } from "./render.ts";
import { walletScreen } from "./screens.ts";

type Palette = ReturnType<typeof palette>;

/**
 * Asks for the wallet's passphrase until `use` accepts it (a wrong one says so and asks again; Ctrl-C goes
 * back to the menu). Returns `use`'s result; without encryption `use` runs with no passphrase.
 */
export async function withMenuPassphrase<T>(
  node: Node,
  use: (passphrase: string | undefined) => Promise<T>,
): Promise<T> {
  if (!node.wallet.locked) return await use(undefined);
  let result: T | undefined;
  await askPassword("Wallet passphrase:", async (text) => {
    try {
      result = await use(text);
      return true;
    } catch (e) {
      if (e instanceof WalletError) return e.message;
      throw e;
    }
  });
  return result!;
}

/** The history as lines, newest first. */
export function historyLines(node: Node, p: Palette, max = 20): string[] {
  const entries = node.wallet.history({ height: node.chain.height }, node.mempool.entries().map((e) => e.tx));
  if (entries.length === 0) return [p.dim("No payments yet: mine a block or ask someone to pay you.")];
  const lines = [
    `${p.bold("History")} (newest first${entries.length > max ? `, ${max} of ${entries.length}` : ""}):`,
  ];
  for (const e of entries.slice(0, max)) {
    const what = e.coinbase
      ? p.green(`mined     +${formatAmount(e.received)} coins`)
      : e.received > 0
      ? p.green(`received  +${formatAmount(e.received)} coins`)
      : e.sent > 0
      ? p.yellow(`sent      -${formatAmount(e.sent)} coins (fee ${formatAmount(e.fee)})`)
      : `to itself (fee ${formatAmount(e.fee)} coins)`;
    const conf = e.confirmations === 0 ? p.dim("unconfirmed") : `${e.confirmations} conf.`;
    lines.push(`  ${e.txid.slice(0, 16)}…  ${what}  ${conf}`);
  }
  return lines;
}

/** The wallet's menu: what to do with it, then the lines to show. */
export async function walletFlow(node: Node, p: Palette): Promise<string[]> {
  const w = node.wallet;
  const action = await choose({
    message: `Wallet${w.encrypted ? (w.locked ? " (encrypted, locked)" : " (encrypted, unlocked)") : ""}:`,
    highlight: p.cyan,
    choices: [
      { value: "show", name: "Show wallet", description: "Address, balances and recent coins" },
      { value: "address", name: "New receiving address", description: "A fresh address for one payer" },
      { value: "history", name: "History", description: "Payments received and sent, fees, confirmations" },
      {
        value: "backup",
        name: "Back up seed words",
        description: "Show the 24 words that restore this wallet",
      },
      {
        value: "encrypt",
        name: "Encrypt wallet",
        description: "Set a passphrase for sending and backups",
        disabled: w.encrypted && "(already encrypted)",
      },
      { value: "back", name: "Back", description: "Back to the menu" },
    ],
  });
  switch (action) {
    case "address":
      return [
        `New receiving address: ${p.cyan(await w.newAddress())}`,
        "Give it to one payer; ask again for the next.",
      ];
    case "history":
      return historyLines(node, p);
    case "backup":
      return await backupFlow(node, p);
    case "encrypt":
      return await encryptFlow(node, p);
    case "back":
      return [];
    default:
      return walletScreen(node, p);
  }
}

async function backupFlow(node: Node, p: Palette): Promise<string[]> {
  const sure = await confirmYes(
    "The 24 seed words give anyone who sees them all the coins of this wallet. Show them now, with nobody " +
      "watching the screen?",
  );
  if (!sure) return ["Seed words not shown."];
  const backup = await withMenuPassphrase(
    node,
    (pass) => node.wallet.withPassphrase(pass, () => Promise.resolve(node.wallet.backup())),
  );
  const words = backup.words.split(" ");
  const lines = [
    p.yellow(
      "Write these words down on paper, in order, and keep them offline. Never type them into a website.",
    ),
    ...[0, 6, 12, 18].map((i) =>
      "  " + words.slice(i, i + 6).map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(9)}`).join(" ")
    ),
  ];
  if (backup.imported.length) {
    lines.push(
      p.yellow(
        `The words do not cover ${backup.imported.length} imported key(s) from before seed words; keep them too:`,
      ),
      ...backup.imported.map((k) => `  ${k.address} ${k.pkcs8}`),
    );
  }
  return lines;
}

async function encryptFlow(node: Node, p: Palette): Promise<string[]> {
  const first = await askPassword(
    "New passphrase:",
    (t) => t.length >= MIN_PASSPHRASE || `at least ${MIN_PASSPHRASE} characters`,
  );
  await askPassword("The same passphrase again:", (t) => t === first || "the two passphrases differ");
  await node.wallet.encrypt(first);
  return [
    p.green("The wallet is encrypted."),
    "Sending and backups now ask for the passphrase. Keep it safe: it cannot be recovered (the seed words can restore the wallet).",
  ];
}
