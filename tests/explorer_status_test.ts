/**
 * The explorer's responses, every status code it can send: each carries the security headers (CSP, nosniff,
 * frame and referrer policy), also the rare ones (303, 405, 414, 421, 500, 503). The list of codes is read from
 * lib/explorer/server.ts, so a new one without a case here fails. And strict parsers, property-tested with
 * fast-check: a height, a hash, a page number or an address is taken whole or refused, never by a prefix
 * (`/api/block/5abc` is not block 5).
 */
import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { NotFound } from "../lib/explorer/data.ts";
import { type Explorer, startExplorer } from "../lib/explorer/server.ts";
import type { Node } from "../lib/node.ts";
import { withLocalNode } from "./support/local_node.ts";

const SECURITY = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/** One raw HTTP/1.1 request over TCP (any method, any Host): the status and headers, and the body unless streamed. */
async function request(
  port: number,
  method: string,
  path: string,
  host = `127.0.0.1:${port}`,
): Promise<{ status: number; headers: Map<string, string>; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
    );
    let text = "";
    const buf = new Uint8Array(65536);
    const dec = new TextDecoder();
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
      // An event stream never ends: its headers and first event are enough.
      if (/text\/event-stream/.test(text) && /\r\n\r\n[\s\S]*\n\n/.test(text)) break;
    }
    const [head, ...rest] = text.split("\r\n\r\n");
    const [statusLine, ...lines] = head.split("\r\n");
    const headers = new Map(lines.map((l) => {
      const at = l.indexOf(":");
      return [l.slice(0, at).trim().toLowerCase(), l.slice(at + 1).trim()] as [string, string];
    }));
    return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") };
  } finally {
    conn.close();
  }
}

/** The status codes lib/explorer/server.ts can send: 200 by default, and every literal it names. */
async function codesInSource(): Promise<number[]> {
  const src = await Deno.readTextFile(new URL("../lib/explorer/server.ts", import.meta.url));
  const codes = new Set([200]);
  for (const m of src.matchAll(/\b(?:text|json)\((\d{3})\b|status: (\d{3})\b|, (\d{3})\)/g)) {
    codes.add(Number(m[1] ?? m[2] ?? m[3]));
  }
  return [...codes].sort();
}

async function withExplorer(fn: (node: Node, explorer: Explorer) => Promise<void>): Promise<void> {
  await withLocalNode(async (node) => {
    await node.miner.mineBlocks(3);
    const explorer = await startExplorer(node, {
      hostname: "127.0.0.1",
      port: 0,
      events: { maxClients: 1, maxPerHost: 1 },
    });
    try {
      await fn(node, explorer);
    } finally {
      await explorer.close();
    }
  });
}

Deno.test("explorer: every status code the server can send carries the security headers", async () => {
  await withExplorer(async (_node, explorer) => {
    const port = explorer.port;
    const seen = new Map<number, string[]>();
    const check = async (status: number, method: string, path: string, host?: string) => {
      const r = await request(port, method, path, host);
      const what = `${method} ${path.slice(0, 60)}${host ? ` (Host ${host})` : ""}`;
      assert.equal(r.status, status, `${what}: ${r.body.slice(0, 200)}`);
      for (const [name, value] of Object.entries(SECURITY)) {
        assert.equal(r.headers.get(name), value, `${what} (${status}): ${name}`);
      }
      seen.set(status, [...seen.get(status) ?? [], what]);
      return r;
    };
    // The cases that need nothing but the status and the headers, one row each: [status, method, path, Host].
    const plain: [number, string, string, string?][] = [
      // 200: a page, HEAD, the API, an asset (the event stream comes with 503 below).
      [200, "GET", "/"],
      [200, "HEAD", "/"],
      [200, "GET", "/api/status"],
      [200, "GET", "/block/1"],
      [200, "GET", "/assets/style.css"],
      [200, "GET", "/favicon.ico"],
      // 404: page, API, asset, malformed path, prefix-parsed height, bad parameter.
      [404, "GET", "/nope"],
      [404, "GET", "/api/nope"],
      [404, "GET", "/assets/nope.js"],
      [404, "GET", "/block/%E0%A4%A"],
      [404, "GET", "/api/block/5abc"],
      [404, "GET", "/blocks?before=5abc"],
      // 414: a URL over 2,048 characters.
      [414, "GET", "/" + "a".repeat(3000)],
      // 421: a Host from the internet (DNS rebinding).
      [421, "GET", "/", "evil.example.com"],
      [421, "GET", "/api/status", "node.example.org:80"],
    ];
    for (const [status, method, path, host] of plain) await check(status, method, path, host);
    // 303: the search form sends the browser to what it found.
    const found = await check(303, "GET", "/search?q=2");
    assert.equal(found.headers.get("location"), "/block/2");
    // 405: read-only.
    for (const m of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const r = await check(405, m, "/api/status");
      assert.equal(r.headers.get("allow"), "GET, HEAD");
    }
    // 503: the one event-stream slot is taken.
    const sse = await fetch(`${explorer.url}events`);
    try {
      assert.equal(sse.status, 200);
      const r = await check(503, "GET", "/events");
      assert.equal(r.headers.get("retry-after"), "10");
    } finally {
      await sse.body?.cancel();
    }
    // 500: a fault inside a handler (injected here) is answered, with the headers too.
    const data = explorer.data as unknown as { status: () => unknown };
    const status = data.status;
    data.status = () => {
      throw new Error("injected");
    };
    try {
      await check(500, "GET", "/api/status");
    } finally {
      data.status = status;
    }
    // The server's in-flight limit (503 "busy") answers only while 64 requests are handled at once; the
    // handler is synchronous, so the count never passes one and that answer cannot be provoked (a finding).
    const codes = await codesInSource();
    assert.deepEqual(codes.filter((c) => !seen.has(c)), [], "codes the server can send that no case walked");
  });
});

