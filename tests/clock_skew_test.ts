/**
 * Clock skew: the median of peers' clocks, the warning past a few minutes, and a node that hears a block
 * stamped 2 hours ahead on its tip (which it refuses as too new) warning in its status, its log event and the
 * menu's status line, while blocks whose work is not what the tip needs count for nothing.
 */
import assert from "node:assert/strict";
import { CLOCK_WARN_S, ClockSkew, medianOffset, skewWarning } from "../lib/node/clock_skew.ts";
import { humanText } from "../lib/cli/output.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import { createTemplate, solveSync } from "../lib/mining/template.ts";
import type { NodeEvent } from "../lib/node.ts";
import { METHODS } from "../lib/rpc/methods.ts";
import { palette, statusLine } from "../lib/ui/render.ts";
import { withLocalNode } from "./support/local_node.ts";

Deno.test("clock skew: the median of peers' offsets; a warning only past 5 minutes, saying which way", () => {
  assert.equal(CLOCK_WARN_S, 300);
  assert.equal(medianOffset([]), null);
  assert.equal(medianOffset([5]), 5);
  assert.equal(medianOffset([-3, 7200, 7300]), 7200);
  assert.equal(medianOffset([0, 10, 7200, 7300]), 3605);
  assert.equal(skewWarning(null), null);
  assert.equal(skewWarning(300), null);
  assert.equal(skewWarning(-300), null);
  assert.match(skewWarning(301)!, /clock is 5 min behind its peers'/);
  assert.match(skewWarning(-7200)!, /clock is 2 h 0 min ahead of its peers'/);
  // One liar among three honest peers moves nothing; the latest sample per peer counts; old ones expire.
  const c = new ClockSkew();
  const now = 1_800_000_000;
  c.sample("a", now + 2, now);
  c.sample("b", now - 1, now);
  c.sample("liar", now + 86_400, now);
  c.sample("d", now, now);
  assert.deepEqual(c.median(now), { offset: 1, peers: 4 });
  c.sample("a", now + 7200, now + 10); // a's clock jumped: its old sample is replaced, not added
  assert.deepEqual(c.median(now + 10), { offset: (0 + 7190) / 2, peers: 4 }); // of -1, 0, 7190, 86400
  assert.deepEqual(
    c.median(now + 3601),
    { offset: 7190, peers: 1 },
    "only a's later sample is an hour young",
  );
});

Deno.test("clock skew: a block 2 h ahead on our tip from a peer warns in status, an event and the menu; a block without the tip's work does not count", async () => {
  await withLocalNode(async (node) => {
    const events: NodeEvent[] = [];
    node.subscribe((e) => events.push(e));
    await node.miner.mineBlocks(1);
    assert.equal(node.status().clockOffset, null);
    const ahead = Math.floor(Date.now() / 1000) + 2 * 3600 + 60;
    const template = createTemplate(node.chain, undefined, "cd".repeat(20), { time: ahead }).block;
    // Without the work the next block needs: no sample.
    const weak = { ...template, header: { ...template.header, bits: 0x2100ffff } };
    await node.receiveBlock(encodeBlock(weak), false, "peer-1");
    assert.equal(node.status().clockOffset, null, "a sample must cost a block's work");
    // A real block on our tip, stamped 2 h ahead: refused as too new, but its miner's clock is noted.
    const block = solveSync(template);
    const verdict = await node.receiveBlock(encodeBlock(block), false, "peer-1");
    assert.notEqual(verdict.kind, "accepted");
    const s = node.status();
    assert.ok(s.clockOffset! > 7200 && s.clockOffset! < 7300, `offset ${s.clockOffset}`);
    assert.match(s.clockWarning!, /2 h 1 min behind its peers'/);
    const clock = events.filter((e) => e.type === "clock");
    assert.equal(clock.length, 1, "one event when the warning starts");
    assert.match(statusLine(s, palette(false)), /clock off/);
    const text = humanText("status", METHODS.status(node, []));
    assert.match(text, /^clock +WARNING: this computer's clock is 2 h 1 min behind/m);
    // The same again: no second event.
    await node.receiveBlock(encodeBlock(block), false, "peer-1");
    assert.equal(events.filter((e) => e.type === "clock").length, 1);
  });
});
