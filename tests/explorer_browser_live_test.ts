/**
 * Every page stays current in a real browser, over `/events`, without a reload: a transaction page turns from
 * pending to confirmed in its block and counts confirmations; an address page shows a new payment pending,
 * then in its history; a block page gains its next block and confirmations. No request leaves the node's
 * origin and nothing breaks the CSP.
 */
import assert from "node:assert/strict";
import type { Page } from "./support/test_deps.ts";
import type { NodeStatus } from "../lib/node.ts";
import { haveChromium, OriginGuard, paidPair, withBrowser } from "./support/browser.ts";

const hasChromium = haveChromium();

/** Waits until `main` contains `text` (a string runs in the page: this file has no DOM types). */
const mainShows = (page: Page, text: string) =>
  page.waitForFunction(`document.querySelector("main").textContent.includes(${JSON.stringify(text)})`, {
    timeout: 15_000,
  });

/** Marks the page; the mark is gone if the page reloads. */
const mark = (page: Page) => page.evaluate(`window.__sameDocument = true`);
const marked = async (page: Page) => await page.evaluate(`window.__sameDocument === true`) as boolean;

Deno.test({
  name: "browser: transaction, address and block pages update live, without a reload",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withBrowser(async (browser, cluster) => {
      const { a, origin, bAddress, txid } = await paidPair(cluster);
      const guard = new OriginGuard(origin);
      const page = await guard.page(browser);

      await t.step(
        "a transaction page: pending, then confirmed in block 12, then 2 confirmations",
        async () => {
          await page.goto(`${origin}/tx/${txid}`);
          assert.match(await page.$eval("main", (m) => m.textContent ?? ""), /pending/);
          await page.waitForSelector("body.live-on", { timeout: 10_000 });
          await mark(page);
          await a.rpc("mine", [1]);
          await mainShows(page, "1 confirmation in block 12");
          await a.rpc("mine", [1]);
          await mainShows(page, "2 confirmations in block 12");
          assert.ok(await marked(page), "the page was not reloaded");
        },
      );

      await t.step("an address page: a new payment pending, then in the history", async () => {
        await page.goto(`${origin}/address/${bAddress}`);
        await page.waitForSelector("body.live-on", { timeout: 10_000 });
        await mark(page);
        const second = (await a.rpc<{ txid: string }>("send", [bAddress, "2"])).txid;
        await page.waitForSelector(`main a[href="/tx/${second}"]`, { timeout: 15_000 });
        assert.match(await page.$eval("main", (m) => m.textContent ?? ""), /Pending/);
        await a.rpc("mine", [1]);
        const height = (await a.rpc<NodeStatus>("status")).height;
        await page.waitForFunction(
          `[...document.querySelectorAll("main tr")].some((r) => r.querySelector('a[href="/tx/${second}"]') && r.querySelector('a[href="/block/${height}"]'))`,
          { timeout: 15_000 },
        );
        assert.ok(await marked(page), "the page was not reloaded");
      });

      await t.step("a block page: its next block and its confirmations appear", async () => {
        const tip = await a.rpc<NodeStatus>("status");
        await page.goto(`${origin}/block/${tip.height}`);
        await page.waitForSelector("body.live-on", { timeout: 10_000 });
        await mainShows(page, "none yet");
        await mark(page);
        const [hash] = (await a.rpc<{ hashes: string[] }>("mine", [1])).hashes;
        await page.waitForSelector(`main a[href="/block/${hash}"]`, { timeout: 15_000 });
        assert.ok(await marked(page), "the page was not reloaded");
      });

      guard.assertClean();
    }),
});
