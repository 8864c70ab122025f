/**
 * The one table of the command line: every command with its arguments, description, example and exit codes,
 * and every flag with the commands it belongs to, its value, its help and how it sets `Args`. The parser
 * (args.ts), the help texts and the shell completions (help.ts) are all read from here, so a new flag is one
 * entry in `FLAGS` (and its field in `Args`).
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";
import { AddressFormatError, formatHostPort, type HostPort, parseHostPort } from "../net/messages.ts";

/** A command line that cannot be run. */
export class UsageError extends Error {
  /** The error's name, for logs. */
  override name = "UsageError";
  /** The command the user probably meant, when the message suggests one (then it is the whole answer). */
  suggested?: CommandName;
  /** An error about `command`'s command line (undefined when the command itself is unknown). */
  constructor(message: string, readonly command?: CommandName) {
    super(message);
  }
}

/** The subcommands that talk to a running node through its RPC. */
export const SUBCOMMANDS = [
  "status",
  "peers",
  "chain",
  "block",
  "tx",
  "mempool",
  "balance",
  "address",
  "send",
  "mine",
  "mining",
  "bans",
  "unban",
  "stop",
  "wallet",
] as const;

/** A subcommand that talks to a running node. */
export type Subcommand = typeof SUBCOMMANDS[number];

/** Every command: `run`, the node's subcommands, and the ones that only print. */
export type CommandName = "run" | Subcommand | "help" | "completions" | "version";

/** A parsed command line. */
export interface Args {
  /** What to do; `run` when no command is named. */
  command: CommandName;
  /** The command's arguments. */
  positional: string[];
  /** `--network`. */
  network: NetworkName;
  /** `--data-dir`, when given. */
  dataDir?: string;
  /** `--tracker`. */
  tracker: string;
  /** `--listen`, when given. */
  listen?: HostPort;
  /** `--advertise`, normalised to `host:port`. */
  advertise?: string;
  /** `--connect`, each normalised to `host:port`. */
  connect: string[];
  /** `--headless`. */
  headless: boolean;
  /** `--mine`. */
  mine: boolean;
  /** `--threads`. */
  threads?: number;
  /** `--rpc-port`. */
  rpcPort?: number;
  /** `--max-peers`. */
  maxPeers?: number;
  /** `--explorer`; null with `--no-explorer`; undefined for the default (127.0.0.1, network port + 1000). */
  explorer?: HostPort | null;
  /** `--discover`: look for SuperPeers on the LAN by UDP broadcast when the tracker's don't answer. */
  discover: boolean;
  /** `--json`. */
  json: boolean;
  /** `--ping-interval`, milliseconds. */
  pingIntervalMs?: number;
  /** `--dead-after`, milliseconds. */
  deadAfterMs?: number;
  /** `--new` (address). */
  newAddress?: boolean;
  /** `--fee-rate`, base units per byte (send). */
  feeRate?: number;
  /** `--passphrase-file` (send, wallet). */
  passphraseFile?: string;
  /** `--words-file` (wallet restore). */
  wordsFile?: string;
  /** `--for`, seconds (wallet unlock). */
  forSeconds?: number;
}

/** Which commands a flag belongs to: `run`, the node's subcommands, or every command. */
export type FlagScope = "run" | "node" | "all";

/** One flag. */
export interface FlagSpec {
  /** `--name`. */
  name: `--${string}`;
  /** A one-letter alias, such as `-h`. */
  short?: `-${string}`;
  /** The value's placeholder (`HOST:PORT`); absent for a flag that takes none. */
  value?: string;
  /** The values a shell may complete; `"dir"` or `"file"` for paths. */
  complete?: readonly string[] | "dir" | "file";
  /** The commands it belongs to. */
  scope: FlagScope;
  /** One line of help. */
  help: string;
  /** The only commands it belongs to, when fewer than its scope's. */
  only?: readonly CommandName[];
  /** Sets the parsed value on `a` (`value` is "" for a flag without one); throws `UsageError`. */
  apply(a: Args, value: string): void;
}

