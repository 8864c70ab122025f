/**
 * Many real node processes on 127.0.0.1 with small SuperPeers (`--max-peers 3`), all started from one
 * tracker file: they form one network of several SuperPeers, survive SuperPeer SIGKILLs one after another,
 * and nobody is left alone. The full run (100 nodes, `--max-peers 8`) is in `deno task stress`.
 */
import assert from "node:assert/strict";
import {
  Cluster,
  describeNodes,
  statuses,
  type TestNode,
  waitForOneNetwork,
  waitForTip,
} from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";

const NODES = 16, MAX_PEERS = 3, KILLS = 3;

Deno.test(`${NODES} nodes with --max-peers ${MAX_PEERS} from one tracker form one network of several SuperPeers, survive ${KILLS} SuperPeer SIGKILLs, and nobody is alone`, async () => {
  const cluster = await Cluster.create();
  try {
    const nodes: TestNode[] = [await cluster.start("n0", { args: ["--max-peers", String(MAX_PEERS)] })];
    // The rest come up four at a time, as machines switched on in a room would.
    for (let i = 1; i < NODES; i += 4) {
      const batch = Array.from({ length: Math.min(4, NODES - i) }, (_, k) => `n${i + k}`);
      nodes.push(
        ...await Promise.all(
          batch.map((name) => cluster.start(name, { args: ["--max-peers", String(MAX_PEERS)] })),
        ),
      );
    }
    await waitForOneNetwork(nodes, 30_000, `${NODES} nodes to form one network`);
    // Every Peer takes a second SuperPeer (or, with none free, becomes one); nobody serves more than it may.
    await waitFor(
      async () => (await statuses(nodes)).every((x) => x.role === "superpeer" || x.superpeers.length === 2),
      10_000,
      "every Peer to hold two SuperPeers",
    );
    const s = await statuses(nodes);
    const sps = nodes.filter((_, i) => s[i].role === "superpeer");
    assert.ok(sps.length >= 2, "capacity grew past one SuperPeer");
    const peersInfo = await Promise.all(sps.map((n) => n.rpc<{ links: { kind: string }[] }>("peers")));
    for (const p of peersInfo) assert.ok(p.links.filter((l) => l.kind === "member").length <= MAX_PEERS);

    for (let k = 0; k < KILLS; k++) {
      const alive = cluster.alive;
      const now = await statuses(alive);
      const victim = alive.find((_, i) => now[i].role === "superpeer" && now[i].peers > 1)!;
      victim.kill("SIGKILL");
      const survivors = cluster.alive;
      await waitForOneNetwork(survivors, 20_000, `the network to heal after SuperPeer kill ${k + 1}`);
      // Nobody alone: every survivor holds a link, and a block from any of them reaches all.
      for (const [i, x] of (await statuses(survivors)).entries()) {
        assert.ok(x.peers >= 1, `${survivors[i].name} is alone`);
      }
      const miner = survivors[(k * 5) % survivors.length];
      const [hash] = (await miner.rpc<{ hashes: string[] }>("mine", [1])).hashes;
      await waitForTip(survivors, hash, 10_000, `a block after kill ${k + 1} to reach every survivor`);
    }
    assert.equal(cluster.alive.length, NODES - KILLS);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${await describeNodes(cluster.alive, 4)}`);
  } finally {
    await cluster.cleanup();
  }
});
