/**
 * The command line describes itself: `help COMMAND` and `COMMAND --help` for every command (what it does,
 * arguments, flags, an example, exit codes), `--version` from deno.json, and bash and zsh completions. Every
 * flag the parser accepts appears in the help of each command that takes it and is offered by both shells'
 * completion for that command; a flag of another command is refused.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { parseArgs, UsageError } from "../lib/cli/args.ts";
import { COMMANDS, FLAGS, flagsOf } from "../lib/cli/commands.ts";
import { bashCompletion, commandHelp, generalHelp, zshCompletion } from "../lib/cli/help.ts";
import { CLI, type CliResult, SUB_PERMISSIONS } from "./support/cli.ts";

const dec = new TextDecoder();

/** Runs `cli.ts args...` with no default flags added. */
async function run(...args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...SUB_PERMISSIONS, CLI, ...args],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A value the parser accepts for `flag`. */
function sampleValue(value: string): string {
  if (value === "main|regtest") return "regtest";
  if (value === "HOST:PORT") return "127.0.0.1:18765";
  if (/^(N|MS|SECONDS)$/.test(value)) return "200";
  return "/tmp/x";
}

Deno.test("help COMMAND and COMMAND --help print the same full help for every command, exit 0", async () => {
  const names = COMMANDS.map((c) => c.name);
  const results = await Promise.all(names.flatMap((n) => [run("help", n), run(n, "--help")]));
  names.forEach((name, i) => {
    const [viaHelp, viaFlag] = results.slice(2 * i, 2 * i + 2);
    for (const r of [viaHelp, viaFlag]) {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, "");
    }
    assert.equal(viaFlag.stdout, viaHelp.stdout, name);
    const text = viaHelp.stdout;
    assert.equal(text.trimEnd(), commandHelp(name));
    assert.match(text, new RegExp(`^usage: peerchain ${name === "run" ? "\\[run\\]" : name}`));
    assert.match(text, /\nFlags:\n/);
    assert.match(text, /\nExamples?:\n {2}.*peerchain /);
    assert.match(text, /\nExit codes:\n {2}0 /);
    assert.match(text, /\n {2}2 +usage error/);
    for (const f of flagsOf(COMMANDS.find((c) => c.name === name)!)) {
      assert.ok(
        text.includes(`  ${f.short ? `${f.short}, ` : ""}${f.name}`),
        `${name} --help lists ${f.name}`,
      );
    }
  });
});

Deno.test("the node's subcommands document exit code 3 (no node running), run documents 1 (could not start)", () => {
  for (const c of COMMANDS) {
    const codes = c.exitCodes.map(([code]) => code);
    if (c.flags === "node") assert.deepEqual(codes, [0, 1, 2, 3], c.name);
    if (c.name === "run") assert.deepEqual(codes.slice(0, 3), [0, 1, 2]);
  }
});

Deno.test("--help and help list every command; --version and version print deno.json's version", async () => {
  const [general, help, version, versionCmd, flagLate] = await Promise.all([
    run("--help"),
    run("help"),
    run("--version"),
    run("version"),
    run("status", "--json", "--version"),
  ]);
  assert.equal(general.code, 0);
  assert.equal(general.stdout, help.stdout);
  assert.equal(general.stdout.trimEnd(), generalHelp());
  for (const c of COMMANDS) assert.match(general.stdout, new RegExp(`\\n {2}${c.name}\\b`), c.name);
  for (const r of [version, versionCmd, flagLate]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `peerchain ${denoJson.version}\n`);
  }
});

Deno.test("help for an unknown command, or completions for another shell, is a usage error (exit 2)", async () => {
  const [unknown, fish] = await Promise.all([run("help", "frobnicate"), run("completions", "fish")]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^peerchain: no command "frobnicate" to help with\nusage: peerchain help/);
  assert.equal(fish.code, 2);
  assert.match(fish.stderr, /^peerchain: completions are for bash or zsh/);
  assert.equal(unknown.stdout + fish.stdout, "");
});

