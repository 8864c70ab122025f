/** `writeFileAtomic` without the flushes (`durable: false`, rpc.json's): still whole, replaced, with its mode. */
import assert from "node:assert/strict";
import { writeFileAtomic } from "../lib/runtime/atomic_file.ts";
import { withTempDir } from "./support/temp_dir.ts";

Deno.test("a write that is not flushed still replaces the file whole, with its mode, and leaves no temporary", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/rpc.json`;
    await Deno.writeTextFile(path, "old and longer than the new one\n");
    await writeFileAtomic(path, new TextEncoder().encode("new\n"), 0o600, { durable: false });
    assert.equal(await Deno.readTextFile(path), "new\n");
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["rpc.json"]);
  });
});
