/**
 * The overlay's rules as plain functions (lib/net/overlay.ts), the SuperPeer directory and the address
 * book: each rule checked for its effect, so removing one turns a test red.
 */
import assert from "node:assert/strict";
import { AddressBook, normalizeAddress } from "../lib/net/address_book.ts";
import {
  BEHIND_GRACE_MS,
  DEMOTE_AFTER_MS,
  DIR_MAX,
  DIR_MAX_PER_SOURCE,
  DIR_MAX_SEQ_AHEAD_MS,
  DIR_TTL_MS,
  FROZEN_SILENT_MS,
  MAX_LINKS_PER_HOST,
  MESH_DEGREE,
  MESH_OUTBOUND_MIN,
  MESH_RELAY_GRACE_MS,
  PROMOTE_COOLDOWN_MS,
  REPLACE_AFTER_MISSES,
  SECOND_STALL_MS,
} from "../lib/net/config.ts";
import { Directory } from "../lib/net/directory.ts";
import { DialBudget, TokenBucket } from "../lib/net/dial_budget.ts";
import { formatHostPort, type HostPort, parseHostPort, type SuperPeerEntry } from "../lib/net/messages.ts";
import { advertiseAddress } from "../lib/net/network.ts";
import {
  answerJoin,
  chooseSecond,
  type EvictionCandidate,
  evictionVictim,
  failoverOrder,
  hostGroup,
  judgeSuperPeers,
  lagsBehind,
  mayAddCapacity,
  type MeshCandidate,
  meshEvictionVictim,
  overHostLimit,
  planMesh,
  refusalCounts,
  shouldDemote,
  staleTipOrder,
  stillChosen,
  successor,
  turnedAwayEnough,
} from "../lib/net/overlay.ts";
import type { TrackerFile } from "../lib/net/tracker.ts";
import type { Clock } from "../lib/net/transport.ts";
import { seededRandom } from "./support/random.ts";

const sp = (n: number, over: Partial<SuperPeerEntry> = {}): SuperPeerEntry => ({
  nodeId: `sp${n}`,
  listen: `10.0.0.${n}:8765`,
  peers: 0,
  load: 0,
  capacity: 8,
  seq: 1,
  ...over,
});

Deno.test("a SuperPeer with room admits; a full one points to SuperPeers with room, never to full ones", () => {
  const random = seededRandom(1);
  const base = { capacity: 8, now: 10_000, lastPromotion: -Infinity };
  assert.deepEqual(answerJoin({ ...base, members: 7, others: [] }, random), { kind: "admit" });
  const others = [sp(1, { load: 8 }), sp(2, { load: 3 }), sp(3, { load: 8 }), sp(4, { load: 7 })];
  const a = answerJoin({ ...base, members: 8, others }, random);
  assert.equal(a.kind, "full");
  assert.deepEqual(a.kind === "full" && [...a.try].sort(), ["10.0.0.2:8765", "10.0.0.4:8765"]);
  assert.equal(a.kind === "full" && a.promote, false, "no promotion while some SuperPeer has room");
});

Deno.test("a full SuperPeer never points a node to itself or a Peer to the SuperPeer it holds: with no other room, capacity grows", () => {
  const random = seededRandom(3);
  const base = { capacity: 2, members: 2, now: 10_000, lastPromotion: -Infinity };
  // sp2 has room, but it is the asker's primary
  const others = [sp(1, { load: 2, capacity: 2 }), sp(2, { load: 1, capacity: 2 })];
  const a = answerJoin({ ...base, others, skip: ["peer7", "sp2"] }, random);
  assert.deepEqual(a, { kind: "full", try: [], promote: true });
  const b = answerJoin({ ...base, others }, random);
  assert.deepEqual(b, { kind: "full", try: ["10.0.0.2:8765"], promote: false }, "a newcomer may go there");
  // A SuperPeer that stepped down lingers in directories with room: it is never pointed to itself.
  const c = answerJoin({ ...base, others, skip: ["sp2"] }, random);
  assert.deepEqual(c, { kind: "full", try: [], promote: true });
});

Deno.test("when no SuperPeer has room, a full one hands out one promotion per cooldown", () => {
  const random = seededRandom(2);
  const full = [sp(1, { load: 8 })];
  const ask = (now: number, lastPromotion: number) =>
    answerJoin({ members: 8, capacity: 8, others: full, now, lastPromotion }, random);
  assert.deepEqual(ask(5_000, -Infinity), { kind: "full", try: [], promote: true });
  assert.deepEqual(ask(5_000 + PROMOTE_COOLDOWN_MS - 1, 5_000), { kind: "full", try: [], promote: false });
  assert.deepEqual(ask(5_000 + PROMOTE_COOLDOWN_MS, 5_000), { kind: "full", try: [], promote: true });
});

const member = (id: string, host: string, since: number, over: Partial<EvictionCandidate<string>> = {}) => ({
  id,
  host,
  since,
  lastBlock: 0,
  lastTx: 0,
  ...over,
});

Deno.test("eviction takes the newest link of the address holding the most, and only if it holds more than one", () => {
  // Twenty honest machines, one link each, and an attacker's address with eight links.
  const honest = Array.from({ length: 20 }, (_, i) => member(`h${i}`, `10.0.1.${i}`, 1000 + i));
  const attacker = Array.from({ length: 8 }, (_, i) => member(`a${i}`, "10.0.9.9", 100 + i));
  assert.equal(evictionVictim([...honest, ...attacker], "10.0.2.1"), "a7", "the attacker's newest link");
  assert.equal(evictionVictim(honest, "10.0.2.1"), undefined, "honest Peers on distinct machines stay");
  assert.equal(evictionVictim([...honest, ...attacker], "10.0.9.9"), undefined, "not for its own address");
});

