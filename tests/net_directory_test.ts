/**
 * Signed directory entries (issue 19) against real node processes on 127.0.0.1: an entry counts only when
 * signed by the SuperPeer it describes, and only that SuperPeer can withdraw it.
 */
import assert from "node:assert/strict";
import type { SuperPeerEntry } from "../lib/net/messages.ts";
import type { NodeStatus } from "../lib/node.ts";
import { entryMessage, removalMessage } from "../lib/net/identity.ts";
import { withCluster } from "./support/cluster.ts";
import { helloMessage, rawPeer } from "./support/raw_peer.ts";
import { generateIdentity } from "../lib/net/identity.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("entry hijack: an entry with an honest SuperPeer's id at the attacker's address (seq 9.5 min ahead), and removals of it (seq 2^53−1, or signed by another key), change nothing", async () => {
  await withCluster(async (cluster) => {
    const sp1 = await cluster.start("sp1", { args: ["--max-peers", "1"] });
    const p1 = await cluster.start("p1");
    await waitFor(async () => (await p1.rpc<NodeStatus>("status")).hub === sp1.listen, 10_000, "p1 to join");
    const sp2 = await cluster.start("sp2");
    const dir = async (n: typeof sp1) => (await n.rpc<{ superpeers: SuperPeerEntry[] }>("peers")).superpeers;
    await waitFor(
      async () => (await sp2.rpc<NodeStatus>("status")).role === "superpeer" && (await dir(sp1)).length === 2,
      15_000,
      "sp2, turned away by full sp1, to become a SuperPeer that sp1's directory names",
    );
    const victim = (await dir(sp1)).find((e) => e.listen === sp2.listen)!;
    assert.ok(victim, "sp1 knows sp2");
    const liar = await generateIdentity();
    const liarListen = "127.0.0.1:9";
    const sign = async (e: Omit<SuperPeerEntry, "sig">) => ({
      ...e,
      sig: (await liar.sign(entryMessage(e))).toHex(),
    });
    const hijack = await sign({
      nodeId: victim.nodeId,
      listen: liarListen,
      peers: 0,
      load: 0,
      capacity: 10_000,
      seq: Date.now() + 9.5 * 60_000,
    });
    const own = await sign({
      nodeId: liar.nodeId,
      listen: liarListen,
      peers: 0,
      load: 0,
      capacity: 1,
      seq: Date.now(),
    });
    const far = 2 ** 53 - 1, soon = Date.now() + 1000;
    const raw = await rawPeer(sp1.port, helloMessage("liar", { role: "superpeer", listen: liarListen }), [
      { type: "mesh" },
      { type: "superpeers", add: [hijack, { ...hijack, sig: undefined } as SuperPeerEntry], remove: [] },
      { type: "superpeers", add: [], remove: [{ nodeId: victim.nodeId, seq: far }] },
      {
        type: "superpeers",
        add: [],
        remove: [{
          nodeId: victim.nodeId,
          seq: soon,
          sig: (await liar.sign(removalMessage(victim.nodeId, soon))).toHex(),
        }],
      },
      { type: "superpeers", add: [own], remove: [] }, // its own entry, properly signed: a marker
    ], { identity: liar });
    try {
      await waitFor(
        async () => (await dir(sp1)).some((e) => e.nodeId === liar.nodeId),
        10_000,
        "sp1 to take the liar's own, signed entry (so the forged messages before it were handled)",
      );
      const after = (await dir(sp1)).find((e) => e.nodeId === victim.nodeId);
      assert.ok(after, "the victim's entry was not withdrawn by another key or an unsigned removal");
      assert.equal(after.listen, sp2.listen, "the victim's entry still names its own address");
      assert.ok(after.seq < Date.now() + 60_000, "no far-ahead sequence number was taken");
      assert.ok(
        sp1.log.some((l) => /misbehaviour .*directory entries not signed by their node/.test(l)),
        "the forged entries were scored",
      );
      assert.ok(
        sp1.log.some((l) => /misbehaviour .*a removal not signed by its node/.test(l)),
        "the forged removal was scored",
      );
      // And what the SuperPeer tells its Peer: the same, true entry.
      await new Promise((r) => setTimeout(r, 500));
      const p1View = (await dir(p1)).find((e) => e.nodeId === victim.nodeId);
      assert.ok(!p1View || p1View.listen === sp2.listen, "the Peer never hears the impostor's address");
    } finally {
      await raw.conn.close("done");
    }
  });
});
