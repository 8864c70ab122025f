/**
 * Pages a person reads, in a real browser at 1280 and 390 px wide: no page scrolls sideways; tables stack on a
 * phone; copy buttons copy the full hash or address, with navigator.clipboard and without it (plain http on a
 * LAN); times are local with "ago"; amounts carry their unit; numeric headers sit over their numbers; the
 * overlay's words (no "hub"); a lone node's network panel is small and says so; no request leaves the node's
 * origin and the CSP is the one the README states.
 */
import assert from "node:assert/strict";
import type { Page } from "./support/test_deps.ts";
import type { NodeStatus } from "../lib/node.ts";
import { Cluster, freePort } from "./support/cluster.ts";
import { haveChromium, OriginGuard, paidPair, withBrowser } from "./support/browser.ts";

const hasChromium = haveChromium();

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const WIDTHS = [1280, 390];

/** Evaluates `expr` in the page (a string: this file has no DOM types). */
const inPage = (page: Page, expr: string) => page.evaluate(expr) as Promise<unknown>;

/** Page width beyond the viewport, in px (0: no sideways scroll). */
const overflow = (page: Page) =>
  page.evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`) as Promise<
    number
  >;

Deno.test({
  name: "browser: readable pages at 1280 and 390 px, copy buttons, units, local times, a lone node",
  ignore: !hasChromium,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: (t) =>
    withBrowser(async (browser, cluster) => {
      const lone = await Cluster.create();
      try {
        const pc = freePort();
        const { a, origin, bAddress, txid } = await paidPair(cluster);
        await a.rpc("mine", [1]);
        const tip = await a.rpc<NodeStatus>("status");
        const guard = new OriginGuard(origin);
        const page = await guard.page(browser);
        const paths = [
          "/",
          "/blocks",
          `/block/${tip.height}`,
          `/block/${tip.tip}`,
          `/tx/${txid}`,
          `/address/${bAddress}`,
          "/block/nothing-here",
          "/api",
        ];

        await t.step(
          "no page scrolls sideways at 1280 or 390 px; the CSP is unchanged; no 'hub'",
          async () => {
            for (const width of WIDTHS) {
              await page.setViewport({ width, height: 900 });
              for (const path of paths) {
                const res = await page.goto(`${origin}${path}`, { waitUntil: "load" });
                assert.equal(res?.headers()["content-security-policy"], CSP, path);
                if (path === "/") await page.waitForSelector("#charts .uplot", { timeout: 10_000 });
                if (await overflow(page) > 0) {
                  const wide = await inPage(
                    page,
                    `[document.documentElement.scrollWidth, ...[...document.querySelectorAll("body *")].filter((e) =>
                  e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 ||
                  e.scrollWidth > document.documentElement.clientWidth)
                  .slice(0, 8).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right) + "/" + e.scrollWidth)]`,
                  );
                  assert.fail(`${path} at ${width} px scrolls sideways: ${JSON.stringify(wide)}`);
                }
                const text = await page.$eval("body", (el) => el.textContent ?? "");
                assert.doesNotMatch(text, /\bhubs?\b/i, `${path} says hub`);
              }
            }
          },
        );

        await t.step("at 390 px tables are stacked rows, each cell labelled", async () => {
          await page.setViewport({ width: 390, height: 900 });
          await page.goto(`${origin}/block/${tip.height}`);
          const style = (sel: string, prop: string, pseudo = "") =>
            inPage(
              page,
              `getComputedStyle(document.querySelector(${JSON.stringify(sel)}), "${pseudo}").${prop}`,
            );
          assert.equal(await style("main table.txs tbody tr", "display"), "block");
          assert.equal(await style("main table.txs thead", "display"), "none");
          assert.equal(await style("main table.txs td.num", "content", "::before"), '"inputs"');
        });

        await t.step(
          "a transaction page: the unit, local time with 'ago', numbers under their headers",
          async () => {
            await page.setViewport({ width: 1280, height: 900 });
            await page.goto(`${origin}/tx/${txid}`);
            const main = await inPage(page, `document.querySelector("main").textContent`) as string;
            assert.match(main, /\bvalue\s*[\d.]+ coins\b/);
            assert.match(main, /\bfee\s*[\d.]+ coins?\b/);
            const time = await inPage(page, `document.querySelector("time.local").textContent`) as string;
            assert.doesNotMatch(time, /T\d\d:|\.000Z|UTC/, `local time, not ISO: ${time}`);
            assert.match(main, /\(\s*(just now|\d+ (s|min|h|d) ago)\s*\)/);
            const aligned = await inPage(
              page,
              `[...document.querySelectorAll("main table.io")].every((t) =>
            [...t.querySelectorAll("thead th")].every((th, i) => {
              const td = t.querySelector("tbody tr td:nth-child(" + (i + 1) + ")");
              return !td || getComputedStyle(th).textAlign === getComputedStyle(td).textAlign;
            }))`,
            );
            assert.equal(aligned, true, "every header aligned as its column");
            assert.equal(
              await inPage(
                page,
                `getComputedStyle(document.querySelector("main table.io th.num")).textAlign`,
              ),
              "right",
            );
          },
        );

        const copyChecks = async (page: Page, label: string) => {
          await page.setViewport({ width: 390, height: 900 });
          await page.goto(`${origin}/tx/${txid}`);
          // The page's subject: its button is always there.
          await page.click("dl.facts .ident.always button.copy");
          await page.waitForFunction(`window.__copied !== undefined`, { timeout: 5000 });
          assert.equal(await page.evaluate(`window.__copied`), txid, `${label}: the txid whole`);
          // An identifier cut by the phone's width shows its button, which copies it whole.
          await page.goto(`${origin}/address/${bAddress}`);
          const cut = await inPage(
            page,
            `[...document.querySelectorAll("main table .ident")].filter((i) =>
            i.firstElementChild.scrollWidth > i.firstElementChild.clientWidth).length`,
          ) as number;
          assert.ok(cut > 0, "some identifier is cut at 390 px");
          const visible = await inPage(
            page,
            `[...document.querySelectorAll("main table .ident button.copy")].filter((b) => !b.hidden).length`,
          );
          assert.equal(visible, cut, "a button on each cut identifier");
          await page.evaluate(`window.__copied = undefined`);
          await page.click(`main table a[href="/tx/${txid}"] + button.copy`);
          await page.waitForFunction(`window.__copied !== undefined`, { timeout: 5000 });
          assert.equal(await page.evaluate(`window.__copied`), txid, `${label}: a table's txid whole`);
        };

        await t.step("copy buttons copy the full value through navigator.clipboard", async () => {
          const p = await guard.page(browser);
          await p.evaluateOnNewDocument(`
          navigator.clipboard.writeText = (text) => { window.__copied = text; return Promise.resolve(); };
        `);
          await copyChecks(p, "clipboard");
          await p.close();
        });

        await t.step("and without navigator.clipboard (plain http on a LAN), by execCommand", async () => {
          const p = await guard.page(browser);
          await p.evaluateOnNewDocument(`
          Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined });
          const exec = document.execCommand.bind(document);
          document.execCommand = (command, ...rest) => {
            const el = document.activeElement;
            if (command === "copy" && el && "value" in el) {
              window.__copied = el.value.slice(el.selectionStart, el.selectionEnd);
            }
            return exec(command, ...rest);
          };
        `);
          assert.equal(await p.evaluate(`navigator.clipboard`), undefined);
          await copyChecks(p, "execCommand");
          await p.close();
        });

        await t.step("a lone node's network panel is small and says it is alone", async () => {
          const c = await lone.start("c", { args: ["--explorer", `127.0.0.1:${pc}`] });
          assert.ok(c);
          const p = await guard.page(browser, `http://127.0.0.1:${pc}`);
          await p.setViewport({ width: 1280, height: 900 });
          await p.goto(`http://127.0.0.1:${pc}/`);
          assert.match(await p.$eval("#network", (el) => el.textContent ?? ""), /This node is alone/);
          assert.equal(await p.$("#network svg.netmap"), null, "no empty map");
          assert.equal(await p.$eval("#network-card", (el) => el.classList.contains("wide")), false);
          await p.close();
          // And a node with a peer draws its map across the page.
          await page.goto(`${origin}/`);
          assert.ok(await page.$("#network svg.netmap"));
          assert.equal(await page.$eval("#network-card", (el) => el.classList.contains("wide")), true);
        });

        guard.assertClean();
      } finally {
        await lone.cleanup();
      }
    }),
});
