/**
 * A real browser for page tests: Debian's chromium driven by puppeteer-core. Tests skip (with one line) where
 * chromium is not installed; `.ci/run` installs it.
 */
import { type Browser, puppeteer } from "./test_deps.ts";

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
