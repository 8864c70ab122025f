/**
 * Directory gossip as digests and pulls (issue 19, lib/net/gossip.ts and dir_gossip.ts), in process: past a
 * full mesh, news reaches a mesh neighbour as ids and sequences, the neighbour pulls each entry it lacks once,
 * from one neighbour at a time, and a heartbeat travels no further than the neighbours.
 */
import assert from "node:assert/strict";
import {
  DIR_MEMBER_REFRESH_MS,
  DIR_PEER_REFRESH,
  DIR_REFRESH_MS,
  DIR_SUM_BUCKETS,
  DIR_SUM_BUCKETS_MAX,
  DIR_SYNC_GAP_MS,
  DIR_TTL_MS,
  MESH_FULL_UP_TO,
} from "../lib/net/config.ts";
import { bucketOf, Directory, summaryBuckets } from "../lib/net/directory.ts";
import { DirectoryGossip, sampleExcept } from "../lib/net/gossip.ts";
import type { Link } from "../lib/net/link.ts";
import type { Message, SuperPeerEntry } from "../lib/net/messages.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";

/** A link that records what is sent on it. */
function fakeLink(name: string): Link & { sent: Message[] } {
  const sent: Message[] = [];
  return { sent, name, conn: { send: (m: Message) => (sent.push(m), true), isClosed: false } } as unknown as
    & Link
    & {
      sent: Message[];
    };
}

function entry(i: number, seq = 1_000): SuperPeerEntry {
  return { nodeId: `sp${i}`, listen: `10.0.0.${i}:8765`, peers: 1, load: 1, capacity: 32, seq, sig: "00" };
}

function setup() {
  const clock = new VirtualClock();
  const a = fakeLink("a"), b = fakeLink("b"), c = fakeLink("c");
  const primary = fakeLink("primary"), backup = fakeLink("backup");
  const scores: string[] = [];
  const gossip = new DirectoryGossip({
    nodeId: "me",
    clock,
    random: () => 0.5,
    isSuperPeer: () => true,
    viewOf: () => undefined,
    isMember: () => false,
    isMesh: () => true,
    meshLinks: () => [a, b, c],
    memberLinks: () => [primary, backup],
    checkSig: () => Promise.resolve(true),
    misbehaved: (_, score, reason) => void scores.push(`${score} ${reason}`),
    heardNew: () => {},
  });
  return { clock, gossip, a, b, c, scores, primary, backup };
}

const types = (l: { sent: Message[] }) => l.sent.map((m) => m.type);

Deno.test("past a full mesh, news goes out as a digest; a neighbour pulls it once, from one of the links that announced it", async () => {
  const { clock, gossip, a, b, c } = setup();
  const now = clock.now();
  // More SuperPeers than a full mesh holds, heard from `a`.
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 2 }, (_, i) => entry(i, now)), a);
  gossip.flush();
  assert.deepEqual(types(a), [], "nothing goes back where it came from");
  assert.deepEqual(types(b), ["ihave"], "the others hear a digest, not the entries");
  const digest = b.sent[0] as Extract<Message, { type: "ihave" }>;
  assert.equal(digest.entries.length, MESH_FULL_UP_TO + 2);
  assert.deepEqual(Object.keys(digest.entries[0]).sort(), ["nodeId", "seq"]);

  // A newer entry announced by two neighbours is asked of the first only.
  const newer = { nodeId: "sp1", seq: now + 5 };
  b.sent.length = c.sent.length = 0;
  gossip.onIHave(b, [newer, { nodeId: "sp2", seq: now }]);
  gossip.onIHave(c, [newer]);
  assert.deepEqual(b.sent, [{ type: "iwant", ids: ["sp1"] }], "only what it lacks or holds older");
  assert.deepEqual(c.sent, [], "not again of another link while the first answer is due");

  // Asked for entries, it answers with those it holds.
  a.sent.length = 0;
  gossip.onIWant(a, ["sp3", "unknown"]);
  assert.deepEqual(a.sent.map((m) => m.type), ["superpeers"]);
  assert.deepEqual((a.sent[0] as Extract<Message, { type: "superpeers" }>).add.map((e) => e.nodeId), ["sp3"]);
});

