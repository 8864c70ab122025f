/**
 * A child process for the store tests, stopped dead by SIGKILL: by its parent at random moments, or by itself
 * at an exact store write.
 *
 * `deno run --allow-read --allow-write crash_child.ts <datadir> [mine [seed] [killAtWrite]]` takes the data
 * directory's lock, opens `<datadir>/chain.sqlite` (resuming whatever chain is there), prints
 * `ready <height> <hash>`, then mines regtest blocks forever. Each block pays the fixed test key and, once
 * coinbases are mature, carries transactions spending earlier outputs (1 to 3 inputs, 2 outputs, a fee), some
 * of them spending an output of another transaction in the same block; which ones follows from `seed`. After
 * each block is accepted it prints `accepted <height> <hash>`, so every reported block has been committed.
 *
 * `... crash_child.ts <datadir> replay <blocksFile> <killAtWrite>` opens the store (no lock), then processes
 * the blocks of `blocksFile` (hex, one a line) in order, printing `processed <hash> <status>` or
 * `refused <code>` after each, and `writes <n>` at the end. With `killAtWrite` 0 it also prints
 * `write <k> <sql>` for each store write, and exits normally. `replay-behind` does the same over a chain
 * with `writeBehind`, closed (one commit of every block) before `writes <n>`.
 *
 * With `killAtWrite` k > 0, either mode SIGKILLs itself right after the k-th store write (counted from
 * `ready`, or from the first block): a real crash, as abrupt as the kernel's OOM killer or a `kill -9`. Not
 * `Deno.exit`: that would leave through the runtime's exit path, which a crash never takes.
 *
 * `... crash_child.ts <datadir> hold` only takes the lock, prints `locked`, and waits to be killed.
 *
 * Tests start it with `spawnChild`.
 * @module
 */
import { Chain } from "../../lib/chain/chain.ts";
import { Mempool } from "../../lib/chain/mempool.ts";
import { isMature } from "../../lib/chain/tx_rules.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { importPrivateKey } from "../../lib/crypto/ed25519.ts";
import { pubKeyHash } from "../../lib/crypto/key_hash.ts";
import { createTemplate, solveSync } from "../../lib/mining/template.ts";
import type { OutPoint } from "../../lib/primitives/transaction.ts";
import { txid } from "../../lib/primitives/transaction.ts";
import { ValidationError } from "../../lib/chain/errors.ts";
import { decodeBlock } from "../../lib/primitives/block.ts";
import { lockDataDir } from "../../lib/store/lock.ts";
import { openStore, type Store } from "../../lib/store/store.ts";
import { spend, type TestKey } from "./ledger.ts";
import { seeded } from "./random.ts";

/**
 * PKCS#8 of the Ed25519 key every block of the child pays: fixed, so a restarted child can keep spending what
 * the killed one mined. A test key only; it guards nothing.
 */
export const CHILD_KEY_PKCS8 =
  "302e020100300506032b6570042204200aa9d63cd34ec7a4a726a5dd35cf570d625cf559784ed3630d96b2bf7641c485";

/** The child's key, with its key hash. */
export async function childKey(): Promise<TestKey> {
  const kp = await importPrivateKey(Uint8Array.fromHex(CHILD_KEY_PKCS8));
  return { ...kp, pkh: pubKeyHash(kp.publicKey) };
}

const CHILD_PATH = decodeURIComponent(new URL(import.meta.url).pathname);

/** A running child: its output lines so far, and ways to wait for a line or to kill it. */
export interface ChildRun {
  process: Deno.ChildProcess;
  /** Complete stdout lines received so far (a line cut off by the kill is left out). */
  lines: string[];
  /** Its exit status, once it exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Its whole stderr, once it exits. */
  stderr: Promise<string>;
  /** Resolves at the first line (received or to come) matching `match`; rejects if the output ends first. */
  waitForLine(match: (line: string) => boolean): Promise<void>;
  /** SIGKILLs the child unless it has exited, and resolves when it has and its output is read. */
  kill(): Promise<Deno.CommandStatus>;
}

/**
 * Starts `script` (default this file) as a child process, `deno run --allow-read --allow-write script ...args`,
 * reading its stdout line by line.
 */
export function spawnChild(args: string[], script = CHILD_PATH): ChildRun {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", script, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let hasExited = false;
  const exited = process.status.then((s) => (hasExited = true, s));
  const stderr = new Response(process.stderr).text();
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  const pump = (async () => {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of process.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      const parts = pending.split("\n");
      pending = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) {
          if (!w.match(line)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }
    const why = new Error(`the child's output ended before the awaited line; its stderr:\n${await stderr}`);
    for (const w of waiters.splice(0)) w.reject(why);
  })();
  return {
    process,
    lines,
    exited,
    stderr,
    waitForLine(match) {
      if (lines.some(match)) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ match, resolve, reject }));
    },
    async kill() {
      if (!hasExited) {
        try {
          process.kill("SIGKILL");
        } catch {
          // it exited between the check and the kill
        }
      }
      const status = await exited;
      await pump;
      return status;
    },
  };
}

const encoder = new TextEncoder();

/** One line on stdout, written before anything else happens (stdout is not buffered by `Deno.stdout.write`). */
async function say(line: string): Promise<void> {
  const bytes = encoder.encode(line + "\n");
  for (let done = 0; done < bytes.length;) done += await Deno.stdout.write(bytes.subarray(done));
}

