/**
 * Command-line parsing: `peerchain [run] [flags]` or `peerchain COMMAND [args] [flags]`, flags anywhere, from
 * the table in commands.ts. Unknown flags, a flag of another command and bad values are a `UsageError`
 * (exit 2) with a one-line message. `--help` and `--version` win over everything else on the line.
 * @module
 */
import {
  type Args,
  type CommandName,
  COMMANDS,
  findCommand,
  FLAGS,
  type FlagSpec,
  UsageError,
  WALLET_ACTIONS,
} from "./commands.ts";

export { type Args, SUBCOMMANDS, UsageError } from "./commands.ts";

const BY_NAME = new Map<string, FlagSpec>(
  FLAGS.flatMap((f) => f.short ? [[f.name, f], [f.short, f]] : [[f.name, f]]),
);

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
    discover: false,
    json: false,
  };
  // First the words and the flags with their values; which flags are allowed depends on the command, which
  // may come after them.
  const rest: string[] = [];
  const given: [FlagSpec, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") continue; // `deno task start -- ...` passes the separator through
    // A negative number is a value (an amount the node should refuse), not a flag.
    if (!arg.startsWith("-") || /^-[\d.]/.test(arg)) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = BY_NAME.get(name);
    if (!flag) throw new UsageError(`unknown flag "${name}"`, commandOf(rest));
    if (!flag.value) {
      if (eq > 0) throw new UsageError(`${name} takes no value`, commandOf(rest));
      given.push([flag, ""]);
      continue;
    }
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined || v === "") throw new UsageError(`${name} needs a value`, commandOf(rest));
    given.push([flag, v]);
  }
  const [word, ...pos] = rest;
  if (word !== undefined) {
    const spec = findCommand(word);
    if (!spec) {
      const near = nearestCommand(word);
      const e = new UsageError(`unknown command "${word}"${near ? `: did you mean ${near}?` : ""}`);
      e.suggested = near;
      throw e;
    }
    a.command = spec.name;
    a.positional = pos;
  }
  // `send --help` is `help send`; `--help` alone is `help`; `--version` anywhere is `version`.
  if (given.some(([f]) => f.name === "--version")) return { ...a, command: "version", positional: [] };
  if (given.some(([f]) => f.name === "--help")) {
    if (a.command === "help") return a.positional.length ? a : { ...a, positional: ["help"] };
    return { ...a, command: "help", positional: word === undefined ? [] : [a.command] };
  }
  const spec = findCommand(a.command)!;
  for (const [flag, v] of given) {
    if (flag.only && flag.scope === spec.flags && !flag.only.includes(spec.name)) {
      throw new UsageError(
        `${flag.name} is not a flag of ${spec.name} (it belongs to ${flag.only.join(", ")})`,
        spec.name,
      );
    }
    if (flag.scope !== "all" && flag.scope !== spec.flags) {
      throw new UsageError(
        `${flag.name} is not a flag of ${spec.name}` +
          (flag.scope === "run" ? " (it belongs to run)" : " (it belongs to the node's subcommands)"),
        spec.name,
      );
    }
    try {
      flag.apply(a, v);
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(e.message, spec.name);
      throw e;
    }
  }
  const [min, max] = spec.arity;
  if (a.positional.length < min || a.positional.length > max) {
    throw new UsageError(
      `${a.command} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}` +
        (spec.args ? ` (${spec.args})` : ""),
      spec.name,
    );
  }
  if (a.command === "help" && a.positional[0] !== undefined && !findCommand(a.positional[0])) {
    throw new UsageError(`no command "${a.positional[0]}" to help with`, "help");
  }
  if (a.command === "wallet" && !(WALLET_ACTIONS as readonly string[]).includes(a.positional[0])) {
    throw new UsageError(`wallet ${a.positional[0]}: the actions are ${WALLET_ACTIONS.join(", ")}`, "wallet");
  }
  if (a.command === "mining" && a.positional[0] !== "start" && a.positional[0] !== "stop") {
    throw new UsageError(`mining takes start or stop, not "${a.positional[0]}"`, "mining");
  }
  if (a.command === "completions" && a.positional[0] !== "bash" && a.positional[0] !== "zsh") {
    throw new UsageError(`completions are for bash or zsh, not "${a.positional[0]}"`, "completions");
  }
  return a;
}

/** The command named so far, for a usage error's hint. */
function commandOf(words: string[]): CommandName | undefined {
  return words.length ? findCommand(words[0])?.name : "run";
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The command `word` was probably meant to be: the closest within two edits (one for short words), or one
 * it starts; undefined when none is close.
 * @example nearestCommand("staus") // "status"
 */
export function nearestCommand(word: string): CommandName | undefined {
  const w = word.toLowerCase();
  let best: { name: CommandName; d: number } | undefined;
  for (const c of COMMANDS) {
    const d = c.name.startsWith(w) && w.length >= 2 ? 0 : editDistance(w, c.name);
    if (d <= (w.length <= 4 ? 1 : 2) && (!best || d < best.d)) best = { name: c.name, d };
  }
  return best?.name;
}
