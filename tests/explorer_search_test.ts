/**
 * Search that helps: the start of a txid or block hash (8 hex digits or more, any case) finds it, pending or
 * confirmed; several matches are listed with links; anything else is a 404 that says what the box takes.
 */
import assert from "node:assert/strict";
import { startExplorer } from "../lib/explorer/server.ts";
import { MIN_SEARCH_PREFIX } from "../lib/explorer/data.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { withLocalNode } from "./support/local_node.ts";
import { waitFor } from "./support/wait.ts";

Deno.test("search: prefixes of block hashes and txids, lists of matches, and what the box takes", async (t) => {
  await withLocalNode(async (node) => {
    const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0, indexPath: ":memory:" });
    const base = explorer.url.slice(0, -1);
    const search = async (q: string) => {
      const res = await fetch(`${base}/api/search?q=${encodeURIComponent(q)}`);
      return { status: res.status, body: await res.json() };
    };
    try {
      await node.miner.mineBlocks(12);
      const payee = encodeAddress("cd".repeat(20), node.params.addressPrefix);
      const { txid: confirmed } = await node.send(payee, 1e8);
      await node.miner.mineBlocks(1);
      const { txid: pending } = await node.send(payee, 1e8);
      await waitFor(
        () => explorer.data.index.synced && explorer.data.index.height === 13,
        10_000,
        "the index",
      );
      const block5 = node.chain.entryAt(5)!.hash;

      await t.step("the start of an id leads to its page, in any case, pending or confirmed", async () => {
        assert.deepEqual(await search(confirmed.slice(0, 10)), {
          status: 200,
          body: { path: `/tx/${confirmed}` },
        });
        assert.deepEqual(await search(confirmed.slice(0, 12).toUpperCase()), {
          status: 200,
          body: { path: `/tx/${confirmed}` },
        });
        assert.deepEqual(await search(pending.slice(0, MIN_SEARCH_PREFIX)), {
          status: 200,
          body: { path: `/tx/${pending}` },
        });
        assert.deepEqual(await search(block5.slice(0, MIN_SEARCH_PREFIX)), {
          status: 200,
          body: { path: `/block/${block5}` },
        });
        // The page: a redirect to it.
        const res = await fetch(`${base}/search?q=${confirmed.slice(0, 9)}`, { redirect: "manual" });
        await res.body?.cancel();
        assert.equal(res.status, 303);
        assert.equal(res.headers.get("location"), `/tx/${confirmed}`);
        // The index answers by range: exactly the ids that start so.
        assert.deepEqual(explorer.data.index.txidsWithPrefix(confirmed.slice(0, 8), 5), [confirmed]);
        assert.deepEqual(explorer.data.index.blocksWithPrefix(block5.slice(0, 8), 5), [{
          height: 5,
          hash: block5,
        }]);
      });

      await t.step("several matches are listed, with links and heights", async () => {
        // Two real ids under one prefix cannot be made to order: the index is asked for them by this prefix.
        const coinbase3 = txid(node.chain.getBlock(node.chain.entryAt(3)!.hash)!.txs[0]);
        const index = explorer.data.index;
        const real = index.txidsWithPrefix.bind(index);
        index.txidsWithPrefix = (prefix, limit) =>
          prefix === "abcdef01" ? [coinbase3, confirmed] : real(prefix, limit);
        try {
          const { status, body } = await search("ABCDEF01");
          assert.equal(status, 200);
          assert.deepEqual(body, {
            path: null,
            matches: [
              { kind: "tx", id: coinbase3, height: 3 },
              { kind: "tx", id: confirmed, height: 13 },
            ],
            more: false,
          });
          const page = await fetch(`${base}/search?q=abcdef01`);
          assert.equal(page.status, 200);
          const text = await page.text();
          assert.match(text, new RegExp(`href="/tx/${coinbase3}"`));
          assert.match(text, new RegExp(`href="/tx/${confirmed}"`));
          assert.match(text, /2 blocks and transactions start with <code>abcdef01<\/code>/);
        } finally {
          index.txidsWithPrefix = real;
        }
      });

      await t.step("a wrong input is a 404 saying what the box takes", async () => {
        const takes =
          /the search box takes a block height \(0 to 13\), a block hash or a transaction id \(64 hex digits, or their first 8 or more\), or an address \(\w+1…\)/;
        for (const q of ["1234abc", "hello world", "", `${node.params.addressPrefix}1qqqq`]) {
          const { status, body } = await search(q);
          assert.equal(status, 404, q);
          assert.match(body.error, takes, q);
        }
        assert.match((await search("1234abc")).body.error, /too short/);
        assert.match((await search(`${node.params.addressPrefix}1qqqq`)).body.error, /as an address: /);
        assert.doesNotMatch((await search("hello world")).body.error, /separator/);
        // A prefix nothing on this node starts with (among 16, at most 13 blocks and 15 txs take one each).
        const ids = [
          ...Array.from({ length: 14 }, (_, h) => node.chain.entryAt(h)?.hash ?? ""),
          confirmed,
          pending,
        ];
        // Its first digit starts no id; the rest is "f"s, so it is never all digits (a height: "00000000" is 0).
        const free = [..."0123456789abcdef"].map((d) => d + "f".repeat(MIN_SEARCH_PREFIX - 1))
          .find((p) => !ids.some((id) => id.startsWith(p[0])))!;
        assert.ok(free);
        const r = await search(free);
        assert.equal(r.status, 404);
        assert.match(r.body.error, new RegExp(`no block or transaction starts with ${free}`));
        const page = await fetch(`${base}/search?q=${encodeURIComponent("<i>x</i>")}`);
        assert.equal(page.status, 404);
        const html = await page.text();
        assert.match(html, /nothing matches &quot;&lt;i&gt;x&lt;\/i&gt;&quot;: the search box takes/);
      });
    } finally {
      await explorer.close();
    }
  });
});