Deno.test("explorer: heights, hashes and page numbers are parsed whole, never by a prefix (fast-check)", async () => {
  await withExplorer(async (node, explorer) => {
    const tip = node.chain.height;
    const answer = (ref: string): number | "refused" => {
      try {
        return explorer.data.block(ref, 1).height;
      } catch (e) {
        if (e instanceof NotFound) return "refused";
        throw e;
      }
    };
    // Whatever the string, a block is answered only for a decimal height or a 64-digit hash, and it is that one.
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.nat({ max: tip }), fc.string({ minLength: 1 })).map(([h, s]) => `${h}${s}`),
          fc.tuple(fc.string({ minLength: 1 }), fc.nat({ max: tip })).map(([s, h]) => `${s}${h}`),
          fc.nat({ max: tip }).map((h) => ` ${h}`),
          fc.nat({ max: tip }).map((h) => `${h}.0`),
          fc.nat({ max: tip }).map((h) => `0x${h.toString(16)}`),
        ),
        (ref) => {
          const got = answer(ref);
          if (/^\d{1,10}$/.test(ref) && Number(ref) <= tip) return got === Number(ref);
          const e = /^[0-9a-fA-F]{64}$/.test(ref) ? node.chain.entry(ref.toLowerCase()) : undefined;
          return got === (e ? e.height : "refused");
        },
      ),
      { seed: 25, numRuns: 2000 },
    );
    // A hash with one digit more or less, or a prefix of one, is refused.
    const hash = node.chain.entryAt(2)!.hash;
    for (const ref of [hash.slice(1), hash + "0", hash.slice(0, 63) + "g", hash.slice(0, 16)]) {
      assert.equal(answer(ref), "refused", ref);
    }
    assert.equal(answer(hash.toUpperCase()), 2);
    // Through HTTP: the route and the query's numbers are just as strict.
    const base = explorer.url.slice(0, -1);
    const status = async (path: string) => {
      const res = await fetch(base + path, { redirect: "manual" });
      await res.body?.cancel();
      return res.status;
    };
    for (
      const path of ["/api/block/5abc", "/api/block/1%20", "/api/block/+1", "/api/block/1e0", "/api/block/-1"]
    ) {
      assert.equal(await status(path), 404, path);
    }
    for (const q of ["page=1x", "page=0x1", "page=", "page=-1"]) {
      assert.equal(await status(`/api/block/1?${q}`), 404, q);
    }
    for (const q of ["limit=3abc", "before=2x", "limit=0", "limit=1.5"]) {
      assert.equal(await status(`/api/blocks?${q}`), 404, q);
    }
    assert.equal(await status("/api/block/1"), 200);
    // Transaction ids: 64 hex digits exactly.
    const coinbase = node.chain.getBlock(node.chain.entryAt(1)!.hash)!;
    const { txid } = await import("../lib/primitives/transaction.ts");
    const id = txid(coinbase.txs[0]);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 70 }), async (s) => {
        const ref = id.slice(0, Math.min(63, s.length)) + s;
        if (/^[0-9a-fA-F]{64}$/.test(ref)) return true;
        return (await status(`/api/tx/${encodeURIComponent(ref)}`)) === 404;
      }),
      { seed: 25, numRuns: 100 },
    );
    assert.equal(await status(`/api/tx/${id}`), 200);
  });
});

Deno.test("explorer: an address is taken whole: any one character changed, dropped or added is refused (fast-check)", async () => {
  await withExplorer((node, explorer) => {
    const address = encodeAddress(node.wallet.pubKeyHash, node.params.addressPrefix);
    assert.equal(explorer.data.addressInfo(address, Number.MAX_SAFE_INTEGER).address, address);
    const refused = (a: string) => {
      try {
        explorer.data.addressInfo(a, Number.MAX_SAFE_INTEGER);
        return false;
      } catch (e) {
        if (e instanceof NotFound) return true;
        throw e;
      }
    };
    const chars = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    fc.assert(
      fc.property(
        fc.nat({ max: address.length - 1 }),
        fc.constantFrom(...chars),
        fc.constantFrom("replace", "drop", "add"),
        (at, c, how) => {
          const changed = how === "replace"
            ? address.slice(0, at) + c + address.slice(at + 1)
            : how === "drop"
            ? address.slice(0, at) + address.slice(at + 1)
            : address.slice(0, at) + c + address.slice(at);
          return changed === address || refused(changed);
        },
      ),
      { seed: 25, numRuns: 1000 },
    );
    // Surrounding blanks (a pasted address) are forgiven, by decodeAddress on purpose; the page names it whole.
    assert.equal(explorer.data.addressInfo(` ${address} `, Number.MAX_SAFE_INTEGER).address, address);
    return Promise.resolve();
  });
});