Deno.test("eviction protects members that relayed blocks or transactions lately and the fastest", () => {
  const group = (id: string, since: number, over = {}) => member(id, "10.0.9.9", since, over);
  // One address, twenty-four links: 4 by blocks, 4 by transactions, 8 by ping are protected; the newest of
  // what remains goes.
  const links = [
    ...Array.from({ length: 5 }, (_, i) => group(`block${i}`, 9000 + i, { lastBlock: 500 + i, pingMs: 90 })),
    ...Array.from({ length: 5 }, (_, i) => group(`tx${i}`, 9100 + i, { lastTx: 500 + i, pingMs: 90 })),
    ...Array.from({ length: 9 }, (_, i) => group(`fast${i}`, 9200 + i, { pingMs: 1 + i })),
    ...Array.from({ length: 5 }, (_, i) => group(`idle${i}`, 100 + i, { pingMs: 50 })),
  ];
  // Protected: block1-4, tx1-4, fast0-7; left: block0, tx0, fast8 (9208, the newest), idle0-4.
  assert.equal(evictionVictim(links, "10.0.2.1"), "fast8");
  const noFast = links.filter((l) => l.id !== "fast8");
  assert.equal(evictionVictim(noFast, "10.0.2.1"), "tx0", "then the newest unprotected one");
  const unprotected = links.map((l) => ({ ...l, lastBlock: 0, lastTx: 0, pingMs: undefined }));
  assert.equal(evictionVictim(unprotected, "10.0.2.1"), "fast8", "unprotected, the newest of all goes");
  const blocksOnly = links.map((l) => ({ ...l, lastTx: 0, pingMs: undefined }));
  assert.equal(evictionVictim(blocksOnly, "10.0.2.1"), "fast8");
  assert.notEqual(
    evictionVictim(blocksOnly.filter((l) => !l.id.startsWith("fast") && !l.id.startsWith("tx")), "10.0.2.1"),
    "block4",
    "a recent block relayer is protected",
  );
});

Deno.test("loopback addresses form no group (many honest nodes share them) and are not limited per host", () => {
  const links = Array.from({ length: 30 }, (_, i) => member(`l${i}`, "127.0.0.1", i));
  assert.equal(evictionVictim(links, "10.0.0.1"), undefined);
  assert.equal(overHostLimit("127.0.0.1", 1000), false);
  assert.equal(overHostLimit("::1", 1000), false);
  assert.equal(overHostLimit("10.0.0.5", MAX_LINKS_PER_HOST - 1), false);
  assert.equal(overHostLimit("10.0.0.5", MAX_LINKS_PER_HOST), true);
});

Deno.test("SuperPeers mesh fully while few, then keep their degree between its bounds", () => {
  const random = seededRandom(3);
  const few = Array.from({ length: 11 }, (_, i) => sp(i));
  assert.equal(planMesh(["sp0"], few, random).dial.length, 10, "12 SuperPeers in all: link to every other");
  const many = Array.from({ length: 40 }, (_, i) => sp(i));
  const sparse = planMesh(["sp0", "sp1"], many, random);
  assert.equal(sparse.dial.length, MESH_DEGREE.target - 2);
  assert.ok(sparse.dial.every((e) => e.nodeId !== "sp0" && e.nodeId !== "sp1"), "never one already linked");
  const ok = Array.from({ length: MESH_DEGREE.high }, (_, i) => `sp${i}`);
  assert.deepEqual(planMesh(ok, many, random), { dial: [], drop: [] }, "within bounds: leave it");
  const crowded = Array.from({ length: MESH_DEGREE.high + 5 }, (_, i) => `sp${i}`);
  assert.equal(planMesh(crowded, many, random).drop.length, 5, "only the surplus over the high bound");
});

Deno.test("a SuperPeer steps down only when idle, serving nobody, and after holding links of its own to two other SuperPeers (keys, hosts) long enough", () => {
  const random = () => 0; // no extra delay
  const link = (id: string, host: string, since = 0) => ({ nodeId: id, host, since });
  const mesh = [link("a", "10.0.0.1"), link("b", "10.0.0.2")];
  const base = { load: 0, idleSince: 0, now: DEMOTE_AFTER_MS, mesh };
  assert.equal(shouldDemote(base, random), true);
  assert.equal(
    shouldDemote({ ...base, now: DEMOTE_AFTER_MS - 1 }, random),
    false,
    "not before DEMOTE_AFTER_MS",
  );
  assert.equal(shouldDemote({ ...base, load: 1 }, random), false, "never while it serves a Peer");
  assert.equal(shouldDemote({ ...base, idleSince: undefined }, random), false);
  assert.equal(shouldDemote({ ...base, mesh: [mesh[0]] }, random), false, "two other SuperPeers must remain");
  assert.equal(
    shouldDemote({ ...base, mesh: [mesh[0], link("b", "10.0.0.2", 1)] }, random),
    false,
    "a link held for less than DEMOTE_AFTER_MS is no evidence yet (two fresh liars cannot talk it down)",
  );
  assert.equal(
    shouldDemote({ ...base, mesh: [mesh[0], link("a", "10.0.0.2")] }, random),
    false,
    "two links of one key are one SuperPeer",
  );
  assert.equal(
    shouldDemote(
      { ...base, mesh: [link("a", "10.0.0.1"), link("b", "10.0.0.1"), link("c", "10.0.0.3", 1)] },
      random,
    ),
    false,
    "where its links come from two hosts, the two held long must be on two hosts",
  );
  assert.equal(
    shouldDemote({ ...base, mesh: [link("a", "127.0.0.1"), link("b", "127.0.0.1")] }, random),
    true,
    "one machine's nodes: distinct keys are all there is to go by",
  );
  assert.equal(
    shouldDemote({ ...base, mesh: [mesh[0], { ...mesh[1], roomy: false }] }, random),
    false,
    "a claim may keep it in place: as a Peer it needs two SuperPeers with room",
  );
  // And a claim never causes it: roomy liars change none of the refusals above.
  const liars = (l: ReturnType<typeof link>) => ({ ...l, roomy: true });
  assert.equal(shouldDemote({ ...base, load: 1, mesh: mesh.map(liars) }, random), false);
  assert.equal(
    shouldDemote({ ...base, mesh: [mesh[0], link("b", "10.0.0.2", 1)].map(liars) }, random),
    false,
  );
});

