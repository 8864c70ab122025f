/**
 * docs/walkthrough.md names files and functions "in the code as written": every `Class.method`, `#method` and
 * camelCase `function` it names in backticks is declared somewhere in `lib/` (and every class or interface it
 * names exists), and every `lib/...` file it names exists. A rename that forgets the walkthrough fails here.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const DOC = await Deno.readTextFile(`${ROOT}docs/walkthrough.md`);

async function libSources(dir = `${ROOT}lib`): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await libSources(path));
    else if (e.name.endsWith(".ts")) out.push(await Deno.readTextFile(path));
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The names the walkthrough says are in the code: `[class or "", member]`. */
export function namedInDoc(doc: string): [string, string][] {
  const out = new Map<string, [string, string]>();
  for (const m of doc.matchAll(/`(?:([A-Z]\w*)\.)?(#?[a-z]\w*)(?:\([^`]*\))?`/g)) {
    const [cls, name] = [m[1] ?? "", m[2]];
    // A plain lowercase word in backticks is a message type or a key (`join`, `full`), not a function.
    if (cls || name.startsWith("#") || /[A-Z]/.test(name)) out.set(`${cls}.${name}`, [cls, name]);
  }
  return [...out.values()];
}

/** The names of `named` that no source in `sources` declares. */
export function missing(named: [string, string][], sources: string): string[] {
  const gone: string[] = [];
  for (const [cls, name] of named) {
    if (cls && !new RegExp(`(class|interface) ${cls}\\b`).test(sources)) gone.push(cls);
    const decl = new RegExp(
      `^\\s*(export\\s+)?(static\\s+)?(async\\s+)?(function\\*?\\s+|get\\s+|const\\s+|readonly\\s+)?` +
        `${escape(name)}\\s*[(<:=?]`,
      "m",
    );
    if (!decl.test(sources)) gone.push(cls ? `${cls}.${name}` : name);
  }
  return gone;
}

Deno.test("every function, method and class docs/walkthrough.md names is declared in lib/", async () => {
  const sources = (await libSources()).join("\n");
  const named = namedInDoc(DOC);
  assert.ok(named.length > 50, `found ${named.length} names`);
  for (const n of ["superPeerGone", "seekSecond", "tookSuperPeer", "answerJoin", "chooseSecond"]) {
    assert.ok(named.some(([, name]) => name === n), `the overlay's journey names ${n}`);
  }
  assert.deepEqual(missing(named, sources), []);
  // The check itself: a name nobody declares is reported.
  assert.deepEqual(missing([["Network", "#noSuchStep"], ["NoSuchClass", "start"]], sources), [
    "Network.#noSuchStep",
    "NoSuchClass",
  ]);
});

Deno.test("every lib/ file docs/walkthrough.md names exists", async () => {
  const files = new Set([...DOC.matchAll(/`(lib\/[\w/.-]+\.ts)`/g)].map((m) => m[1]));
  assert.ok(files.size > 10, `found ${files.size} files`);
  for (const f of files) {
    assert.ok((await Deno.stat(`${ROOT}${f}`).catch(() => null))?.isFile, `${f} exists`);
  }
});
