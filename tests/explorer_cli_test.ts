/**
 * Where `run` serves the explorer: by default 127.0.0.1 at the network port + 1000, a free port when that one is
 * taken, none with `--no-explorer`; an explicit address that is taken is refused. `status --json` and the
 * start line say where it is.
 */
import assert from "node:assert/strict";
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, freePort } from "./support/cluster.ts";

/** The explorer's default port is the network port + 1000 (a literal here: the rule, not the code's constant). */
const OFFSET = 1000;

/** A free port p such that p + 1, p + 1000 and p + 1001 are free too (checked, then released). */
function portPair(): number {
  for (;;) {
    const p = freePort();
    if (p + 1 + OFFSET > 65535) continue;
    try {
      for (const q of [p + 1, p + OFFSET, p + 1 + OFFSET]) {
        Deno.listen({ hostname: "127.0.0.1", port: q }).close();
      }
      return p;
    } catch { /* taken: try another */ }
  }
}

async function answers(url: string): Promise<boolean> {
  const res = await fetch(`${url}api/status`);
  return res.ok && typeof (await res.json()).height === "number";
}

Deno.test("run: the explorer on port + 1000, on a free port when that is taken, off, or refused when an explicit one is taken", async () => {
  const cluster = await Cluster.create();
  const held: Deno.Listener[] = [];
  try {
    const p = portPair();
    const a = await cluster.start("a", { port: p });
    const sa = await a.rpc<NodeStatus>("status");
    assert.equal(sa.explorer, `http://127.0.0.1:${p + OFFSET}/`);
    assert.ok(await answers(sa.explorer!));
    assert.ok(
      a.log.some((l) => l.includes(`explorer http://127.0.0.1:${p + OFFSET}/`)),
      "the start line names it",
    );
    // The README's demo: a second node on the next port starts (the first's explorer once took that port).
    const a2 = await cluster.start("a2", { port: p + 1 });
    assert.equal((await a2.rpc<NodeStatus>("status")).explorer, `http://127.0.0.1:${p + 1 + OFFSET}/`);

    const q = portPair();
    held.push(Deno.listen({ hostname: "127.0.0.1", port: q + OFFSET }));
    const b = await cluster.start("b", { port: q });
    const sb = await b.rpc<NodeStatus>("status");
    assert.match(sb.explorer!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(sb.explorer, `http://127.0.0.1:${q + OFFSET}/`);
    assert.ok(await answers(sb.explorer!));

    const c = await cluster.start("c", { args: ["--no-explorer"] });
    assert.equal((await c.rpc<NodeStatus>("status")).explorer, null);
    assert.ok(c.log.some((l) => l.includes("explorer off")));

    const taken = freePort();
    held.push(Deno.listen({ hostname: "127.0.0.1", port: taken }));
    await assert.rejects(
      cluster.start("d", { args: ["--explorer", `127.0.0.1:${taken}`] }),
      new RegExp(`cannot serve the explorer on 127\\.0\\.0\\.1:${taken}: the port is in use`),
    );
    assert.equal((await cluster.nodes.at(-1)!.exited).code, 1);
  } finally {
    for (const l of held) l.close();
    await cluster.cleanup();
  }
});
