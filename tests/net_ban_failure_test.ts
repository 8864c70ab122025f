/**
 * The error paths of the small files a node rewrites, the bans file and the tracker file: a write that fails
 * (on demand: the file's name taken by a folder, so the atomic rename fails) leaves the bans in memory and
 * says so; the next write, or `flush`, writes everything memory holds, also bans that came while a write was
 * in flight. A process SIGKILLed at random moments while it bans and rewrites the tracker leaves both files
 * readable, holding at least every change it had reported written.
 */
import assert from "node:assert/strict";
import { BanList } from "../lib/net/ban.ts";
import { AddressBook } from "../lib/net/address_book.ts";
import { formatHostPort } from "../lib/net/messages.ts";
import { readTracker, type TrackerFile } from "../lib/net/tracker.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";
import { childHost, childPort } from "./support/atomic_child.ts";
import { spawnChild } from "./support/crash_child.ts";
import { seededRandom } from "./support/random.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { namesIn, withTempDir } from "./support/temp_dir.ts";

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir(fn, "peerchain-ban-failure-");

/** The hosts the bans file at `path` holds, read as a restarted node reads them. */
async function onDisk(path: string): Promise<string[]> {
  return (await BanList.open(path)).banned().map((b) => b.host).sort();
}

const inMemory = (list: BanList) => list.banned().map((b) => b.host).sort();

/** Makes every write of `path` fail until the returned function is called. */
async function breakFile(path: string): Promise<() => Promise<void>> {
  const aside = `${path}.aside`;
  await Deno.rename(path, aside);
  await Deno.mkdir(`${path}/blocker`, { recursive: true }); // a non-empty folder: a rename onto it fails
  return async () => {
    await Deno.remove(path, { recursive: true });
    await Deno.rename(aside, path);
  };
}

/** A bans file in `dir` holding 10.0.0.1, then broken: every write fails until `heal()`. */
async function brokenBans(dir: string): Promise<{ path: string; list: BanList; heal: () => Promise<void> }> {
  const path = `${dir}/bans.json`;
  const list = await BanList.open(path);
  list.ban("10.0.0.1");
  await list.flush();
  return { path, list, heal: await breakFile(path) };
}

Deno.test("bans file: a failed write keeps the ban in memory and says so; flush writes everything once the disk is back", async () => {
  await withDir(async (dir) => {
    const { path, list, heal } = await brokenBans(dir);
    list.ban("10.0.0.2");
    await assert.rejects(list.flush(), "the failed write is reported");
    assert.ok(list.isBanned("10.0.0.2"), "the ban holds in memory");
    await heal();
    // No new ban comes: flush alone writes what memory holds.
    await list.flush();
    assert.deepEqual(await onDisk(path), inMemory(list));
    assert.deepEqual(inMemory(list), ["10.0.0.1", "10.0.0.2"]);
  });
});

Deno.test("bans file: bans that come while a write is in flight or failing are all written by the next one", async () => {
  await withDir(async (dir) => {
    const { path, list, heal } = await brokenBans(dir);
    list.ban("10.0.0.2"); // its write starts, and fails
    list.ban("10.0.0.3"); // arrives while that write is in flight
    await assert.rejects(list.flush());
    await heal();
    list.ban("10.0.0.4"); // the next write carries all of them
    list.unban("10.0.0.1");
    await list.flush();
    assert.deepEqual(await onDisk(path), inMemory(list));
    assert.deepEqual(inMemory(list), ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    // A burst of bans racing their writes: after the flush the file holds exactly memory's bans.
    for (let i = 0; i < 50; i++) {
      list.ban(`10.1.0.${i}`);
      if (i % 7 === 0) await sleep(0);
      if (i % 11 === 0) list.unban(`10.1.0.${i - 1}`);
    }
    await list.flush();
    assert.deepEqual(await onDisk(path), inMemory(list));
  });
});

const CHILD = new URL("./support/atomic_child.ts", import.meta.url).pathname;

Deno.test("bans and tracker files: a process SIGKILLed at random moments leaves both readable with every reported write", async () => {
  const random = seededRandom(25);
  for (let round = 0; round < 6; round++) {
    await withDir(async (dir) => {
      const child = spawnChild([dir], CHILD);
      try {
        await waitFor(
          () => child.lines.some((l) => l.startsWith("saved")),
          30_000,
          "the child's first write",
        );
        await sleep(Math.floor(random() * 300));
      } finally {
        await child.kill();
      }
      const lines = child.lines;
      const saved = lines.filter((l) => l.startsWith("saved ")).map((l) => Number(l.slice(6)));
      assert.ok(saved.length > 0, "the child wrote before it was killed");
      const last = saved[saved.length - 1];
      assert.ok(
        !(await namesIn(dir)).includes("bans.json.bad"),
        `round ${round}: the bans file was unreadable`,
      );
      const banned = await onDisk(`${dir}/bans.json`);
      for (let i = 0; i <= last; i++) {
        assert.ok(banned.includes(childHost(i)), `round ${round}: ban ${i} lost`);
      }
      assert.ok(banned.length <= last + 2, `round ${round}: ${banned.length} bans after ${last + 1} steps`);
      const tracker = await readTracker(`${dir}/server_tracker.txt`);
      assert.deepEqual(tracker.warnings, [], `round ${round}: the tracker file is whole`);
      assert.equal(tracker.addrs.length, 1);
      assert.ok([childPort(last), childPort(last + 1)].includes(tracker.addrs[0].port), `round ${round}`);
    });
  }
});

Deno.test("tracker file: a failed write is not taken for written; flush writes what the address book holds once the disk is back", async () => {
  let failing = true;
  let onDisk: string[] = [];
  const tracker: TrackerFile = {
    read: () => Promise.resolve({ addrs: [], warnings: [] }),
    write: (addrs) => {
      if (failing) return Promise.reject(new Error("injected: disk full"));
      onDisk = addrs.map(formatHostPort);
      return Promise.resolve();
    },
  };
  const book = new AddressBook(tracker, new VirtualClock());
  book.add("10.0.0.1:8333", "connect");
  book.add("10.0.0.2:8333", "connect");
  book.scheduleWrite({ self: "10.0.0.9:8333" }); // written at once, and fails
  await book.flush(); // tries again: fails again
  assert.deepEqual(onDisk, []);
  failing = false;
  await book.flush(); // nothing new to write, but the file does not have it yet
  assert.deepEqual(onDisk, book.trackerLines());
  assert.deepEqual(onDisk, ["10.0.0.9:8333", "10.0.0.1:8333", "10.0.0.2:8333"]);
});
