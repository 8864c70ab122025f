/**
 * Proven node identities (issue 19): the node key in the data directory, the handshake's proof, and the
 * node-id impersonation attack against real node processes on 127.0.0.1.
 */
import assert from "node:assert/strict";
import {
  generateIdentity,
  HELLO_DOMAIN,
  loadOrCreateIdentity,
  NODE_KEY_FILE,
  NodeKeyError,
  proofMessage,
} from "../lib/net/identity.ts";
import { ed25519Check } from "../lib/net/identity.ts";
import type { LinkInfo } from "../lib/net/network.ts";
import { encodeFrame } from "../lib/net/frame.ts";
import { Cluster, waitForOnePrimary, withCluster } from "./support/cluster.ts";
import { helloFrame, joinFrame, readFrame } from "./support/hostile.ts";
import { helloMessage, rawPeer } from "./support/raw_peer.ts";
import { waitFor } from "./support/wait.ts";
import { withTempDir } from "./support/temp_dir.ts";

const FIELDS = {
  protocol: 3,
  network: "regtest",
  genesis: "00".repeat(32),
  signer: "a".repeat(64),
  other: "b".repeat(64),
  signerNonce: "1".repeat(64),
  otherNonce: "2".repeat(64),
  listen: "127.0.0.1:1",
};

Deno.test("a proof signs the domain string and every field: changing any one (or swapping the two sides) changes the bytes", () => {
  assert.equal(HELLO_DOMAIN, "peerchain-hello-v3", "the domain string is part of the protocol: pinned");
  const base = new TextDecoder().decode(proofMessage(FIELDS));
  assert.ok(base.startsWith(`["peerchain-hello-v3",3,`));
  for (const [k, v] of Object.entries(FIELDS)) {
    const changed = { ...FIELDS, [k]: typeof v === "number" ? v + 1 : `${v}x` };
    assert.notEqual(new TextDecoder().decode(proofMessage(changed)), base, k);
  }
  const swapped = {
    ...FIELDS,
    signer: FIELDS.other,
    other: FIELDS.signer,
    signerNonce: FIELDS.otherNonce,
    otherNonce: FIELDS.signerNonce,
  };
  assert.notEqual(new TextDecoder().decode(proofMessage(swapped)), base);
});

Deno.test("a proof checks only under its own key, for the fields it signed", async () => {
  const me = await generateIdentity(), other = await generateIdentity();
  const msg = proofMessage({ ...FIELDS, signer: me.nodeId });
  const sig = await me.sign(msg);
  assert.equal(await ed25519Check(me.nodeId, sig, msg), true);
  assert.equal(await ed25519Check(other.nodeId, sig, msg), false, "another id");
  assert.equal(
    await ed25519Check(
      me.nodeId,
      sig,
      proofMessage({ ...FIELDS, signer: me.nodeId, otherNonce: "3".repeat(64) }),
    ),
    false,
    "another nonce: a replayed proof",
  );
  assert.equal(await ed25519Check("not-a-key", sig, msg), false);
  assert.equal(await ed25519Check(me.nodeId.toUpperCase(), sig, msg), false, "one spelling per id");
  assert.equal(await ed25519Check(me.nodeId, sig.slice(0, 63), msg), false);
});

Deno.test("the node key: made once with mode 0600, the same id after a restart, a broken file refused and kept", async () => {
  await withTempDir(async (dir) => {
    const a = await loadOrCreateIdentity(dir);
    assert.match(a.nodeId, /^[0-9a-f]{64}$/);
    const path = `${dir}/${NODE_KEY_FILE}`;
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const text = await Deno.readTextFile(path);
    assert.equal((await loadOrCreateIdentity(dir)).nodeId, a.nodeId, "kept across restarts");
    await Deno.chmod(path, 0o644);
    await loadOrCreateIdentity(dir);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600, "a key others could read is narrowed");
    await Deno.writeTextFile(path, "not a key\n");
    await assert.rejects(() => loadOrCreateIdentity(dir), NodeKeyError);
    await Deno.writeTextFile(path, "abcd\n");
    await assert.rejects(() => loadOrCreateIdentity(dir), NodeKeyError);
    assert.equal(await Deno.readTextFile(path), "abcd\n", "a file that is no key is never overwritten");
    await Deno.writeTextFile(path, text);
    assert.equal((await loadOrCreateIdentity(dir)).nodeId, a.nodeId);
  });
});