Deno.test("past a full mesh, a heartbeat (only the sequence moved) or another SuperPeer's room refreshes this node's copy and goes no further until DIR_REFRESH_MS", async () => {
  const { clock, gossip, a, b } = setup();
  const now = clock.now();
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 2 }, (_, i) => entry(i, now)), a);
  gossip.flush();
  b.sent.length = 0;
  await gossip.mergeEntries([entry(1, now + 20_000)], a);
  gossip.flush();
  assert.equal(gossip.dir.get("sp1")?.seq, now + 20_000, "the copy is refreshed");
  assert.deepEqual(types(b), [], "a heartbeat stays local");
  await gossip.mergeEntries([{ ...entry(1, now + 30_000), load: 32 }], a);
  gossip.flush();
  assert.equal(gossip.dir.get("sp1")?.load, 32, "another SuperPeer's room running out is kept");
  assert.deepEqual(types(b), [], "and goes no further: it travels one hop");
  gossip.dir.merge({ ...entry(99, now), nodeId: "me" }, now, "own", true);
  gossip.flush();
  b.sent.length = 0;
  gossip.dir.merge({ ...entry(99, now + 1), nodeId: "me", load: 32 }, now, "own", true);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "our own room running out is news to our neighbours");
  b.sent.length = 0;
  await gossip.mergeEntries([{ ...entry(1, now + 30_000), listen: "10.0.9.9:8765", seq: now + 30_001 }], a);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "a new address is news for every SuperPeer");
  b.sent.length = 0;
  await gossip.mergeEntries([{ ...entry(1, now + 30_001 + DIR_REFRESH_MS), listen: "10.0.9.9:8765" }], a);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "and so is a refresh every DIR_REFRESH_MS");
});

Deno.test("a new mesh link's summary is answered with a digest of only the buckets that differ, once per link", async () => {
  const { clock, gossip, a, b } = setup();
  const now = clock.now();
  const n = 200; // many more entries than buckets: a bucket holds a few
  const all = Array.from({ length: n }, (_, i) => entry(i, now));
  await gossip.mergeEntries(all, a);
  gossip.flush();
  b.sent.length = 0;
  // The far end holds the same claims at other sequences (heartbeats stay local), lacks sp7, and holds sp9
  // before its room ran out.
  const far = new Directory();
  for (const e of all) {
    if (e.nodeId === "sp7") continue;
    far.merge(e.nodeId === "sp9" ? { ...e, seq: now - 5 } : { ...e, seq: now - 1 }, now);
  }
  gossip.dir.merge({ ...entry(9, now + 1), load: 32 }, now);
  const count = far.summary().length / 8;
  assert.equal(count, summaryBuckets(far.size), "the sender's count of buckets, by its directory's size");
  assert.equal(count, 128, "one bucket per two entries, a power of two");
  const differ = new Set([bucketOf("sp7", count), bucketOf("sp9", count)]);
  gossip.onDirSum(b, far.summary());
  const offered = b.sent.flatMap((m) => m.type === "ihave" ? m.entries.map((d) => d.nodeId) : []);
  assert.ok(offered.includes("sp7") && offered.includes("sp9"), "what the far end lacks or holds otherwise");
  assert.deepEqual(
    offered.sort(),
    all.filter((e) => differ.has(bucketOf(e.nodeId, count))).map((e) => e.nodeId).sort(),
    "only the entries of the buckets that differ",
  );
  assert.ok(offered.length <= 8, `${offered.length} of ${n} offered`);
  b.sent.length = 0;
  gossip.onDirSum(b, far.summary());
  assert.deepEqual(b.sent, [], "a link's summary is answered once");
  // A directory that agrees on every claim is offered nothing.
  far.merge(gossip.dir.get("sp7")!, now);
  far.merge({ ...gossip.dir.get("sp9")!, seq: now + 2 }, now);
  gossip.onDirSum(a, far.summary());
  assert.equal(far.summary(DIR_SUM_BUCKETS).length, 8 * DIR_SUM_BUCKETS);
  assert.deepEqual(a.sent.filter((m) => m.type === "ihave"), [], "nothing differs, nothing offered");
});

Deno.test("new mesh links get this node's summary one at a time, DIR_SYNC_GAP_MS apart", async () => {
  const { clock, gossip, a, b, c } = setup();
  gossip.syncWith(a);
  gossip.syncWith(b);
  gossip.syncWith(c);
  gossip.syncWith(a);
  assert.deepEqual([types(a), types(b), types(c)], [["dirsum"], [], []], "the first at once");
  await clock.advance(DIR_SYNC_GAP_MS - 1);
  assert.deepEqual(types(b), [], "the next not before the gap");
  await clock.advance(1);
  assert.deepEqual([types(a), types(b), types(c)], [["dirsum"], ["dirsum"], []]);
  await clock.advance(DIR_SYNC_GAP_MS);
  assert.deepEqual([types(a), types(b), types(c)], [["dirsum"], ["dirsum"], ["dirsum"]], "each link once");
  gossip.stop();
});