Deno.test("hosts group by IPv4 address and IPv6 /64, never by a LAN's shared /16", () => {
  assert.equal(hostGroup("10.0.0.1"), "10.0.0.1");
  assert.notEqual(hostGroup("10.0.0.1"), hostGroup("10.0.0.2"));
  assert.equal(hostGroup("2001:db8:1:2::1"), hostGroup("2001:db8:1:2:ffff:1:2:3"), "one /64");
  assert.equal(hostGroup("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.notEqual(hostGroup("2001:db8:1:2::1"), hostGroup("2001:db8:1:3::1"));
  assert.equal(hostGroup("[2001:DB8:1:2::9]"), "2001:db8:1:2::/64");
  assert.equal(hostGroup("::ffff:10.1.2.3"), "10.1.2.3");
  assert.equal(hostGroup("fe80::1"), "fe80:0:0:0::/64");
  assert.equal(
    hostGroup("2001:db8:1:2::/64"),
    "2001:db8:1:2::/64",
    "a group is its own group (bans list it)",
  );
  assert.equal(
    hostGroup("1:2:3:4:5:6:7:8::9"),
    "1:2:3:4:5:6:7:8::9",
    "no IPv6 address: as written, never a throw",
  );
});

Deno.test("a Peer's second SuperPeer: one with room, never its first or a dead one", () => {
  const random = seededRandom(4);
  const entries = [sp(1, { load: 8 }), sp(2, { load: 1 }), sp(3, { load: 0 })];
  for (let i = 0; i < 20; i++) {
    assert.equal(chooseSecond(entries, new Set(["sp3"]), random)?.nodeId, "sp2");
  }
  assert.equal(
    chooseSecond(entries, new Set(["sp2", "sp3"]), random)?.nodeId,
    "sp1",
    "a full one beats none",
  );
  assert.equal(chooseSecond(entries, new Set(["sp1", "sp2", "sp3"]), random), undefined);
  // Evidence first, claims only break ties: a liar claiming capacity 10,000 loses to one we greeted before,
  // and to one on another host than our primary; room decides only between equals.
  const liar = sp(9, { capacity: 10_000, load: 0, listen: "10.0.0.50:8765" });
  const full = sp(1, { load: 8 });
  const greeted = (listen: string) => listen === full.listen;
  for (let i = 0; i < 20; i++) {
    assert.equal(chooseSecond([liar, full], new Set(), random, { greeted })?.nodeId, "sp1");
    assert.equal(
      chooseSecond([liar, full], new Set(), random, { primaryHost: "10.0.0.50" })?.nodeId,
      "sp1",
      "another host than the primary's",
    );
  }
  assert.equal(
    chooseSecond([liar, full], new Set(), random)?.nodeId,
    "sp9",
    "with no evidence, room breaks the tie",
  );
});

Deno.test("the stale-tip check looks first where blocks came from, then its own book, then signed entries; the held SuperPeers' hosts last", () => {
  const random = seededRandom(12);
  // Held: two SuperPeers on 10.9.9.9 that brought no block. Its own book: one that delivered before, a tracker
  // line, a greeted address on the held host. Its directory: two entries (one also in the book), one excluded.
  const delivered = "10.0.0.1:8765", tracker = "10.0.0.2:8765", heldHostOwn = "10.9.9.9:8001";
  const own = [tracker, heldHostOwn, delivered];
  const entries = [sp(3), sp(4), sp(5, { listen: tracker }), sp(6, { listen: "10.9.9.9:8002" })];
  const evidence = { delivered: (a: string) => a === delivered, heldHosts: ["10.9.9.9", "10.9.9.9"] };
  for (let i = 0; i < 10; i++) {
    const order = staleTipOrder(own, entries, new Set(["sp4"]), evidence, 10, random);
    assert.equal(order[0], delivered, "the SuperPeer that delivered before comes first");
    assert.equal(order[1], tracker, "then the own book");
    assert.deepEqual(order.slice(2, 3), [sp(3).listen], "then the signed entries");
    assert.deepEqual(new Set(order.slice(3)), new Set([heldHostOwn, "10.9.9.9:8002"]), "the held host last");
    assert.ok(!order.includes(sp(4).listen), "an excluded id is never asked");
    assert.equal(new Set(order).size, order.length, "each address once");
  }
  assert.equal(staleTipOrder(own, entries, new Set(), evidence, 2, random).length, 2, "at most max");
  assert.deepEqual(staleTipOrder(own, [], new Set(own), evidence, 6, random), [], "excluded addresses");
});

Deno.test("a Peer's second SuperPeer: never on its primary's host while another host is known, its own book before its primary's word, delivery before greeting", () => {
  const random = seededRandom(7);
  // A band of liars on one host (10.9.9.9) names only itself; the primary is one of them.
  const band = [1, 2, 3].map((i) =>
    sp(90 + i, { capacity: 10_000, load: 0, listen: `10.9.9.9:${8000 + i}` })
  );
  const primaryHost = "10.9.9.9";
  const honest = "10.0.0.5:8765"; // a tracker line: this node's own book
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(
      chooseSecond(band, new Set(["sp91"]), random, { primaryHost, ownBook: [honest] }),
      { listen: honest },
      "the own book on another host, not the primary's accomplices",
    );
  }
  // Even when that address is excluded for now (asked a moment ago), the primary's host is not the answer.
  assert.equal(
    chooseSecond(band, new Set(["sp91", honest]), random, { primaryHost, ownBook: [honest] }),
    undefined,
  );
  // With no other host known at all, the same host is better than nothing.
  assert.equal(
    chooseSecond(band, new Set(["sp91"]), random, { primaryHost })?.listen.startsWith("10.9.9.9"),
    true,
  );
  // Loopback is one machine's own nodes: no host rule there.
  const local = [sp(1, { listen: "127.0.0.1:9001" }), sp(2, { listen: "127.0.0.1:9002" })];
  assert.equal(chooseSecond(local, new Set(["sp1"]), random, { primaryHost: "127.0.0.1" })?.nodeId, "sp2");
  // Among other hosts: one that delivered to us beats one merely greeted, which beats the own book's others.
  const a = sp(4), b = sp(5), c = sp(6);
  const served = (l: string) => l === a.listen;
  const greeted = (l: string) => l === a.listen || l === b.listen;
  for (let i = 0; i < 20; i++) {
    assert.equal(chooseSecond([a, b, c], new Set(), random, { served, greeted })?.nodeId, "sp4");
    assert.equal(chooseSecond([b, c], new Set(), random, { served, greeted })?.nodeId, "sp5");
    assert.equal(
      chooseSecond([], new Set(), random, { ownBook: ["10.0.0.7:8765"] })?.listen,
      "10.0.0.7:8765",
    );
  }
});

Deno.test("a full SuperPeer's pointers: one per host, those that delivered blocks to it before those that only claim room", () => {
  const random = seededRandom(8);
  const base = { capacity: 8, members: 8, now: 10_000, lastPromotion: -Infinity };
  const band = [1, 2, 3, 4].map((i) => sp(90 + i, { capacity: 10_000, listen: `10.9.9.9:${8000 + i}` }));
  const honest = [sp(2, { load: 6 }), sp(3, { load: 7 })];
  for (let i = 0; i < 20; i++) {
    const a = answerJoin({ ...base, others: [...band, ...honest] }, random);
    assert.equal(
      a.kind === "full" && a.try.filter((t) => t.startsWith("10.9.9.9")).length,
      1,
      "one per host",
    );
    assert.equal(a.kind === "full" && a.try.length, 3);
    const delivered = (e: SuperPeerEntry) => e.nodeId === "sp3";
    const b = answerJoin({ ...base, others: [...band, ...honest], delivered }, random);
    assert.equal(b.kind === "full" && b.try[0], "10.0.0.3:8765", "the one that delivered, first");
  }
});

Deno.test("promotion needs refusals by distinct proven keys, on distinct hosts where two answered; one liar's keys do not suffice", () => {
  const r = (nodeId: string, host: string) => ({ nodeId, host });
  assert.equal(turnedAwayEnough([], []), false);
  assert.equal(turnedAwayEnough([r("a", "10.0.0.1")], ["10.0.0.1"]), false, "one refusal is one node's word");
  assert.equal(
    turnedAwayEnough([r("a", "10.0.0.1"), r("a", "10.0.0.1")], ["10.0.0.1"]),
    false,
    "one key twice",
  );
  assert.equal(turnedAwayEnough([r("a", "10.0.0.1"), r("b", "10.0.0.2")], ["10.0.0.1", "10.0.0.2"]), true);
  assert.equal(
    turnedAwayEnough([r("a", "10.0.0.1"), r("b", "10.0.0.1")], ["10.0.0.1", "10.0.0.2"]),
    false,
    "two keys of one machine, where another machine answered too",
  );
  assert.equal(
    turnedAwayEnough([r("a", "127.0.0.1"), r("b", "127.0.0.1")], ["127.0.0.1"]),
    true,
    "one machine's nodes: distinct keys are all there is",
  );
  assert.equal(
    turnedAwayEnough([r("a", "2001:db8::1"), r("b", "2001:db8::2")], ["2001:db8::1", "10.0.0.9"]),
    false,
    "one IPv6 /64 is one host",
  );
});

Deno.test("the successor of a lost only SuperPeer is the first of its roster not known dead", () => {
  const roster = [{ nodeId: "a" }, { nodeId: "b" }, { nodeId: "c" }];
  assert.equal(successor(roster, new Set())?.nodeId, "a");
  assert.equal(successor(roster, new Set(["a"]))?.nodeId, "b");
  assert.equal(successor(roster, new Set(["a", "b", "c"])), undefined);
});

Deno.test("directory: newer entries replace older, forged far-future sequences and stale removals are refused", () => {
  const dir = new Directory();
  const now = 1_000_000;
  assert.equal(dir.merge(sp(1, { seq: 5 }), now), "new");
  assert.equal(dir.merge(sp(1, { seq: 5, load: 3 }), now), undefined, "same sequence: no change");
  assert.equal(dir.merge(sp(1, { seq: 4, load: 3 }), now), undefined, "older: ignored");
  assert.equal(dir.merge(sp(1, { seq: 6, load: 3 }), now), "newer");
  assert.equal(dir.get("sp1")?.load, 3);
  assert.equal(
    dir.merge(sp(2, { seq: now + DIR_MAX_SEQ_AHEAD_MS + 1 }), now),
    undefined,
    "would pin the slot",
  );
  assert.equal(dir.remove("sp1", 5), false, "a removal older than the entry is ignored");
  assert.equal(dir.remove("sp1", 6), true);
  assert.equal(dir.size, 0);
});

Deno.test("directory: bounded per source link, and when full the noisiest source's stalest entries go first", () => {
  const dir = new Directory(12, 4);
  let now = 1_000;
  for (const n of [1, 2, 3]) dir.merge(sp(n), now++, "link-b"); // honest news, the oldest
  for (const n of [4, 5, 6]) dir.merge(sp(n), now++, "link-c");
  for (let n = 100; n < 110; n++) dir.merge(sp(n), now++, "flood"); // one link's flood
  assert.equal(dir.heldFrom("flood"), 4, "one link holds at most its bound: its stalest give way");
  assert.deepEqual(
    dir.entries().map((e) => e.nodeId).filter((id) => id.startsWith("sp10")),
    ["sp106", "sp107", "sp108", "sp109"],
  );
  assert.equal(dir.size, 10);
  for (const n of [7, 8, 9]) dir.merge(sp(n), now++, "link-d"); // full: the noisiest source pays, not the stalest
  assert.equal(dir.size, 12);
  assert.equal(dir.heldFrom("flood"), 3);
  for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9]) assert.ok(dir.get(`sp${n}`), `sp${n} kept`);
  // An entry that moves to another source counts there.
  dir.merge(sp(1, { seq: 2 }), now++, "link-c");
  assert.deepEqual([dir.heldFrom("link-b"), dir.heldFrom("link-c")], [2, 4]);
  dir.remove("sp1", 2);
  assert.equal(dir.heldFrom("link-c"), 3);
  assert.ok(DIR_MAX_PER_SOURCE < DIR_MAX);
});

