/**
 * The release pipeline, as far as it can run without Deno's runtime download: the workflow files parse and say
 * what they must (their shell steps are run here too), scripts/compile.sh builds the five targets with
 * exactly the `start` task's permissions and the run-time assets (run with a stand-in `deno`), and a real
 * node whose `--allow-read` is only its data directory, its tracker file and the files compile.sh includes
 * mines, pays and stops: nothing else is read at run time, so the compiled binary has all it needs.
 */
import assert from "node:assert/strict";
import { parseDocument, TEST_PACKAGES } from "./support/test_deps.ts";
import denoJson from "../deno.json" with { type: "json" };
import { CLI, startPermissions } from "./support/cli.ts";
import { Cluster, freePort } from "./support/cluster.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const dec = new TextDecoder();
/** The five machines a release has a binary for (README's install table), sorted. */
const TARGETS = [
  "aarch64-apple-darwin",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "x86_64-pc-windows-msvc",
  "x86_64-unknown-linux-gnu",
];

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  "working-directory"?: string;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

/** A workflow file, parsed strictly: any YAML error or warning fails the test. */
async function workflow(name: string): Promise<Workflow> {
  const doc = parseDocument(await Deno.readTextFile(`${ROOT}.github/workflows/${name}`), {
    uniqueKeys: true,
  });
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${name} parses`);
  assert.deepEqual(doc.warnings.map((e) => e.message), [], `${name} has no warnings`);
  return doc.toJS() as Workflow;
}

async function bash(script: string, opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const out = await new Deno.Command("bash", { args: ["-c", script], cwd: opts.cwd, env: opts.env }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("ci.yml runs .ci/run on every push and pull request", async () => {
  const ci = await workflow("ci.yml");
  assert.ok("push" in ci.on && "pull_request" in ci.on);
  assert.deepEqual(ci.permissions, { contents: "read" });
  const runs = Object.values(ci.jobs).flatMap((j) => j.steps.map((s) => s.run ?? ""));
  assert.ok(runs.includes("bash .ci/run"), `a step runs .ci/run: ${runs.join(" | ")}`);
});

Deno.test("release.yml: on a version tag, tests, compiles with Deno 2.9.6, checks SHA256SUMS and releases the binaries", async () => {
  const rel = await workflow("release.yml");
  assert.deepEqual(rel.on, { push: { tags: ["v*"] } });
  assert.deepEqual(rel.permissions, { contents: "read" }, "read-only unless a job needs more");
  assert.ok(rel.jobs.test.steps.some((s) => s.run === "bash .ci/run"));
  const build = rel.jobs.build;
  assert.equal(build.needs, "test", "no build without a green test run");
  const deno = build.steps.find((s) => s.uses?.startsWith("denoland/setup-deno@"));
  assert.equal(deno?.with?.["deno-version"], "2.9.6");
  assert.match(
    await Deno.readTextFile(`${ROOT}README.md`),
    /npx -y deno@2\.9\.6 task -q start/,
    "the same Deno",
  );
  const runs = build.steps.map((s) => s.run ?? "");
  const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
  const compile = at(/^deno task compile$/);
  const check = at(/^sha256sum -c SHA256SUMS$/);
  assert.ok(compile >= 0 && check > compile, "compile, then check");
  assert.equal(build.steps[check]["working-directory"], "dist");
  // Every binary runs on its own OS and CPU before the release; Linux x86-64 runs the two-node payment.
  const smoke = rel.jobs.smoke as Job & {
    strategy: { matrix: { include: { os: string; target: string }[] } };
  };
  assert.equal(smoke.needs, "build");
  const targets = smoke.strategy.matrix.include.map((m) => m.target.replace(/\.exe$/, "")).sort();
  assert.deepEqual(targets, TARGETS);
  assert.ok(smoke.steps.some((s) => /bash scripts\/smoke_binary\.sh "\$bin"/.test(s.run ?? "")));
  const job = rel.jobs.release;
  assert.equal(job.needs, "smoke", "no release before every binary ran");
  assert.deepEqual(job.permissions, { contents: "write" });
  const publish = job.steps.findIndex((s) =>
    /^gh release create "\$\{GITHUB_REF_NAME\}" dist\/peerchain-\* dist\/SHA256SUMS /.test(s.run ?? "")
  );
  const recheck = job.steps.findIndex((s) => s.run === "sha256sum -c SHA256SUMS");
  assert.ok(recheck >= 0 && publish > recheck, "the downloaded binaries are checked again, then published");
});

Deno.test("smoke_binary.sh (what release.yml runs on each runner): --version, two regtest nodes and a payment", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-smoke-" });
  try {
    // A stand-in for the binary: the same program run from source, with the binary's permissions.
    const bin = `${dir}/peerchain`;
    await Deno.writeTextFile(
      bin,
      `#!/usr/bin/env bash\nexec "${Deno.execPath()}" run ${startPermissions().join(" ")} "${CLI}" "$@"\n`,
    );
    await Deno.chmod(bin, 0o755);
    const [a, b] = [freePort(), freePort()];
    const r = await bash(`bash scripts/smoke_binary.sh ${bin} ${a} ${b}`, {
      cwd: ROOT,
      env: { PATH: Deno.env.get("PATH")!, HOME: dir, NO_COLOR: "1" },
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^peerchain \d+\.\d+\.\d+$/m);
    assert.match(r.stdout, /^sent 1\.5 coins: transaction [0-9a-f]{64}/m);
    assert.match(r.stdout, /smoke: two regtest nodes, 1\.5 coins paid and confirmed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("release.yml's shell steps: the tag must be deno.json's version; the notes are that version's CHANGELOG section", async () => {
  const { build, release } = (await workflow("release.yml")).jobs;
  const step = (name: RegExp) =>
    [...build.steps, ...release.steps].find((s) => name.test(s.name ?? ""))!.run!;
  const tagCheck = step(/tag is deno.json's version/);
  const good = await bash(tagCheck, { cwd: ROOT, env: { GITHUB_REF_NAME: `v${denoJson.version}` } });
  assert.equal(good.code, 0, good.stderr);
  const bad = await bash(tagCheck, { cwd: ROOT, env: { GITHUB_REF_NAME: "v9.9.9" } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /does not match deno.json's version/);

  const dir = await Deno.makeTempDir({ prefix: "peerchain-release-" });
  try {
    await Deno.copyFile(`${ROOT}CHANGELOG.md`, `${dir}/CHANGELOG.md`);
    const notes = step(/Release notes/);
    const r = await bash(notes, { cwd: dir, env: { GITHUB_REF_NAME: `v${denoJson.version}` } });
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(`${dir}/notes.md`);
    assert.match(text, /\S/);
    assert.doesNotMatch(text, /^## /m, "one section only");
    const missing = await bash(notes, { cwd: dir, env: { GITHUB_REF_NAME: "v9.9.9" } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no section for 9\.9\.9/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The files a compiled binary must carry because code loads them by a path the compiler cannot follow. */
async function runtimeAssets(): Promise<string[]> {
  const assets: string[] = [];
  const files = ["cli.ts"];
  for await (const e of Deno.readDir(`${ROOT}lib`)) {
    if (e.isDirectory) {
      for await (const f of Deno.readDir(`${ROOT}lib/${e.name}`)) {
        if (f.name.endsWith(".ts")) files.push(`lib/${e.name}/${f.name}`);
      }
    } else if (e.name.endsWith(".ts")) files.push(`lib/${e.name}`);
  }
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}${file}`);
    const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/") + 1) : "";
    const resolve = (rel: string) => new URL(rel, `file:///${dir}`).pathname.slice(1);
    // new URL("./x", import.meta.url): a worker or a file read at run time.
    for (const m of text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)) assets.push(resolve(m[1]));
    // import(NAME) with NAME a constant: a module kept out of the static graph on purpose.
    for (const m of text.matchAll(/\bimport\((\w+)\)/g)) {
      const value = new RegExp(`const ${m[1]} = "([^"]+)"`).exec(text);
      assert.ok(value, `${file}: import(${m[1]}) must name a constant string`);
      assets.push(resolve(value[1]));
    }
    // A dynamic import of a non-TypeScript file (the wasm kernel).
    for (const m of text.matchAll(/\bimport\("(\.[^"]+\.(?:wasm|json))"\)/g)) assets.push(resolve(m[1]));
  }
  return [...new Set(assets)].sort();
}

/**
 * The files a binary built by compile.sh carries besides cli.ts's own graph: each module it includes with its
 * static module graph (the compiler embeds both), and each included asset. Under `deno run` these are the
 * files read at run time (a worker's modules need read permission there).
 */
async function includedFiles(): Promise<string[]> {
  const { calls, root } = await compileWithStandIn();
  await Deno.remove(root, { recursive: true });
  const compile = calls.find((c) => c[0] === "compile")!;
  const included = compile.flatMap((w, i) => compile[i - 1] === "--include" ? [w] : []);
  const files = new Set<string>();
  for (const asset of included) {
    files.add(`${ROOT}${asset}`);
    if (!asset.endsWith(".ts")) continue;
    const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json", asset], cwd: ROOT })
      .output();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    for (const m of JSON.parse(dec.decode(out.stdout)).modules as { specifier: string }[]) {
      if (m.specifier.startsWith("file://")) files.add(new URL(m.specifier).pathname);
    }
  }
  return [...files];
}

/** Runs a copy of scripts/compile.sh with a stand-in `deno` that records its arguments and writes each output. */
async function compileWithStandIn(): Promise<{ calls: string[][]; dist: string; root: string; log: string }> {
  const root = await Deno.makeTempDir({ prefix: "peerchain-compile-" });
  await Deno.mkdir(`${root}/scripts`);
  await Deno.mkdir(`${root}/bin`);
  await Deno.copyFile(`${ROOT}scripts/compile.sh`, `${root}/scripts/compile.sh`);
  await Deno.mkdir(`${root}/dist`);
  await Deno.writeTextFile(`${root}/dist/stale-file`, "left over from an earlier build");
  await Deno.writeTextFile(
    `${root}/bin/deno`,
    `#!/usr/bin/env bash
printf '%s\\n' "$@" > "${root}/call-$RANDOM$RANDOM"
[ "$1" = run ] && exit 0 # scripts/runtime_lock.ts
out=""; target=""
while [ $# -gt 0 ]; do
  case "$1" in --output) out="$2"; shift ;; --target) target="$2"; shift ;; esac
  shift
done
case "$target" in *windows*) out="$out.exe" ;; esac
printf 'binary for %s\\n' "$target" > "$out"
`,
  );
  await Deno.chmod(`${root}/bin/deno`, 0o755);
  const r = await bash(`bash scripts/compile.sh`, {
    cwd: root,
    env: { PATH: `${root}/bin:${Deno.env.get("PATH")}` },
  });
  assert.equal(r.code, 0, r.stderr);
  const calls: string[][] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.name.startsWith("call-")) {
      calls.push((await Deno.readTextFile(`${root}/${e.name}`)).trimEnd().split("\n"));
    }
  }
  return { calls, dist: `${root}/dist`, root, log: r.stdout };
}

Deno.test("compile.sh: five targets, the start task's permissions (never -A), the run-time assets, and SHA256SUMS", async () => {
  const { calls: all, dist, root, log } = await compileWithStandIn();
  try {
    // First the runtime's lockfile, then one compile per target with it, frozen.
    const lockRuns = all.filter((c) => c[0] === "run");
    assert.equal(lockRuns.length, 1);
    assert.equal(lockRuns[0].at(-2), "scripts/runtime_lock.ts");
    const lock = lockRuns[0].at(-1)!;
    const calls = all.filter((c) => c[0] === "compile");
    assert.equal(calls.length + 1, all.length);
    for (const c of calls) {
      assert.ok(c.includes(`--lock=${lock}`) && c.includes("--frozen"), c.join(" "));
    }
    assert.match(log, /^embedded in peerchain-x86_64-unknown-linux-gnu: /m, "the embedded size is printed");
    const targets = calls.map((c) => c[c.indexOf("--target") + 1]).sort();
    assert.deepEqual(targets, TARGETS);
    const assets = await runtimeAssets();
    assert.deepEqual(assets, [
      "lib/crypto/verify_worker.ts",
      "lib/explorer/assets",
      "lib/mining/kernel.wasm",
      "lib/mining/worker.ts",
      "lib/ui/menu.ts",
      "lib/wallet/libs.ts",
    ]);
    const start = startPermissions();
    assert.ok(!start.includes("-A") && !start.includes("--allow-all"));
    for (const c of calls) {
      assert.equal(c[0], "compile");
      assert.equal(c.at(-1), "cli.ts");
      const perms = c.filter((w) => w.startsWith("--allow") || w === "-A");
      assert.deepEqual(perms.sort(), [...start].sort(), "the same permissions as deno task start");
      const included = c.flatMap((w, i) => c[i - 1] === "--include" ? [w] : []);
      assert.deepEqual(included.sort(), assets, "every file loaded at run time is included");
      assert.equal(c[c.indexOf("--output") + 1], `dist/peerchain-${c[c.indexOf("--target") + 1]}`);
    }
    const files = [...Deno.readDirSync(dist)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "SHA256SUMS",
      "peerchain-aarch64-apple-darwin",
      "peerchain-aarch64-unknown-linux-gnu",
      "peerchain-x86_64-apple-darwin",
      "peerchain-x86_64-pc-windows-msvc.exe",
      "peerchain-x86_64-unknown-linux-gnu",
    ], "a fresh dist/: no stale files, one line of checksums per binary");
    const sums = await Deno.readTextFile(`${dist}/SHA256SUMS`);
    assert.equal(sums.trimEnd().split("\n").length, 5);
    assert.equal((await bash("sha256sum -c SHA256SUMS", { cwd: dist })).code, 0);
    // A tampered binary fails the check a user runs after downloading.
    await Deno.writeTextFile(`${dist}/peerchain-x86_64-unknown-linux-gnu`, "tampered\n");
    const tampered = await bash("sha256sum -c SHA256SUMS", { cwd: dist });
    assert.notEqual(tampered.code, 0);
    assert.match(tampered.stdout, /peerchain-x86_64-unknown-linux-gnu: FAILED/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the runtime graph holds no test package: deno.json's imports and the runtime lockfile compile.sh uses", async () => {
  const imports = Object.values(denoJson.imports as Record<string, string>).join(" ");
  for (const p of TEST_PACKAGES) assert.ok(!imports.includes(`npm:${p}@`), `${p} in deno.json's imports`);
  const dir = await Deno.makeTempDir({ prefix: "peerchain-lock-" });
  try {
    const lock = `${dir}/runtime.lock`;
    const made = await new Deno.Command(Deno.execPath(), {
      args: ["run", `--allow-read=deno.lock`, `--allow-write=${lock}`, "scripts/runtime_lock.ts", lock],
      cwd: ROOT,
    }).output();
    assert.equal(made.code, 0, dec.decode(made.stderr));
    // Everything a binary runs: the entry point, the menu and the mining worker (compile.sh's includes).
    for (const entry of ["cli.ts", "lib/ui/menu.ts", "lib/mining/worker.ts"]) {
      const info = await new Deno.Command(Deno.execPath(), {
        args: ["info", "--json", `--lock=${lock}`, "--frozen", entry],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
      }).output();
      assert.equal(info.code, 0, dec.decode(info.stderr));
      const npm = Object.keys(JSON.parse(dec.decode(info.stdout)).npmPackages ?? {});
      const name = (k: string) => k.slice(0, k.indexOf("@", 1));
      for (const p of [...TEST_PACKAGES, "chromium-bidi", "devtools-protocol", "pure-rand"]) {
        assert.ok(!npm.some((k) => name(k) === p), `${entry}: ${p} in the runtime graph`);
      }
      if (entry !== "lib/mining/worker.ts") assert.ok(npm.includes("@inquirer/prompts@8.8.0"), entry);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a node reads nothing at run time but its data directory, its tracker file and what compile.sh includes", async () => {
  const cluster = await Cluster.create("peerchain-reads-");
  const root = cluster.root;
  const dataDir = `${root}/data`;
  const tracker = `${root}/server_tracker.txt`;
  // The tracker file, and beside it the one this node writes what it learned to (one per network).
  const readable = [dataDir, tracker, `${root}/server_tracker.regtest.txt`, ...await includedFiles()].join(
    ",",
  );
  const perms = startPermissions().map((p) =>
    p === "--allow-read" ? `--allow-read=${readable}` : p === "--allow-write" ? `--allow-write=${root}` : p
  );
  assert.ok(perms.some((p) => p.startsWith("--allow-read=")), "read is narrowed");
  const cliRun = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...perms, CLI, ...args, "--network", "regtest", "--data-dir", dataDir],
      stdin: "null",
      env: { NO_COLOR: "1" },
    }).output();
  try {
    // The RPC answers once the node is up (rpc.json written).
    const node = await cluster.start("data", { permissions: perms, defaultTimings: true });
    const status = await cliRun("status", "--json");
    assert.equal(status.code, 0, `the node answers its subcommands: ${dec.decode(status.stderr)}`);
    // Mining loads the worker and the wasm kernel; a payment uses the wallet and the store.
    const mined = await cliRun("mine", "11", "--json");
    assert.equal(mined.code, 0, dec.decode(mined.stderr));
    const address = JSON.parse(dec.decode((await cliRun("address", "--json")).stdout)).address as string;
    const sent = await cliRun("send", address, "1.5", "--json");
    assert.equal(sent.code, 0, dec.decode(sent.stderr));
    const block = await cliRun("mine", "1", "--json");
    assert.equal(block.code, 0);
    const after = JSON.parse(dec.decode((await cliRun("status", "--json")).stdout));
    assert.equal(after.height, 12);
    assert.equal(after.mempool, 0);
    assert.equal((await cliRun("stop")).code, 0);
    const status2 = await node.exited;
    const log = node.log.join("\n");
    assert.equal(status2.code, 0, log);
    assert.doesNotMatch(log, /Requires read access|PermissionDenied|NotCapable/);
  } finally {
    await cluster.cleanup();
  }
});
