/**
 * Crash safety with real processes: a child mines into a store on disk and is SIGKILLed at random moments, 20
 * times over the same data directory. After each kill the store must open, hold every block the child
 * reported, and keep a UTXO set equal to a replay of its blocks.
 */
import assert from "node:assert/strict";
import { Chain } from "../lib/chain/chain.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { lockDataDir } from "../lib/store/lock.ts";
import { openStore } from "../lib/store/store.ts";
import { type ChildRun, spawnChild } from "./support/crash_child.ts";
import { diffCoins, rebuildCoins } from "./support/utxo_rebuild.ts";

const ROUNDS = 20;

const randomInt = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

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

/** Three ways to pick the moment of the kill, used in turn; the exact moment is random each time. */
async function waitForKillMoment(run: ChildRun, round: number): Promise<string> {
  switch (round % 3) {
    case 0: {
      const ms = randomInt(50, 400); // may land while the child is still starting or opening the store
      await sleep(ms, run.exited);
      return `${ms} ms after spawn`;
    }
    case 1: {
      await within(run.waitForLine((l) => l.startsWith("ready ")), "ready");
      const ms = randomInt(50, 400);
      await sleep(ms, run.exited);
      return `${ms} ms after ready`;
    }
    default: {
      const n = randomInt(1, 60);
      let seen = 0;
      await within(run.waitForLine((l) => l.startsWith("accepted ") && ++seen === n), `accepted line ${n}`);
      return `right after accepted line ${n}`;
    }
  }
}

Deno.test("a store killed at random moments by SIGKILL loses no reported block and keeps its UTXO set", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_crash_" });
  const reported = new Map<number, string>(); // height -> hash, over all rounds: the child never reorgs
  let expectedStart = 0;
  let lastReported = 0;
  const heights: number[] = [];
  let run: ChildRun | undefined;
  let beforeReady = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      run = spawnChild([dir]);
      const moment = await waitForKillMoment(run, round);
      const status = await run.kill();
      const context = `round ${round}, killed ${moment}`;
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
      console.log(`${ROUNDS} kills (${beforeReady} before ready), heights ${heights.join(" ")}; ${stats}`);
    } finally {
      store.close();
    }
  } finally {
    await run?.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
