/**
 * What mempool.space users expect, on a real node: the next block as the miner would fill it (count, bytes,
 * fees, fee-rate range and median), the fees of each block, and `/api`, a page that documents every endpoint,
 * each of which answers as documented.
 */
import assert from "node:assert/strict";
import { startExplorer } from "../lib/explorer/server.ts";
import { API_DOCS } from "../lib/explorer/api_docs.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { formatAmount } from "../lib/consensus/amount.ts";
import { withLocalNode } from "./support/local_node.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("mempool view: the next block, fees per block, and /api documenting every endpoint", async (t) => {
  await withLocalNode(async (node) => {
    const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0, indexPath: ":memory:" });
    const base = explorer.url.slice(0, -1);
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
    };
    const api = async (path: string) => {
      const r = await get(path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return JSON.parse(r.text);
    };
    try {
      await node.miner.mineBlocks(12);
      const payee = encodeAddress("ef".repeat(20), node.params.addressPrefix);
      const sent: { txid: string; fee: number }[] = [];
      // Three payments at three fee rates, so the range and the median are three different numbers.
      for (const [amount, feeRate] of [[1e8, 12], [2e8, 55], [3e8, 30]]) {
        const { tx, fee } = await node.wallet.createTransaction(node.walletView(), payee, amount, {
          feeRate,
        });
        sent.push({ txid: await node.submitTx(tx), fee });
      }
      await waitFor(() => explorer.data.index.synced, 10_000, "the index");

      await t.step(
        "the next block: every waiting payment, their fees, fee-rate range and median",
        async () => {
          const m = await api("/api/mempool");
          const txs = await Promise.all(sent.map((s) => api(`/api/tx/${s.txid}`)));
          const rates = txs.map((x) => x.feeRate as number).sort((a, b) => a - b);
          assert.ok(rates[0] < rates[1] && rates[1] < rates[2], `three rates: ${rates}`);
          assert.equal(m.nextBlock.count, 3);
          // Amounts travel as exact decimal coin strings (the README's unit rule).
          assert.equal(m.nextBlock.fees, formatAmount(sent.reduce((n, s) => n + s.fee, 0)));
          assert.equal(m.nextBlock.bytes, txs.reduce((n, x) => n + x.size, 0));
          assert.equal(m.nextBlock.minFeeRate, +rates[0].toFixed(3));
          assert.equal(m.nextBlock.medianFeeRate, +rates[1].toFixed(3));
          assert.equal(m.nextBlock.maxFeeRate, +rates[2].toFixed(3));
          // The wallet's suggestion, as the menu shows it before a payment's confirm.
          assert.equal(m.nextBlock.suggestedFeeRate, node.suggestedFeeRate());
          assert.ok(m.nextBlock.suggestedFeeRate > 0);
          const page = await get("/");
          assert.match(page.text, /Next block: <b>3<\/b> transactions/);
          assert.match(
            page.text,
            new RegExp(`A payment now: <b>${node.suggestedFeeRate()}</b> base units per`),
          );
        },
      );

      await t.step("fees per block: what the block's transactions paid", async () => {
        await node.miner.mineBlocks(1);
        await waitFor(() => explorer.data.index.synced && explorer.data.index.height === 13, 10_000, "index");
        const { blocks } = await api("/api/blocks?limit=2");
        assert.equal(blocks[0].height, 13);
        assert.equal(blocks[0].fees, formatAmount(sent.reduce((n, s) => n + s.fee, 0)));
        assert.ok(Number(blocks[0].fees) > 0);
        assert.equal(blocks[1].fees, "0", "a block of its coinbase alone");
        assert.equal((await api("/api/mempool")).nextBlock.count, 0);
        assert.match((await get("/blocks")).text, /fees \(coins\)/);
      });

      await t.step("/api documents every endpoint, and each answers", async () => {
        const doc = await get("/api");
        assert.equal(doc.status, 200);
        assert.match(doc.type, /^text\/html/);
        const tip = node.chain.tip.hash;
        for (const e of API_DOCS) {
          assert.ok(doc.text.includes(e.path.replaceAll("&", "&amp;")), `${e.path} on the page`);
          if (!e.path.startsWith("/api/")) continue;
          const url = e.path.split(" or ")[0]
            .replace("HEIGHT", "1").replace("HASH", tip).replace("TXID", sent[0].txid)
            .replace("ADDRESS", payee).replace("=N", "=1").replace("=ID", "=99").replace("q=", "q=1");
          const r = await get(url);
          assert.equal(r.status, 200, `${url}: ${r.text.slice(0, 200)}`);
          assert.match(r.type, /^application\/json/, url);
        }
        const events = API_DOCS.find((e) => e.path === "/events");
        assert.ok(events && API_DOCS.some((e) => e.path === "/metrics"));
      });
    } finally {
      await explorer.close();
    }
  });
});