Deno.test("a Peer's sample of the directory: distinct entries drawn at random, never the SuperPeer's own", () => {
  const all = Array.from({ length: 50 }, (_, i) => entry(i));
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let round = 0; round < 20; round++) {
    const got = sampleExcept(all, 16, "sp3", random).map((e) => e.nodeId);
    assert.equal(new Set(got).size, 16, "distinct");
    assert.ok(!got.includes("sp3"), "not the skipped one");
  }
  const stuck = sampleExcept(all, 16, "sp3", () => 0.999).map((e) => e.nodeId);
  assert.equal(new Set(stuck).size, 16, "a random source stuck on one value still gives distinct entries");
  assert.ok(!stuck.includes("sp3"));
  assert.deepEqual(sampleExcept(all.slice(0, 5), 16, "sp3", random).map((e) => e.nodeId).sort(), [
    "sp0",
    "sp1",
    "sp2",
    "sp4",
  ]);
});

Deno.test("past a full mesh, a Peer hears a fresh sample every DIR_MEMBER_REFRESH_MS, and its SuperPeer's own entry every DIR_REFRESH_MS", async () => {
  const { clock, gossip, a, primary, backup } = setup();
  const now = clock.now();
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 10 }, (_, i) => entry(i, now)), a);
  gossip.dir.merge({ ...entry(99, now), nodeId: "me" }, now, "own", true);
  gossip.flush();
  const heard = (l: { sent: Message[] }) =>
    l.sent.flatMap((m) => m.type === "superpeers" ? m.add.map((e) => e.nodeId) : []);
  gossip.refreshMembersIfDue(now + DIR_MEMBER_REFRESH_MS);
  assert.equal(heard(primary).length, 1 + DIR_PEER_REFRESH, "our own entry and a sample");
  assert.ok(heard(primary).includes("me"));
  assert.equal(heard(backup).length, 1 + DIR_PEER_REFRESH, "each Peer its own sample");
  primary.sent.length = 0;
  gossip.refreshMembersIfDue(now + 2 * DIR_MEMBER_REFRESH_MS);
  assert.equal(heard(primary).length, DIR_PEER_REFRESH, "a sample, without our own entry");
  assert.ok(!heard(primary).includes("me"));
  primary.sent.length = 0;
  gossip.refreshMembersIfDue(now + DIR_MEMBER_REFRESH_MS + DIR_REFRESH_MS);
  assert.ok(heard(primary).includes("me"), "our own entry again once DIR_REFRESH_MS has passed");
});

Deno.test("entries expire DIR_TTL_MS after they were last refreshed, each at its own time, the kept one never", () => {
  const d = new Directory();
  const t = 1_000_000;
  d.merge(entry(1, t), t);
  d.merge(entry(2, t), t + 1000);
  d.merge(entry(3, t), t + 2000);
  d.merge({ ...entry(9, t), nodeId: "me" }, t);
  assert.deepEqual(d.expire(t + DIR_TTL_MS - 1, "me"), []);
  d.touch("sp2", t + 5000);
  assert.deepEqual(d.expire(t + DIR_TTL_MS, "me"), ["sp1"]);
  assert.deepEqual(d.expire(t + DIR_TTL_MS + 2000, "me"), ["sp3"], "sp2 was refreshed");
  d.merge(entry(4, t), t + 3000); // a later entry that expires before sp2
  assert.deepEqual(d.expire(t + 3000 + DIR_TTL_MS, "me"), ["sp4"]);
  assert.deepEqual(d.expire(t + 5000 + DIR_TTL_MS, "me"), ["sp2"]);
  assert.deepEqual(d.entries().map((e) => e.nodeId), ["me"]);
});

Deno.test("a summary has one bucket per two entries, a power of two within its bounds, and folds to fewer buckets", () => {
  assert.deepEqual([0, 64, 65, 128, 129, 200, 512, 513, 4096].map(summaryBuckets), [
    DIR_SUM_BUCKETS,
    DIR_SUM_BUCKETS,
    64,
    64,
    128,
    128,
    256,
    DIR_SUM_BUCKETS_MAX,
    DIR_SUM_BUCKETS_MAX,
  ]);
  assert.ok(
    DIR_SUM_BUCKETS <= DIR_SUM_BUCKETS_MAX && (DIR_SUM_BUCKETS_MAX & (DIR_SUM_BUCKETS_MAX - 1)) === 0,
  );
  const a = new Directory(), b = new Directory();
  for (let i = 0; i < 40; i++) a.merge(entry(i), 0), b.merge(entry(i), 0);
  b.merge({ ...entry(5, 2_000), load: 32 }, 0);
  for (const count of [DIR_SUM_BUCKETS, 64, 128, DIR_SUM_BUCKETS_MAX]) {
    // Each side folds its own sums to the sender's count: they differ in exactly the bucket of the changed entry.
    assert.deepEqual([...a.differing(b.summary(count))], [bucketOf("sp5", count)], `${count} buckets`);
    assert.deepEqual(
      a.inBuckets(a.differing(b.summary(count)), count).map((e) => e.nodeId).includes("sp5"),
      true,
    );
  }
});

