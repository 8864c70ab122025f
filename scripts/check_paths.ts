/**
 * Fails when a source, test, bench or script file names a relative path that leaves the repository (such as
 * a folder beside the clone): a clone must hold everything its suite and its tools read.
 *
 * `deno run --allow-read scripts/check_paths.ts` (run by `.ci/run` before the tests). Exits 1 with one line per
 * offending literal.
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), ".."));
const DIRS = ["lib", "tests", "bench", "scripts", ".ci", ".github"];
const TOP = ["cli.ts", "mod.ts", "deno.json"];
const EXT = /\.(ts|js|json|sh|yml|yaml)$/;
/** A quoted string or template literal that starts with `../` (one or more times). */
const RELATIVE = /["'`]((?:\.\.\/)+[^"'`$\s]*)/g;

/** Every file under `dir` (relative to the root) whose name ends in one of `EXT`. */
function* walk(dir: string): Generator<string> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(join(ROOT, dir))];
  } catch {
    return;
  }
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "node_modules" && e.name !== "vendor") yield* walk(path);
    else if (e.isFile && EXT.test(e.name)) yield path;
  }
}

/** The literals in `file` that resolve outside the repository, as `file:line: literal`. */
export function escapes(file: string, text: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((line, i) => {
    for (const m of line.matchAll(RELATIVE)) {
      const target = normalize(join(ROOT, dirname(file), m[1]));
      if (relative(ROOT, target).startsWith("..")) out.push(`${file}:${i + 1}: ${m[1]}`);
    }
  });
  return out;
}

if (import.meta.main) {
  const files = [...TOP, ...DIRS.flatMap((d) => [...walk(d)])];
  const bad = files.flatMap((f) => {
    try {
      return escapes(f, Deno.readTextFileSync(join(ROOT, f)));
    } catch {
      return [];
    }
  });
  for (const b of bad) console.error(`outside the repository: ${b}`);
  if (bad.length) Deno.exit(1);
  console.log(`paths: ${files.length} files, none reaches outside the repository`);
}
