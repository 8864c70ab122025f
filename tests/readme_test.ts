/**
 * The README works verbatim. Its one-machine demo, its second-node recipe and its subcommand examples are run
 * here as written, in a fresh git clone of the code (a temporary folder named `peerchain`, committed, so
 * `git status` can say whether running nodes dirtied it), with two substitutions: `npx -y deno@2.9.6` is this
 * Deno (the same version, asserted), and the README's ports 18765-18767 are free ports (the suite shares the
 * machine). Its library example runs through `deno test --doc README.md`. The install and service blocks are
 * linted: shell syntax, and every `peerchain` command line and unit file argument parsed by the real parser,
 * with the from-source service using exactly the `start` task's permissions.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { parseArgs } from "../lib/cli/args.ts";
import { startPermissions } from "./support/cli.ts";
import { freePort } from "./support/cluster.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { waitFor } from "./support/wait.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = await Deno.readTextFile(`${ROOT}README.md`);
const dec = new TextDecoder();
const NPX_DENO = "npx -y deno@2.9.6";

/** The fenced block right after `<!-- readme-test: NAME -->`. */
function marked(name: string): string {
  const at = README.indexOf(`<!-- readme-test: ${name} -->`);
  assert.ok(at >= 0, `README has a block marked ${name}`);
  const m = /```(\w+)\n([\s\S]*?)```/.exec(README.slice(at));
  assert.ok(m, `a fenced block after the ${name} marker`);
  return m[2];
}

