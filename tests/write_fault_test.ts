/**
 * Exact fault injection for the small files a node rewrites atomically: the bans file, the tracker file and
 * the wallet file. Each scenario runs once to count its writes W, then again for every k in 1..W with the
 * k-th write failing (and the k-th and k+1-th, so a retry fails too). After every step memory is checked
 * against disk, as a restart would read it: equal, or unequal only until the next flush writes it again;
 * nothing reported written or handed out is lost.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { AddressBook } from "../lib/net/address_book.ts";
import { BanList } from "../lib/net/ban.ts";
import { formatHostPort } from "../lib/net/messages.ts";
import { readTracker, trackerFile } from "../lib/net/tracker.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";
import { MIN_SCRYPT_N } from "../lib/wallet/secret_box.ts";
import { Wallet } from "../lib/wallet/wallet.ts";
import { everyKthWrite } from "./support/failing_writes.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { sleep } from "./support/wait.ts";

const withDir = <T>(fn: (dir: string) => Promise<T>) => withTempDir(fn, "peerchain-write-fault-");

/** The bans a restarted node would read from `path`. */
async function bansOnDisk(path: string): Promise<string[]> {
  return (await BanList.open(path)).banned().map((b) => `${b.host} ${b.nodeId ?? ""}`).sort();
}
const bansInMemory = (list: BanList) => list.banned().map((b) => `${b.host} ${b.nodeId ?? ""}`).sort();

for (const twice of [false, true]) {
  Deno.test(`bans file: the k-th write fails${twice ? ", and its retry" : ""}, for every k: memory equals disk after each flush`, async () => {
    const total = await everyKthWrite((k) =>
      withDir(async (dir) => {
        const path = `${dir}/bans.json`;
        const list = await BanList.open(path);
        const steps: ((l: BanList) => void)[] = [
          (l) => l.ban("10.0.0.1"),
          (l) => {
            l.ban("10.0.0.2");
            l.ban("10.0.0.3"); // shares the write in flight or the next one
          },
          (l) => l.unban("10.0.0.1"),
          (l) => l.add("10.0.0.4", 100, "key4"), // a ban by score, with the key the link proved
          (l) => {
            l.ban("10.0.0.5");
            l.unban("10.0.0.2");
          },
        ];
        for (const [i, step] of steps.entries()) {
          step(list);
          if (i % 2) await sleep(0); // let a write start before the flush
          const flushed = await list.flush().then(() => true, () => false);
          if (!flushed) {
            assert.ok(twice, `k=${k}, step ${i}: one failed write is retried by flush`);
            await list.flush(); // the disk is back: memory is written whole
          }
          assert.deepEqual(await bansOnDisk(path), bansInMemory(list), `k=${k}, step ${i}`);
        }
        assert.deepEqual(bansInMemory(list), ["10.0.0.3 ", "10.0.0.4 ", "10.0.0.4 key4", "10.0.0.5 "].sort());
      }), { twice });
    assert.ok(total >= 5, `${total} writes`);
  });
}

Deno.test("tracker file: the k-th write fails (and its retry), for every k: the file equals the address book's lines after each flush", async () => {
  for (const twice of [false, true]) {
    await everyKthWrite((k) =>
      withDir(async (dir) => {
        const path = `${dir}/server_tracker.txt`;
        const clock = new VirtualClock();
        const book = new AddressBook(trackerFile(path), clock);
        await book.load();
        const onDisk = async () => (await readTracker(path)).addrs.map(formatHostPort);
        const steps: ((b: AddressBook) => void)[] = [
          (b) => {
            b.add("10.0.0.1:8333", "connect");
            b.scheduleWrite({ self: "10.0.0.9:8333" }); // at once
          },
          (b) => {
            b.add("10.0.0.2:8333", "connect");
            b.scheduleWrite({ self: "10.0.0.9:8333" }); // too soon after the last: waits for the clock
          },
          (b) => b.scheduleWrite({ self: "10.0.0.8:8333" }),
          (b) => {
            b.add("10.0.0.3:8333", "connect");
            b.scheduleWrite({ self: "10.0.0.8:8333" });
          },
        ];
        for (const [i, step] of steps.entries()) {
          step(book);
          if (i % 2) await sleep(0);
          await book.flush();
          if ((await onDisk()).join() !== book.trackerLines().join()) {
            assert.ok(twice, `k=${k}, step ${i}: one failed write is retried by flush`);
            await book.flush();
          }
          assert.deepEqual(await onDisk(), book.trackerLines(), `k=${k}, step ${i}`);
          clock.advance(60_000);
        }
        assert.deepEqual(await onDisk(), [
          "10.0.0.8:8333",
          "10.0.0.1:8333",
          "10.0.0.2:8333",
          "10.0.0.3:8333",
        ]);
      }), { twice });
  }
});

/** What opening each file content found: a content already opened is not opened again (opening derives keys). */
const opened = new Map<string, ReturnType<typeof walletState>>();

/**
 * What a restart would find in the wallet file at `path`: handed-out addresses, change, and whether sealed.
 * It opens a copy (opening may top up the keys and write; the scenario's writes are the original's alone).
 */
async function walletOnDisk(path: string) {
  const text = await Deno.readTextFile(path);
  const known = opened.get(text);
  if (known) return known;
  const copy = `${path}.check`;
  await Deno.writeTextFile(copy, text);
  try {
    const state = walletState(await Wallet.open(copy, NETWORKS.regtest, { scryptN: MIN_SCRYPT_N }));
    opened.set(text, state);
    return state;
  } finally {
    await Deno.remove(copy);
  }
}
const walletState = (w: Wallet) => ({
  addresses: w.addresses(),
  change: w.changeAddresses(),
  sealed: w.encrypted,
});

Deno.test("wallet file: the k-th write fails (and its retry), for every k: after each step memory equals disk, or does after the next flush; no address handed out is lost", async () => {
  for (const twice of [false, true]) {
    await everyKthWrite((k) =>
      withDir(async (dir) => {
        const path = `${dir}/wallet.json`;
        let wallet: Wallet | undefined;
        for (let tries = 0; !wallet; tries++) {
          wallet = await Wallet.open(path, NETWORKS.regtest, { scryptN: MIN_SCRYPT_N }).catch(() =>
            undefined
          );
          if (!wallet) {
            assert.ok(tries < 2, `k=${k}: opening fails at most twice`);
            await assert.rejects(Deno.stat(path), "a wallet that failed its first save leaves no file");
          }
        }
        const w = wallet;
        const handedOut: string[] = [];
        const steps: (() => Promise<unknown>)[] = [
          () => w.newAddress().then((a) => handedOut.push(a)),
          () => w.newAddress().then((a) => handedOut.push(a)),
          () => w.encrypt("correct horse"),
          () => w.newAddress().then((a) => handedOut.push(a)),
          () => w.unlock("correct horse", 60),
          () => w.newAddress().then((a) => handedOut.push(a)),
        ];
        for (const [i, step] of steps.entries()) {
          await step().catch(() => {});
          await w.settled();
          if (JSON.stringify(await walletOnDisk(path)) !== JSON.stringify(walletState(w))) {
            // A failed save: memory may hold more (an address derived, not handed out); the next flush
            // writes it.
            await w.flush().catch(() => {});
            if (twice) await w.flush().catch(() => {});
          }
          assert.deepEqual(await walletOnDisk(path), walletState(w), `k=${k}, step ${i}`);
          for (const a of handedOut) assert.ok(w.addresses().includes(a), `k=${k}: ${a} lost`);
        }
        w.lock();
      }), { twice, only: (p) => p.endsWith("/wallet.json") });
  }
});