Deno.test("every flag the parser accepts is accepted exactly by the commands whose help lists it", () => {
  for (const c of COMMANDS) {
    const help = commandHelp(c.name);
    for (const f of FLAGS) {
      if (f.name === "--help" || f.name === "--version") continue; // they replace the command
      const argv = [
        c.name,
        ...Array(c.arity[0]).fill(
          c.name === "completions"
            ? "bash"
            : c.name === "mining"
            ? "start"
            : c.name === "wallet"
            ? "backup"
            : "1",
        ),
        f.name,
        ...(f.value ? [sampleValue(f.value)] : []),
      ];
      const listed = help.includes(`  ${f.name}`);
      let accepted = true;
      try {
        parseArgs(argv);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        assert.match(e.message, /is not a flag of/, argv.join(" "));
        accepted = false;
      }
      assert.equal(accepted, listed, `${argv.join(" ")}: accepted ${accepted}, in its help ${listed}`);
    }
  }
});

/** What bash offers after `words` (the last one being completed). */
async function bashOffers(script: string, words: string[]): Promise<string[]> {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `source /dev/stdin <<'EOF'\n${script}\nEOF\n` +
      `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _peerchain; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
  }).output();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  return dec.decode(out.stdout).split("\n").filter(Boolean);
}

Deno.test("bash completion offers the commands, each command's flags and the values of --network", async () => {
  const r = await run("completions", "bash");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd(), bashCompletion().trimEnd());
  const script = r.stdout;
  assert.deepEqual(await bashOffers(script, ["peerchain", ""]), COMMANDS.map((c) => c.name));
  assert.deepEqual(await bashOffers(script, ["peerchain", "se"]), ["send"]);
  assert.deepEqual(await bashOffers(script, ["peerchain", "--network", ""]), ["main", "regtest"]);
  assert.deepEqual(await bashOffers(script, ["peerchain", "--data-dir", "/tmp", "st"]), ["status", "stop"]);
  assert.deepEqual(await bashOffers(script, ["peerchain", "completions", ""]), ["bash", "zsh"]);
  for (const c of COMMANDS) {
    const offered = await bashOffers(script, ["peerchain", c.name, "-"]);
    const expected = flagsOf(c).flatMap((f) => f.short ? [f.name, f.short] : [f.name]);
    assert.deepEqual(offered.sort(), expected.sort(), c.name);
  }
  // With no command named, the line is `run`'s.
  assert.ok((await bashOffers(script, ["peerchain", "--he"])).includes("--headless"));
});

Deno.test("the zsh completion parses and names each command's flags in that command's branch", async () => {
  const r = await run("completions", "zsh");
  assert.equal(r.code, 0, r.stderr);
  const script = r.stdout;
  assert.equal(script.trimEnd(), zshCompletion().trimEnd());
  assert.match(script, /^#compdef peerchain\n/);
  for (const c of COMMANDS) {
    assert.match(script, new RegExp(`\\n {4}'${c.name}:`), `${c.name} in the command list`);
    const branch = new RegExp(`\\n {8}${c.name}\\) _arguments -s ([^;]*);;`).exec(script);
    assert.ok(branch, `a branch for ${c.name}`);
    for (const f of flagsOf(c)) assert.ok(branch[1].includes(f.name), `${c.name}: ${f.name}`);
    for (const f of FLAGS.filter((f) => !flagsOf(c).includes(f))) {
      assert.ok(!branch[1].includes(`'${f.name}[`), `${c.name} does not offer ${f.name}`);
    }
  }
  const zsh = await new Deno.Command("sh", { args: ["-c", "command -v zsh"] }).output();
  if (zsh.code !== 0) {
    console.log("zsh is not installed: its syntax check is skipped (.ci/run installs it)");
    return;
  }
  const file = await Deno.makeTempFile({ suffix: ".zsh" });
  try {
    await Deno.writeTextFile(file, script);
    const check = await new Deno.Command("zsh", { args: ["-n", file] }).output();
    assert.equal(check.code, 0, dec.decode(check.stderr));
  } finally {
    await Deno.remove(file);
  }
});
