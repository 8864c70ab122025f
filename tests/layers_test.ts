/**
 * The floors of `lib/`, enforced: every import in `lib/` (read from Deno's own module graph, `deno info
 * --json`, so comments and strings are never taken for imports) points to the importer's own module or to a
 * module on a lower floor, never beside or above it; `lib/net` reaches the ledger only through `LedgerPort`;
 * and nothing shipped imports the test kit (`lib/sim`). The order is written down in README.md ("The floors").
 */
import assert from "node:assert/strict";

/**
 * The floors, lowest first. A file may import from its own module and from any module on a lower floor; never
 * from a module beside it (mining and wallet, say, stay strangers) or above it.
 */
export const FLOORS: readonly (readonly string[])[] = [
  // Tools that know nothing of a ledger (lib/runtime: atomic files, one-at-a-time queues, turns, stall watch,
  // the process's counters) and lib/http, the bounded HTTP server of the explorer and the RPC.
  ["runtime", "http"],
  ["crypto"],
  ["primitives"], // encodings, ids, and the coin (an unspent output): data, no rules
  ["consensus"],
  ["store"],
  ["chain"],
  ["mining", "wallet"],
  ["net"],
  ["node", "sim"], // node.ts wires the net to the real ledger; lib/sim wires it to a simulated one
  ["rpc", "ui", "explorer"],
  ["cli"],
];

/** The loose files of `lib/` and the module each belongs to (folders are modules by their name). */
export const LOOSE: Readonly<Record<string, string>> = {
  "lib/node.ts": "node", // its parts are in lib/node/
};

/** The test kit: only itself (and tests, benchmarks, scripts) may import it. */
const TEST_KIT = "sim";

/** Files outside `lib/` that `lib/` may import. */
const OUTSIDE_ALLOWED: ReadonlySet<string> = new Set(["deno.json"]); // the version, for `--version`

/**
 * What `lib/net` may take from the ledger's floors. The network speaks bytes, ids and `LedgerPort`: blocks and
 * transactions cross it as canonical bytes and hex ids, and the ledger answers in `LedgerPort`'s own words
 * (`Verdict`, `TipInfo`). So, besides `lib/crypto` and `lib/runtime` (hashes, keys, hex, queues: all allowed),
 * it may import only the network's name (a type) and the policy limits a message is measured against before
 * anything decodes it. Nothing from `lib/primitives`, `lib/chain`, `lib/store`, `lib/mining` or
 * `lib/wallet`, not even a type.
 */
const NET_MAY_IMPORT: readonly { file: string; typeOnly: boolean }[] = [
  { file: "lib/consensus/params.ts", typeOnly: true },
  { file: "lib/consensus/policy.ts", typeOnly: false },
];
/** Modules of the ledger that `lib/net` must not reach into (beyond `NET_MAY_IMPORT`). */
const LEDGER: ReadonlySet<string> = new Set([
  "primitives",
  "consensus",
  "store",
  "chain",
  "mining",
  "wallet",
]);

/**
 * Breaches that are known and not yet fixed, each named: `from -> to`. This list only shrinks: the test fails
 * on any breach not listed here, and on any entry here that no longer breaches (delete it).
 */
const KNOWN_LEAKS: ReadonlySet<string> = new Set<string>([]);

/** The module of a repository-relative path under `lib/`, or undefined for a loose file not in `LOOSE`. */
export function moduleOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] !== "lib") return undefined;
  return parts.length > 2 ? parts[1] : LOOSE[path];
}

/** The floor (index in `FLOORS`) of a module, or -1. */
export function floorOf(module: string): number {
  return FLOORS.findIndex((f) => f.includes(module));
}

/**
 * Why the import of `to` by `from` (repository-relative paths) breaks the floors, or undefined when it is
 * allowed. `typeOnly` is true for `import type` (erased at run time, but still a dependency of the design).
 */
export function breach(from: string, to: string, typeOnly: boolean): string | undefined {
  const a = moduleOf(from), b = to.startsWith("lib/") ? moduleOf(to) : undefined;
  if (a === undefined) return `${from} is on no floor: add it to LOOSE or FLOORS`;
  if (!to.startsWith("lib/")) {
    return OUTSIDE_ALLOWED.has(to) ? undefined : `${from} imports ${to}, outside lib/`;
  }
  if (b === undefined) return `${to} is on no floor: add it to LOOSE or FLOORS`;
  if (floorOf(a) < 0) return `module ${a} is on no floor: add it to FLOORS`;
  if (floorOf(b) < 0) return `module ${b} is on no floor: add it to FLOORS`;
  if (a === b) return undefined;
  if (b === TEST_KIT) return `${from} imports the test kit (${to}): only tests and benchmarks may`;
  if (floorOf(b) > floorOf(a)) return `${from} (${a}) imports ${to} (${b}), a higher floor`;
  if (floorOf(b) === floorOf(a)) return `${from} (${a}) imports ${to} (${b}), beside it on its floor`;
  if (a === "net" && LEDGER.has(b)) {
    const ok = NET_MAY_IMPORT.some((e) => e.file === to && (typeOnly || !e.typeOnly));
    if (!ok) return `${from} reaches into the ledger (${to}${typeOnly ? ", a type" : ""}): use LedgerPort`;
  }
  return undefined;
}

/** One import in `lib/`: repository-relative paths, and whether it is type-only. */
interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

const ROOT = new URL("../", import.meta.url);
const dec = new TextDecoder();

