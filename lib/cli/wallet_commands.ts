/**
 * The wallet's commands on the command line: `wallet backup|restore|history|info|encrypt|unlock|lock`,
 * `address --new`, and `send` with `--fee-rate` and the passphrase. Secrets never come from the command line
 * (shells keep history): seed words from `--words-file` or a prompt, passphrases from `--passphrase-file` or
 * a prompt that does not echo.
 * @module
 */
import { NETWORKS } from "../consensus/params.ts";
import { callRpc, RpcError } from "../rpc/client.ts";
import type { WalletHistoryRow } from "../rpc/wallet_methods.ts";
import { WalletError } from "../wallet/errors.ts";
import { normalizeMnemonic } from "../wallet/seed.ts";
import { Wallet } from "../wallet/wallet.ts";
import type { Args } from "./commands.ts";
import { printResult } from "./output.ts";

/** Reads the first line of `path` (a passphrase or the seed words); refuses an empty or unreadable file. */
export async function readSecretFile(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new WalletError(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
  const line = what === "seed words" ? text.trim() : text.split(/\r?\n/)[0];
  if (line === "") throw new WalletError(`the ${what} file ${path} is empty`);
  return line;
}

/**
 * Asks for a line on the terminal without echoing it (a passphrase, seed words); from a pipe, reads a line.
 * Ctrl-C cancels.
 */
export async function askSecret(question: string): Promise<string> {
  const enc = new TextEncoder();
  await Deno.stderr.write(enc.encode(question));
  const tty = Deno.stdin.isTerminal();
  if (tty) Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) break;
      const c = buf[0];
      if (c === 3) throw new WalletError("cancelled");
      if (c === 13 || c === 10) break;
      if (c === 127 || c === 8) bytes.pop();
      else bytes.push(c);
    }
  } finally {
    if (tty) Deno.stdin.setRaw(false);
    await Deno.stderr.write(enc.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The passphrase from `--passphrase-file`, else asked for on a terminal, else undefined. */
async function passphraseOf(args: Args, ask: boolean): Promise<string | undefined> {
  if (args.passphraseFile) return await readSecretFile(args.passphraseFile, "passphrase");
  if (ask && Deno.stdin.isTerminal()) return await askSecret("wallet passphrase: ");
  return undefined;
}

const LOCKED = /^the wallet is encrypted/;

/**
 * Calls `method` with `params(passphrase)`: first with the passphrase of `--passphrase-file` (if any), and if
 * the node says the wallet is locked, once more with one asked for on the terminal.
 */
async function withPassphrase(
  dataDir: string,
  args: Args,
  method: string,
  params: (passphrase: string | null) => unknown[],
): Promise<unknown> {
  const given = await passphraseOf(args, false);
  try {
    return await callRpc(dataDir, method, params(given ?? null));
  } catch (e) {
    if (
      given !== undefined || !(e instanceof RpcError) || !LOCKED.test(e.message) || !Deno.stdin.isTerminal()
    ) {
      throw e;
    }
    return await callRpc(dataDir, method, params((await passphraseOf(args, true))!));
  }
}

/**
 * `wallet restore`: makes the wallet of `dataDir` from seed words (from `--words-file`, or asked for), refusing
 * a directory that has a wallet. No node runs there yet; the node started there rescans the chain.
 */
async function restore(args: Args, dataDir: string): Promise<void> {
  const text = args.wordsFile
    ? await readSecretFile(args.wordsFile, "seed words")
    : await askSecret("the 24 seed words, separated by spaces: ");
  const words = await normalizeMnemonic(text); // bad words change nothing, not even a new folder
  await Deno.mkdir(dataDir, { recursive: true });
  const wallet = await Wallet.restore(`${dataDir}/wallet.json`, NETWORKS[args.network], words);
  console.log(`restored: ${wallet.address}`);
  console.log(
    `start the node with --data-dir ${dataDir}: it rescans the chain once synced and shows the wallet's coins`,
  );
}

/**
 * Runs `send`, `address --new` and `wallet ACTION` against the node of `dataDir` and prints the result;
 * false for any other command (the caller runs it). Throws `RpcError`, `NoNode` or `WalletError`.
 */
export async function runWalletCommand(args: Args, dataDir: string): Promise<boolean> {
  const json = (r: unknown) => console.log(JSON.stringify(r));
  if (args.command === "address" && args.newAddress) {
    const r = await callRpc(dataDir, "wallet.address") as { address: string };
    args.json ? json(r) : console.log(r.address);
    return true;
  }
  if (args.command === "send") {
    const [address, amount] = args.positional;
    const r = await withPassphrase(
      dataDir,
      args,
      "send",
      (p) => [address, amount, args.feeRate ?? null, p],
    );
    printResult("send", r, args.json);
    return true;
  }
  if (args.command !== "wallet") return false;
  const action = args.positional[0];
  switch (action) {
    case "restore":
      await restore(args, dataDir);
      return true;
    case "backup": {
      const r = await withPassphrase(dataDir, args, "wallet.backup", (p) => [p]) as {
        words: string;
        imported: { address: string; pkcs8: string }[];
      };
      if (args.json) return json(r), true;
      console.log(
        "Write these 24 words down, in order, and keep them offline: anyone who has them has the coins.",
      );
      console.log(r.words);
      if (r.imported.length) {
        console.log(
          (r.imported.length === 1
            ? "The words do not cover this imported key (from before seed words); keep it too (PKCS#8, hex), "
            : `The words do not cover these ${r.imported.length} imported keys (from before seed words); keep ` +
              "them too (PKCS#8, hex), ") + "or pay their coins to a fresh address:",
        );
        for (const k of r.imported) console.log(`${k.address} ${k.pkcs8}`);
      }
      return true;
    }
    case "history": {
      const r = await callRpc(dataDir, "wallet.history") as WalletHistoryRow[];
      if (args.json) return json(r), true;
      if (r.length === 0) console.log("no payments yet");
      for (const e of r) {
        const what = e.coinbase
          ? `mined     +${e.received} coins`
          : e.received !== "0"
          ? `received  +${e.received} coins`
          : e.sent !== "0"
          ? `sent      -${e.sent} coins (fee ${e.fee})`
          : `to itself (fee ${e.fee} coins)`;
        const conf = e.confirmations === 0 ? "unconfirmed" : `${e.confirmations} confirmations`;
        console.log(`${e.txid}  ${what}  ${conf}`);
      }
      return true;
    }
    case "info": {
      const r = await callRpc(dataDir, "wallet.info") as Record<string, unknown>;
      if (args.json) return json(r), true;
      console.log(
        `encrypted ${r.encrypted}\nlocked    ${r.locked}\nfee rate  ${r.feeRate} base units per byte`,
      );
      for (const a of r.addresses as string[]) console.log(`address   ${a}`);
      return true;
    }
    case "encrypt": {
      let p = await passphraseOf(args, false);
      if (p === undefined) {
        if (!Deno.stdin.isTerminal()) {
          throw new WalletError("give the new passphrase with --passphrase-file FILE");
        }
        p = await askSecret("new wallet passphrase: ");
        if (await askSecret("again: ") !== p) {
          throw new WalletError("the two passphrases differ: nothing changed");
        }
      }
      await callRpc(dataDir, "wallet.encrypt", [p]);
      console.log(
        "encrypted: sending and backups now ask for the passphrase; keep it, it cannot be recovered",
      );
      return true;
    }
    case "unlock": {
      if (args.forSeconds === undefined) throw new WalletError("say how long: wallet unlock --for SECONDS");
      const p = await passphraseOf(args, true);
      if (p === undefined) throw new WalletError("give the passphrase with --passphrase-file FILE");
      await callRpc(dataDir, "wallet.unlock", [p, args.forSeconds]);
      console.log(`unlocked for ${args.forSeconds} seconds`);
      return true;
    }
    case "lock":
      await callRpc(dataDir, "wallet.lock");
      console.log("locked");
      return true;
  }
  return false;
}
