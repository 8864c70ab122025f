/**
 * The library's entry points: the ledger (`mod.ts`) loads no socket, worker, RPC or menu code and no npm
 * package; each entry point in deno.json's `exports` loads only what its name says; the documented examples
 * exist; and `deno publish --dry-run` accepts the package (licence, slow types), without the network.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };

const ROOT = new URL("../", import.meta.url);
const dec = new TextDecoder();

interface Info {
  roots: string[];
  redirects: Record<string, string>;
  modules: { specifier: string; dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[] }[];
}

/**
 * The local files (relative to the repository) and other specifiers in the module graph of `entry`: with
 * `codeOnly`, only what runs (type-only imports are erased and load nothing), else everything a type check
 * reads too; with `atStart`, only what is loaded before the first line runs (no dynamic imports).
 */
async function graph(entry: string, { codeOnly = false, atStart = false } = {}): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  const info = JSON.parse(dec.decode(out.stdout)) as Info;
  let specifiers = info.modules.map((m) => m.specifier);
  if (codeOnly || atStart) {
    const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
    const seen = new Set<string>();
    const walk = (s: string) => {
      const spec = info.redirects[s] ?? s;
      if (seen.has(spec)) return;
      seen.add(spec);
      for (const d of bySpecifier.get(spec)?.dependencies ?? []) {
        if (d.code && !(atStart && d.isDynamic)) walk(d.code.specifier);
      }
    };
    info.roots.forEach(walk);
    specifiers = [...seen];
  }
  return specifiers.map((s) => s.replace(ROOT.href, ""));
}

const exportsMap = denoJson.exports as Record<string, string>;

Deno.test("deno.json exports the ledger, mining, net, node and rpc entry points, each an existing file", async () => {
  assert.deepEqual(Object.keys(exportsMap).sort(), [".", "./mining", "./net", "./node", "./rpc"]);
  for (const path of Object.values(exportsMap)) await Deno.stat(new URL(path, ROOT));
  assert.equal(denoJson.license, "MIT");
  assert.match(
    await Deno.readTextFile(new URL("LICENSE", ROOT)),
    /^MIT License\n\nCopyright \(c\) 2026 the peerchain authors/,
  );
});

Deno.test("importing the ledger (mod.ts) pulls in no network, node, RPC, mining, menu or npm module", async () => {
  const modules = await graph("mod.ts");
  assert.ok(
    modules.includes("lib/chain/chain.ts") && modules.includes("lib/wallet/wallet.ts"),
    "a real graph",
  );
  const forbidden = modules.filter((m) =>
    /^lib\/(net|rpc|ui|mining)\//.test(m) || m === "lib/node.ts" || m.startsWith("npm:")
  );
  assert.deepEqual(forbidden, []);
});

Deno.test("each other entry point loads no menu and no npm package; net and mining load no node or RPC", async () => {
  for (const [name, path] of Object.entries(exportsMap)) {
    if (name === ".") continue;
    const modules = await graph(path);
    const forbidden = modules.filter((m) =>
      m.startsWith("lib/ui/") || m.startsWith("npm:") ||
      ((name === "./net" || name === "./mining") && (m === "lib/node.ts" || m.startsWith("lib/rpc/")))
    );
    assert.deepEqual(forbidden, [], name);
  }
});

Deno.test("the executable's start-up graph has no npm package: only the menu, loaded on demand, fetches one", async () => {
  // A headless node or a subcommand on a machine with a cold cache and no registry must still work, and must
  // not print "Download ..." lines before its own output.
  const modules = await graph("cli.ts", { codeOnly: true });
  assert.ok(modules.includes("lib/node.ts"));
  assert.deepEqual(modules.filter((m) => m.startsWith("npm:") || m.startsWith("lib/ui/menu")), []);
  assert.ok(
    (await graph("lib/ui/menu.ts")).some((m) => /^npm:\/?@inquirer\/prompts@/.test(m)),
    "the menu has it",
  );
});

Deno.test("the executable loads node:dgram (Node's sockets, 10 ms of CPU) only when LAN discovery runs", async () => {
  const atStart = await graph("cli.ts", { atStart: true });
  assert.ok(atStart.includes("lib/net/discovery.ts"));
  assert.ok(atStart.includes("node:sqlite"), "the walk sees node: modules");
  assert.equal(atStart.includes("node:dgram"), false);
  assert.ok((await graph("cli.ts", { codeOnly: true })).includes("node:dgram"), "discovery still has it");
});

Deno.test("at least ten fenced examples in the library's documentation", async () => {
  let examples = 0;
  const files = ["mod.ts"];
  for await (const e of Deno.readDir(new URL("lib/", ROOT))) {
    if (e.isFile && e.name.endsWith(".ts")) files.push(`lib/${e.name}`);
    if (e.isDirectory) {
      for await (const f of Deno.readDir(new URL(`lib/${e.name}/`, ROOT))) {
        if (f.name.endsWith(".ts")) files.push(`lib/${e.name}/${f.name}`);
      }
    }
  }
  for (const f of files) {
    const text = await Deno.readTextFile(new URL(f, ROOT));
    examples += text.match(/^\s*\* @example[^\n]*\n\s*\* ```ts$/gm)?.length ?? 0;
  }
  assert.ok(examples >= 10, `${examples} fenced examples`);
});

Deno.test("deno publish --dry-run accepts the package, offline", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    // --allow-dirty: a developer's uncommitted changes are what is being checked.
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
  }).output();
  const text = dec.decode(out.stdout) + dec.decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /Simulating publish of @peerchain\/peerchain@\d+\.\d+\.\d+ with files:/);
  // What a user of the library gets: the code and its licence, not the tests or their fixtures.
  assert.match(text, /LICENSE/);
  assert.match(text, /lib\/mining\/kernel\.wasm/);
  assert.doesNotMatch(text, /tests\//);
  // The simulation is the test kit (a transport, clock and ledger for tests and benchmarks): not shipped.
  assert.doesNotMatch(text, /lib\/sim\//, "lib/sim is excluded from publishing (deno.json publish.exclude)");
  assert.match(text, /lib\/net\/network\.ts/, "the network the simulation runs is shipped");
});
