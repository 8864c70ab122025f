/**
 * One unit rule: a payment of 1.5 coins reads as 1.5 coins through every surface. JSON (the RPC, `--json`,
 * the explorer's API) carries exact decimal coin strings ("1.5"); the text a person reads says "1.5 coins";
 * the library (`Node.send`, `Node.balances`, transactions) counts integer base units (150,000,000).
 */
import assert from "node:assert/strict";
import { startExplorer } from "../lib/explorer/server.ts";
import type { Node } from "../lib/node.ts";
import { callRpc } from "../lib/rpc/client.ts";
import { startRpc } from "../lib/rpc/server.ts";
import { cli, json } from "./support/cli.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { waitFor } from "./support/wait.ts";

const BASE_UNITS = 150_000_000; // 1.5 coins of 10^8 base units

Deno.test("1.5 coins paid read as 1.5 through the CLI text, --json, the RPC, the explorer API and the library", async () => {
  await withTempDir(async (dir) => {
    const nodes: Node[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      const payer = await startLocalNode(`${dir}/a`, { trackerPath: `${dir}/tracker.txt` });
      nodes.push(payer);
      const payee = await startLocalNode(`${dir}/b`, { connect: [payer.net.listen] });
      nodes.push(payee);
      for (const n of nodes) {
        const rpc = await startRpc(n);
        closers.push(() => rpc.close());
      }
      const explorer = await startExplorer(payer, { hostname: "127.0.0.1", port: 0 });
      closers.push(() => explorer.close());
      await waitFor(() => payee.net.linkCount > 0, 10_000, "the payee to join the payer");
      await payer.miner.mineBlocks(11); // the first coinbase matures
      const to = payee.wallet.address;

      // The CLI, as a person types it: text output says coins.
      const sent = await cli(payer.dataDir, "send", to, "1.5");
      assert.equal(sent.code, 0, sent.stderr);
      const id = /transaction ([0-9a-f]{64})/.exec(sent.stdout)?.[1];
      assert.ok(id, sent.stdout);
      assert.match(sent.stdout, /^sent 1\.5 coins: transaction [0-9a-f]{64}, fee 0\.0000\d+ coins\n$/);
      const txText = await cli(payer.dataDir, "tx", id);
      assert.match(txText.stdout, new RegExp(`^  0  1\\.5 coins to ${to}$`, "m"));
      await waitFor(() => payee.mempool.has(id), 10_000, "the payment to reach the payee");
      const balText = await cli(payee.dataDir, "balance");
      assert.match(balText.stdout, /^incoming +1\.5 coins \(unconfirmed payments from others\)$/m);

      // --json: decimal coin strings.
      const tx = await json<{ outputs: { address: string; amount: string }[]; fee: string }>(
        payer.dataDir,
        "tx",
        id,
      );
      assert.deepEqual(tx.outputs.find((o) => o.address === to)?.amount, "1.5");
      assert.equal(typeof tx.fee, "string");
      const bal = await json<{ incoming: string }>(payee.dataDir, "balance");
      assert.equal(bal.incoming, "1.5");

      // The RPC itself: the same strings; an amount must be a string, not a float.
      const rpcTx = await callRpc(payer.dataDir, "tx", [id]) as typeof tx;
      assert.equal(rpcTx.outputs.find((o) => o.address === to)?.amount, "1.5");
      await assert.rejects(callRpc(payer.dataDir, "send", [to, 1.5]), /decimal string/);

      // The explorer's API.
      const api = await (await fetch(`${explorer.url}api/tx/${id}`)).json();
      assert.equal(api.outputs.find((o: { address: string }) => o.address === to).amount, "1.5");
      assert.equal(typeof api.fee, "string");
      const mempool = await (await fetch(`${explorer.url}api/mempool`)).json();
      assert.equal(typeof mempool.fees, "string");

      // The library: integer base units.
      const pooled = payer.mempool.get(id)!;
      assert.ok(pooled.tx.outputs.some((o) => o.amount === BASE_UNITS));
      assert.equal(payee.balances().incoming, BASE_UNITS);
      assert.ok(Number.isSafeInteger(payer.status().balance));
      const again = await payer.send(to, BASE_UNITS);
      assert.ok(Number.isSafeInteger(again.fee) && again.fee > 0);
      assert.equal(payer.mempool.get(again.txid)!.tx.outputs[0].amount, BASE_UNITS);
    } finally {
      for (const c of closers.reverse()) await c().catch(() => {});
      for (const n of nodes.reverse()) await n.stop();
    }
  }, "peerchain-units-");
});
