/**
 * The resource attacks of issue 11, each against a hub of real node processes on 127.0.0.1 (the short version
 * of `deno task stress`'s hostile-resources section): oversized transactions, orphan transactions, a `getdata`
 * naming one block a thousand times, a lighter side chain pushed unasked, and orphan blocks. Each must cost the
 * attacker, not the hub, and honest relay must go on.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { MAX_ORPHAN_BLOCK_BYTES, MAX_ORPHAN_TX_BYTES } from "../lib/consensus/policy.ts";
import { encodeFrame } from "../lib/net/frame.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import type { NodeStatus } from "../lib/node.ts";
import { waitForOnePrimary, withCluster } from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";
import { seeded } from "./support/random.ts";
import { Attacker, bigBlock, fakeTx, pushSideBlock, storeBytes } from "./support/hostile.ts";

const REGTEST = NETWORKS.regtest;
const MB = 990_000;

Deno.test("resource attacks on a hub cost the attacker, not the hub: nothing kept beyond its bounds, nothing stored, honest relay goes on", async (t) => {
  const rand = seeded(5);
  await withCluster(async (cluster) => {
    const hub = await cluster.start("hub");
    await hub.rpc("mine", [1]);
    const now = Math.floor(Date.now() / 1000) + 600;
    // A 1 MB competitor of block 1, of equal work: kept by the hub (off the best chain), the getdata target.
    const sideHash = await pushSideBlock(hub, MB, 15_000);
    const b = await cluster.start("b"), c = await cluster.start("c");
    await waitForOnePrimary([hub, b, c], 20_000, "three nodes in one network");
    await b.rpc("mine", [REGTEST.coinbaseMaturity + 2]);
    const funded = await b.rpc<NodeStatus>("status");
    await waitFor(async () => (await hub.rpc<NodeStatus>("status")).tip === funded.tip, 15_000, "funding");

    await t.step(
      "a 2 MB transaction is refused at the message layer and its link cut; 98 kB orphans stay within 1 MB",
      async () => {
        const a = await Attacker.open(hub.port);
        await a.send(encodeFrame({ type: "tx", data: fakeTx(15_150, rand).toHex() }));
        await waitFor(() => a.isClosed, 5_000, "the hub to cut the link");
        assert.ok(
          hub.log.some((l) => /misbehaviour .*tx\.data: more than 100000 bytes/.test(l)),
          "scored for it",
        );
        const o = await Attacker.open(hub.port);
        for (let i = 0; i < 15; i++) {
          await o.send(encodeFrame({ type: "tx", data: fakeTx(740, rand).toHex() }));
        }
        await o.send(encodeFrame({ type: "ping", nonce: 1 }));
        await waitFor(() => o.count("pong") > 0, 10_000, "the orphans to be handled");
        const s = await hub.rpc<NodeStatus>("status");
        assert.ok(
          s.orphanTxs > 0 && s.orphanTxs <= MAX_ORPHAN_TX_BYTES / 97_000,
          `${s.orphanTxs} orphan txs kept`,
        );
        assert.equal(s.mempool, 0);
        await o.close();
      },
    );

    await t.step(
      "a getdata naming a 1 MB block 1,000 times is answered with it once, and scored",
      async () => {
        const a = await Attacker.open(hub.port);
        await a.send(encodeFrame({ type: "getdata", kind: "block", ids: Array(1000).fill(sideHash) }));
        await a.send(encodeFrame({ type: "ping", nonce: 2 }));
        await waitFor(() => a.count("block") >= 1 && a.count("pong") >= 1, 10_000, "the answer");
        await new Promise((r) => setTimeout(r, 500)); // anything more would be on its way by now
        assert.equal(a.count("block"), 1);
        assert.equal(a.isClosed, false);
        assert.ok(hub.log.some((l) => /misbehaviour .*getdata: 999 duplicate ids/.test(l)), "scored for it");
        await a.close();
      },
    );

    await t.step(
      "1 MB blocks of a lighter side chain pushed unasked are refused on their header and never stored",
      async () => {
        const before = await Promise.all([hub, b].map(storeBytes));
        const a = await Attacker.open(hub.port);
        const hashes: string[] = [];
        for (let i = 0; i < 5; i++) {
          const blk = bigBlock(REGTEST.genesisHash, 1, now - 1 - i, MB, 100 + i);
          hashes.push(blockHashSync(blk.header));
          await a.send(encodeFrame({ type: "block", data: encodeBlock(blk).toHex() }));
        }
        await a.send(encodeFrame({ type: "ping", nonce: 3 }));
        await waitFor(() => a.count("pong") > 0, 10_000, "the blocks to be handled");
        for (const h of hashes) {
          await assert.rejects(hub.rpc("block", [h]), /no block/, "not stored at the hub");
          await assert.rejects(b.rpc("block", [h]), /no block/, "not relayed to b");
        }
        assert.deepEqual(await Promise.all([hub, b].map(storeBytes)), before, "not a byte written");
        assert.ok(hub.log.some((l) => /too-little-chainwork/.test(l)), "scored (a fork far below the tip)");
        await a.close();
      },
    );

    await t.step("1 MB orphan blocks are kept within 8 MB", async () => {
      const a = await Attacker.open(hub.port);
      for (let i = 0; i < 12; i++) {
        const blk = bigBlock(crypto.getRandomValues(new Uint8Array(32)).toHex(), 50, now, MB, 200 + i);
        await a.send(encodeFrame({ type: "block", data: encodeBlock(blk).toHex() }));
      }
      await a.send(encodeFrame({ type: "ping", nonce: 4 }));
      await waitFor(() => a.count("pong") > 0, 10_000, "the orphans to be handled");
      const s = await hub.rpc<NodeStatus>("status");
      assert.ok(
        s.orphanBlocks > 0 && s.orphanBlocks <= MAX_ORPHAN_BLOCK_BYTES / MB,
        `${s.orphanBlocks} kept`,
      );
      await a.close();
    });

    await t.step(
      "the honest network never noticed: same hub, and a payment still reaches everyone",
      async () => {
        const statuses = await Promise.all([hub, b, c].map((n) => n.rpc<NodeStatus>("status")));
        assert.ok(statuses.every((s) => s.hub === hub.listen), "no failover");
        const { txid } = await b.rpc<{ txid: string }>("send", [statuses[2].address, "1"]);
        await waitFor(
          async () =>
            (await Promise.all([hub, c].map((n) => n.rpc<{ txid: string }[]>("mempool"))))
              .every((pool) => pool.some((e) => e.txid === txid)),
          10_000,
          "the payment at the hub and at c",
        );
      },
    );
  });
});
