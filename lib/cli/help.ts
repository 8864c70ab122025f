/**
 * What the command line prints about itself: the command list, each command's help, the one-line usage after
 * a usage error, the version, and completion scripts for bash and zsh — all read from the table in
 * commands.ts, so they cannot drift from what the parser accepts.
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };
import {
  type CommandName,
  COMMANDS,
  type CommandSpec,
  findCommand,
  FLAGS,
  flagsOf,
  type FlagSpec,
} from "./commands.ts";

/**
 * The program's version, from deno.json. Imported as a module, so a compiled binary carries it and never reads
 * deno.json at run time.
 */
export const VERSION: string = denoJson.version;

function flagLabel(f: FlagSpec): string {
  return `${f.short ? `${f.short}, ` : ""}${f.name}${f.value ? ` ${f.value}` : ""}`;
}

function columns(rows: readonly (readonly [string, string])[], indent = "  "): string[] {
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `${indent}${l.padEnd(width)}  ${r}`);
}

/** The one-line synopsis of `command`. */
function usageLine(command: CommandName): string {
  const spec = findCommand(command)!;
  const name = command === "run" ? "[run]" : command;
  return `usage: peerchain ${name}${spec.args ? ` ${spec.args}` : ""}${
    spec.flags === "none" ? "" : " [flags]"
  }`;
}

/** What follows a usage error: the command's synopsis (or the list) and where to read more. */
export function usageHint(command?: CommandName): string {
  if (!command) return `usage: peerchain COMMAND [args] [flags]\nrun \`peerchain help\` for the commands`;
  return `${usageLine(command)}\nrun \`peerchain help ${command}\` for its arguments, flags and exit codes`;
}

/** Everything about one command: what it does, its arguments and flags, examples and exit codes. */
export function commandHelp(command: CommandName): string {
  const spec: CommandSpec = findCommand(command)!;
  const lines = [usageLine(command), "", spec.description, ""];
  if (spec.argHelp?.length) lines.push("Arguments:", ...columns(spec.argHelp), "");
  lines.push("Flags:", ...columns(flagsOf(spec).map((f) => [flagLabel(f), f.help])), "");
  lines.push(spec.examples.length > 1 ? "Examples:" : "Example:", ...spec.examples.map((e) => `  ${e}`), "");
  lines.push("Exit codes:", ...columns(spec.exitCodes.map(([c, m]) => [String(c), m])));
  return lines.join("\n");
}

/** The list of commands and the flags every command takes. */
export function generalHelp(): string {
  return [
    `peerchain ${VERSION}: a peer-to-peer blockchain node for a LAN`,
    "",
    "usage: peerchain [run] [flags]             start a node (see `peerchain help run`)",
    "       peerchain COMMAND [args] [flags]    ask the running node, or print something",
    "",
    "Commands:",
    ...columns(COMMANDS.map((c) => [c.args ? `${c.name} ${c.args}` : c.name, c.summary])),
    "",
    "Flags of every command:",
    ...columns(FLAGS.filter((f) => f.scope === "all").map((f) => [flagLabel(f), f.help])),
    "",
    "`peerchain help COMMAND` or `peerchain COMMAND --help` says more about one.",
    "Exit codes of the node's subcommands: 0 done, 1 refused, 2 usage error, 3 no node running.",
  ].join("\n");
}

/** Words a shell may offer after `flag`: fixed values, or a path kind. */
function valueWords(f: FlagSpec): readonly string[] | "dir" | "file" | "none" {
  return f.complete ?? "none";
}

