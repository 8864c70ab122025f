/**
 * The rolling upgrade (issue 19): for one release a node of the previous protocol (2, node ids claimed, not
 * proven) may still join as a Peer: served blocks, flagged in `status`, never on the roster (no one's
 * successor), never a mesh link or anyone's SuperPeer, its claims ignored; its unproven id replaces nobody.
 * Protocol 1 is refused with a reason (net_capture_test). The protocol-2 node is an in-process speaker
 * (`legacyPeer`) against a real node process.
 */
import assert from "node:assert/strict";
import { helloRefusal } from "../lib/net/link.ts";
import type { HelloMessage, Message } from "../lib/net/messages.ts";
import type { NodeStatus } from "../lib/node.ts";
import { withCluster } from "./support/cluster.ts";
import { helloMessage, legacyPeer, rawPeer } from "./support/raw_peer.ts";
import { waitFor } from "./support/wait.ts";

const hex64 = (b: number) => b.toString(16).padStart(2, "0").repeat(32);
const JOIN: Message = { type: "join", primary: true } as Message;
const typeOf = (got: Message[], type: string) => got.find((m) => m.type === type);

Deno.test("helloRefusal: protocol 2 only on links it dialled; protocol 3 only with a nonce", () => {
  const v2 = helloMessage(hex64(1), { protocol: 2 }) as HelloMessage;
  assert.equal(helloRefusal(v2, true), undefined, "it dialled us: served as a Peer");
  assert.match(helloRefusal(v2, false)!.reason, /protocol 2 may only join as a Peer/, "never dialled by us");
  const v3 = helloMessage(hex64(2)) as HelloMessage;
  assert.match(helloRefusal(v3, true)!.reason, /without a nonce/);
  assert.equal(helloRefusal({ ...v3, nonce: hex64(3) }, false), undefined);
});

Deno.test("rolling upgrade: a protocol-2 node joins as a Peer and gets blocks, flagged in status, never on the roster, a mesh link or an id's owner", async () => {
  await withCluster(async (cluster) => {
    const sp = await cluster.start("sp");
    // It claims to be a SuperPeer with an address: claims, ignored.
    const old = await legacyPeer(sp.port, hex64(0xaa), { role: "superpeer", listen: "127.0.0.1:1" }, [JOIN]);
    await waitFor(() => !!typeOf(old.got, "welcome"), 10_000, "the protocol-2 node to be welcomed");
    assert.equal(typeOf(old.got, "reject"), undefined);
    const s = await sp.rpc<NodeStatus>("status");
    assert.equal(s.legacyPeers.length, 1, "flagged in status");
    const links = (await sp.rpc<{ links: { kind: string; protocol: number }[] }>("peers")).links;
    assert.deepEqual(links.map((l) => [l.kind, l.protocol]), [["member", 2]]);

    // It gets blocks like any Peer.
    const before = old.got.length;
    await sp.rpc("mine", [1]);
    await waitFor(
      () => old.got.slice(before).some((m) => ["block", "headers", "inv"].includes(m.type)),
      10_000,
      "the block to reach the protocol-2 Peer",
    );

    // Never on the roster: a proven newcomer's welcome names no successor it cannot join.
    const fresh = await rawPeer(sp.port, helloMessage("x"), [JOIN]);
    await waitFor(() => !!typeOf(fresh.got, "welcome"), 10_000, "the proven Peer to be welcomed");
    const welcome = typeOf(fresh.got, "welcome") as unknown as { members: { nodeId: string }[] };
    assert.ok(!welcome.members.some((m) => m.nodeId === hex64(0xaa)), "the protocol-2 Peer is on no roster");

    // Its claimed role buys no mesh link: a mesh request is redirected and closed.
    const meshAsker = await legacyPeer(sp.port, hex64(0xbb), { role: "superpeer" }, [
      { type: "mesh" } as Message,
    ]);
    await waitFor(() => meshAsker.conn.isClosed, 10_000, "the mesh request to be turned away");
    assert.ok(!(await sp.rpc<{ links: { kind: string }[] }>("peers")).links.some((l) => l.kind === "mesh"));

    // An unproven id replaces nobody: claiming the proven Peer's id is refused, and that Peer keeps its link.
    const provenId = await provenIdOf(sp, hex64(0xaa));
    assert.ok(provenId, "the proven Peer is served");
    const thief = await legacyPeer(sp.port, provenId, {}, [JOIN]);
    await waitFor(() => thief.conn.isClosed, 10_000, "the id thief to be refused");
    const r = typeOf(thief.got, "reject") as { code: string } | undefined;
    assert.equal(r?.code, "id");
    assert.equal(fresh.conn.isClosed, false, "the proven Peer keeps its link");
    for (const p of [old, fresh, meshAsker, thief]) await p.conn.close("test over");
  });
});

/** The node id of `sp`'s member that is not `legacyId`: the proven Peer's. */
async function provenIdOf(
  sp: { rpc<T>(m: string): Promise<T> },
  legacyId: string,
): Promise<string | undefined> {
  const links = (await sp.rpc<{ links: { nodeId: string; protocol: number }[] }>("peers")).links;
  return links.find((l) => l.nodeId !== legacyId && l.protocol === 3)?.nodeId;
}
