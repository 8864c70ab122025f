/** Bans that survive a restart: the bans file, its atomic rewrite, and a node that honours it from the start. */
import assert from "node:assert/strict";
import { BanList } from "../lib/net/ban.ts";
import { generateIdentity } from "../lib/net/identity.ts";
import { StallMonitor } from "../lib/runtime/stall_monitor.ts";
import { helloMessage, rawPeer } from "./support/raw_peer.ts";
import { waitFor } from "./support/wait.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";

const withDir = (fn: (dir: string) => Promise<void>) => withTempDir(fn, "peerchain-bans-");

Deno.test("bans are written to the bans file and read back after a restart; scores and expired bans are not", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bans.json`;
    let now = 1_000_000;
    const a = await BanList.open(path, { now: () => now, banMs: 60_000 });
    assert.deepEqual(a.banned(), []);
    a.add("10.0.0.1", 60);
    a.add("10.0.0.1", 40); // reaches 100: banned, and written at once
    await a.flush();
    assert.match(await Deno.readTextFile(path), /"10\.0\.0\.1"/);
    a.ban("[fe80::1]", 1_000);
    a.add("10.0.0.2", 50); // a score, not a ban: not kept
    await a.flush();
    const file = JSON.parse(await Deno.readTextFile(path));
    assert.equal(file.version, 1);
    // An IPv6 host is its /64 (`hostGroup`): the ban holds the machine, whichever of its addresses it uses.
    assert.deepEqual(file.bans.map((b: { host: string }) => b.host).sort(), ["10.0.0.1", "fe80:0:0:0::/64"]);

    now += 2_000; // the short ban has ended
    const b = await BanList.open(path, { now: () => now });
    assert.ok(b.isBanned("10.0.0.1"));
    assert.equal(b.isBanned("fe80::1"), false);
    assert.equal(b.score("10.0.0.2"), 0);
    b.unban("10.0.0.1");
    await b.flush();
    const c = await BanList.open(path, { now: () => now });
    assert.equal(c.isBanned("10.0.0.1"), false, "an unban is written too");
    // No temporary files are left behind.
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["bans.json"]);
  });
});

Deno.test("key bans are written to the bans file with their host and read back; unban HOST lifts them", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bans.json`;
    let now = 1_000_000;
    const a = await BanList.open(path, { now: () => now, banMs: 60_000, hostBanMs: 1_000 });
    a.add("10.0.0.5", 100, "ab".repeat(32));
    await a.flush();
    now += 2_000; // the host's own ban has ended, the key's has not
    const b = await BanList.open(path, { now: () => now });
    assert.equal(b.isBanned("10.0.0.5"), false);
    assert.ok(b.isKeyBanned("ab".repeat(32)), "the key ban survives a restart");
    assert.deepEqual(b.banned(), [{ host: "10.0.0.5", nodeId: "ab".repeat(32), until: 1_060_000 }]);
    b.unban("10.0.0.5");
    await b.flush();
    assert.deepEqual((await BanList.open(path, { now: () => now })).banned(), []);
  });
});

Deno.test("a damaged bans file is kept aside, not lost, and the node starts with no bans", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/bans.json`;
    await Deno.writeTextFile(path, '{"version":1,"bans":[{"host":"10.0.0.1","until":');
    const list = await BanList.open(path);
    assert.deepEqual(list.banned(), []);
    assert.match(await Deno.readTextFile(`${path}.bad`), /10\.0\.0\.1/);
    // Entries that are not bans are skipped, the rest kept.
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        version: 1,
        bans: [{ host: "10.0.0.9", until: Date.now() + 60_000 }, { host: 5 }, null],
      }),
    );
    assert.deepEqual((await BanList.open(path)).banned().map((b) => b.host), ["10.0.0.9"]);
  });
});

/** Whether `port` on 127.0.0.1 greets a new connection (any bytes) before closing it. */
async function greets(port: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const n = await conn.read(new Uint8Array(1024)).catch(() => null);
    return n !== null && n > 0;
  } finally {
    try {
      conn.close();
    } catch { /* closed by the node */ }
  }
}

Deno.test("a node loads its bans file at start and refuses a banned host from the first connection", async () => {
  await withDir(async (dir) => {
    const start = () => startLocalNode(dir);
    let node = await start();
    const port = () => Number(node.net.listen.split(":").at(-1));
    try {
      assert.equal(await greets(port()), true, "control: an unbanned host is greeted");
    } finally {
      await node.stop();
    }
    // A ban written while the node was down (as a previous run of it would have).
    const bans = await BanList.open(`${dir}/data/bans.json`);
    bans.ban("127.0.0.1");
    await bans.flush();
    node = await start();
    try {
      assert.equal(await greets(port()), false, "the banned host is refused at once");
    } finally {
      await node.stop();
    }
  });
});

Deno.test("the stall monitor sees a blocked event loop, and forgets it once it is no longer recent", async () => {
  const m = new StallMonitor(5);
  try {
    await new Promise((r) => setTimeout(r, 30));
    const end = performance.now() + 200;
    while (performance.now() < end) { /* a synchronous loop, as a huge getdata answered at once was */ }
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(m.longestMs >= 150, `longest ${m.longestMs} ms`);
    assert.ok(m.recentMs >= 150, `recent ${m.recentMs} ms`);
  } finally {
    m.stop();
  }
});

Deno.test("a node refuses a hello with a banned key from any address, and lets another key in from the banned one's host", async () => {
  await withDir(async (dir) => {
    const banned = await generateIdentity();
    await Deno.mkdir(`${dir}/data`, { recursive: true });
    // Banned while it misbehaved from another address; the host's own ban is long over.
    const bans = await BanList.open(`${dir}/data/bans.json`, { hostBanMs: 1 });
    bans.add("127.0.0.1", 100, banned.nodeId);
    await bans.flush();
    await new Promise((r) => setTimeout(r, 5));
    const node = await startLocalNode(dir);
    const port = Number(node.net.listen.split(":").at(-1));
    try {
      const other = await rawPeer(port, helloMessage("x"));
      const liar = await rawPeer(port, helloMessage("x"), [], { identity: banned });
      await waitFor(() => liar.conn.isClosed, 5_000, "the banned key's link to close");
      assert.ok(
        liar.got.some((m) => m.type === "reject" && m.code === "banned"),
        `refused as banned: ${JSON.stringify(liar.got)}`,
      );
      await waitFor(() => other.got.some((m) => m.type === "proof"), 5_000, "another key to be greeted");
      assert.equal(other.conn.isClosed, false, "another key from the same host is not locked out");
      await other.conn.close("done");
    } finally {
      await node.stop();
    }
  });
});
