/**
 * A hostile peer speaking raw TCP to a hub of real node processes on 127.0.0.1: each attack gets its socket
 * closed by the hub, and the honest nodes keep working (no failover, relay still reaches everyone).
 */
import assert from "node:assert/strict";
import { COIN } from "../lib/consensus/amount.ts";
import { fromHex, toHex } from "../lib/crypto/hex.ts";
import { encodeFrame } from "../lib/net/frame.ts";
import { encodeTransaction, type Transaction } from "../lib/primitives/transaction.ts";
import type { NodeStatus } from "../lib/node.ts";
import { describeNodes, statuses, type TestNode, withCluster } from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";
import { badPowBlock, concat, handshake, joinFrame } from "./support/hostile.ts";

/**
 * A raw socket to `node` (with `proven`, past a handshake that proves a key of its own); `closed` resolves when
 * the far end closes it.
 */
async function dialRaw(
  node: TestNode,
  proven = false,
): Promise<{ conn: Deno.TcpConn; closed: Promise<void> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: node.port });
  if (proven) await handshake(conn);
  // Drain everything the hub sends (its hello, pongs) so only its close ends the loop.
  const closed = (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while ((await conn.read(buf)) !== null) { /* keep reading */ }
    } catch { /* reset by the hub: closed all the same */ }
  })();
  return { conn, closed };
}

/** Writes `bytes`, ignoring a broken pipe: the hub may cut us off mid-write. */
async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch { /* closed by the hub */ }
}

/**
 * Waits until the hub closes the socket, bounded by `ms` only so a hub that never does fails the test instead
 * of hanging it. That the attack, not silence, was the reason is read from the hub's log (`misbehaviourSince`):
 * a deadline short enough to tell the two apart would be one a busy machine can miss.
 */
async function cutOff(
  sock: { conn: Deno.TcpConn; closed: Promise<void> },
  what: string,
  ms = 30_000,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(
      () => reject(new Error(`the hub did not close the socket within ${ms} ms: ${what}`)),
      ms,
    )
  );
  try {
    await Promise.race([sock.closed, timeout]);
  } finally {
    clearTimeout(timer);
    try {
      sock.conn.close();
    } catch { /* already closed */ }
    await sock.closed;
  }
}

/** Asserts that `node` logged a misbehaviour matching `reason` after its `from`-th log line. */
function assertMisbehaviourSince(node: TestNode, from: number, reason: RegExp, what: string): void {
  const lines = node.log.slice(from);
  assert.ok(
    lines.some((l) => / misbehaviour /.test(l) && reason.test(l)),
    `the hub should have cut off ${what} for ${reason}; its log since:\n${lines.join("\n")}`,
  );
}

/** Spends `owner`'s first coinbase with its real public key but a made-up signature. */
async function forgedTx(owner: TestNode): Promise<Uint8Array> {
  const wallet = JSON.parse(await Deno.readTextFile(`${owner.dataDir}/wallet.json`));
  const block1 = await owner.rpc<{ txs: { txid: string }[] }>("block", ["1"]);
  const tx: Transaction = {
    version: 1,
    inputs: [{
      prevout: { txid: block1.txs[0].txid, index: 0 },
      publicKey: fromHex(wallet.receive.keys[0]) as Uint8Array<ArrayBuffer>,
      signature: crypto.getRandomValues(new Uint8Array(64)),
    }],
    outputs: [{ amount: 49 * COIN, pubKeyHash: "11".repeat(20) }],
    lockTime: 0,
  };
  return encodeTransaction(tx);
}

