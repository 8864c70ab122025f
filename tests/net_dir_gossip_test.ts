/**
 * Directory gossip as digests and pulls (issue 19, lib/net/gossip.ts and dir_gossip.ts), in process: past a
 * full mesh, news reaches a mesh neighbour as ids and sequences, the neighbour pulls each entry it lacks once,
 * from one neighbour at a time, and a heartbeat travels no further than the neighbours.
 */
import assert from "node:assert/strict";
import { DIR_REFRESH_MS, MESH_FULL_UP_TO } from "../lib/net/config.ts";
import { DirectoryGossip } from "../lib/net/gossip.ts";
import type { Link } from "../lib/net/link.ts";
import type { Message, SuperPeerEntry } from "../lib/net/messages.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";

/** A link that records what is sent on it. */
function fakeLink(name: string): Link & { sent: Message[] } {
  const sent: Message[] = [];
  return { sent, name, conn: { send: (m: Message) => (sent.push(m), true) } } as unknown as Link & {
    sent: Message[];
  };
}

function entry(i: number, seq = 1_000): SuperPeerEntry {
  return { nodeId: `sp${i}`, listen: `10.0.0.${i}:8765`, peers: 0, load: 0, capacity: 32, seq, sig: "00" };
}

function setup() {
  const clock = new VirtualClock();
  const a = fakeLink("a"), b = fakeLink("b"), c = fakeLink("c");
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
    memberLinks: () => [],
    checkSig: () => Promise.resolve(true),
    misbehaved: (_, score, reason) => void scores.push(`${score} ${reason}`),
    heardNew: () => {},
  });
  return { clock, gossip, a, b, c, scores };
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

Deno.test("past a full mesh, a heartbeat (only the sequence moved) refreshes this node's copy and goes no further until DIR_REFRESH_MS", async () => {
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
  assert.deepEqual(types(b), ["ihave"], "room running out is news");
  b.sent.length = 0;
  await gossip.mergeEntries([{ ...entry(1, now + 30_000 + DIR_REFRESH_MS), load: 32 }], a);
  gossip.flush();
  assert.deepEqual(types(b), ["ihave"], "and so is a refresh every DIR_REFRESH_MS");
});