/** One command. */
export interface CommandSpec {
  /** Its name. */
  name: CommandName;
  /** Its arguments as usage shows them, e.g. `ADDRESS AMOUNT`. */
  args: string;
  /** Least and most arguments. */
  arity: readonly [number, number];
  /** One line for the command list. */
  summary: string;
  /** What it does, in a few lines. */
  description: string;
  /** What each argument means. */
  argHelp?: readonly (readonly [string, string])[];
  /** Example command lines. */
  examples: readonly string[];
  /** Which flags it takes (besides the ones every command takes). */
  flags: FlagScope | "none";
  /** Its exit codes and their meaning. */
  exitCodes: readonly (readonly [number, string])[];
}

function hostPort(flag: string, v: string): HostPort {
  try {
    return parseHostPort(v);
  } catch (e) {
    if (e instanceof AddressFormatError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

function dialable(flag: string, v: string): string {
  return formatHostPort(hostPort(flag, v));
}

function int(flag: string, v: string, min: number, max: number): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`${flag} takes a whole number from ${min} to ${max}, not "${v}"`);
  }
  return n;
}

/** Every flag the parser accepts. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "--network",
    value: "main|regtest",
    complete: ["main", "regtest"],
    scope: "all",
    help: "main (the default), or regtest: trivial difficulty, for demos and tests",
    apply(a, v) {
      if (v !== "main" && v !== "regtest") {
        throw new UsageError(`unknown network "${v}": use main or regtest`);
      }
      a.network = v;
    },
  },
  {
    name: "--data-dir",
    value: "DIR",
    complete: "dir",
    scope: "all",
    help: "the node's data directory (default: one per user and network, see README)",
    apply(a, v) {
      a.dataDir = v;
    },
  },
  {
    name: "--json",
    scope: "node",
    help: "print the result as one JSON value",
    apply(a) {
      a.json = true;
    },
  },
  {
    name: "--tracker",
    value: "FILE",
    complete: "file",
    scope: "run",
    help: "the tracker file: SuperPeer addresses, the one to try first on top (default server_tracker.txt)",
    apply(a, v) {
      a.tracker = v;
    },
  },
  {
    name: "--listen",
    value: "HOST:PORT",
    scope: "all",
    help:
      "where to listen (default: all interfaces, port 8765 or regtest 18765, else a free one), which also " +
      "names the default data directory (<default>-PORT): a subcommand given the same --listen asks that node",
    apply(a, v) {
      a.listen = hostPort("--listen", v);
    },
  },
  {
    name: "--advertise",
    value: "HOST:PORT",
    scope: "run",
    help: "the address other nodes should dial, when it differs from --listen",
    apply(a, v) {
      a.advertise = dialable("--advertise", v);
    },
  },
  {
    name: "--connect",
    value: "HOST:PORT",
    scope: "run",
    help: "join this node instead of the tracker's (repeatable)",
    apply(a, v) {
      a.connect.push(dialable("--connect", v));
    },
  },
  {
    name: "--headless",
    scope: "run",
    help: "no menu: one log line per event on stderr",
    apply(a) {
      a.headless = true;
    },
  },
  {
    name: "--mine",
    scope: "run",
    help: "mine continuously from the start",
    apply(a) {
      a.mine = true;
    },
  },
  {
    name: "--threads",
    value: "N",
    scope: "run",
    help: "mining workers, 1 to 256 (default: all cores but one)",
    apply(a, v) {
      a.threads = int("--threads", v, 1, 256);
    },
  },
  {
    name: "--rpc-port",
    value: "N",
    scope: "run",
    help: "the local RPC port (default: any free port, written to rpc.json)",
    apply(a, v) {
      a.rpcPort = int("--rpc-port", v, 0, 65535);
    },
  },
  {
    name: "--max-peers",
    value: "N",
    scope: "run",
    help: "Peers this node serves at most when it is a SuperPeer, 1 to 10000 (default 32)",
    apply(a, v) {
      a.maxPeers = int("--max-peers", v, 1, 10_000);
    },
  },
  {
    name: "--explorer",
    value: "HOST:PORT",
    scope: "run",
    help:
      "serve the explorer there, 0.0.0.0:PORT to share it read-only with the LAN (default: 127.0.0.1 on " +
      "the network port + 1000, or a free port)",
    apply(a, v) {
      if (a.explorer === null) throw new UsageError("--explorer and --no-explorer contradict each other");
      a.explorer = hostPort("--explorer", v);
    },
  },
  {
    name: "--no-explorer",
    scope: "run",
    help: "serve no explorer",
    apply(a) {
      if (a.explorer) throw new UsageError("--explorer and --no-explorer contradict each other");
      a.explorer = null;
    },
  },
  {
    name: "--discover",
    scope: "run",
    help: "when no tracker address answers, look for SuperPeers on the LAN by UDP broadcast (off by default)",
    apply(a) {
      a.discover = true;
    },
  },
  {
    name: "--ping-interval",
    value: "MS",
    scope: "run",
    help: "milliseconds between liveness pings (for tests)",
    apply(a, v) {
      a.pingIntervalMs = int("--ping-interval", v, 50, 600_000);
    },
  },
  {
    name: "--dead-after",
    value: "MS",
    scope: "run",
    help: "milliseconds of silence after which a link counts as dead (for tests)",
    apply(a, v) {
      a.deadAfterMs = int("--dead-after", v, 100, 600_000);
    },
  },
  {
    name: "--new",
    scope: "node",
    only: ["address"],
    help: "a fresh receiving address (each payer gets their own)",
    apply(a) {
      a.newAddress = true;
    },
  },
  {
    name: "--fee-rate",
    value: "N",
    scope: "node",
    only: ["send"],
    help: "the fee in base units per byte (default 10, the suggested rate is in `peerchain wallet info`)",
    apply(a, v) {
      a.feeRate = int("--fee-rate", v, 1, 1_000_000);
    },
  },
  {
    name: "--passphrase-file",
    value: "FILE",
    complete: "file",
    scope: "node",
    only: ["send", "wallet"],
    help: "read the wallet's passphrase from FILE (its first line) instead of asking for it",
    apply(a, v) {
      a.passphraseFile = v;
    },
  },
  {
    name: "--words-file",
    value: "FILE",
    complete: "file",
    scope: "node",
    only: ["wallet"],
    help: "wallet restore: read the 24 seed words from FILE instead of asking for them",
    apply(a, v) {
      a.wordsFile = v;
    },
  },
  {
    name: "--for",
    value: "SECONDS",
    scope: "node",
    only: ["wallet"],
    help: "wallet unlock: how long the wallet stays unlocked, 1 to 86400 seconds",
    apply(a, v) {
      a.forSeconds = int("--for", v, 1, 86_400);
    },
  },
  {
    name: "--help",
    short: "-h",
    scope: "all",
    help: "show this help",
    apply() {}, // the parser turns the line into `help COMMAND` before any other flag is applied
  },
  {
    name: "--version",
    scope: "all",
    help: "print the version",
    apply() {}, // the parser turns the line into `version` before any other flag is applied
  },
];

const NODE_EXITS = [
  [0, "done"],
  [1, "refused by the node (the message says why)"],
  [2, "usage error"],
  [3, "no node is running for that data directory"],
] as const;
const PRINT_EXITS = [[0, "printed"], [2, "usage error"]] as const;

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "run",
    args: "",
    arity: [0, 0],
    summary: "start a node (the default when no command is named)",
    description:
      "Starts a node: joins the network through the SuperPeers in the tracker file (or becomes one when\n" +
      "nobody answers), keeps the chain, relays blocks and payments, and opens the menu (or logs events with\n" +
      "--headless). SIGINT or SIGTERM stop it cleanly; a second Ctrl-C exits at once.",
    examples: [
      "peerchain run --headless --mine",
      "peerchain --network regtest --listen 127.0.0.1:18765",
    ],
    flags: "run",
    exitCodes: [
      [0, "stopped cleanly (Quit, Ctrl-C, SIGTERM or `peerchain stop`)"],
      [1, "could not start (data directory in use, port taken, a store or wallet it refuses)"],
      [2, "usage error"],
      [130, "a second Ctrl-C while stopping"],
    ],
  },
  {
    name: "status",
    args: "",
    arity: [0, 0],
    summary: "role, SuperPeers, height, tip, balance and mining of the running node",
    description:
      "Prints the running node's state at a glance: role, primary and backup SuperPeers, peers, height, tip, wallet balances,\n" +
      "mempool size, whether it mines, its data directory, and a warning when its clock is off.",
    examples: ["peerchain status", "peerchain status --json"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "peers",
    args: "",
    arity: [0, 0],
    summary: "this node's role, its links and the SuperPeers it knows",
    description:
      "Prints this node's role, its primary SuperPeer, its links to other nodes and the directory of SuperPeers.",
    examples: ["peerchain peers --json"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "chain",
    args: "[N]",
    arity: [0, 1],
    summary: "the last N blocks of the active chain (default 10)",
    description: "Prints the last N blocks of the active chain, newest first: height, hash and time.",
    argHelp: [["N", "how many blocks, 1 to 1000 (default 10)"]],
    examples: ["peerchain chain 5"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "block",
    args: "HASH|HEIGHT",
    arity: [1, 1],
    summary: "one block by hash or height",
    description: "Prints one block: its header, its transactions and how many confirmations it has.",
    argHelp: [["HASH|HEIGHT", "a block hash (64 hex digits) or a height on the active chain"]],
    examples: ["peerchain block 42", "peerchain block 0000a1b2…"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "tx",
    args: "TXID",
    arity: [1, 1],
    summary: "one transaction: confirmations, inputs, outputs and fee",
    description:
      "Prints one transaction, pending or confirmed: its block height and confirmations, what each input\n" +
      "spends, each output's address and amount, and its fee. Confirmed ones are found by an unspent output\n" +
      "or in the last 1,000 blocks (the explorer's /tx/TXID finds any).",
    argHelp: [["TXID", "a transaction id (64 hex digits), as `send` printed it"]],
    examples: ["peerchain tx 5f3a…"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "mempool",
    args: "",
    arity: [0, 0],
    summary: "transactions waiting for a block",
    description: "Prints the unconfirmed transactions the node holds, with their fees and sizes.",
    examples: ["peerchain mempool --json"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "balance",
    args: "",
    arity: [0, 0],
    summary: "the wallet's spendable, maturing, incoming and change coins",
    description:
      "Prints the wallet's balances in coins: spendable now, coinbase coins still maturing (and in how many\n" +
      "blocks the next matures), unconfirmed payments from others, and unconfirmed change of its own payments.",
    examples: ["peerchain balance"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "address",
    args: "",
    arity: [0, 0],
    summary: "this node's address, to be paid at (--new: a fresh one)",
    description:
      "Prints the wallet's address; others pay this node with `peerchain send ADDRESS AMOUNT`. With --new,\n" +
      "a fresh receiving address of the wallet's seed (works while the wallet is locked).",
    examples: ["peerchain address", "peerchain address --new"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "send",
    args: "ADDRESS AMOUNT",
    arity: [2, 2],
    summary: "pay AMOUNT coins to ADDRESS",
    description:
      "Pays AMOUNT coins from the node's wallet to ADDRESS, with change to a fresh address of the wallet,\n" +
      "at --fee-rate (default 10 base units per byte), and prints the transaction id. An encrypted wallet\n" +
      "asks for its passphrase (or reads --passphrase-file). The payment waits in the mempool until a block\n" +
      "has it.",
    argHelp: [
      ["ADDRESS", "the address to pay (a mistyped character is always caught)"],
      ["AMOUNT", "coins, with up to 8 decimals, e.g. 1.5"],
    ],
    examples: ["peerchain send pc1q… 1.5", "peerchain send pc1q… 1.5 --fee-rate 20 --passphrase-file pw.txt"],
    flags: "node",
    exitCodes: [
      [0, "sent"],
      [1, "refused: a bad address or amount, insufficient funds, or the node refused the payment"],
      [2, "usage error"],
      [3, "no node is running for that data directory"],
    ],
  },
  {
    name: "mine",
    args: "[N]",
    arity: [0, 1],
    summary: "mine N blocks now (default 1)",
    description: "Mines N blocks on the running node and prints their hashes when they are found.",
    argHelp: [["N", "how many blocks, 1 to 10000 (default 1)"]],
    examples: ["peerchain mine 3"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "mining",
    args: "start|stop",
    arity: [1, 1],
    summary: "start or stop continuous mining",
    description: "Starts mining continuously on the running node (as --mine does), or stops it.",
    argHelp: [["start|stop", "what to do"]],
    examples: ["peerchain mining start", "peerchain mining stop"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "bans",
    args: "",
    arity: [0, 0],
    summary: "hosts banned for misbehaviour, and for how long",
    description:
      "Lists the hosts this node refuses because they sent invalid blocks or transactions, with the time\n" +
      "each ban ends (24 h after it began).",
    examples: ["peerchain bans"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "unban",
    args: "HOST",
    arity: [1, 1],
    summary: "lift the ban on HOST",
    description:
      "Lifts the ban on HOST at once (say its address was handed to another machine), and forgets its\n" +
      "misbehaviour score.",
    argHelp: [["HOST", "the banned address, as `bans` lists it"]],
    examples: ["peerchain unban 192.168.1.7"],
    flags: "node",
    exitCodes: [
      [0, "lifted"],
      [1, "refused: that host is not banned"],
      [2, "usage error"],
      [3, "no node is running for that data directory"],
    ],
  },
  {
    name: "stop",
    args: "",
    arity: [0, 0],
    summary: "stop the running node",
    description: "Asks the running node to stop cleanly, as Ctrl-C would.",
    examples: ["peerchain stop"],
    flags: "node",
    exitCodes: NODE_EXITS,
  },
  {
    name: "wallet",
    args: "ACTION",
    arity: [1, 1],
    summary: "backup, restore, history, info, encrypt, unlock or lock the wallet",
    description: "The wallet of the running node (restore: of a data directory with no node):\n" +
      "  backup   prints the 24 seed words (and any imported keys, which the words do not cover)\n" +
      "  restore  makes the wallet of a new data directory from seed words (asked for, or --words-file);\n" +
      "           start the node there after: it rescans the chain and finds the wallet's coins\n" +
      "  history  payments received and sent, with fees and confirmations\n" +
      "  info     encrypted or not, locked or not, addresses, and the suggested fee rate\n" +
      "  encrypt  sets a passphrase: the words and keys are stored encrypted (scrypt, AES-GCM)\n" +
      "  unlock   opens an encrypted wallet --for SECONDS, for scripts that send\n" +
      "  lock     closes it again",
    argHelp: [["ACTION", "backup, restore, history, info, encrypt, unlock or lock"]],
    examples: [
      "peerchain wallet backup",
      "peerchain wallet restore --data-dir ~/restored --words-file words.txt",
      "peerchain wallet unlock --for 300 --passphrase-file pw.txt",
    ],
    flags: "node",
    exitCodes: [
      [0, "done"],
      [1, "refused: a wrong passphrase, bad seed words, a wallet already there (nothing changed)"],
      [2, "usage error"],
      [3, "no node is running for that data directory"],
    ],
  },
  {
    name: "help",
    args: "[COMMAND]",
    arity: [0, 1],
    summary: "what a command does, its arguments, flags, an example and exit codes",
    description: "Prints the list of commands, or everything about one: `peerchain help send` is\n" +
      "`peerchain send --help`.",
    argHelp: [["COMMAND", "a command name"]],
    examples: ["peerchain help send"],
    flags: "none",
    exitCodes: PRINT_EXITS,
  },
  {
    name: "completions",
    args: "bash|zsh",
    arity: [1, 1],
    summary: "a shell completion script for bash or zsh",
    description:
      "Prints a script that completes peerchain's commands and flags. Load it from your shell's\n" +
      "start-up file.",
    argHelp: [["bash|zsh", "the shell"]],
    examples: [
      "source <(peerchain completions bash)        # in ~/.bashrc",
      "peerchain completions zsh > ~/.zfunc/_peerchain   # with ~/.zfunc in $fpath",
    ],
    flags: "none",
    exitCodes: PRINT_EXITS,
  },
  {
    name: "version",
    args: "",
    arity: [0, 0],
    summary: "print the version (also --version)",
    description: "Prints `peerchain` and its version.",
    examples: ["peerchain --version"],
    flags: "none",
    exitCodes: PRINT_EXITS,
  },
];

/** The command called `name`, or undefined. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The flags `command` accepts, in table order. */
export function flagsOf(command: CommandSpec): FlagSpec[] {
  return FLAGS.filter((f) =>
    (f.scope === "all" || f.scope === command.flags) && (!f.only || f.only.includes(command.name))
  );
}

/** The wallet command's actions. */
export const WALLET_ACTIONS = ["backup", "restore", "history", "info", "encrypt", "unlock", "lock"] as const;