Deno.test("a hostile peer (garbage, a 100 MiB length, a bad-PoW block, a forged signature, a flood) is cut off while the others keep working", async () => {
  await withCluster(async (cluster) => {
    const nodes: TestNode[] = [];
    for (const n of ["hub", "b", "c"]) nodes.push(await cluster.start(n));
    const [hub, b, c] = nodes;
    await b.rpc("mine", [11]);
    const funded = await b.rpc<NodeStatus>("status");
    await waitFor(
      async () => (await statuses(nodes)).every((s) => s.tip === funded.tip && s.network_size === 3),
      10_000,
      "three nodes in one network with b's coins",
    );

    // Random bytes whose length prefix is small: the body is not UTF-8 JSON.
    let from = hub.log.length;
    let sock = await dialRaw(hub);
    const junk = crypto.getRandomValues(new Uint8Array(1000));
    junk.set([0, 0, 0, 200]);
    await writeAll(sock.conn, junk);
    await cutOff(sock, "random bytes");
    assertMisbehaviourSince(hub, from, /: (frame|message): /, "random bytes");

    // Pure random bytes: refused on the length prefix, or at the latest when no hello comes.
    sock = await dialRaw(hub);
    await writeAll(sock.conn, crypto.getRandomValues(new Uint8Array(4096)));
    await cutOff(sock, "pure random bytes");

    // A 100 MiB length prefix is refused on sight, before any body is buffered.
    from = hub.log.length;
    sock = await dialRaw(hub);
    const prefix = new Uint8Array(4 + 1024);
    new DataView(prefix.buffer).setUint32(0, 100 * 1024 * 1024);
    await writeAll(sock.conn, prefix);
    await cutOff(sock, "a 100 MiB length prefix");
    assertMisbehaviourSince(hub, from, /frame length \d+ exceeds/, "a 100 MiB length prefix");

    // A proper handshake, then a block that fails proof of work.
    const tipBefore = (await hub.rpc<NodeStatus>("status")).tip;
    sock = await dialRaw(hub, true);
    const bad = badPowBlock(await hub.rpc<NodeStatus>("status"));
    await writeAll(sock.conn, concat(joinFrame(), encodeFrame({ type: "block", data: toHex(bad) })));
    await cutOff(sock, "a block with bad proof of work");
    assert.equal((await hub.rpc<NodeStatus>("status")).tip, tipBefore, "the bad block was not connected");
    assert.ok(hub.log.some((l) => /misbehaviour .*high-hash/.test(l)), "the hub judged the block by its PoW");

    // A handshake, then a transaction spending b's real coin with b's key but a forged signature.
    sock = await dialRaw(hub, true);
    const forged = await forgedTx(b);
    await writeAll(sock.conn, concat(joinFrame(), encodeFrame({ type: "tx", data: toHex(forged) })));
    await cutOff(sock, "a transaction with a forged signature");
    assert.ok(hub.log.some((l) => /misbehaviour .*bad-sig/.test(l)), "the hub judged the signature");
    assert.equal((await hub.rpc<NodeStatus>("status")).mempool, 0, "the forged transaction was not accepted");

    // A handshake, then far more messages than the rate limit's burst, in one write.
    sock = await dialRaw(hub, true);
    const ping = encodeFrame({ type: "ping", nonce: 1 });
    await writeAll(sock.conn, concat(...Array(5000).fill(ping)));
    await cutOff(sock, "a message flood");
    assert.ok(hub.log.some((l) => /misbehaviour .*rate/.test(l)), "the hub cut the flood for its rate");

    // The honest network never noticed: same hub, both peers still in it, and relay still works.
    const s = await statuses(nodes);
    assert.ok(s.every((x) => x.hub === hub.listen), "no failover happened");
    const { txid } = await b.rpc<{ txid: string }>("send", [s[2].address, "2"]);
    await waitFor(
      async () =>
        (await Promise.all(nodes.map((n) => n.rpc<{ txid: string }[]>("mempool"))))
          .every((pool) => pool.some((e) => e.txid === txid)),
      30_000,
      "a transaction sent after the attacks to reach every node",
    ).catch(async (e) => {
      throw new Error(`${e.message}\n${await describeNodes(nodes)}`);
    });
    await waitFor(
      async () => (await statuses([hub, b, c])).map((x) => x.peers).join() === "2,1,1",
      30_000,
      "the hostile links to be gone from the SuperPeer",
    );
  });
});
