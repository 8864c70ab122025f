/**
 * The packages only the tests use, pinned here and imported by full `npm:` specifier, so that they are not in
 * deno.json's `imports`: what is there goes into the runtime graph and the compiled binary (puppeteer-core
 * alone brought chromium-bidi and devtools-protocol, 18 MB). tests/release_test.ts checks that the runtime
 * graph (`deno info --json cli.ts`) holds none of them.
 * @module
 */
export { default as fc } from "npm:fast-check@4.3.0";
export { parseDocument } from "npm:yaml@2.9.1";
export { default as puppeteer } from "npm:puppeteer-core@25.16.0";
export type { Browser, HTTPRequest, Page } from "npm:puppeteer-core@25.16.0";

/** The npm packages above, by name: none of them may be in the runtime graph. */
export const TEST_PACKAGES = ["fast-check", "yaml", "puppeteer-core"] as const;