/** A bash completion script: commands, each command's flags, and the values of flags that have a few. */
export function bashCompletion(): string {
  const valueFlags = FLAGS.filter((f) => f.value);
  const prevCases = valueFlags.map((f) => {
    const w = valueWords(f);
    const names = [f.name, f.short].filter(Boolean).join("|");
    const body = w === "dir"
      ? `COMPREPLY=($(compgen -d -- "$cur"))`
      : w === "file"
      ? `COMPREPLY=($(compgen -f -- "$cur"))`
      : w === "none"
      ? "COMPREPLY=()"
      : `COMPREPLY=($(compgen -W "${w.join(" ")}" -- "$cur"))`;
    return `    ${names}) ${body}; return ;;`;
  });
  const flagWords = (c: CommandSpec) =>
    flagsOf(c).flatMap((f) => [f.name, ...(f.short ? [f.short] : [])]).join(" ");
  const commandCases = COMMANDS.map((c) => {
    const extra = c.name === "help"
      ? `words="${COMMANDS.map((x) => x.name).join(" ")}"`
      : c.name === "completions"
      ? `words="bash zsh"`
      : `words=""`;
    return `    ${c.name}) flags="${flagWords(c)}"; ${extra} ;;`;
  });
  const run = findCommand("run")!;
  return `# bash completion for peerchain ${VERSION}: source <(peerchain completions bash)
_peerchain() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  case "$prev" in
${prevCases.join("\n")}
  esac
  # The command is the first word that is neither a flag nor a flag's value.
  local cmd="" i w skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      ${valueFlags.map((f) => f.name).join("|")}) skip=1 ;;
      -*) ;;
      *) cmd="$w"; break ;;
    esac
  done
  local flags words
  case "$cmd" in
    "") flags="${flagWords(run)}"; words="${COMMANDS.map((c) => c.name).join(" ")}" ;;
${commandCases.join("\n")}
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  fi
}
complete -F _peerchain peerchain
`;
}

/** Text for inside zsh's `[...]` descriptions and `'...'` quotes. */
function zshText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/'/g, "'\\''").replace(/([[\]:])/g, "\\$1");
}

function zshFlag(f: FlagSpec): string {
  const w = valueWords(f);
  const action = !f.value
    ? ""
    : w === "dir"
    ? `:${zshText(f.value)}:_files -/`
    : w === "file"
    ? `:${zshText(f.value)}:_files`
    : w === "none"
    ? `:${zshText(f.value)}: `
    : `:${zshText(f.value)}:(${w.join(" ")})`;
  const repeat = f.name === "--connect" ? "*" : "";
  const spec = `${repeat}${f.name}[${zshText(f.help)}]${action}`;
  return f.short
    ? `'(${f.short} ${f.name})'{${f.short},${f.name}}'[${zshText(f.help)}]${action}'`
    : `'${spec}'`;
}

/** A zsh completion script (`#compdef peerchain`): commands with their summaries and each command's flags. */
export function zshCompletion(): string {
  const run = findCommand("run")!;
  const commandArgs = (c: CommandSpec) => {
    const specs = flagsOf(c).map(zshFlag);
    if (c.name === "help") specs.push(`'1:command:(${COMMANDS.map((x) => x.name).join(" ")})'`);
    if (c.name === "completions") specs.push(`'1:shell:(bash zsh)'`);
    return `        ${c.name}) _arguments -s ${specs.join(" \\\n            ")} ;;`;
  };
  return `#compdef peerchain
# zsh completion for peerchain ${VERSION}: put this file on $fpath as _peerchain, or eval it after compinit.
_peerchain() {
  local curcontext="$curcontext" state line
  typeset -A opt_args
  local -a commands
  commands=(
${COMMANDS.map((c) => `    '${c.name}:${zshText(c.summary)}'`).join("\n")}
  )
  _arguments -C -s \\
    ${flagsOf(run).map(zshFlag).join(" \\\n    ")} \\
    '1: :->command' \\
    '*:: :->args' && return
  case $state in
    command) _describe -t commands 'peerchain command' commands ;;
    args)
      case $line[1] in
${COMMANDS.map(commandArgs).join("\n")}
      esac ;;
  esac
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _peerchain "$@"; else compdef _peerchain peerchain; fi
`;
}
