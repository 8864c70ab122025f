/**
 * Background turns (lib/runtime/background.ts): one job's slice per turn of the event loop, first come first
 * served, so a request waits behind one slice at most, not one slice of every job.
 */
import assert from "node:assert/strict";
import { Background } from "../lib/runtime/background.ts";

/** Lets every pending microtask (a resumed job's slice) run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("one background job runs per turn, in the order they asked, and each comes back", async () => {
  const turns: (() => void)[] = [];
  const bg = new Background((run) => turns.push(run));
  const slices: string[] = [];
  const job = async (name: string, n: number) => {
    for (let i = 0; i < n; i++) {
      slices.push(`${name}${i}`);
      await bg.turn();
    }
  };
  const jobs = Promise.all([job("a", 3), job("b", 3), job("c", 2)]);
  assert.deepEqual(slices, ["a0", "b0", "c0"], "each job's first slice runs where it is called");
  assert.equal(bg.waiting, 3);
  const perTurn: string[][] = [];
  while (turns.length > 0) {
    assert.equal(turns.length, 1, "one turn asked for at a time");
    const before = slices.length;
    turns.shift()!();
    await settle();
    perTurn.push(slices.slice(before));
  }
  await jobs;
  assert.deepEqual(perTurn, [["a1"], ["b1"], ["c1"], ["a2"], ["b2"], [], [], []]);
  assert.equal(bg.waiting, 0);
});

Deno.test("the default turns are timers of the event loop: other timers run between two slices", async () => {
  const bg = new Background();
  const seen: string[] = [];
  const job = async (name: string) => {
    for (let i = 0; i < 3; i++) {
      seen.push(name);
      await bg.turn();
    }
  };
  const jobs = Promise.all([job("a"), job("b")]);
  const foreground = (async () => {
    for (let i = 0; i < 6; i++) {
      seen.push("f");
      await new Promise((r) => setTimeout(r, 0));
    }
  })();
  await Promise.all([jobs, foreground]);
  // Never two background slices without the node's own turn between them (after the first, synchronous ones).
  const after = seen.slice(3).join("");
  assert.doesNotMatch(after, /[ab][ab]/, seen.join(""));
});

Deno.test("a held Background gives no turn until every hold is released, then goes on in order", async () => {
  const turns: (() => void)[] = [];
  const bg = new Background((run) => turns.push(run));
  const slices: string[] = [];
  const job = async (name: string) => {
    for (let i = 0; i < 2; i++) {
      await bg.turn();
      slices.push(`${name}${i}`);
    }
  };
  const asked = bg.turn(); // asked for before the hold: its timer is already set
  const release = bg.hold();
  const again = bg.hold();
  const jobs = Promise.all([asked.then(() => slices.push("x")), job("a"), job("b")]);
  while (turns.length > 0) {
    turns.shift()!();
    await settle();
  }
  assert.deepEqual(slices, [], "no slice while held");
  release();
  release(); // a second call of one release does not undo the other hold
  assert.equal(turns.length, 0, "one hold is still on");
  again();
  while (turns.length > 0) {
    turns.shift()!();
    await settle();
  }
  await jobs;
  assert.deepEqual(slices, ["x", "a0", "b0", "a1", "b1"]);
});