Deno.test("past a full mesh, an entry version is announced on a link once, and never back to a link that announced it", async () => {
  const { clock, gossip, a, b, c } = setup();
  const now = clock.now();
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 2 }, (_, i) => entry(i, now)), a);
  gossip.flush();
  b.sent.length = c.sent.length = 0;
  // A new SuperPeer announced by b and c: pulled from b, then announced to a only (c said it holds it).
  gossip.onIHave(b, [{ nodeId: "sp50", seq: now }]);
  gossip.onIHave(c, [{ nodeId: "sp50", seq: now }]);
  assert.deepEqual(b.sent, [{ type: "iwant", ids: ["sp50"] }]);
  await gossip.mergeEntries([entry(50, now)], b);
  a.sent.length = b.sent.length = c.sent.length = 0;
  gossip.flush();
  assert.deepEqual(
    [types(a), types(b), types(c)],
    [["ihave"], [], []],
    "only to the link that did not announce it",
  );
  // The same version heard again from a (who was offered it) is not offered to anyone a second time.
  gossip.dir.remove("sp50", now);
  gossip.dir.takeChanges();
  a.sent.length = 0;
  await gossip.mergeEntries([entry(50, now + 1)], c);
  gossip.flush();
  assert.deepEqual(
    [types(a), types(b), types(c)],
    [["ihave"], ["ihave"], []],
    "a newer version is news again",
  );
  a.sent.length = b.sent.length = 0;
  gossip.onIHave(a, [{ nodeId: "sp50", seq: now + 1 }]);
  gossip.flush();
  assert.deepEqual([types(a), types(b), types(c)], [[], [], []]);
});

Deno.test("what a node pulls from a summary's answer is what it missed, not news: past a full mesh it goes no further", async () => {
  const { clock, gossip, a, b, c } = setup();
  const now = clock.now();
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 2 }, (_, i) => entry(i, now)), a);
  gossip.flush();
  b.sent.length = c.sent.length = 0;
  // a answers our summary with what we lack (sync); b announces news as it happens.
  gossip.onIHave(a, [{ nodeId: "sp60", seq: now - 60_000 }], true);
  gossip.onIHave(b, [{ nodeId: "sp61", seq: now }]);
  await gossip.mergeEntries([entry(60, now - 60_000)], a);
  await gossip.mergeEntries([entry(61, now)], b);
  assert.ok(gossip.dir.get("sp60") && gossip.dir.get("sp61"), "both are taken");
  a.sent.length = b.sent.length = c.sent.length = 0;
  gossip.flush();
  const offered = (l: { sent: Message[] }) =>
    l.sent.flatMap((m) => m.type === "ihave" ? m.entries.map((d) => d.nodeId) : []);
  assert.deepEqual(offered(c), ["sp61"], "the news goes on, the caught-up entry does not");
  assert.deepEqual(offered(a), ["sp61"]);
  // Our own answer to a summary says it is one.
  gossip.onDirSum(c, new Directory().summary());
  assert.ok(c.sent.some((m) => m.type === "ihave" && m.sync === true));
});

Deno.test("past a full mesh, a new SuperPeer that serves no Peer is news to its neighbours only, until it serves or its refresh is due", async () => {
  const { clock, gossip, a, b } = setup();
  const now = clock.now();
  await gossip.mergeEntries(Array.from({ length: MESH_FULL_UP_TO + 2 }, (_, i) => entry(i, now)), a);
  gossip.flush();
  b.sent.length = 0;
  const idle = { ...entry(70, now), peers: 0, load: 0 };
  await gossip.mergeEntries([idle], a);
  gossip.flush();
  assert.ok(gossip.dir.get("sp70"), "kept");
  assert.deepEqual(types(b), [], "not forwarded while it serves none");
  await gossip.mergeEntries([{ ...idle, seq: now + 20_000 }], a);
  gossip.flush();
  assert.deepEqual(types(b), [], "nor its heartbeat");
  await gossip.mergeEntries([{ ...idle, seq: now + 40_000, peers: 1, load: 1 }], a);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "once it serves a Peer, every SuperPeer hears of it");
  b.sent.length = 0;
  const other = { ...entry(71, now), peers: 0, load: 0 };
  await gossip.mergeEntries([other], a);
  await gossip.mergeEntries([{ ...other, seq: now + DIR_REFRESH_MS }], a);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "an idle one's refresh still crosses the mesh every DIR_REFRESH_MS");
  // Our own new entry is news to our neighbours, idle or not.
  b.sent.length = 0;
  gossip.dir.merge({ ...idle, nodeId: "me" }, now, "own", true);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"]);
});
