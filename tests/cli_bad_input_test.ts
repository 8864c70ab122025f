/**
 * Bad input gets one line: a data directory that is a file, a tracker file that cannot be read, an unknown
 * command that is close to a real one. Each: the right exit code, one `peerchain: ` line, no stack trace, and
 * nothing changed.
 */
import assert from "node:assert/strict";
import { namesIn } from "./support/temp_dir.ts";
import { nearestCommand } from "../lib/cli/args.ts";
import { CLI, startPermissions } from "./support/cli.ts";
import { freePort } from "./support/cluster.ts";

const dec = new TextDecoder();

async function node(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...startPermissions(), CLI, ...args],
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function assertOneLine(r: { code: number; stdout: string; stderr: string }, code: number, what: RegExp) {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trimEnd().split("\n").filter((l) => !/^\d{4}-\d\d-\d\dT/.test(l));
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^peerchain: /);
  assert.match(lines[0], what);
  assert.doesNotMatch(r.stderr, /\n\s+at |error: Uncaught/, "no stack trace");
}

Deno.test("a data directory that is a file: one line, exit 1, the file untouched", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bad-" });
  try {
    const file = `${dir}/data`;
    await Deno.writeTextFile(file, "mine\n");
    const r = await node(
      "--headless",
      ...["--network", "regtest", "--listen", `127.0.0.1:${freePort()}`, "--no-explorer"],
      ...["--data-dir", file, "--tracker", `${dir}/t.txt`],
    );
    assertOneLine(r, 1, /data directory .*data is a file, not a directory/);
    assert.equal(await Deno.readTextFile(file), "mine\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a tracker file that cannot be read: one line, exit 1, nothing created", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bad-" });
  try {
    await Deno.mkdir(`${dir}/tracker.txt`); // a directory where the file should be: unreadable as a file
    const r = await node(
      "--headless",
      ...["--network", "regtest", "--listen", `127.0.0.1:${freePort()}`, "--no-explorer"],
      ...["--data-dir", `${dir}/data`, "--tracker", `${dir}/tracker.txt`],
    );
    assertOneLine(r, 1, /cannot read the tracker file .*tracker\.txt/);
    assert.deepEqual(await namesIn(dir), ["data", "tracker.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown command close to a real one: one line with the suggestion, exit 2", async () => {
  assertOneLine(await node("staus"), 2, /unknown command "staus": did you mean status\?$/);
  assertOneLine(await node("ballance"), 2, /did you mean balance\?/);
  assert.equal(nearestCommand("peer"), "peers");
  assert.equal(nearestCommand("sned"), "send");
  assert.equal(nearestCommand("frobnicate"), undefined);
  // Far from every command: the usage follows, as for other usage errors.
  const far = await node("frobnicate");
  assert.equal(far.code, 2);
  assert.match(far.stderr, /^peerchain: unknown command "frobnicate"\nusage: peerchain COMMAND/);
});
