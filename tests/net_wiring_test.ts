/**
 * The overlay's rules as wired: each test runs the real `Network` on the simulated LAN (memory transport,
 * virtual clock) and checks what the rules decided from what the node itself saw, so it fails when the value
 * `Network` feeds a rule is wrong (a field mixed up, a clock not advanced, a set left empty), not only when
 * the rule is. The pure rules have their own tests in net_overlay_rules_test.ts. Only the public surface is
 * read: roles, links (`linkInfo`), the directory, events and the transport's streams.
 */
import assert from "node:assert/strict";
import {
  DEMOTE_AFTER_MS,
  DEMOTE_MIN_OTHERS,
  DIR_HEARTBEAT_MS,
  DIR_MEMBER_REFRESH_MS,
  DIR_TTL_MS,
  MAX_LINKS_PER_HOST,
  MESH_DEGREE,
  MESH_FULL_UP_TO,
} from "../lib/net/config.ts";
import { type SimNode, World } from "../lib/sim/world.ts";

/** Timings with no ping in the test's span: no link has a measured round trip, so none is shielded by one. */
const NO_PINGS = { pingIntervalMs: 600_000, deadAfterMs: 600_000 };

/** The node ids of `sp`'s Peers. */
const membersOf = (sp: SimNode) => sp.net!.linkInfo().filter((l) => l.kind === "member").map((l) => l.nodeId);

Deno.test("a full SuperPeer evicts for a newcomer from another host the newest link of the crowded host, keeping the member that relayed a block most recently", async () => {
  for (const relayer of [2, 1]) {
    const w = new World({ seed: 7, trackerSeeds: 1, network: { maxPeers: 3, ...NO_PINGS } });
    const sp = w.addNode();
    w.start(sp);
    await w.clock.advance(3_000);
    assert.equal(sp.net!.role, "superpeer");
    // Three Peers on one machine join in turn (oldest first): the SuperPeer is full.
    const crowd = [9001, 9002, 9003].map((port) => w.addNode({ host: "10.0.9.1", port }));
    for (const n of crowd) {
      w.start(n);
      await w.clock.advance(1_000);
    }
    assert.deepEqual(membersOf(sp).sort(), crowd.map((n) => n.id).sort());
    // One of them relays a block: the SuperPeer saw it serve.
    w.mine(crowd[relayer]);
    await w.clock.advance(500);
    assert.equal(sp.ledger.tip().hash, crowd[relayer].ledger.tip().hash);
    const newcomer = w.addNode({ host: "10.0.9.2", port: 9001 });
    w.start(newcomer);
    await w.clock.advance(2_000);
    const members = membersOf(sp);
    assert.ok(members.includes(newcomer.id), "the newcomer got a slot");
    assert.ok(members.includes(crowd[relayer].id), `the member that relayed a block (${relayer}) stays`);
    // Of the rest of the crowded host, the newest link goes.
    const rest = crowd.filter((_, i) => i !== relayer);
    assert.deepEqual(
      rest.map((n) => members.includes(n.id)),
      [true, false],
      `the newest of the others goes (relayer ${relayer})`,
    );
  }
});

/** Every live node's view of the directory: node id to sequence number. */
function views(w: World): Map<SimNode, Map<string, number>> {
  return new Map(w.live().map((n) => [n, new Map(n.net!.directory().map((e) => [e.nodeId, e.seq]))]));
}

Deno.test("a settled overlay past a full mesh, as wired: Peers hold a backup that is not their primary, the mesh degree stays within its bounds, entries stay fresh through heartbeats, and a SIGKILLed SuperPeer's entry expires everywhere", async () => {
  const w = new World({ seed: 4, network: { maxPeers: 1 } });
  w.startNodes(30, 3_000);
  await w.clock.advance(15_000);
  const sps = w.superPeers();
  assert.ok(sps.length > MESH_FULL_UP_TO, `${sps.length} SuperPeers: past a full mesh`);
  // Backup choice: two SuperPeers, one primary, never the same one twice.
  for (const n of w.live().filter((n) => n.net!.role === "peer")) {
    const links = n.net!.linkInfo().filter((l) => l.kind === "superpeer");
    assert.equal(links.length, 2, `${n.host} holds two SuperPeers`);
    assert.equal(new Set(links.map((l) => l.nodeId)).size, 2, `${n.host}: its backup is not its primary`);
    assert.deepEqual(links.map((l) => l.primary).sort(), [false, true]);
    assert.equal(n.net!.hub?.nodeId, links.find((l) => l.primary)!.nodeId);
  }
  // Mesh planning: past MESH_FULL_UP_TO SuperPeers, each keeps between the low and high degree (a dial
  // that comes in may put one over the high bound until its next tick prunes the surplus).
  const degrees = () =>
    w.superPeers().map((sp) => sp.net!.linkInfo().filter((l) => l.kind === "mesh").length);
  const inBounds = () => degrees().every((d) => d >= MESH_DEGREE.low && d <= MESH_DEGREE.high);
  assert.ok(await w.clock.until(inBounds, 15_000), `mesh degrees ${degrees()}`);
  for (const sp of sps) assert.ok(membersOf(sp).length <= 1, `${sp.host}: at most --max-peers Peers`);
  // Entries stay fresh: each SuperPeer republishes (a higher sequence) every heartbeat, and every node's view
  // of every live SuperPeer moves on, the newer copy winning. A SuperPeer SIGKILLed meanwhile withdraws
  // nothing: its entry must expire, at every node, within its time to live, however often others' full lists
  // (each new mesh link exchanges one) carry its last copy.
  const before = views(w);
  const [gone] = w.superPeers();
  w.kill(gone);
  await w.clock.advance(DIR_TTL_MS + DIR_MEMBER_REFRESH_MS + 5_000);
  assert.ok(DIR_TTL_MS >= 2 * DIR_HEARTBEAT_MS + DIR_MEMBER_REFRESH_MS);
  const after = views(w);
  for (const [n, seen] of after) {
    for (const sp of w.superPeers()) {
      if (sp === n) continue;
      const was = before.get(n)?.get(sp.id), now = seen.get(sp.id);
      assert.ok(now !== undefined, `${n.host} knows ${sp.host}`);
      if (was !== undefined) {
        assert.ok(now > was, `${n.host}'s entry of ${sp.host} moved on: ${was} -> ${now}`);
      }
    }
  }
  const holding = w.live().filter((n) => after.get(n)!.has(gone.id));
  assert.deepEqual(holding.map((n) => n.host), [], "nobody holds the dead SuperPeer's entry");
});

