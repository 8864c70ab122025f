/**
 * Writes the runtime's lockfile: deno.lock cut down to the npm packages that deno.json's `imports` need (the
 * menu's prompt library and what it depends on), at the versions deno.lock pins. `deno compile` embeds every
 * npm package of the lockfile it is given, so compiling with deno.lock carried the tests' packages
 * (puppeteer-core, chromium-bidi, devtools-protocol, fast-check, yaml: about 16 MB); scripts/compile.sh
 * compiles with this one instead (`--lock=FILE --frozen`).
 *
 * Usage: deno run --allow-read=deno.lock --allow-write=OUT scripts/runtime_lock.ts OUT
 * @module
 */

/** The parts of a version 5 deno.lock this reads. */
export interface Lockfile {
  /** Lockfile format version. */
  version: string;
  /** Specifier (`npm:name@range`) to the version it resolved to. */
  specifiers: Record<string, string>;
  /** `name@version` to its integrity and dependencies (`name`, or `name@version` when ambiguous). */
  npm: Record<string, { integrity?: string; dependencies?: string[]; [k: string]: unknown }>;
  /** The config's own dependencies (`npm:name@range`). */
  workspace: { dependencies?: string[] };
}

/** `npm:@scope/name@range` to `@scope/name`. */
function nameOf(specifier: string): string {
  const bare = specifier.replace(/^npm:/, "");
  const at = bare.indexOf("@", 1);
  return at < 0 ? bare : bare.slice(0, at);
}

/**
 * The lockfile with only the workspace's dependencies and the packages they reach.
 * @example pruneLock(JSON.parse(await Deno.readTextFile("deno.lock"))).npm // only runtime packages
 */
export function pruneLock(lock: Lockfile): Lockfile {
  if (lock.version !== "5") throw new Error(`deno.lock version ${lock.version}: this reads version 5`);
  const roots = lock.workspace.dependencies ?? [];
  const keep = new Set<string>();
  const resolve = (dep: string): string => {
    if (lock.npm[dep]) return dep; // already name@version
    const found = Object.keys(lock.npm).filter((k) => k.slice(0, k.indexOf("@", 1)) === dep);
    if (found.length !== 1) throw new Error(`deno.lock: ${dep} resolves to ${found.length} packages`);
    return found[0];
  };
  const visit = (key: string) => {
    if (keep.has(key)) return;
    if (!lock.npm[key]) throw new Error(`deno.lock has no package ${key}`);
    keep.add(key);
    for (const d of lock.npm[key].dependencies ?? []) visit(resolve(d));
  };
  for (const spec of roots) {
    const version = lock.specifiers[spec];
    if (version === undefined) throw new Error(`deno.lock does not resolve ${spec}`);
    visit(`${nameOf(spec)}@${version}`);
  }
  return {
    ...lock,
    specifiers: Object.fromEntries(Object.entries(lock.specifiers).filter(([s]) => roots.includes(s))),
    npm: Object.fromEntries(Object.entries(lock.npm).filter(([k]) => keep.has(k))),
  };
}

if (import.meta.main) {
  const [out] = Deno.args;
  if (!out) throw new Error("usage: runtime_lock.ts OUT");
  const lock = pruneLock(JSON.parse(await Deno.readTextFile("deno.lock")));
  await Deno.writeTextFile(out, JSON.stringify(lock, null, 2) + "\n");
}
