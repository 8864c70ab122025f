/** Turns of the event loop for peers' messages: one per turn, small ones mostly first, large ones never starved. */
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { SLICE_MS, SMALL_COST, Turns } from "../lib/runtime/turns.ts";

/** Uses up the current slice, as a long run of checks would. */
function busySlice(turns: Turns): void {
  assert.ok(turns.free());
  const end = performance.now() + SLICE_MS + 1;
  while (performance.now() < end) { /* busy */ }
}

Deno.test("small requests go first, but every fifth turn goes to a waiting large one, first come first served", async () => {
  const turns = new Turns();
  busySlice(turns);
  const order: string[] = [];
  const wait = (name: string, cost: number) => turns.next(cost).then(() => order.push(name));
  const all = [
    ...["L1", "L2", "L3"].map((n) => wait(n, SMALL_COST + 1)),
    ...["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"].map((n) => wait(n, 250)),
  ];
  assert.equal(turns.waiting, 11);
  await Promise.all(all);
  assert.deepEqual(order, ["S1", "S2", "S3", "S4", "L1", "S5", "S6", "S7", "S8", "L2", "L3"]);
});

Deno.test("one request per turn: other ready work (other sockets, the RPC, due timers) runs between two of them", async () => {
  const turns = new Turns();
  busySlice(turns);
  // Another source of macrotasks that is always ready, as a busy socket is.
  let ticks = 0, ticking = true;
  const tick = () => {
    ticks++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const seen: number[] = [];
  await Promise.all(Array.from({ length: 6 }, () => turns.next(100_000).then(() => seen.push(ticks))));
  ticking = false;
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `ticks at each turn: ${seen}`);
});

Deno.test("without contention nothing waits: work within a young slice goes on at once, until the slice is spent", () => {
  const turns = new Turns();
  for (let i = 0; i < 100; i++) assert.ok(turns.free(), "a young slice, nobody waiting");
  const end = performance.now() + SLICE_MS + 1;
  while (performance.now() < end) { /* busy */ }
  assert.equal(turns.free(), false, "the slice is spent: wait for a turn");
  // Someone waiting: nobody jumps the queue.
  const fresh = new Turns();
  const waited = fresh.next(1);
  assert.equal(fresh.free(), false);
  return waited;
});

Deno.test("a turn is a macrotask, not a timer: nested zero-delay timers are clamped (about 2 ms a turn here), which capped a node at a few hundred turns a second", async () => {
  const t = new Turns();
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  try {
    assert.equal(t.free(), true);
    await Promise.all(Array.from({ length: 50 }, () => t.next(SMALL_COST)));
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  assert.equal(timers, 0, "turns and slices end without timers");
});