Deno.test("one machine holds at most MAX_LINKS_PER_HOST links to a SuperPeer with room for more: the links its nodes open are counted by their socket's host", async () => {
  const w = new World({ seed: 9, trackerSeeds: 1, network: { maxPeers: 16, ...NO_PINGS } });
  const sp = w.addNode();
  w.start(sp);
  await w.clock.advance(3_000);
  assert.equal(sp.net!.role, "superpeer");
  const crowd = Array.from(
    { length: MAX_LINKS_PER_HOST + 2 },
    (_, i) => w.addNode({ host: "10.0.9.1", port: 9001 + i }),
  );
  const fromCrowd = () => sp.net!.linkInfo().filter((l) => l.listen.startsWith("10.0.9.1:")).length;
  for (const [i, n] of crowd.entries()) {
    w.start(n);
    await w.clock.advance(1_000);
    assert.equal(fromCrowd(), Math.min(i + 1, MAX_LINKS_PER_HOST), `${i + 1} nodes of one machine started`);
  }
  // Another machine is not affected by the first one's limit.
  const other = w.addNode({ host: "10.0.9.2", port: 9001 });
  w.start(other);
  await w.clock.advance(1_000);
  assert.ok(membersOf(sp).includes(other.id));
});

Deno.test("step-down is fed the age of the mesh links: idle SuperPeers whose links were cut and re-formed wait DEMOTE_AFTER_MS from the new links, then one steps down", async () => {
  const changes: { at: number; host: string }[] = [];
  const w = new World({
    seed: 2,
    network: { maxPeers: 1 },
    onEvent: (n, e) => void (e.type === "role" && changes.push({ at: w.clock.elapsed, host: n.host })),
  });
  w.startNodes(6, 2_000);
  await w.clock.advance(15_000);
  for (const n of w.live().filter((n) => n.net!.role === "peer")) w.stop(n);
  await w.clock.advance(2_000);
  const sps = w.superPeers();
  assert.ok(sps.length >= DEMOTE_MIN_OTHERS + 1, `${sps.length} idle SuperPeers`);
  // Idle long enough, but alone: every mesh link cut.
  w.partition(sps.map((n) => [n]));
  await w.clock.advance(DEMOTE_AFTER_MS * 1.5 + 5_000);
  assert.ok(sps.every((n) => n.net!.role === "superpeer" && n.net!.linkInfo().length === 0));
  w.heal();
  const healed = w.clock.elapsed;
  changes.length = 0;
  await w.clock.until(() => changes.length > 0, healed + 3 * DEMOTE_AFTER_MS - w.clock.elapsed);
  assert.ok(changes.length > 0, "an idle SuperPeer with two SuperPeers of its own steps down");
  assert.ok(
    changes[0].at >= healed + DEMOTE_AFTER_MS,
    `${changes[0].host} stepped down ${changes[0].at - healed} ms after its links formed again`,
  );
  assert.ok(w.superPeers().length >= DEMOTE_MIN_OTHERS, "enough stay for every Peer to hold two");
});

Deno.test("failover as wired: the only SuperPeer SIGKILLed, the first Peer of its roster (join order) takes over and the others join it", async () => {
  for (const seed of [1, 2]) {
    const w = new World({ seed, trackerSeeds: 1 });
    const sp = w.addNode();
    w.start(sp);
    await w.clock.advance(3_000);
    const peers: SimNode[] = [];
    for (let i = 0; i < 4; i++) {
      const n = w.addNode();
      peers.push(n);
      w.start(n);
      await w.clock.advance(1_000);
    }
    assert.deepEqual(
      peers.map((n) => n.net!.hub?.nodeId),
      peers.map(() => sp.id),
      "one SuperPeer serves all",
    );
    w.kill(sp);
    const [first, ...rest] = peers;
    const settled = await w.clock.until(
      () => first.net!.role === "superpeer" && rest.every((n) => n.net!.hub?.nodeId === first.id),
      15_000,
    );
    assert.ok(
      settled,
      `seed ${seed}: roles ${
        peers.map((n) => `${n.host} ${n.net!.role} -> ${n.net!.hub?.listen}`).join("; ")
      }`,
    );
    assert.equal(w.superPeers().length, 1, "one successor, not one per Peer");
  }
});
