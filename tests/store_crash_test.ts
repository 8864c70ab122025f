/**
 * Crash safety with real processes: a child mines into a store on disk and is SIGKILLed at random moments, 20
 * times over the same data directory. After each kill the store must open, hold every block the child
 * reported, and keep a UTXO set equal to a replay of its blocks.
 *
 * The moments, and the child's spends, follow from one seed, printed with any failure; set
 * PEERCHAIN_CRASH_SEED to replay it. A third of the kills come from the child itself right after a chosen
 * store write, and replay exactly; the others fall a chosen number of milliseconds after a start, where the
 * machine's speed decides what was being written. (Every write of one block, one by one, is
 * store_crash_inject_test.ts.)
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { lockDataDir } from "../lib/store/lock.ts";
import { openStore } from "../lib/store/store.ts";
import { type ChildRun, spawnChild } from "./support/crash_child.ts";
import { replayHint, seeded, testSeed } from "./support/random.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

const ROUNDS = 20;
const SEED_VAR = "PEERCHAIN_CRASH_SEED";

/** Resolves after `ms`, or when `until` settles first (then the timer is cleared, so no timer leaks). */
async function sleep(ms: number, until: Promise<unknown>): Promise<void> {
  let id: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([new Promise((resolve) => id = setTimeout(resolve, ms)), until]);
  } finally {
    clearTimeout(id);
  }
}

/** `promise`, or a rejection naming `what` after 15 s: a stuck child must fail the test, not hang it. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    id = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 15_000)
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(id);
  }
}

/** The moment of a kill: chosen before the child starts, from the seed. */
type KillMoment =
  | { kind: "after spawn"; ms: number }
  | { kind: "after ready"; ms: number }
  | { kind: "at write"; write: number };

/** Three ways to pick the moment of the kill, used in turn. */
function killMoment(round: number, randomInt: (lo: number, hi: number) => number): KillMoment {
  switch (round % 3) {
    case 0: // may land while the child is still starting or opening the store
      return { kind: "after spawn", ms: randomInt(50, 400) };
    case 1:
      return { kind: "after ready", ms: randomInt(50, 400) };
    default: // a block is 7 to some 30 writes: at least one block is committed first, up to some 50 blocks
      return { kind: "at write", write: randomInt(40, 400) };
  }
}

const describeMoment = (m: KillMoment) =>
  m.kind === "at write" ? `by itself right after store write ${m.write}` : `${m.ms} ms ${m.kind}`;

/** Waits for the moment `m` of `run`, then makes sure the child is dead (SIGKILLed by us or by itself). */
async function killAt(run: ChildRun, m: KillMoment): Promise<Deno.CommandStatus> {
  if (m.kind === "after ready") await within(run.waitForLine((l) => l.startsWith("ready ")), "ready");
  if (m.kind === "at write") await within(run.exited, `the child to kill itself at write ${m.write}`);
  else await sleep(m.ms, run.exited);
  return await run.kill();
}

Deno.test("a store killed at random moments by SIGKILL loses no reported block and keeps its UTXO set", async () => {
  const seed = testSeed(SEED_VAR);
  const rand = seeded(seed);
  const randomInt = (lo: number, hi: number) => lo + rand(hi - lo + 1);
  const dir = await Deno.makeTempDir({ prefix: "peerchain_crash_" });
  const reported = new Map<number, string>(); // height -> hash, over all rounds: the child never reorgs
  let expectedStart = 0;
  let lastReported = 0;
  const heights: number[] = [];
  let run: ChildRun | undefined;
  let beforeReady = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const moment = killMoment(round, randomInt);
      const childSeed = rand(2 ** 31);
      const killWrite = moment.kind === "at write" ? moment.write : 0;
      run = spawnChild([dir, "mine", String(childSeed), String(killWrite)]);
      const status = await killAt(run, moment);
      const context = `round ${round}, killed ${describeMoment(moment)}`;
      assert.equal(status.signal, "SIGKILL", `${context}: the child ended by itself:\n${await run.stderr}`);

      if (!run.lines.length) beforeReady++;
      for (const line of run.lines) {
        const [word, height, hash] = line.split(" ");
        if (word === "ready") {
          assert.equal(Number(height), expectedStart, `${context}: the child resumed from another height`);
        } else if (word === "accepted") {
          assert.ok(!reported.has(Number(height)), `${context}: height ${height} reported twice`);
          reported.set(Number(height), hash);
          lastReported = Math.max(lastReported, Number(height));
        } else assert.fail(`${context}: unexpected output ${JSON.stringify(line)}`);
      }

      const lock = lockDataDir(dir); // throws DataDirLocked if the dead child still held it
      const store = openStore(`${dir}/chain.sqlite`);
      try {
        const chain = Chain.open(store, NETWORKS.regtest);
        assert.ok(
          chain.height >= lastReported,
          `${context}: tip ${chain.height} is below reported ${lastReported}`,
        );
        for (const [height, hash] of reported) {
          assert.equal(chain.entryAt(height)?.hash, hash, `${context}: reported block at ${height} is lost`);
        }
        for (let h = 1; h <= chain.height; h++) {
          assert.ok(store.getUndo(chain.entryAt(h)!.hash), `${context}: block ${h} has no undo data`);
        }
        const rebuilt = rebuildCoins(chain);
        assert.deepEqual(
          diffCoins(chain.coins(), rebuilt.coins),
          [],
          `${context}: UTXO set differs from replay`,
        );
        assert.equal(chain.coinCount, rebuilt.coins.size);
        expectedStart = chain.height;
        heights.push(chain.height);
      } finally {
        store.close();
        lock.release();
      }
    }

    // The chain grew across restarts, and its history really spent outputs, chained spends and shrank the set.
    for (let round = 2; round < ROUNDS; round += 3) {
      assert.ok(heights[round] > heights[round - 1], `round ${round} added no block: ${heights}`);
    }
    const store = openStore(`${dir}/chain.sqlite`);
    try {
      const { coins, spends, chainedInputs, shrinkingBlocks } = rebuildCoins(
        Chain.open(store, NETWORKS.regtest),
      );
      const stats = `${coins.size} coins, ${spends} spends, ${chainedInputs} chained inputs, ` +
        `${shrinkingBlocks} blocks shrinking the UTXO set`;
      assert.ok(spends > 0 && chainedInputs > 0 && shrinkingBlocks > 0, `too little spending: ${stats}`);
      console.log(
        `${ROUNDS} kills (${beforeReady} before ready), heights ${heights.join(" ")}; ${stats}; seed ${seed}`,
      );
    } finally {
      store.close();
    }
  } catch (e) {
    if (e instanceof Error) e.message += `\n${replayHint(SEED_VAR, seed, "tests/store_crash_test.ts")}`;
    throw e;
  } finally {
    await run?.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
