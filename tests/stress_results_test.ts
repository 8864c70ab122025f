/**
 * `bench/stress-results.md` describes the code it was produced from: it must name its commit, and lib/net,
 * lib/chain and lib/store must not have changed since (in the commits up to HEAD). Skipped, with one line,
 * where git or its history is missing (a shallow clone cannot tell what changed).
 */
import assert from "node:assert/strict";
import { parseProvenance, STRESSED_PATHS } from "../bench/stress.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs git in the repository; null when git is missing or fails. */
function git(...args: string[]): string | null {
  try {
    const out = new Deno.Command("git", { args, cwd: ROOT, stdout: "piped", stderr: "null" }).outputSync();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

const shallow = git("rev-parse", "--is-shallow-repository");
const skip = shallow === null ? "no git repository here" : shallow === "true" ? "a shallow clone" : null;
if (skip) {
  console.log(`stress_results_test: skipped: ${skip}, so what changed since the results cannot be told`);
}

Deno.test({
  name: "bench/stress-results.md names its commit, and lib/net, lib/chain and lib/store are unchanged since",
  ignore: skip !== null,
  fn: async () => {
    const text = await Deno.readTextFile(new URL("../bench/stress-results.md", import.meta.url));
    const regenerate = "regenerate it with `deno task stress` on a clean checkout";
    const p = parseProvenance(text);
    assert.ok(p, `bench/stress-results.md records no commit (it predates this check): ${regenerate}`);
    assert.ok(p.clean, `bench/stress-results.md was produced from uncommitted changes: ${regenerate}`);
    assert.ok(
      git("cat-file", "-e", `${p.commit}^{commit}`) !== null,
      `bench/stress-results.md names commit ${p.commit}, which this history does not have: ${regenerate}`,
    );
    const changes = git("log", "--format=%h %s", `${p.commit}..HEAD`, "--", ...STRESSED_PATHS);
    assert.equal(
      changes,
      "",
      `${STRESSED_PATHS.join(", ")} changed after the stress results (commit ${p.commit.slice(0, 10)}, ` +
        `${p.date}): ${regenerate}. The changes:\n${changes}`,
    );
  },
});