/**
 * A store that SIGKILLs this process right after its `killAt`-th write once `arm()` is called (never for 0),
 * and otherwise passes each write to `onWrite`.
 */
function openCrashingStore(
  path: string,
  killAt: number,
  onWrite: (k: number, sql: string) => void = () => {},
): { store: Store; arm(): void; writes(): number } {
  let armed = false, writes = 0;
  const store = openStore(path, {
    onWrite(sql) {
      if (!armed) return;
      writes++;
      if (writes === killAt) Deno.kill(Deno.pid, "SIGKILL");
      onWrite(writes, sql);
    },
  });
  return { store, arm: () => void (armed = true), writes: () => writes };
}

/** Puts 1 to 3 spends of the key's mature coins into the mempool, the last one possibly chained. */
async function submitSpends(
  chain: Chain,
  mempool: Mempool,
  key: TestKey,
  pick: (n: number) => number,
): Promise<void> {
  const spendHeight = chain.height + 1;
  const coins = chain.coinsOf(new Set([key.pkh]))
    .filter((c) => isMature(c.coin, spendHeight, chain.params.coinbaseMaturity));
  // A random subset: which coins are spent must differ from run to run.
  for (let i = coins.length - 1; i > 0; i--) {
    const j = pick(i + 1);
    [coins[i], coins[j]] = [coins[j], coins[i]];
  }
  let chained: { outpoint: OutPoint; amount: number } | undefined;
  const txCount = 1 + pick(3);
  for (let t = 0; t < txCount; t++) {
    const inputs: { outpoint: OutPoint; amount: number }[] = [];
    if (chained) inputs.push(chained);
    const want = 1 + pick(3);
    while (inputs.length < want && coins.length) {
      const c = coins.pop()!;
      inputs.push({ outpoint: c.outpoint, amount: c.coin.amount });
    }
    if (inputs.length === 0) return;
    const fee = 300 * inputs.length + 100;
    const total = inputs.reduce((s, i) => s + i.amount, 0) - fee;
    if (total < 2) return;
    const first = 1 + pick(total - 1);
    const tx = await spend(key, inputs.map((i) => i.outpoint), [
      { amount: first, pubKeyHash: key.pkh },
      { amount: total - first, pubKeyHash: key.pkh },
    ]);
    await mempool.accept(tx);
    chained = pick(2) === 0 ? { outpoint: { txid: txid(tx), index: 1 }, amount: total - first } : undefined;
  }
}

async function mineForever(dir: string, seed: number, killAt: number): Promise<never> {
  lockDataDir(dir); // held until the process dies
  const { store, arm } = openCrashingStore(`${dir}/chain.sqlite`, killAt);
  const chain = Chain.open(store, NETWORKS.regtest);
  const mempool = new Mempool(chain);
  const key = await childKey();
  const pick = seeded(seed);
  await say(`ready ${chain.height} ${chain.tip.hash}`);
  arm();
  for (;;) {
    await submitSpends(chain, mempool, key, pick);
    // One second after the tip, not the wall clock: thousands of blocks stay far from the future limit.
    const { block } = createTemplate(chain, mempool, key.pkh, { time: chain.tip.header.time + 1 });
    const r = await chain.processBlock(solveSync(block));
    if (r.status !== "connected") throw new Error(`own block was not connected: ${r.status}`);
    await mempool.chainUpdated(r.update);
    await say(`accepted ${r.height} ${r.hash}`);
  }
}

async function replay(dir: string, blocksFile: string, killAt: number, writeBehind = false): Promise<void> {
  const lines: string[] = [];
  const { store, arm, writes } = openCrashingStore(`${dir}/chain.sqlite`, killAt, (k, sql) => {
    if (killAt === 0) lines.push(`write ${k} ${sql.replace(/\s+/g, " ").slice(0, 60)}`);
  });
  const chain = Chain.open(store, NETWORKS.regtest, { writeBehind });
  const blocks = (await Deno.readTextFile(blocksFile)).split("\n").filter((l) => l !== "");
  arm();
  for (const hex of blocks) {
    const block = decodeBlock(Uint8Array.fromHex(hex));
    try {
      const r = await chain.processBlock(block);
      lines.push(`processed ${r.hash} ${r.status}`);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      lines.push(`refused ${e.code}`);
    }
    // Printed before the next block is processed, so every `processed` line precedes any kill after it.
    for (const line of lines.splice(0)) await say(line);
  }
  chain.close(); // with write-behind: the one commit of every block
  await say(`writes ${writes()}`);
  store.close();
}

async function holdLock(dir: string): Promise<void> {
  lockDataDir(dir);
  await say("locked");
  setInterval(() => {}, 1 << 30); // keeps the process (and so the lock) alive until it is killed
}

if (import.meta.main) {
  const [dir, mode = "mine", ...rest] = Deno.args;
  const usage =
    "usage: crash_child.ts <datadir> [mine [seed] [killAtWrite] | replay[-behind] <blocksFile> <killAtWrite> | hold]";
  if (!dir) throw new Error(usage);
  if (mode === "hold") await holdLock(dir);
  else if (mode === "replay" && rest.length === 2) await replay(dir, rest[0], Number(rest[1]));
  else if (mode === "replay-behind" && rest.length === 2) await replay(dir, rest[0], Number(rest[1]), true);
  else if (mode === "mine") await mineForever(dir, Number(rest[0] ?? 1), Number(rest[1] ?? 0));
  else throw new Error(usage);
}
