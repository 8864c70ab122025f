/**
 * Command-line parsing: `peerchain [run] [flags]` or `peerchain SUBCOMMAND [args] [flags]`. Unknown flags and
 * bad values are a `UsageError` (exit 2) with a one-line message.
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";
import { AddressFormatError, formatHostPort, type HostPort, parseHostPort } from "../net/messages.ts";

/** A command line that cannot be run. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Usage text. */
export const USAGE = `usage: peerchain [run] [--network main|regtest] [--data-dir DIR] [--tracker FILE]
                 [--listen HOST:PORT] [--advertise HOST:PORT] [--connect HOST:PORT]...
                 [--headless] [--mine] [--threads N] [--rpc-port N] [--max-peers N]
       peerchain status|peers|chain [N]|block HASH|HEIGHT|mempool|balance|address
                 |send ADDRESS AMOUNT|mine [N]|stop  [--json] [--network NET] [--data-dir DIR]`;

/** The subcommands that talk to a running node. */
export const SUBCOMMANDS = [
  "status",
  "peers",
  "chain",
  "block",
  "mempool",
  "balance",
  "address",
  "send",
  "mine",
  "stop",
] as const;

/** A parsed command line. */
export interface Args {
  command: "run" | "help" | typeof SUBCOMMANDS[number];
  positional: string[];
  network: NetworkName;
  dataDir?: string;
  tracker: string;
  listen?: HostPort;
  advertise?: string;
  connect: string[];
  headless: boolean;
  mine: boolean;
  threads?: number;
  rpcPort?: number;
  maxPeers?: number;
  json: boolean;
  pingIntervalMs?: number;
  deadAfterMs?: number;
}

const VALUE_FLAGS = new Set([
  "--network",
  "--data-dir",
  "--tracker",
  "--listen",
  "--advertise",
  "--connect",
  "--threads",
  "--rpc-port",
  "--max-peers",
  "--ping-interval",
  "--dead-after",
]);
const BOOL_FLAGS = new Set(["--headless", "--mine", "--json", "--help", "-h"]);

function hostPort(flag: string, v: string): HostPort {
  try {
    return parseHostPort(v);
  } catch (e) {
    if (e instanceof AddressFormatError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

function int(flag: string, v: string, min: number, max: number): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, not "${v}"`);
  }
  return n;
}

/**
 * Parses `argv` (without the program name).
 * @example parseArgs(["--network", "regtest", "--headless"]).command // "run"
 */
export function parseArgs(argv: string[]): Args {
  const a: Args = {
    command: "run",
    positional: [],
    network: "main",
    tracker: "server_tracker.txt",
    connect: [],
    headless: false,
    mine: false,
    json: false,
  };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") continue; // `deno task start -- ...` passes the separator through
    // A negative number is a value (an amount the node should refuse), not a flag.
    if (!arg.startsWith("-") || /^-[\d.]/.test(arg)) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (BOOL_FLAGS.has(flag)) {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      if (flag === "--help" || flag === "-h") a.command = "help";
      else if (flag === "--headless") a.headless = true;
      else if (flag === "--mine") a.mine = true;
      else a.json = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new UsageError(`unknown flag "${flag}"`);
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case "--network":
        if (v !== "main" && v !== "regtest") {
          throw new UsageError(`unknown network "${v}": use main or regtest`);
        }
        a.network = v;
        break;
      case "--data-dir":
        a.dataDir = v;
        break;
      case "--tracker":
        a.tracker = v;
        break;
      case "--listen":
        a.listen = hostPort(flag, v);
        break;
      case "--advertise":
        a.advertise = formatHostPort(hostPort(flag, v));
        break;
      case "--connect":
        a.connect.push(formatHostPort(hostPort(flag, v)));
        break;
      case "--threads":
        a.threads = int(flag, v, 1, 256);
        break;
      case "--rpc-port":
        a.rpcPort = int(flag, v, 0, 65535);
        break;
      case "--max-peers":
        a.maxPeers = int(flag, v, 1, 10_000);
        break;
      case "--ping-interval":
        a.pingIntervalMs = int(flag, v, 50, 600_000);
        break;
      case "--dead-after":
        a.deadAfterMs = int(flag, v, 100, 600_000);
        break;
    }
  }
  if (a.command !== "help" && rest.length) {
    const [cmd, ...pos] = rest;
    if (cmd === "run") a.command = "run";
    else if ((SUBCOMMANDS as readonly string[]).includes(cmd)) a.command = cmd as Args["command"];
    else throw new UsageError(`unknown command "${cmd}"`);
    a.positional = pos;
  }
  const arity: Record<string, [number, number]> = {
    chain: [0, 1],
    block: [1, 1],
    send: [2, 2],
    mine: [0, 1],
    run: [0, 0],
  };
  const [min, max] = arity[a.command] ?? [0, 0];
  if (a.command !== "help" && (a.positional.length < min || a.positional.length > max)) {
    throw new UsageError(
      `${a.command} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}`,
    );
  }
  return a;
}
