/**
 * The peerchain executable: `run` starts a node (the default), the other subcommands ask a running node
 * through its local RPC; `help`, `completions` and `--version` only print. Exit codes: 0 done, 1 refused,
 * 2 usage, 3 no node running.
 * @module
 */
import { type Args, parseArgs, UsageError } from "./lib/cli/args.ts";
import type { CommandName } from "./lib/cli/commands.ts";
import {
  bashCompletion,
  commandHelp,
  generalHelp,
  usageHint,
  VERSION,
  zshCompletion,
} from "./lib/cli/help.ts";
import { CLI_ERROR_NAMES, jsonError, printResult } from "./lib/cli/output.ts";
import { runWalletCommand } from "./lib/cli/wallet_commands.ts";
import { dataDirOf } from "./lib/cli/locate.ts";
import { runNode, RunRefused } from "./lib/cli/run.ts";
import { callRpc, NoNode, RpcError } from "./lib/rpc/client.ts";
import { RPC_ERRORS } from "./lib/rpc/server.ts";
import { RPC_ERROR_NAMES } from "./lib/rpc/methods.ts";
import { WalletError } from "./lib/wallet/errors.ts";

/** True when the command line asks for JSON (also when it could not be parsed). */
const WANTS_JSON = Deno.args.includes("--json");

/**
 * Prints one line and exits with `code`: under `--json` one JSON object `{"error": {"code", "message"}}`
 * with the stable code name `name`; otherwise `peerchain: message` (a usage error: and the usage, unless a
 * suggestion says it all).
 */
function fail(message: string, code: number, command?: CommandName, hint = true, name?: string): never {
  if (WANTS_JSON) {
    console.error(jsonError(name ?? (code === 2 ? CLI_ERROR_NAMES.usage : "refused"), message));
    Deno.exit(code);
  }
  console.error(`peerchain: ${message}`);
  if (code === 2 && hint) console.error(usageHint(command));
  Deno.exit(code);
}

async function subcommand(args: Args): Promise<void> {
  const dataDir = dataDirOf(args);
  try {
    if (await runWalletCommand(args, dataDir)) return;
    // `mining start` is the RPC's `mining.start`; every other command is the method of its name.
    const [method, params] = args.command === "mining"
      ? [`mining.${args.positional[0]}`, []]
      : [args.command, args.positional];
    const result = await callRpc(dataDir, method, params);
    printResult(args.command, result, args.json);
  } catch (e) {
    if (e instanceof NoNode) fail(e.message, 3, undefined, true, CLI_ERROR_NAMES.noNode);
    if (e instanceof WalletError) fail(e.message, 1);
    if (e instanceof RpcError) {
      const name = e.code === 401 ? CLI_ERROR_NAMES.badCookie : RPC_ERROR_NAMES[e.code] ?? "refused";
      fail(e.message, e.code === RPC_ERRORS.badParams ? 2 : 1, args.command, true, name);
    }
    throw e;
  }
}

if (import.meta.main) {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    if (e instanceof UsageError) fail(e.message, 2, e.command, !e.suggested);
    throw e;
  }
  switch (args.command) {
    case "help":
      console.log(args.positional[0] ? commandHelp(args.positional[0] as CommandName) : generalHelp());
      break;
    case "version":
      console.log(`peerchain ${VERSION}`);
      break;
    case "completions":
      console.log(args.positional[0] === "zsh" ? zshCompletion() : bashCompletion());
      break;
    case "run":
      try {
        await runNode(args);
      } catch (e) {
        if (e instanceof RunRefused) fail(e.message, 1);
        throw e;
      }
      break;
    default:
      await subcommand(args);
  }
}
