/**
 * The explorer in a real browser against two real node processes on 127.0.0.1: the dashboard shows the tip,
 * the other node and a payment; a block mined on the other node appears without a reload; every page opens;
 * a hostile path is escaped and a 404; the other node's dashboard shows the SuperPeer's death and its own
 * promotion without a reload; no request leaves the page's origin and nothing breaks the CSP.
 */
import { formatAmount, parseAmount } from "../lib/consensus/amount.ts";
import assert from "node:assert/strict";
import type { Page } from "./support/test_deps.ts";
import type { NodeStatus } from "../lib/node.ts";
import { waitFor } from "./support/wait.ts";
import { haveChromium, OriginGuard, paidPair, withBrowser } from "./support/browser.ts";

const hasChromium = haveChromium();

/** Text of the element `selector` on `page`. */
const textOf = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? "");

Deno.test({
  name:
    "browser: dashboard, live block from the other node, every page, a hostile path, nothing from elsewhere",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withBrowser(async (browser, cluster) => {
      const { a, b, origin, bOrigin, bAddress, txid } = await paidPair(cluster, { bExplorer: true });
      assert.equal((await a.rpc<NodeStatus>("status")).explorer, `${origin}/`);
      await waitFor(
        async () => (await b.rpc<NodeStatus>("status")).mempool === 1,
        10_000,
        "b to get the payment",
      );

      const guard = new OriginGuard(origin, { allowData: true });
      const page = await guard.page(browser);

      await t.step("the dashboard shows the tip, the other node and the payment", async () => {
        const res = await page.goto(`${origin}/`, { waitUntil: "load" });
        assert.equal(res?.status(), 200);
        const status = await a.rpc<NodeStatus>("status");
        assert.match(await textOf(page, "#status"), new RegExp(`height ${status.height}\\b`));
        assert.ok((await textOf(page, "#network")).includes(b.listen), "b is on the map");
        assert.ok(await page.$(`#network g.self`), "this node is marked");
        assert.ok(await page.$(`#mempool a[href="/tx/${txid}"]`), "the payment is in the mempool");
        assert.ok(await page.$(`#blocks a[href="/block/${status.tip}"]`), "the tip is listed");
        // The live connection is up and the charts drew.
        await page.waitForSelector("body.live-on", { timeout: 10_000 });
        await page.waitForSelector("#charts .uplot", { timeout: 10_000 });
      });

      await t.step("a block mined on the other node appears without a reload", async () => {
        const [hash] = (await b.rpc<{ hashes: string[] }>("mine", [1])).hashes;
        await page.waitForSelector(`#blocks a[href="/block/${hash}"]`, { timeout: 10_000 });
        // A string runs in the page (this file has no DOM types).
        await page.waitForFunction(`!document.querySelector('#mempool a[href="/tx/${txid}"]')`, {
          timeout: 10_000,
        });
        assert.match(await textOf(page, "#status"), /height 12\b/);
      });

      await t.step("block by height and hash, the transaction, the address, search", async () => {
        const tip = await a.rpc<NodeStatus>("status");
        await page.goto(`${origin}/block/${tip.height}`);
        assert.ok((await textOf(page, "main")).includes(tip.tip));
        await page.goto(`${origin}/block/${tip.tip}`);
        assert.match(await textOf(page, "h1"), new RegExp(`Block ${tip.height}`));
        await page.click(`main a[href="/tx/${txid}"]`);
        await page.waitForSelector("dl.facts");
        const tx = await textOf(page, "main");
        assert.match(tx, /1 confirmation in block 12/);
        assert.ok(tx.includes(bAddress.slice(0, 20)));
        await page.goto(`${origin}/address/${bAddress}`);
        // b holds the payment and the reward of the block it mined.
        const reward = (await (await fetch(`${origin}/api/block/12`)).json()).reward;
        assert.equal(
          await textOf(page, ".balance"),
          `${formatAmount(150_000_000 + parseAmount(reward))} coins`,
        );
        // The row's cells, one by one (a string runs in the page: this file has no DOM types).
        const row = await page.evaluate(
          `[...document.querySelector('main a[href="/tx/${txid}"]').closest("tr").children].map((c) => c.textContent).join(" ")`,
        ) as string;
        assert.match(row, /\b1\.5\b/);
        await page.goto(`${origin}/`);
        await page.type("input[name=q]", "3");
        await Promise.all([page.waitForNavigation(), page.click("header button")]);
        assert.equal(new URL(page.url()).pathname, "/block/3");
        assert.match(await textOf(page, "h1"), /Block 3/);
      });

      await t.step("a hostile path is shown as text and answered with a 404", async () => {
        const hostile = `<img src=x onerror="document.title='owned'">`;
        const res = await page.goto(`${origin}/block/${encodeURIComponent(hostile)}`);
        assert.equal(res?.status(), 404);
        assert.ok((await textOf(page, ".error")).includes(hostile), "shown as typed");
        assert.equal(await page.$("main img"), null, "not as markup");
        assert.notEqual(await page.title(), "owned");
        const tx = await page.goto(`${origin}/tx/${"0".repeat(64)}`);
        assert.equal(tx?.status(), 404);
        assert.match(await textOf(page, ".error"), /no transaction 0{64}/);
      });

      await t.step(
        "b's dashboard names a as its SuperPeer, then shows a's death and b's promotion live",
        async () => {
          const pageB = await browser.newPage();
          await pageB.goto(`${bOrigin}/`);
          const map = await textOf(pageB, "#network");
          assert.ok(map.includes(a.listen));
          assert.match(map, /SuperPeer/);
          await pageB.waitForSelector("body.live-on", { timeout: 10_000 });
          a.kill("SIGKILL");
          await pageB.waitForSelector("#network .netmap .sp.lost", { timeout: 20_000 });
          await pageB.waitForSelector("#network .netmap .sp.self", { timeout: 20_000 });
          assert.match(await textOf(pageB, "#status .role"), /SuperPeer/);
          assert.match(await textOf(pageB, "#news"), new RegExp(`SuperPeer ${a.listen}`));
          await pageB.close();
        },
      );

      guard.assertClean();
    }),
});