Deno.test("node-id impersonation: a join carrying a served Peer's id, with no proof or a forged one, is refused and scored; the victim keeps its link", async () => {
  const cluster = await Cluster.create();
  const socks: Deno.TcpConn[] = [];
  try {
    const sp = await cluster.start("sp");
    const victim = await cluster.start("victim");
    await waitForOnePrimary([sp, victim], 10_000, "a SuperPeer and its Peer");
    const links = async () => (await sp.rpc<{ links: LinkInfo[] }>("peers")).links;
    const victimLink = (await links()).find((l) => l.listen === victim.listen);
    assert.ok(victimLink, "the SuperPeer serves the victim");
    const victimId = victimLink.nodeId;
    assert.match(victimId, /^[0-9a-f]{64}$/, "a node id is a public key");

    // 1. The old attack: the victim's id (as any welcome's roster names it) in a hello, then a join at once.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: sp.port });
    socks.push(conn);
    await conn.write(helloFrame(victimId, { nonce: "ab".repeat(32) }));
    await conn.write(joinFrame(true));
    const closed = (async () => {
      const buf = new Uint8Array(65536);
      try {
        while ((await conn.read(buf)) !== null) { /* drain */ }
      } catch { /* reset */ }
    })();
    await waitFor(
      () =>
        Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]),
      10_000,
      "the SuperPeer to close an impostor that joined without proving the id",
    );
    // 2. A proof signed by another key for the victim's id: refused with a reason, scored.
    const forger = await rawPeer(sp.port, helloMessage(victimId), [{ type: "join", primary: true }], {
      keepId: true,
    });
    await waitFor(() => forger.conn.isClosed, 10_000, "the SuperPeer to close the forged proof");
    assert.ok(
      forger.got.some((m) => m.type === "reject" && m.code === "proof"),
      `the forger was told why: ${JSON.stringify(forger.got.map((m) => m.type))}`,
    );
    assert.ok(sp.log.some((l) => /misbehaviour .*proof of node id/.test(l)), "the SuperPeer scored it");
    // 3. A proof replayed from another session (an honest proof for another nonce) fails the same way.
    const replay = await Deno.connect({ hostname: "127.0.0.1", port: sp.port });
    socks.push(replay);
    await replay.write(helloFrame(victimId, { nonce: "cd".repeat(32) }));
    const { rest } = await readFrame(replay, "hello");
    await replay.write(encodeFrame({ type: "proof", signature: "ee".repeat(64) }));
    await assert.rejects(() => readFrame(replay, "__never__", rest), /closed/);

    // The victim was never cut off: the same link (opened before the attacks), still its primary.
    const after = (await links()).find((l) => l.nodeId === victimId);
    assert.ok(after, "the victim is still served");
    assert.equal(after.listen, victim.listen);
    assert.equal(after.inbound, true);
    assert.equal((await links()).filter((l) => l.nodeId === victimId).length, 1);
    assert.ok(!sp.log.some((l) => l.includes(`peer-left ${victim.listen}`)), "the victim never left");
    assert.ok(
      sp.log.some((l) => l.includes(`peer-joined ${victim.listen}`)),
      "(the log says so when one does)",
    );
  } finally {
    for (const s of socks) {
      try {
        s.close();
      } catch { /* closed */ }
    }
    await cluster.cleanup();
  }
});

Deno.test("a node keeps its id across a restart from the same data directory", async () => {
  await withCluster(async (cluster) => {
    const sp = await cluster.start("sp");
    const id = async () => (await sp.rpc<{ hub: { nodeId: string } }>("peers")).hub.nodeId;
    const before = await id();
    const mode = (await Deno.stat(`${sp.dataDir}/${NODE_KEY_FILE}`)).mode! & 0o777;
    assert.equal(mode, 0o600);
    sp.kill("SIGKILL");
    await sp.exited.catch(() => {});
    await cluster.restart(sp);
    assert.equal(await id(), before);
  });
});
