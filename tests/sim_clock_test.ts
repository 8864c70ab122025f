/**
 * The simulation's virtual clock: timer order, continuations settling within a step, cancelling in bulk,
 * and per-node clocks that are killed (timers dropped) or frozen (timers held, fired late in order on thaw).
 */
import assert from "node:assert/strict";
import { sleep } from "../lib/net/transport.ts";
import { VIRTUAL_EPOCH_MS, VirtualClock } from "../lib/sim/virtual_clock.ts";

Deno.test("timers fire in due order, ties in the order they were set, each at its own time", async () => {
  const clock = new VirtualClock({ quantumMs: 5 });
  const fired: [string, number][] = [];
  const at = (name: string, ms: number) => clock.setTimeout(() => fired.push([name, clock.elapsed]), ms);
  at("c", 30);
  at("a", 10);
  at("b1", 20);
  at("b2", 20);
  at("a0", 10);
  at("late", 31); // within the same 5 ms step as "c", still after it and at its own time
  await clock.advance(29);
  assert.deepEqual(fired.map(([n]) => n), ["a", "a0", "b1", "b2"]);
  const steps = clock.stats.steps;
  await clock.advance(2);
  assert.deepEqual(fired.slice(4), [["c", 30], ["late", 31]]);
  assert.equal(clock.stats.steps - steps, 1, "one step for timers within one quantum");
  assert.equal(clock.elapsed, 31);
});

Deno.test("now() is whole milliseconds from the virtual epoch; elapsed keeps fractions", async () => {
  const clock = new VirtualClock();
  assert.equal(clock.now(), VIRTUAL_EPOCH_MS);
  await clock.advance(1.75);
  assert.equal(clock.elapsed, 1.75);
  assert.equal(clock.now(), VIRTUAL_EPOCH_MS + 1);
  assert.ok(Number.isSafeInteger(clock.now()));
});

Deno.test("promise continuations settle between steps: a chain of sleeps and awaits ends at the exact virtual time", async () => {
  const clock = new VirtualClock();
  const log: number[] = [];
  const worker = async () => {
    for (let i = 0; i < 5; i++) {
      await sleep(clock, 100);
      await Promise.resolve(); // continuations within a step
      await null;
      log.push(clock.elapsed);
    }
  };
  const done = worker();
  await clock.advance(499);
  assert.deepEqual(log, [100, 200, 300, 400]);
  await clock.advance(1);
  await done;
  assert.deepEqual(log, [100, 200, 300, 400, 500]);
});

Deno.test("until() stops as soon as the condition holds, or at the deadline", async () => {
  const clock = new VirtualClock();
  let n = 0;
  clock.setTimeout(() => n = 1, 250);
  assert.equal(await clock.until(() => n === 1, 1000), true);
  assert.equal(clock.elapsed, 250);
  assert.equal(await clock.until(() => n === 2, 1000), false);
  assert.equal(clock.elapsed, 1250);
});

Deno.test("clearing thousands of timers from inside a step keeps order and the step's end", async () => {
  // Regression: the heap used to be swept into a new array while a step still walked the old one,
  // so that step ran on past its limit for ever.
  const clock = new VirtualClock();
  const ids = Array.from(
    { length: 20_000 },
    (_, i) => clock.setTimeout(() => assert.fail("cancelled"), 50 + i),
  );
  const fired: number[] = [];
  clock.setTimeout(() => {
    for (const id of ids) clock.clearTimeout(id);
    clock.setTimeout(() => fired.push(clock.elapsed), 5);
  }, 10);
  clock.setTimeout(() => fired.push(clock.elapsed), 10);
  clock.setTimeout(() => fired.push(clock.elapsed), 1_000_000);
  await clock.advance(100);
  assert.deepEqual(fired, [10, 15]);
  assert.equal(clock.elapsed, 100);
  assert.equal(clock.pending, 1);
  clock.clearTimeout(undefined);
  clock.clearTimeout(ids[0]); // cleared twice: ignored
  assert.equal(clock.pending, 1);
});

Deno.test("a killed node clock drops its timers and refuses new ones; other nodes carry on", async () => {
  const clock = new VirtualClock();
  const a = clock.forNode(), b = clock.forNode();
  const fired: string[] = [];
  a.setTimeout(() => fired.push("a1"), 10);
  b.setTimeout(() => fired.push("b1"), 10);
  a.setTimeout(() => fired.push("a2"), 20);
  await clock.advance(15);
  a.kill();
  assert.equal(a.setTimeout(() => fired.push("a3"), 1), undefined);
  await clock.advance(100);
  assert.deepEqual(fired, ["a1", "b1"]);
  assert.equal(a.state, "killed");
});

Deno.test("a frozen node clock holds its timers and fires them on thaw, late and in their order", async () => {
  const clock = new VirtualClock();
  const node = clock.forNode(), other = clock.forNode();
  const fired: [string, number][] = [];
  const at = (c: typeof node, name: string, ms: number) =>
    c.setTimeout(() => fired.push([name, clock.elapsed]), ms);
  node.freeze();
  at(node, "n30", 30);
  at(node, "n10", 10);
  const cancelled = at(node, "n20", 20);
  at(other, "o15", 15);
  await clock.advance(25);
  node.clearTimeout(cancelled); // held, then cancelled: never fires
  await clock.advance(75);
  assert.deepEqual(fired, [["o15", 15]]);
  node.thaw();
  at(node, "after", 0);
  await clock.advance(1);
  assert.deepEqual(fired.slice(1), [["n10", 100], ["n30", 100], ["after", 100]]);
});

Deno.test("timers are deterministic: the same program gives the same trace", async () => {
  const run = async () => {
    const clock = new VirtualClock();
    const trace: string[] = [];
    for (let i = 0; i < 50; i++) {
      const c = clock.forNode();
      (async () => {
        for (let k = 0; k < 5; k++) {
          await sleep(c, ((i * 7 + k * 13) % 17) + 0.5);
          trace.push(`${i}:${k}@${clock.elapsed}`);
        }
      })();
    }
    await clock.advance(200);
    return trace;
  };
  const [x, y] = [await run(), await run()];
  assert.equal(x.length, 250);
  assert.deepEqual(x, y);
});
