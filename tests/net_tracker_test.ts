import assert from "node:assert/strict";
import { namesIn } from "./support/temp_dir.ts";
import { BanList, HOST_BAN_MS } from "../lib/net/ban.ts";
import { AddressBook } from "../lib/net/address_book.ts";
import { systemClock } from "../lib/net/transport.ts";
import {
  learnedTrackerPath,
  parseTracker,
  readTracker,
  trackerFile,
  writeTracker,
} from "../lib/net/tracker.ts";

Deno.test("tracker: comments, blank lines, both formats, bad lines reported, duplicates dropped", () => {
  const text = [
    "# current hub first",
    "127.0.0.1 8333",
    "",
    "   ",
    "localhost:9000   # fallback",
    "[::1]:7000",
    "not an address",
    "host:0",
    "127.0.0.1:8333",
    "::1 7001\r",
  ].join("\n");
  const { addrs, warnings } = parseTracker(text);
  assert.deepEqual(addrs, [
    { hostname: "127.0.0.1", port: 8333 },
    { hostname: "localhost", port: 9000 },
    { hostname: "::1", port: 7000 },
    { hostname: "::1", port: 7001 },
  ]);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^line 7: /);
  assert.match(warnings[1], /^line 8: .*port/);
});

Deno.test("tracker: round trip, missing file is empty, write is atomic and leaves no temp files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_tracker_" });
  try {
    const path = `${dir}/server_tracker.txt`;
    assert.deepEqual(await readTracker(path), { addrs: [], warnings: [] });
    const addrs = [{ hostname: "127.0.0.1", port: 8333 }, { hostname: "::1", port: 9 }, {
      hostname: "a.b",
      port: 65535,
    }];
    await writeTracker(path, addrs);
    assert.equal(await Deno.readTextFile(path), "127.0.0.1 8333\n::1 9\na.b 65535\n");
    assert.deepEqual(await readTracker(path), { addrs, warnings: [] });

    // Concurrent writers (several nodes in one folder) and a reader: every read sees one whole version.
    const versions = Array.from(
      { length: 20 },
      (_, i) => [{ hostname: "127.0.0.1", port: 1000 + i }, ...addrs],
    );
    const whole = [addrs, ...versions].map((v) => JSON.stringify(v));
    const results = await Promise.all(versions.flatMap((v) => [readTracker(path), writeTracker(path, v)]));
    for (const r of results) {
      if (r === undefined) continue;
      assert.equal(r.warnings.length, 0);
      assert.ok(whole.includes(JSON.stringify(r.addrs)), "a read saw a partial file");
    }
    const final = await readTracker(path);
    assert.ok(versions.some((v) => JSON.stringify(v) === JSON.stringify(final.addrs)));
    assert.deepEqual(await namesIn(dir), ["server_tracker.txt"]);

    // A failed write (target is a directory) leaves the old file alone and cleans its temp file.
    await Deno.mkdir(`${dir}/sub/server_tracker.txt`, { recursive: true });
    await assert.rejects(writeTracker(`${dir}/sub/server_tracker.txt`, addrs));
    const sub = [];
    for await (const e of Deno.readDir(`${dir}/sub`)) sub.push(e.name);
    assert.deepEqual(sub, ["server_tracker.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tracker: what a node learns goes to its network's own file, read first; the given file is never written; unreadable lines are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_tracker_" });
  try {
    assert.equal(
      learnedTrackerPath(`${dir}/server_tracker.txt`, "regtest"),
      `${dir}/server_tracker.regtest.txt`,
    );
    assert.equal(learnedTrackerPath("peers", "main"), "peers.main");
    assert.equal(learnedTrackerPath("./a.b/peers", "main"), "./a.b/peers.main");
    const shippedPath = `${dir}/server_tracker.txt`;
    const shipped = "# shipped with the clone\n10.0.0.1 8765\nnot an address\n";
    await Deno.writeTextFile(shippedPath, shipped);
    const regtest = trackerFile(shippedPath, learnedTrackerPath(shippedPath, "regtest"));
    const main = trackerFile(shippedPath, learnedTrackerPath(shippedPath, "main"));
    // Nothing learned yet: the shipped file's lines, its bad line reported by file and line.
    const first = await regtest.read();
    assert.deepEqual(first.addrs, [{ hostname: "10.0.0.1", port: 8765 }]);
    assert.deepEqual(first.warnings.length, 1);
    assert.match(first.warnings[0], /server_tracker\.txt line 3: /);
    // A write goes to the network's file; the shipped one is byte for byte as it was.
    await regtest.write([{ hostname: "127.0.0.1", port: 18765 }]);
    assert.equal(await Deno.readTextFile(shippedPath), shipped);
    assert.equal(await Deno.readTextFile(`${dir}/server_tracker.regtest.txt`), "127.0.0.1 18765\n");
    // Read back: the learned address first, then the shipped one; main never sees regtest's.
    assert.deepEqual((await regtest.read()).addrs, [
      { hostname: "127.0.0.1", port: 18765 },
      { hostname: "10.0.0.1", port: 8765 },
    ]);
    assert.deepEqual((await main.read()).addrs, [{ hostname: "10.0.0.1", port: 8765 }]);
    // Someone edits the learned file by hand, badly: the line is reported, and kept through a rewrite.
    await Deno.writeTextFile(`${dir}/server_tracker.regtest.txt`, "127.0.0.1 18765\n127.0.0.1 port?\n");
    const edited = await regtest.read();
    assert.match(edited.warnings.join("\n"), /server_tracker\.regtest\.txt line 2: /);
    await regtest.write([{ hostname: "127.0.0.1", port: 18766 }]);
    const text = await Deno.readTextFile(`${dir}/server_tracker.regtest.txt`);
    assert.equal(text.split("\n")[0], "127.0.0.1 18766", "the SuperPeer stays on the first line");
    assert.match(text, /^127\.0\.0\.1 port\?$/m, "the unreadable line is kept");
    assert.equal((await regtest.read()).addrs[0].port, 18766);
    // No temporary file is left, and main wrote nothing.
    assert.deepEqual(await namesIn(dir), ["server_tracker.regtest.txt", "server_tracker.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tracker: a SuperPeer named first by the given file still writes itself into its learned file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain_tracker_" });
  try {
    // The given file already names this node first (a LAN's copies, host 1 first): what was read is not
    // what is on disk in the learned file, so the address book must still write it.
    const given = `${dir}/server_tracker.txt`;
    await Deno.writeTextFile(given, "10.200.0.1 18765\n10.200.0.2 18765\n");
    const learned = learnedTrackerPath(given, "regtest");
    const book = new AddressBook(trackerFile(given, learned), systemClock);
    await book.load();
    book.scheduleWrite({ self: "10.200.0.1:18765" });
    await book.flush();
    assert.equal((await Deno.readTextFile(learned)).split("\n")[0], "10.200.0.1 18765");
    assert.equal(await Deno.readTextFile(given), "10.200.0.1 18765\n10.200.0.2 18765\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ban list: scores add up to a ban at 100, which expires after 24 h", () => {
  let now = 1_000_000;
  const bans = new BanList({ now: () => now, hostBanMs: 24 * 3600 * 1000 });
  assert.equal(bans.add("10.0.0.1", 20), false);
  assert.equal(bans.add("10.0.0.1", 79), false);
  assert.equal(bans.isBanned("10.0.0.1"), false);
  assert.equal(bans.score("10.0.0.1"), 99);
  assert.equal(bans.add("10.0.0.1", 1), true);
  assert.equal(bans.isBanned("10.0.0.1"), true);
  assert.equal(bans.isBanned("10.0.0.2"), false);
  assert.deepEqual(bans.banned(), [{ host: "10.0.0.1", until: now + 24 * 3600 * 1000 }]);
  now += 24 * 3600 * 1000 - 1;
  assert.equal(bans.isBanned("10.0.0.1"), true);
  now += 1;
  assert.equal(bans.isBanned("10.0.0.1"), false);
  assert.equal(bans.score("10.0.0.1"), 0);
  assert.equal(bans.add("10.0.0.1", 50), false);
});

Deno.test("ban list: hosts are normalised, manual ban and unban, bounded memory", () => {
  let now = 0;
  const bans = new BanList({ now: () => now, maxEntries: 3 });
  bans.ban("[::1]", 1000);
  assert.equal(bans.isBanned("::1"), true);
  bans.add("HOST.local", 100);
  assert.equal(bans.isBanned("host.local"), true);
  bans.unban("host.LOCAL");
  assert.equal(bans.isBanned("host.local"), false);
  for (let i = 0; i < 10; i++) bans.add(`10.0.0.${i}`, 1);
  assert.equal(bans.isBanned("::1"), true, "unbanned entries are evicted before bans");
  assert.equal(bans.score("10.0.0.0"), 0);
  assert.equal(bans.score("10.0.0.9"), 1);
  now = 1000;
  assert.equal(bans.isBanned("::1"), false);
});

Deno.test("ban list: a host is an IPv4 address or an IPv6 /64, so a banned machine cannot walk its /64 to get back in", () => {
  const now = 1_000_000;
  const bans = new BanList({ now: () => now });
  assert.equal(bans.add("2001:db8:1:2::1", 100), true);
  for (const h of ["2001:db8:1:2::1", "2001:db8:1:2::77", "[2001:DB8:1:2:ffff::9]"]) {
    assert.equal(bans.isBanned(h), true, h);
  }
  assert.equal(bans.isBanned("2001:db8:1:3::1"), false, "the next /64 is another host");
  assert.equal(bans.isBanned("10.0.0.1"), false);
  assert.deepEqual(bans.banned().map((b) => b.host), ["2001:db8:1:2::/64"]);
  assert.ok(
    bans.isListed("2001:db8:1:2::5") && bans.isListed("2001:db8:1:2::/64"),
    "listed by any address or the /64",
  );
  bans.unban("2001:db8:1:2::/64");
  assert.equal(bans.isBanned("2001:db8:1:2::77"), false, "unban of the listed /64 lifts it");
  assert.equal(bans.add("10.0.0.1", 100), true);
  assert.equal(bans.isBanned("10.0.0.2"), false, "IPv4: one address, never a LAN's /24 or /16");
});

Deno.test("ban list: a ban names the proven key for 24 h and the host only briefly, so a reused address with another key gets in", () => {
  let now = 1_000_000;
  const day = 24 * 3600 * 1000;
  const bans = new BanList({ now: () => now });
  assert.equal(bans.add("10.0.0.7", 60, "key-a"), false);
  assert.equal(bans.add("10.0.0.7", 40, "key-a"), true);
  assert.equal(bans.isBanned("10.0.0.7"), true, "the host at once");
  assert.equal(bans.isKeyBanned("key-a"), true);
  assert.equal(bans.isKeyBanned("key-b"), false);
  assert.deepEqual(bans.banned(), [
    { host: "10.0.0.7", until: now + HOST_BAN_MS },
    { host: "10.0.0.7", nodeId: "key-a", until: now + day },
  ]);
  now += HOST_BAN_MS;
  assert.equal(bans.isBanned("10.0.0.7"), false, "DHCP gave the address to another machine: it may connect");
  assert.equal(bans.isKeyBanned("key-a"), true, "the banned key stays banned, from any address");
  assert.equal(bans.add("10.0.0.7", 20, "key-b"), false, "the new machine starts from zero");
  assert.ok(bans.isListed("10.0.0.7"), "bans still lists the host's key ban");
  bans.unban("10.0.0.7");
  assert.equal(bans.isKeyBanned("key-a"), false, "unban HOST lifts the keys banned from it too");
  assert.deepEqual(bans.banned(), []);
  // Without a proven key the host ban is as short; a key ban ends after 24 h.
  bans.add("10.0.0.8", 100);
  assert.deepEqual(bans.banned(), [{ host: "10.0.0.8", until: now + HOST_BAN_MS }]);
  bans.add("10.0.0.9", 100, "key-c");
  now += day;
  assert.equal(bans.isKeyBanned("key-c"), false);
});