/** Every fenced block of `lang`. */
function blocks(lang: string): string[] {
  return [...README.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

/** A command line of the README without its comment. */
const code = (line: string) => line.replace(/\s+#.*$/, "").trim();

interface Spawned {
  proc: Deno.ChildProcess;
  out: string[];
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  for await (const chunk of stream) into.push(dec.decode(chunk));
}

Deno.test({
  name:
    "README: the demo, the second node from another folder and the subcommands work as written; the clone stays clean",
  async fn() {
    assert.equal(Deno.version.deno, "2.9.6", "the README's Deno");
    await withTempDir(async (tmp) => {
      // A clone: the code, its config and the files a user has, committed.
      const clone = `${tmp}/peerchain`;
      await Deno.mkdir(clone);
      for (
        const f of ["cli.ts", "mod.ts", "deno.json", "deno.lock", ".gitignore", "server_tracker.txt", "lib"]
      ) {
        const cp = await new Deno.Command("cp", { args: ["-r", `${ROOT}${f}`, `${clone}/${f}`] }).output();
        assert.equal(cp.code, 0, dec.decode(cp.stderr));
      }
      const git = async (...args: string[]) => {
        const r = await new Deno.Command("git", {
          args: ["-c", "user.name=t", "-c", "user.email=t@t", ...args],
          cwd: clone,
        }).output();
        assert.equal(r.code, 0, dec.decode(r.stderr));
        return dec.decode(r.stdout);
      };
      await git("init", "-q");
      await git("add", "-A");
      await git("commit", "-qm", "clone");

      const ports = new Map([["18765", freePort()], ["18766", freePort()], ["18767", freePort()]]);
      const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
        .output();
      const env = {
        PATH: Deno.env.get("PATH")!,
        HOME: `${tmp}/home`,
        XDG_DATA_HOME: `${tmp}/xdg`,
        DENO_DIR: JSON.parse(dec.decode(info.stdout)).denoDir,
      };
      const local = (line: string) => {
        let s = line.replaceAll(NPX_DENO, `"${Deno.execPath()}"`);
        for (const [from, to] of ports) s = s.replaceAll(from, String(to));
        return s;
      };
      const spawned: Spawned[] = [];
      const spawn = (script: string, cwd: string): Spawned => {
        const proc = new Deno.Command("bash", {
          args: ["-c", script],
          cwd,
          env,
          clearEnv: true,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const s = { proc, out: [] as string[] };
        collect(proc.stdout, s.out).catch(() => {});
        collect(proc.stderr, s.out).catch(() => {});
        spawned.push(s);
        return s;
      };
      const run = async (script: string, cwd = clone) => {
        const r = await new Deno.Command("bash", { args: ["-c", script], cwd, env, clearEnv: true }).output();
        return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
      };
      const dataDirs: string[] = [];
      try {
        // The demo: terminal 1 and 2 start nodes, terminal 3 asks the second.
        const [first, second, ask] = marked("demo").trim().split("\n").map(code);
        for (const l of [first, second, ask]) assert.ok(l.startsWith(`${NPX_DENO} task -q start `), l);
        spawn(`exec ${local(first)}`, clone);
        const p1 = ports.get("18765")!, p2 = ports.get("18766")!, p3 = ports.get("18767")!;
        const base = `${tmp}/xdg/peerchain/regtest`;
        dataDirs.push(`${base}-${p1}`, `${base}-${p2}`, `${base}-${p3}`);
        await waitFor(() => exists(`${base}-${p1}/rpc.json`), 30_000, "the first node to start");
        spawn(`exec ${local(second)}`, clone);
        let status = { code: 1, stdout: "", stderr: "" };
        await waitFor(
          async () => {
            status = await run(local(ask));
            return status.code === 0 && status.stdout.includes(`Peer of 127.0.0.1:${p1}`);
          },
          30_000,
          () =>
            `the second node to join the first: ${JSON.stringify(status)}\n${
              spawned.map((s) => s.out.join("")).join("\n---\n")
            }`,
        );
        // Quiet from source: no task banner, no colour codes in a pipe.
        assert.ok(!(status.stdout + status.stderr).includes("\u001b["), "no colour codes");
        assert.doesNotMatch(status.stdout + status.stderr, /Task start/);
        assert.match(
          status.stdout,
          new RegExp(`^data +${base}-${p2}$`, "m"),
          "status names the data directory",
        );
        assert.match(status.stdout, new RegExp(`^explorer +http://127\\.0\\.0\\.1:${p2 + 1000}/$`, "m"));

        // The subcommands, as the README lists them, against the first node (the same --network/--listen).
        const peerchain = (args: string) =>
          run(local(`${NPX_DENO} task -q start ${args} --network regtest --listen 127.0.0.1:18765`));
        const sub = blocks("sh").find((b) => b.includes("peerchain send pc1q... 1.5"))!;
        const lines = sub.trim().split("\n").map(code);
        assert.ok(lines.includes("peerchain status") && lines.includes("peerchain mining start"));
        for (const l of ["peerchain status", "peerchain address", "peerchain balance", "peerchain bans"]) {
          const r = await peerchain(l.slice("peerchain ".length));
          assert.equal(r.code, 0, `${l}: ${r.stderr}`);
          assert.doesNotMatch(r.stdout, /^[{[]/, `${l} prints text`);
        }
        assert.equal((await peerchain("mine 11")).code, 0); // `mine 3`, and 8 more for a mature coinbase
        const to =
          (await run(local(`${NPX_DENO} task -q start address --network regtest --listen 127.0.0.1:18766`)))
            .stdout.trim();
        assert.ok(lines.includes("peerchain send pc1q... 1.5"));
        const sent = await peerchain(`send ${to} 1.5`);
        assert.equal(sent.code, 0, sent.stderr);
        assert.match(sent.stdout, /^sent 1\.5 coins: transaction [0-9a-f]{64}, fee /);
        const txid = /transaction ([0-9a-f]{64})/.exec(sent.stdout)![1];
        assert.match((await peerchain(`tx ${txid}`)).stdout, /^status +pending/m);
        assert.equal((await peerchain("mining start")).stdout, "mining: on\n");
        assert.equal((await peerchain("mining stop")).stdout, "mining: off\n");

        // The second-node recipe, from a folder beside the clone.
        const recipe = marked("second-node").trim().split("\n").map(code);
        const last = recipe.pop()!;
        assert.ok(last.startsWith(`${NPX_DENO} task -q --config ../peerchain/deno.json start `), last);
        spawn([...recipe.map(local), `exec ${local(last)}`].join("\n"), clone);
        let third = { code: 1, stdout: "", stderr: "" };
        await waitFor(
          async () => {
            third = await run(
              local(`${NPX_DENO} task -q start status --network regtest --listen 127.0.0.1:18767`),
            );
            return third.code === 0 && third.stdout.includes(`Peer of 127.0.0.1:${p1}`);
          },
          30_000,
          () => `the third node to find the first through the copied file: ${JSON.stringify(third)}`,
        );
        assert.ok(await exists(`${tmp}/second/server_tracker.regtest.txt`));

        // Nodes ran from the clone: git sees nothing changed (what they learned is in an ignored file).
        assert.ok(await exists(`${clone}/server_tracker.regtest.txt`));
        assert.equal(await git("status", "--porcelain"), "", "the clone is clean");
      } finally {
        for (const dir of dataDirs) await stopNode(dir);
        for (const s of spawned) {
          try {
            s.proc.kill("SIGKILL");
          } catch { /* gone */ }
          await s.proc.status;
        }
      }
    }, "peerchain-readme-");
  },
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Stops the node of `dataDir` through its RPC, or kills its process (its pid is in rpc.json). */
async function stopNode(dataDir: string): Promise<void> {
  let pid: number | undefined;
  try {
    const rpc = JSON.parse(await Deno.readTextFile(`${dataDir}/rpc.json`));
    pid = rpc.pid;
    await fetch(`http://127.0.0.1:${rpc.port}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${rpc.cookie}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "stop" }),
    }).then((r) => r.body?.cancel());
  } catch {
    return; // never started, or already stopped
  }
  for (let i = 0; i < 50 && await exists(`${dataDir}/rpc.json`); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    if (pid) Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

Deno.test("README: the library example runs (deno test --doc README.md) and prints what it says", async () => {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--doc", "--allow-read", "--allow-write", "--allow-env", "README.md"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  const out = dec.decode(r.stdout);
  assert.equal(r.code, 0, out + dec.decode(r.stderr));
  assert.match(out, /README\.md\$\d+-\d+\.ts \.\.\. ok|README\.md#\d+-\d+\.ts \.\.\. ok/);
  const example = blocks("ts").find((b) => b.includes("chain.height"))!;
  assert.match(example, /console\.log\(chain\.height\); \/\/ 1/);
  assert.match(out, /^1$/m, "it prints 1, as its comment says");
});

Deno.test("README: the install and service blocks are linted: shell syntax, command lines, unit files", async () => {
  // Every sh block parses as bash.
  for (const b of blocks("sh")) {
    const r = await new Deno.Command("bash", { args: ["-n", "-c", b] }).output();
    assert.equal(r.code, 0, `bash -n:\n${b}\n${dec.decode(r.stderr)}`);
  }
  // Every `peerchain ...` command line of the install block parses with the real parser.
  const install = blocks("sh").find((b) => b.includes("sha256sum -c"))!;
  for (const l of install.split("\n").map(code).filter((l) => l.startsWith("peerchain"))) {
    parseArgs(l.split(/\s+/).slice(1));
  }
  // systemd: one [Unit], [Service], [Install]; ExecStart's arguments parse; the from-source line has the
  // start task's permissions.
  const [unit] = blocks("ini");
  const sections = [...unit.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, ["Unit", "Service", "Install"]);
  for (const line of unit.split("\n").filter((l) => l.trim() && !l.startsWith("["))) {
    assert.match(line, /^[A-Z]\w+=\S/, `a Key=value line: ${line}`);
  }
  const exec = /^ExecStart=(\S+) (.*)$/m.exec(unit)!;
  assert.equal(exec[1], "/usr/local/bin/peerchain");
  const args = parseArgs(exec[2].split(/\s+/));
  assert.equal(args.command, "run");
  assert.ok(args.headless && args.dataDir && args.tracker.startsWith("/"), "absolute paths for a service");
  const fromSource =
    /`ExecStart=\/usr\/local\/bin\/deno run (.*?) \/opt\/peerchain\/cli\.ts run --headless \.\.\.`/
      .exec(README);
  assert.ok(fromSource, "the from-source ExecStart");
  assert.deepEqual(
    fromSource[1].split(" ").sort(),
    startPermissions().sort(),
    "the start task's permissions",
  );
  assert.ok(denoJson.tasks.start.includes(fromSource[1]));
  // launchd: well-formed XML (tags balanced), and ProgramArguments parse.
  const [plist] = blocks("xml");
  const stack: string[] = [];
  for (const [, close, name, self] of plist.matchAll(/<(\/?)([A-Za-z][\w.]*)[^>]*?(\/?)>/g)) {
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes what is open`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], "every tag closed");
  const argv = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(plist)![1];
  const words = [...argv.matchAll(/<string>(.*?)<\/string>/g)].map((m) => m[1]);
  assert.equal(words[0], "/usr/local/bin/peerchain");
  assert.equal(parseArgs(words.slice(1)).command, "run");
});
