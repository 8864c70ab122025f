/**
 * The overlay against an attacker on 127.0.0.1, with real node processes: a forged hello that claims to be
 * the biggest, oldest SuperPeer there is, forged directory entries, idle sockets that fill a SuperPeer's
 * slots, and a node of the old protocol. None of it may capture, split or lock out the honest nodes.
 */
import assert from "node:assert/strict";
import type { Message } from "../lib/net/messages.ts";
import { parseTracker } from "../lib/net/tracker.ts";
import { DEFAULT_MAX_PEERS } from "../lib/net/config.ts";
import type { NodeStatus } from "../lib/node.ts";
import {
  Cluster,
  startSuperPeerAndPeer,
  statuses,
  waitForOnePrimary,
  waitForTip,
  withCluster,
} from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";
import { helloMessage, type RawPeer, rawPeer } from "./support/raw_peer.ts";

const trackerAddrs = async (path: string) =>
  parseTracker(await Deno.readTextFile(path)).addrs.map((a) => `${a.hostname}:${a.port}`);

Deno.test("a forged hello claiming 2^40 members and the greatest seniority captures nothing: nobody steps down, moves or rewrites a tracker", async () => {
  const cluster = await Cluster.create();
  const liars: RawPeer[] = [];
  try {
    const sp = await cluster.start("sp");
    const peers = [await cluster.start("p1"), await cluster.start("p2")];
    const nodes = [sp, ...peers];
    await waitForOnePrimary(nodes, 10_000, "a SuperPeer and two Peers");
    const trackerBefore = await trackerAddrs(cluster.learnedTracker);
    const forged = (n: number) => ({
      nodeId: `liar-${n}`,
      listen: `127.0.0.99:${40000 + n}`,
      peers: 2 ** 40,
      load: 0,
      capacity: 2 ** 40,
      seq: Date.now() + 60_000,
    });
    // The protocol-1 capture: a SuperPeer hello with every claim maxed, then the old `yield`; and the same
    // claims in protocol 2, asking for a mesh link and sending forged directory entries and a forged entry
    // for the real SuperPeer itself.
    const claims = { role: "superpeer", since: 1, members: 2 ** 40, listen: "127.0.0.99:40000" };
    liars.push(
      await rawPeer(sp.port, helloMessage("liar-old", { ...claims, protocol: 1 }), [
        { type: "yield", hub: "127.0.0.99:40000" } as unknown as Message,
      ]),
      await rawPeer(sp.port, helloMessage("liar-new", claims), [
        { type: "mesh" },
        {
          type: "superpeers",
          add: [forged(1), forged(2), {
            ...forged(3),
            nodeId: (await sp.rpc<{ hub: { nodeId: string } }>("peers")).hub.nodeId,
          }],
          remove: [],
        },
      ]),
    );
    for (const p of peers) {
      // A Peer, too, is told by a liar that it is a huge SuperPeer.
      liars.push(await rawPeer(p.port, helloMessage(`liar-at-${p.name}`, claims), [{ type: "mesh" }]));
    }
    // A SuperPeer dials what the directory claims before it relies on it: the forged entries are dropped.
    await waitFor(
      async () => {
        const dir = (await sp.rpc<{ superpeers: { nodeId: string }[] }>("peers")).superpeers;
        return sp.log.some((l) => l.includes("mesh-linked 127.0.0.99:40000")) &&
          !dir.some((e) => e.nodeId.startsWith("liar"));
      },
      5_000,
      "the SuperPeer to link the liar, then drop every forged entry after dialling it",
    );
    await new Promise((r) => setTimeout(r, 1500)); // tracker writes are coalesced to one a second
    const s = await statuses(nodes);
    assert.equal(s[0].role, "superpeer", "the real SuperPeer did not step down");
    assert.ok(s.slice(1).every((x) => x.role === "peer" && x.hub === sp.listen), "its Peers did not move");
    for (const path of [cluster.learnedTracker]) {
      const addrs = await trackerAddrs(path);
      assert.ok(!addrs.some((a) => a.startsWith("127.0.0.99")), `no liar's address in the tracker: ${addrs}`);
      assert.equal(addrs[0], trackerBefore[0], "the tracker still leads with the real SuperPeer");
    }
    // The old-protocol liar was refused outright.
    assert.ok(
      liars[0].got.some((m) => m.type === "reject" && m.code === "protocol"),
      JSON.stringify(liars[0].got),
    );
    // And the network works: a block from a Peer reaches everyone through the real SuperPeer.
    const [hash] = (await peers[1].rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip(nodes, hash, 5_000, "a block to cross the network after the attack");
  } finally {
    for (const l of liars) await l.conn.close("test over");
    await cluster.cleanup();
  }
});

Deno.test("64 idle sockets from one address that greet and answer pings, and 40 more that take every Peer slot, do not keep an honest newcomer out", async () => {
  const cluster = await Cluster.create();
  const idle: RawPeer[] = [];
  try {
    const { sp, b } = await startSuperPeerAndPeer(cluster);
    // The old lock-out: sockets that only greet. Then sockets that also join, filling the Peer slots.
    for (let i = 0; i < 64; i++) idle.push(await rawPeer(sp.port, helloMessage(`idle-${i}`)));
    // The socket cap may evict a joiner before its join is read (it looks idle until then), so joiners are
    // added until the slots beside b's are all taken (a bounded number of rounds).
    const slots = DEFAULT_MAX_PEERS - 1;
    const welcomed = () => idle.filter((p) => p.got.some((m) => m.type === "welcome")).length;
    let joiners = 40;
    for (let round = 0; round < 4 && welcomed() < slots; round++) {
      for (let i = 0; i < joiners; i++) {
        idle.push(
          await rawPeer(sp.port, helloMessage(`joiner-${round}-${i}`), [{ type: "join", primary: true }]),
        );
      }
      const batch = idle.slice(-joiners);
      await waitFor(
        () =>
          welcomed() >= slots ||
          batch.every((p) => p.conn.isClosed || p.got.some((m) => m.type === "welcome")),
        5_000,
        "each joining socket to be welcomed or turned away",
      );
      joiners = slots - welcomed() + 8;
    }
    assert.equal(welcomed(), slots, "the joining sockets took every Peer slot beside b's");
    const newcomer = await cluster.start("newcomer");
    // Turned away by a full SuperPeer, it becomes a SuperPeer linked to it: the same network, more room.
    await waitFor(
      async () => (await newcomer.rpc<NodeStatus>("status")).superpeers.includes(sp.listen),
      10_000,
      "the newcomer to be linked to the SuperPeer",
    );
    const [hash] = (await sp.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip([sp, b, newcomer], hash, 5_000, "a block from the SuperPeer to reach the newcomer");
    const [back] = (await newcomer.rpc<{ hashes: string[] }>("mine", [1])).hashes;
    await waitForTip([sp, b, newcomer], back, 5_000, "a block from the newcomer to reach the others");
  } finally {
    for (const p of idle) await p.conn.close("test over");
    await cluster.cleanup();
  }
});

Deno.test("a node of the old protocol is refused with a reason that says so", async () => {
  await withCluster(async (cluster) => {
    const sp = await cluster.start("sp");
    const old = await rawPeer(sp.port, helloMessage("old-timer", { protocol: 1, since: null }));
    await waitFor(() => old.conn.isClosed, 5_000, "the node to close the old-protocol link");
    const reject = old.got.find((m) => m.type === "reject");
    assert.ok(reject && reject.type === "reject", "a reject came before the close");
    assert.equal(reject.code, "protocol");
    assert.match(reject.reason, /protocol 1 is too old: this node speaks 3/);
    // Protocol 2 may still join as a Peer for one release: tests/net_legacy_test.ts.
  });
});

Deno.test("refused hellos (another genesis) release their slots: after 120 of them an honest node still joins", async () => {
  await withCluster(async (cluster) => {
    const sp = await cluster.start("sp");
    for (let i = 0; i < 120; i++) {
      const p = await rawPeer(sp.port, helloMessage(`stranger-${i}`, { genesis: "ab".repeat(32) }));
      await waitFor(() => p.conn.isClosed, 10_000, "the refusal");
    }
    const late = await cluster.start("late");
    await waitForOnePrimary([sp, late], 10_000, "an honest node to join after the refusals");
  });
});
