/**
 * A real browser for page tests: Debian's chromium driven by puppeteer-core. Tests skip (with one line) where
 * chromium is not installed; `.ci/run` installs it.
 */
import assert from "node:assert/strict";
import { type Browser, type HTTPRequest, type Page, puppeteer } from "./test_deps.ts";
import type { NodeStatus } from "../../lib/node.ts";
import { Cluster, freePort, type TestNode, waitForOnePrimary } from "./cluster.ts";

/** Where Debian installs chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** True when chromium is installed; otherwise prints one line saying the browser tests are skipped. */
export function haveChromium(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    console.log(`browser tests skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);
    return false;
  }
}

/** A headless chromium that talks to nothing on its own (no updates, sync or background requests). */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--headless=new",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-extensions",
    ],
  });
}

/**
 * Watches pages for what an explorer page must never do: a request that leaves its node's origin (aborted and
 * recorded in `elsewhere`) and a CSP refusal or page error (recorded in `refused`). One guard may watch pages
 * of several origins; `assertClean` checks them all at the end of a test.
 */
export class OriginGuard {
  /** Requests that left the origin, aborted. */
  readonly elsewhere: string[] = [];
  /** CSP refusals and page errors. */
  readonly refused: string[] = [];
  readonly #origin: string;
  readonly #allowData: boolean;

  /** A guard for pages of `origin`; `allowData`: `data:` URLs (a page's own inline images) are let through. */
  constructor(origin: string, opts: { allowData?: boolean } = {}) {
    this.#origin = origin;
    this.#allowData = opts.allowData ?? false;
  }

  /** A new page of `browser`, guarded: requests may go to `origin` (default the guard's) only. */
  async page(browser: Browser, origin = this.#origin): Promise<Page> {
    const page = await browser.newPage();
    await page.setRequestInterception(true);
    page.on("request", (req: HTTPRequest) => {
      if (new URL(req.url()).origin === origin || (this.#allowData && req.url().startsWith("data:"))) {
        req.continue();
      } else {
        this.elsewhere.push(req.url());
        req.abort();
      }
    });
    page.on("console", (m) => {
      if (/Refused to|Content Security Policy/i.test(m.text())) this.refused.push(m.text());
    });
    page.on("pageerror", (e) => this.refused.push(`page error: ${e}`));
    return page;
  }

  /** Fails when any guarded page sent a request elsewhere or met a CSP refusal or page error. */
  assertClean(): void {
    assert.deepEqual(this.elsewhere, [], "requests that left the origin");
    assert.deepEqual(this.refused, [], "CSP refusals or page errors");
  }
}

/**
 * Runs `fn` with a headless chromium and a fresh cluster of node processes, and closes both afterwards, also
 * when `fn` fails.
 */
export async function withBrowser(fn: (browser: Browser, cluster: Cluster) => Promise<void>): Promise<void> {
  const cluster = await Cluster.create();
  try {
    const browser = await launchBrowser();
    try {
      await fn(browser, cluster);
    } finally {
      await browser.close();
    }
  } finally {
    await cluster.cleanup();
  }
}

/**
 * Two node processes in one network: `a` serves the explorer (at `origin`), `b` too when `bExplorer` (at
 * `bOrigin`). `a` has mined 11 blocks and paid `b` (at `bAddress`) 1.5 coins (`txid`, unconfirmed).
 */
export async function paidPair(cluster: Cluster, opts: { bExplorer?: boolean } = {}): Promise<{
  a: TestNode;
  b: TestNode;
  origin: string;
  bOrigin: string | undefined;
  bAddress: string;
  txid: string;
}> {
  const pa = freePort(), pb = opts.bExplorer ? freePort() : undefined;
  const a = await cluster.start("a", { args: ["--explorer", `127.0.0.1:${pa}`] });
  const b = await cluster.start("b", { args: pb ? ["--explorer", `127.0.0.1:${pb}`] : ["--no-explorer"] });
  await waitForOnePrimary([a, b], 20_000, "a and b to form a network");
  await a.rpc("mine", [11]);
  const bAddress = (await b.rpc<NodeStatus>("status")).address;
  const { txid } = await a.rpc<{ txid: string }>("send", [bAddress, "1.5"]);
  return {
    a,
    b,
    origin: `http://127.0.0.1:${pa}`,
    bOrigin: pb ? `http://127.0.0.1:${pb}` : undefined,
    bAddress,
    txid,
  };
}