/** Every `.ts` file under `dir` (repository-relative). */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...tsFiles(path));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** Every local import of every file in `lib/`, from `deno info --json` over one module that imports them all. */
async function libImports(): Promise<{ files: string[]; graphed: Set<string>; edges: Edge[] }> {
  const files = tsFiles("lib");
  const dir = await Deno.makeTempDir({ prefix: "peerchain_layers_" });
  try {
    const root = `${dir}/all.ts`;
    await Deno.writeTextFile(root, files.map((f) => `import "${new URL(f, ROOT).href}";\n`).join(""));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, root],
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(out.code, 0, dec.decode(out.stderr));
    const info = JSON.parse(dec.decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    const rel = (s: string) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : undefined;
    const edges: Edge[] = [];
    const graphed = new Set<string>();
    for (const m of info.modules) {
      const from = rel(m.specifier);
      if (!from?.startsWith("lib/")) continue;
      graphed.add(from);
      for (const d of m.dependencies ?? []) {
        const to = rel(d.code?.specifier ?? d.type?.specifier ?? "");
        if (to !== undefined) edges.push({ from, to, typeOnly: d.code === undefined });
      }
    }
    return { files, graphed, edges };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("layers: the rules refuse an upward, a sideways and a test-kit import, and net reaching the ledger", () => {
  // Downwards and within a module: allowed.
  assert.equal(breach("lib/chain/chain.ts", "lib/store/store.ts", false), undefined);
  assert.equal(breach("lib/chain/chain.ts", "lib/chain/errors.ts", false), undefined);
  assert.equal(breach("lib/node.ts", "lib/runtime/serial_queue.ts", false), undefined);
  assert.equal(breach("lib/node.ts", "lib/node/verdict.ts", false), undefined);
  assert.equal(breach("lib/ui/menu.ts", "lib/node/sync_progress.ts", false), undefined);
  assert.equal(breach("lib/cli/help.ts", "deno.json", false), undefined);
  // Upwards, even for a type.
  assert.match(breach("lib/store/store.ts", "lib/chain/coins.ts", true)!, /higher floor/);
  assert.match(breach("lib/primitives/block.ts", "lib/consensus/params.ts", false)!, /higher floor/);
  assert.match(breach("lib/runtime/serial_queue.ts", "lib/crypto/hex.ts", false)!, /higher floor/);
  assert.match(breach("lib/chain/chain.ts", "lib/node.ts", true)!, /higher floor/);
  // Beside.
  assert.match(breach("lib/wallet/wallet.ts", "lib/mining/template.ts", false)!, /beside/);
  assert.match(breach("lib/explorer/data.ts", "lib/rpc/methods.ts", false)!, /beside/);
  assert.match(breach("lib/node.ts", "lib/sim/world.ts", false)!, /test kit/);
  assert.match(breach("lib/ui/menu.ts", "lib/sim/world.ts", true)!, /test kit/);
  // Out of lib/, and unplaced files.
  assert.match(breach("lib/node.ts", "cli.ts", false)!, /outside lib/);
  assert.match(breach("lib/node.ts", "tests/support/cluster.ts", false)!, /outside lib/);
  assert.match(breach("lib/new_loose.ts", "lib/crypto/hex.ts", false)!, /no floor/);
  assert.match(breach("lib/newfolder/x.ts", "lib/crypto/hex.ts", false)!, /no floor/);
  // lib/net: bytes, ids, LedgerPort.
  assert.equal(breach("lib/net/relay.ts", "lib/crypto/hex.ts", false), undefined);
  assert.equal(breach("lib/net/messages.ts", "lib/consensus/params.ts", true), undefined);
  assert.equal(breach("lib/net/messages.ts", "lib/consensus/policy.ts", false), undefined);
  assert.match(breach("lib/net/messages.ts", "lib/consensus/params.ts", false)!, /ledger/);
  assert.match(breach("lib/net/relay.ts", "lib/consensus/pow.ts", false)!, /ledger/);
  assert.match(breach("lib/net/ban.ts", "lib/chain/errors.ts", false)!, /ledger/);
  assert.match(breach("lib/net/relay.ts", "lib/primitives/block.ts", true)!, /ledger/);
  assert.match(breach("lib/net/link.ts", "lib/wallet/wallet.ts", true)!, /ledger/);
});

Deno.test("layers: the floors table is an order: every module once, every lib/ folder and loose file placed", () => {
  const all = FLOORS.flat();
  assert.equal(new Set(all).size, all.length, "a module on two floors");
  for (const m of Object.values(LOOSE)) assert.ok(floorOf(m) >= 0, `LOOSE names module ${m}, on no floor`);
  const unplaced = tsFiles("lib").filter((f) => {
    const m = moduleOf(f);
    return m === undefined || floorOf(m) < 0;
  });
  assert.deepEqual(unplaced, [], "files of lib/ on no floor: add them to LOOSE or FLOORS");
});

Deno.test("layers: no lib/ file imports from a higher floor, beside it, or the ledger's insides from lib/net", async () => {
  const { files, graphed, edges } = await libImports();
  assert.deepEqual(files.filter((f) => !graphed.has(f)), [], "files of lib/ missing from the module graph");
  assert.ok(edges.length > 200, `only ${edges.length} imports found: the graph is not being read`);
  const breaches: string[] = [];
  const leaks = new Set<string>();
  for (const { from, to, typeOnly } of edges) {
    const why = breach(from, to, typeOnly);
    if (why === undefined) continue;
    if (KNOWN_LEAKS.has(`${from} -> ${to}`)) leaks.add(`${from} -> ${to}`);
    else breaches.push(why);
  }
  assert.deepEqual([...new Set(breaches)].sort(), [], "imports that break the floors");
  const fixed = [...KNOWN_LEAKS].filter((l) => !leaks.has(l));
  assert.deepEqual(fixed, [], "known leaks that no longer leak: delete them from KNOWN_LEAKS");
});