Deno.test("directory: entries nobody refreshes expire (as removals to gossip), changes remember their source", () => {
  const dir = new Directory();
  dir.merge(sp(1), 0, "link-a");
  dir.merge(sp(2), 0, "link-b");
  dir.takeChanges();
  dir.touch("sp2", DIR_TTL_MS - 1);
  assert.deepEqual(dir.expire(DIR_TTL_MS), ["sp1"]);
  assert.deepEqual(dir.entries().map((e) => e.nodeId), ["sp2"]);
  const changes = dir.takeChanges();
  assert.deepEqual(changes.remove.map((r) => r.nodeId), ["sp1"]);
  dir.merge(sp(3), DIR_TTL_MS, "link-c");
  assert.deepEqual(dir.takeChanges().add.map((c) => [c.entry.nodeId, c.from]), [["sp3", "link-c"]]);
  const small = new Directory(2);
  small.merge(sp(1), 0);
  small.merge(sp(2), 10);
  small.merge(sp(3), 20);
  assert.deepEqual(small.entries().map((e) => e.nodeId).sort(), ["sp2", "sp3"], "full: the stalest goes");
});

/** A clock the test moves by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0, id = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (t) => void timers.delete(t as number),
    advance(ms) {
      now += ms;
      for (const [k, t] of [...timers]) {
        if (t.at <= now) {
          timers.delete(k);
          t.fn();
        }
      }
    },
  };
}

function memoryTracker(lines: string[]): TrackerFile & { writes: string[][] } {
  const writes: string[][] = [];
  return {
    writes,
    read: () =>
      Promise.resolve({
        addrs: lines.map((l) => {
          const [hostname, port] = l.split(" ");
          return { hostname, port: Number(port) };
        }),
        warnings: [],
      }),
    write: (addrs: readonly HostPort[]) => {
      writes.push(addrs.map((a) => `${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`));
      return Promise.resolve();
    },
  };
}

Deno.test("address book: the tracker names only SuperPeers that welcomed this node, primary first, those that served before the others, never hearsay", async () => {
  const clock = manualClock();
  const tracker = memoryTracker(["10.0.0.1 8765", "10.0.0.2 8765"]);
  const book = new AddressBook(tracker, clock);
  assert.deepEqual(await book.load(), ["10.0.0.1:8765", "10.0.0.2:8765"]);
  book.add("10.6.6.6:8765", "heard"); // what some peer told us
  book.greeted("10.6.6.6:8765"); // its hello claimed the role: no welcome, no place in the file
  book.add("10.0.0.9:8765", "heard");
  book.welcomed("10.0.0.9:8765"); // it answered our join in a proven handshake
  assert.deepEqual(book.trackerLines({ self: "10.0.0.5:8765" }), [
    "10.0.0.5:8765",
    "10.0.0.9:8765",
    "10.0.0.1:8765",
    "10.0.0.2:8765",
  ]);
  assert.equal(book.served("10.6.6.6:8765"), false, "never greeted: its service does not count");
  clock.advance(1000);
  book.add("10.6.6.7:8765", "heard");
  book.welcomed("10.6.6.7:8765"); // the newest claimant: greeted later, has served nothing
  assert.deepEqual(
    book.trackerLines({}),
    ["10.6.6.7:8765", "10.0.0.9:8765", "10.0.0.1:8765", "10.0.0.2:8765"],
    "before any service, the latest greeting first",
  );
  assert.equal(book.served("10.0.0.9:8765"), true, "its first service");
  assert.equal(book.served("10.0.0.9:8765"), false);
  assert.deepEqual(
    book.trackerLines({}),
    ["10.0.0.9:8765", "10.6.6.7:8765", "10.0.0.1:8765", "10.0.0.2:8765"],
    "the newest claimant never before one that served",
  );
  book.add("10.0.0.7:8765", "heard");
  book.welcomed("10.0.0.7:8765");
  clock.advance(1000);
  book.served("10.0.0.7:8765");
  assert.deepEqual(
    book.trackerLines({}).slice(0, 3),
    ["10.0.0.7:8765", "10.0.0.9:8765", "10.6.6.7:8765"],
    "most recently served first",
  );
  assert.deepEqual(
    book.trackerLines({ primary: "10.0.0.9 8765" }).slice(0, 3),
    ["10.0.0.9:8765", "10.0.0.7:8765", "10.6.6.7:8765"],
    "the current primary first",
  );
  assert.deepEqual(
    book.trackerLines({ primary: "10.6.6.6:8765" }).slice(0, 1),
    ["10.0.0.7:8765"],
    "a primary that never welcomed us does not lead",
  );
  for (let i = 0; i < 3; i++) book.failed("10.0.0.2:8765");
  assert.ok(!book.trackerLines({}).includes("10.0.0.2:8765"), "a line that failed three times goes");
  assert.ok(!book.trackerLines({}).includes("10.6.6.6:8765"), "hearsay never");
});

Deno.test("a node bound to an IPv6 address advertises it in brackets, as every parser reads it back", () => {
  assert.equal(advertiseAddress({ hostname: "::1", port: 8765 }), "[::1]:8765");
  assert.equal(advertiseAddress({ hostname: "0.0.0.0", port: 8765 }, undefined, "fe80::2"), "[fe80::2]:8765");
  assert.equal(advertiseAddress({ hostname: "0.0.0.0", port: 1 }, "10.0.0.7 8765"), "10.0.0.7:8765");
  for (const a of ["[::1]:8765", "[fe80::2]:8765"]) assert.equal(parseHostPort(a).port, 8765);
  // A link's far end with an IPv6 address is named the same way.
  assert.equal(formatHostPort({ hostname: "::1", port: 9 }), "[::1]:9");
});

Deno.test("address book: IPv6 addresses keep their brackets ([::1]:8765, not ::1:8765); writes are coalesced", async () => {
  assert.equal(normalizeAddress("::1 8765"), "[::1]:8765");
  assert.equal(normalizeAddress("[fe80::1]:8765"), "[fe80::1]:8765");
  assert.equal(normalizeAddress("::1:8765"), undefined, "ambiguous without brackets");
  const clock = manualClock();
  const tracker = memoryTracker([]);
  const book = new AddressBook(tracker, clock);
  book.scheduleWrite({ self: "::1 8765" });
  await new Promise((r) => setTimeout(r, 0)); // real time: the manual clock has not moved
  assert.deepEqual(tracker.writes, [["[::1]:8765"]], "the first write goes at once");
  book.scheduleWrite({ self: "10.0.0.1:1" });
  book.scheduleWrite({ self: "10.0.0.2:1" });
  await Promise.resolve();
  assert.equal(tracker.writes.length, 1, "then at most one a second");
  clock.advance(1000);
  await book.flush();
  assert.deepEqual(tracker.writes, [["[::1]:8765"], ["10.0.0.2:1"]]);
});

Deno.test("failover dials the SuperPeers it greeted first, then a sample of hearsay, bounded however large the directory", () => {
  const random = seededRandom(9);
  const flood = Array.from(
    { length: 10_000 },
    (_, i) => sp(i + 10, { listen: `10.9.${i >> 8}.${i & 255}:1` }),
  );
  const known = [sp(1), sp(2)];
  const greeted = (e: SuperPeerEntry) => e.nodeId === "sp1" || e.nodeId === "sp2";
  const o = failoverOrder([...flood, ...known], greeted, 8, random);
  assert.deepEqual(o.greeted.sort(), ["10.0.0.1:8765", "10.0.0.2:8765"], "every greeted SuperPeer, first");
  assert.equal(o.rest.length, 6, "the rest of the bound: a sample of hearsay");
  assert.ok(o.rest.every((a) => a.startsWith("10.9.")));
  assert.equal(failoverOrder(flood, greeted, 8, random).rest.length, 8);
  assert.deepEqual(failoverOrder([], greeted, 8, random), { greeted: [], rest: [] });
});

Deno.test("the dial budget: no address again within the interval, a global rate with a burst, bounded memory", () => {
  const b = new DialBudget({ rate: 2, burst: 3, redialMs: 5000, memory: 4 });
  assert.equal(b.take("a:1", 0), true);
  assert.equal(b.take("a:1", 4999), false, "not again within the interval");
  assert.equal(b.take("b:1", 0), true);
  assert.equal(b.take("c:1", 0), true);
  assert.equal(b.take("d:1", 0), false, "the burst is spent");
  assert.equal(b.take("d:1", 499), false, "2 a second: not yet half a second");
  assert.equal(b.take("d:1", 500), true);
  assert.equal(b.take("a:1", 5000), true, "after the interval, again");
  // 10 s of a storm of fresh addresses: at most burst + rate × 10 dials.
  const storm = new DialBudget({ rate: 2, burst: 3, redialMs: 5000, memory: 4 });
  let dials = 0;
  for (let t = 0; t <= 10_000; t += 10) if (storm.take(`x${t}:1`, t)) dials++;
  assert.ok(dials <= 3 + 20 + 1, `${dials} dials`);
  assert.ok(dials >= 20, `${dials} dials: the rate is a rate, not a stop`);
  // Memory stays bounded; what it forgot is the oldest.
  const m = new DialBudget({ rate: 1000, burst: 1000, redialMs: 1e9, memory: 2 });
  for (const a of ["p", "q", "r"]) m.take(a, 0);
  assert.equal(m.take("r", 1), false, "the newest is remembered");
  assert.equal(m.take("p", 1), true, "the oldest was forgotten");
});

Deno.test("a token bucket: a burst at once, then a rate", () => {
  const b = new TokenBucket(3, 10, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.take(99), false, "10 a second: not yet");
  assert.equal(b.take(100), true);
  assert.equal(b.take(100_000), true);
  let n = 0;
  for (let i = 0; i < 10; i++) if (b.take(100_000)) n++;
  assert.equal(n, 2, "refilled to the burst, never past it");
});

Deno.test("one loopback rule for the overlay, discovery and the explorer: 127/8, ::1, IPv4-mapped 127.x, localhost", async () => {
  const { isLoopback } = await import("../lib/net/address.ts");
  const { isLoopback: explorerLoopback } = await import("../lib/explorer/events.ts");
  for (
    const h of [
      "127.0.0.1",
      "127.8.9.10",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "::FFFF:127.0.0.2",
      "localhost",
    ]
  ) {
    assert.equal(isLoopback(h), true, h);
    assert.equal(explorerLoopback(h), true, h);
  }
  for (const h of ["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "fe80::1", "localhost.example"]) {
    assert.equal(isLoopback(h), false, h);
    assert.equal(explorerLoopback(h), false, h);
  }
});

Deno.test("mesh eviction: never our own dials, never one that relayed a block, never the oldest; else the youngest of the largest host group, loopback included", () => {
  const m = (id: string, host: string, since: number, over: Partial<MeshCandidate<string>> = {}) => ({
    id,
    host,
    since,
    inbound: true,
    lastBlock: 0,
    ...over,
  });
  const old = [1, 2, 3, 4].map((i) => m(`old${i}`, "127.0.0.1", i));
  assert.equal(meshEvictionVictim(old), undefined, "the oldest are protected");
  const fakes = Array.from({ length: 10 }, (_, i) => m(`fake${i}`, "127.0.0.1", 100 + i));
  assert.equal(meshEvictionVictim([...old, ...fakes]), "fake9", "loopback is a group for eviction too");
  const relayed = m("relay", "127.0.0.1", 500, { lastBlock: 7 });
  const ours = m("ours", "127.0.0.1", 600, { inbound: false });
  assert.equal(meshEvictionVictim([...old, ...fakes, relayed, ours]), "fake9");
  const v6 = [m("a", "2001:db8::1", 200), m("b", "2001:db8::2", 201), m("c", "2001:db8::3", 202)];
  assert.equal(meshEvictionVictim([...old, m("x", "10.0.0.1", 300), ...v6]), "c", "a /64 is one host");
});

Deno.test("a Peer's two SuperPeers are judged on what it saw: a silent primary swaps only while the backup answers; one that misses blocks the other delivered is replaced", () => {
  const ok = { silentMs: 100, misses: 0 };
  assert.equal(judgeSuperPeers(ok, ok), "keep");
  assert.equal(judgeSuperPeers({ silentMs: FROZEN_SILENT_MS, misses: 0 }, ok), "swap");
  assert.equal(judgeSuperPeers({ silentMs: FROZEN_SILENT_MS - 1, misses: 0 }, ok), "keep");
  // Both silent: this node stalled, or the LAN did: silence alone is no evidence against the primary.
  assert.equal(
    judgeSuperPeers({ silentMs: FROZEN_SILENT_MS, misses: 0 }, { silentMs: FROZEN_SILENT_MS, misses: 0 }),
    "keep",
  );
  assert.equal(judgeSuperPeers({ silentMs: 100, misses: REPLACE_AFTER_MISSES }, ok), "replace-primary");
  assert.equal(judgeSuperPeers({ silentMs: 100, misses: REPLACE_AFTER_MISSES - 1 }, ok), "keep");
  assert.equal(judgeSuperPeers(ok, { silentMs: 100, misses: REPLACE_AFTER_MISSES }), "replace-backup");
  // Both missing: neither delivered what the other did; nothing to tell them apart (the stale-tip check acts).
  const bad = { silentMs: 100, misses: REPLACE_AFTER_MISSES };
  assert.equal(judgeSuperPeers(bad, bad), "keep");
});

Deno.test("a refusal counts towards a Peer adding capacity unless the refuser's own signed entry says it has room", () => {
  assert.equal(refusalCounts(sp(1, { load: 2, capacity: 2 })), true, "full, and its entry says so");
  assert.equal(refusalCounts(sp(1, { load: 3, capacity: 2 })), true, "over full");
  assert.equal(
    refusalCounts(sp(1, { load: 0, capacity: 10_000 })),
    false,
    "a liar claiming room that turns everyone away",
  );
  assert.equal(refusalCounts(sp(1, { load: 1, capacity: 2 })), false, "one place left, by its own word");
  assert.equal(refusalCounts(undefined), true, "no entry here: its proven refusal is all there is");
});

Deno.test("a Peer seeking its second adds capacity only with a promote hint and refusals that count from distinct keys (hosts where two answered)", () => {
  const r = (nodeId: string, host: string) => ({ nodeId, host });
  const two = [r("a", "10.0.0.1"), r("b", "10.0.0.2")];
  const hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
  assert.equal(mayAddCapacity({ counted: two, hinted: true, reachedHosts: hosts }), true);
  assert.equal(
    mayAddCapacity({ counted: two, hinted: false, reachedHosts: hosts }),
    false,
    "nobody hands it out",
  );
  assert.equal(
    mayAddCapacity({ counted: [r("a", "10.0.0.1")], hinted: true, reachedHosts: hosts }),
    false,
    "one SuperPeer's word",
  );
  assert.equal(
    mayAddCapacity({ counted: [r("a", "10.0.0.1"), r("b", "10.0.0.1")], hinted: true, reachedHosts: hosts }),
    false,
    "one machine's two keys where others answered",
  );
  assert.equal(mayAddCapacity({ counted: [], hinted: true, reachedHosts: hosts }), false, "a hint alone");
  // Every SuperPeer it could pick turned it away: one refusal is every refusal there is, once it sought a second
  // for SECOND_STALL_MS while its own primary's entry says it is full too.
  const one = [r("a", "10.0.0.1")];
  const full = sp(9, { load: 2, capacity: 2 }), roomy = sp(9, { load: 1, capacity: 2 });
  const long = SECOND_STALL_MS;
  const all = {
    counted: one,
    hinted: true,
    reachedHosts: hosts,
    exhausted: true,
    primary: full,
    seekingMs: long,
  };
  assert.equal(mayAddCapacity(all), true);
  assert.equal(mayAddCapacity({ ...all, seekingMs: long - 1 }), false, "not sought long enough");
  assert.equal(mayAddCapacity({ ...all, primary: roomy }), false, "its primary has room: no shortage");
  assert.equal(mayAddCapacity({ ...all, primary: undefined }), false, "its primary's entry unknown");
  assert.equal(mayAddCapacity({ ...all, exhausted: false }), false, "others not asked yet");
  assert.equal(mayAddCapacity({ ...all, hinted: false }), false, "nobody hands it out");
  assert.equal(mayAddCapacity({ ...all, counted: [] }), false, "no refusal that counts");
});

Deno.test("once blocks flow, a SuperPeer keeps links of its own choice or that relay: Sybils that dialled it fill its degree, never its choice", () => {
  const random = seededRandom(21);
  const many = Array.from({ length: 40 }, (_, i) => sp(i));
  // Eight links within the degree's bounds, all opened by others (a band dialling it) and relaying nothing.
  const inbound = Array.from({ length: 8 }, (_, i) => `sp${i}`);
  const none = { chosen: [], delivered: new Set<string>() };
  assert.deepEqual(
    planMesh(inbound, many, random),
    { dial: [], drop: [] },
    "the degree alone: nothing to do",
  );
  const plan = planMesh(inbound, many, random, none);
  assert.equal(plan.dial.length, MESH_OUTBOUND_MIN, "it dials SuperPeers of its own choice");
  assert.ok(plan.dial.every((e) => !inbound.includes(e.nodeId)));
  // Links it chose, or that relayed blocks, count; once it has enough, nothing more.
  assert.deepEqual(
    planMesh(inbound, many, random, { chosen: ["sp0", "sp1"], delivered: new Set() }).dial,
    [],
  );
  assert.deepEqual(
    planMesh(inbound, many, random, { chosen: ["sp0"], delivered: new Set(["sp3"]) }).dial,
    [],
  );
  assert.equal(planMesh(inbound, many, random, { chosen: ["sp0"], delivered: new Set() }).dial.length, 1);
  // Whom it dials: evidence first (rank), at random within.
  const served = new Set(["sp30", "sp31"]);
  for (let i = 0; i < 10; i++) {
    const ranked = planMesh(inbound, many, random, { ...none, rank: (e) => served.has(e.nodeId) ? 0 : 1 });
    assert.deepEqual(ranked.dial.map((e) => e.nodeId).sort(), ["sp30", "sp31"]);
  }
  // The surplus it closes is never one it chose nor one that relayed blocks.
  const crowded = Array.from({ length: MESH_DEGREE.high + 5 }, (_, i) => `sp${i}`);
  const kept = { chosen: ["sp0", "sp1"], delivered: new Set(["sp2", "sp3", "sp4"]) };
  for (let i = 0; i < 10; i++) {
    const drop = planMesh(crowded, many, random, kept).drop;
    assert.equal(drop.length, 5, "only the surplus");
    assert.ok(drop.every((id) => !["sp0", "sp1", "sp2", "sp3", "sp4"].includes(id)), `dropped ${drop}`);
  }
});

Deno.test("once blocks came over its mesh, an idle SuperPeer steps down only beside a link that relays them", () => {
  const random = () => 0;
  const link = (id: string, host: string, relayed?: boolean) => ({ nodeId: id, host, since: 0, relayed });
  const base = { load: 0, idleSince: 0, now: DEMOTE_AFTER_MS };
  const sybils = [link("a", "10.0.0.1", false), link("b", "10.0.0.2", false)];
  assert.equal(
    shouldDemote({ ...base, mesh: sybils }, random),
    true,
    "before any block: keys and hosts decide",
  );
  assert.equal(
    shouldDemote({ ...base, mesh: sybils, blocksFlow: true }, random),
    false,
    "among links that relay nothing it would take its SuperPeers from them",
  );
  assert.equal(
    shouldDemote({ ...base, mesh: [sybils[0], link("b", "10.0.0.2", true)], blocksFlow: true }, random),
    true,
  );
});

Deno.test("a Peer's SuperPeer that said its tip was behind ours and relays nothing lags; a claim never counts for it", () => {
  const base = { claimedWork: 5n, tipWork: 8n, linkedMs: BEHIND_GRACE_MS, relayed: false };
  assert.equal(lagsBehind(base), true);
  assert.equal(lagsBehind({ ...base, linkedMs: BEHIND_GRACE_MS - 1 }), false, "it may still catch up");
  assert.equal(lagsBehind({ ...base, relayed: true }), false, "it relays blocks: judged on delivery instead");
  assert.equal(lagsBehind({ ...base, claimedWork: 8n }), false, "level with us");
  assert.equal(
    lagsBehind({ ...base, claimedWork: 1n << 80n }),
    false,
    "a claim of more is no evidence for or against",
  );
});

Deno.test("a SuperPeer that never sent a block frame since we took it is replaced after one block the other delivered", () => {
  const ok = { silentMs: 100, misses: 0, relayed: true };
  assert.equal(judgeSuperPeers({ silentMs: 100, misses: 1, relayed: false }, ok), "replace-primary");
  assert.equal(judgeSuperPeers(ok, { silentMs: 100, misses: 1, relayed: false }), "replace-backup");
  assert.equal(
    judgeSuperPeers({ silentMs: 100, misses: 1, relayed: true }, ok),
    "keep",
    "one that relayed before may have been slow once",
  );
  assert.equal(judgeSuperPeers({ silentMs: 100, misses: REPLACE_AFTER_MISSES - 1 }, ok), "keep");
});

Deno.test("a mesh link a SuperPeer chose stops counting as its choice once a block came over the mesh and it relayed none", () => {
  const g = MESH_RELAY_GRACE_MS;
  const links = [
    { nodeId: "young", since: 5_000, relayed: false },
    { nodeId: "relays", since: 0, relayed: true },
    { nodeId: "silent", since: 0, relayed: false },
  ];
  assert.deepEqual(stillChosen(links, 0), ["relays", "silent", "young"], "no block yet: all, oldest first");
  assert.deepEqual(stillChosen(links, g), ["relays", "silent", "young"], "within the grace");
  assert.deepEqual(stillChosen(links, g + 1), ["relays", "young"], "a block came and it relayed none");
  assert.deepEqual(stillChosen(links, 5_000 + g + 1), ["relays"]);
});
