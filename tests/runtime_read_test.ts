/** `readTextIfExists`: a missing file is nothing, any other failure is an error, never taken for missing. */
import assert from "node:assert/strict";
import { readTextIfExists } from "../lib/runtime/atomic_file.ts";

Deno.test("readTextIfExists: the text, undefined for a missing file, and a directory in its place throws", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-read-" });
  try {
    assert.equal(await readTextIfExists(`${dir}/missing.json`), undefined);
    await Deno.writeTextFile(`${dir}/bans.json`, "[]\n");
    assert.equal(await readTextIfExists(`${dir}/bans.json`), "[]\n");
    await Deno.mkdir(`${dir}/node_key`);
    await assert.rejects(() => readTextIfExists(`${dir}/node_key`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
