/** Running the real `cli.ts` as a subprocess and checking what a person would read. */
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };

/** Path of the executable's entry point. */
export const CLI = new URL("../../cli.ts", import.meta.url).pathname;
/** The permission flags of `deno task start` (the node and the menu must work with exactly those; `-A` too if it were there). */
export function startPermissions(): string[] {
  return denoJson.tasks.start.split(/\s+/).filter((w) => w.startsWith("--allow") || w === "-A");
}

/** Permissions a subcommand needs. */
export const SUB_PERMISSIONS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env"];

/** What a finished process printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const dec = new TextDecoder();

/** Runs `cli.ts args...` on regtest against `dataDir` and captures everything. */
export async function cli(dataDir: string, ...args: string[]): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...SUB_PERMISSIONS, CLI, ...args, "--network", "regtest", "--data-dir", dataDir],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs a `--json` subcommand that must succeed and returns its one JSON value. */
export async function json<T = Record<string, unknown>>(dataDir: string, ...args: string[]): Promise<T> {
  const r = await cli(dataDir, ...args, "--json");
  assert.equal(r.code, 0, `${args.join(" ")} failed: ${r.stderr}`);
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, `one line of JSON, got:\n${r.stdout}`);
  return JSON.parse(r.stdout);
}

/**
 * Exit code `code`, nothing on stdout, one `peerchain: ` line on stderr; for a usage error (2) it is followed by
 * a usage line and where to read more (`peerchain help ...`). Under `--json`, one JSON line
 * `{"error": {"code", "message"}}` instead.
 */
export function assertRefusal(r: CliResult, code: number, mentions: RegExp): void {
  assert.equal(r.code, code, `exit code; stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  // Under --json: one JSON object with a stable code name and the message.
  if (lines[0].startsWith("{")) {
    assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    const { error } = JSON.parse(lines[0]);
    assert.match(error.code, /^[a-z]+(-[a-z]+)*$/);
    assert.match(error.message, mentions);
    return;
  }
  assert.match(lines[0], /^peerchain: \S/);
  assert.match(lines[0], mentions);
  if (code === 2) {
    assert.equal(lines.length, 3, `message, usage and hint, got:\n${r.stderr}`);
    assert.match(lines[1], /^usage: peerchain /);
    assert.match(lines[2], /`peerchain help( \w+)?`/);
  } else assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
}
