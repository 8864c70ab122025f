/**
 * Every page stays current in a real browser, over `/events`, without a reload: a transaction page turns from
 * pending to confirmed in its block and counts confirmations; an address page shows a new payment pending,
 * then in its history; a block page gains its next block and confirmations. No request leaves the node's
 * origin and nothing breaks the CSP.
 */
import assert from "node:assert/strict";
import type { HTTPRequest, Page } from "./support/test_deps.ts";
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, freePort, waitForOnePrimary } from "./support/cluster.ts";
import { haveChromium, launchBrowser } from "./support/browser.ts";

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
  async fn(t) {
    const cluster = await Cluster.create();
    const browser = await launchBrowser();
    try {
      const pa = freePort();
      const a = await cluster.start("a", { args: ["--explorer", `127.0.0.1:${pa}`] });
      const b = await cluster.start("b", { args: ["--no-explorer"] });
      await waitForOnePrimary([a, b], 20_000, "a and b to form a network");
      const origin = `http://127.0.0.1:${pa}`;
      await a.rpc("mine", [11]);
      const bAddress = (await b.rpc<NodeStatus>("status")).address;
      const { txid } = await a.rpc<{ txid: string }>("send", [bAddress, "1.5"]);

      const page = await browser.newPage();
      const elsewhere: string[] = [], refused: string[] = [];
      await page.setRequestInterception(true);
      page.on("request", (req: HTTPRequest) => {
        if (new URL(req.url()).origin === origin) req.continue();
        else {
          elsewhere.push(req.url());
          req.abort();
        }
      });
      page.on("console", (m) => {
        if (/Refused to|Content Security Policy/i.test(m.text())) refused.push(m.text());
      });
      page.on("pageerror", (e) => refused.push(`page error: ${e}`));

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

      assert.deepEqual(elsewhere, [], "requests that left the origin");
      assert.deepEqual(refused, [], "CSP refusals or page errors");
    } finally {
      await browser.close();
      await cluster.cleanup();
    }
  },
});
