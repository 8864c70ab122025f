/**
 * The explorer in one process: escaping, the bounded `/events` queues, the index following a reorg, the map
 * drawing many SuperPeers, and the HTTP API of a real node (JSON, 404s, headers, live events).
 */
import assert from "node:assert/strict";
import { escapeHtml, html, raw } from "../lib/explorer/html.ts";
import { EventStreams, sseMessage } from "../lib/explorer/events.ts";
import {
  ChainIndex,
  type ChainSource,
  INDEX_BUSY_PAUSE_MS,
  INDEX_BUSY_SHARE,
  INDEX_QUIET_MS,
  INDEX_SLICE_MS,
  indexPause,
} from "../lib/explorer/chain_index.ts";
import { layoutNetwork, renderNetworkMap } from "../lib/explorer/network_map.ts";
import type { NetworkView } from "../lib/explorer/network_view.ts";
import { hostAllowed, startExplorer } from "../lib/explorer/server.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import { txid } from "../lib/primitives/transaction.ts";
import { coinbaseOut, makeBlock, newKey, newLedger, params, spend } from "./support/ledger.ts";
import { waitFor } from "./support/wait.ts";
import { startLocalNode } from "./support/local_node.ts";

Deno.test("html: every interpolated value is escaped, text and attributes alike; html output nests as is", () => {
  const hostile = `"><script>alert('x')</script>&`;
  const out =
    html`<a title="${hostile}">${hostile}</a>${html`<b>${hostile}</b>`}${[hostile, raw("<i>")]}`.text;
  assert.equal(out.includes("<script>"), false);
  assert.equal(
    out,
    `<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>` +
      `<b>${escapeHtml(hostile)}</b>${escapeHtml(hostile)}<i>`,
  );
});

Deno.test("events: a client that never reads keeps a bounded queue, keyed messages coalesce, a stalled one is closed", async () => {
  let now = 0;
  const streams = new EventStreams({ maxQueue: 16, maxQueueBytes: 4096, stallMs: 30_000, now: () => now });
  const stream = streams.open("127.0.0.1", "json", []);
  assert.ok(stream);
  for (let i = 0; i < 10_000; i++) {
    streams.publish("json", sseMessage("block", JSON.stringify({ height: i, pad: "x".repeat(100) })));
    streams.publish("json", sseMessage("network", JSON.stringify({ n: i }), "network"));
  }
  const [q] = streams.queues();
  assert.ok(q.messages <= 16, `${q.messages} messages queued`);
  assert.ok(q.bytes <= 4096, `${q.bytes} bytes queued`);
  // What the client reads: the newest network view once, and that it lagged.
  const reader = stream.getReader();
  const text = new TextDecoder().decode((await reader.read()).value);
  assert.equal(text.match(/event: network/g)?.length, 1);
  assert.match(text, /"n":9999/);
  assert.match(text, /event: lagged\ndata: \{"dropped":\d+\}/);
  // Then it stops reading while messages wait: after stallMs it is closed.
  streams.publish("json", sseMessage("block", "{}"));
  await new Promise((r) => setTimeout(r, 0));
  now += 31_000;
  streams.sweep();
  assert.equal(streams.size, 0);
  streams.close();
});

Deno.test("events: the number of clients is bounded, in all and per remote host", () => {
  const streams = new EventStreams({ maxClients: 5, maxPerHost: 2 });
  assert.ok(streams.open("192.168.1.9", "html", []));
  assert.ok(streams.open("192.168.1.9", "html", []));
  assert.equal(streams.open("192.168.1.9", "html", []), undefined, "a third from one LAN host");
  assert.ok(streams.open("127.0.0.1", "html", []));
  assert.ok(streams.open("127.0.0.1", "json", []));
  assert.ok(streams.open("127.0.0.1", "json", []));
  assert.equal(streams.open("127.0.0.1", "json", []), undefined, "past the total");
  streams.close();
});

Deno.test("index: a reorg takes the old branch's transactions, spends and totals back out", async () => {
  const { chain, mempool } = newLedger();
  const [miner, payee, other] = await Promise.all([newKey(), newKey(), newKey()]);
  const index = ChainIndex.open(":memory:", chain);
  const blocks = [];
  for (let i = 0; i < 11; i++) {
    const b = makeBlock(chain, mempool, miner.pkh);
    await chain.processBlock(b);
    blocks.push(b);
  }
  const fork = chain.height;
  // Branch A: one block paying `payee` from the first coinbase.
  const pay = await spend(miner, [coinbaseOut(blocks[0])], [{ amount: 10e8, pubKeyHash: payee.pkh }]);
  await mempool.accept(pay);
  const a1 = makeBlock(chain, mempool, miner.pkh);
  await mempool.chainUpdated((await chain.processBlock(a1)).update);
  await index.sync();
  assert.ok(index.synced);
  assert.equal(index.tx(txid(pay))?.height, fork + 1);
  assert.equal(index.output(txid(blocks[0].txs[0]), 0)?.spentBy, txid(pay));
  assert.equal(index.totals(payee.pkh).received, 10e8);
  const minerBefore = index.totals(miner.pkh);
  assert.equal(minerBefore.sent, 50e8);

  // Branch B from the fork, two blocks long, without the payment: it wins.
  const side = newLedger();
  for (const b of blocks) await side.chain.processBlock(b);
  const b1 = makeBlock(side.chain, undefined, other.pkh),
    b2 = (await side.chain.processBlock(b1), makeBlock(side.chain, undefined, other.pkh));
  await chain.processBlock(b1);
  const r = await chain.processBlock(b2);
  assert.equal(r.update.disconnected.length, 1, "the payment's block left the active chain");
  await index.sync();
  assert.ok(index.synced);
  assert.equal(index.height, fork + 2);
  assert.equal(index.tx(txid(pay)), undefined, "the payment is no longer confirmed");
  assert.equal(index.output(txid(blocks[0].txs[0]), 0)?.spentBy, null, "its input is unspent again");
  assert.deepEqual(index.totals(payee.pkh), { received: 0, sent: 0, txCount: 0 });
  assert.deepEqual(index.totals(miner.pkh), { received: 11 * 50e8, sent: 0, txCount: 11 });
  assert.equal(index.totals(other.pkh).received, 2 * 50e8);
  assert.equal(index.history(other.pkh).length, 2);
  index.close();
});

Deno.test("index: takes each block's txids as the chain computed them, without hashing its transactions again", async () => {
  const { chain, mempool } = newLedger();
  const miner = await newKey();
  const blocks = [];
  for (let i = 0; i < 3; i++) {
    const b = makeBlock(chain, mempool, miner.pkh);
    await chain.processBlock(b);
    blocks.push(b);
  }
  // The chain's ids, marked: an index that hashed the transactions itself would not find them under these.
  const asked: number[] = [];
  const source: ChainSource = {
    get height() {
      return chain.height;
    },
    entryAt: (h) => chain.entryAt(h),
    getBlock: (hash) => chain.getBlock(hash),
    txidsOf: (block) => {
      asked.push(block.txs.length);
      return chain.txidsOf(block).map((id) => `${id.slice(0, -4)}beef`);
    },
  };
  const index = ChainIndex.open(":memory:", source);
  await index.sync();
  assert.equal(asked.length, chain.height + 1, "asked once per block indexed, genesis too");
  for (const b of blocks) {
    const id = txid(b.txs[0]);
    assert.equal(
      index.tx(`${id.slice(0, -4)}beef`)?.height,
      blocks.indexOf(b) + 1,
      "found under the chain's id",
    );
    assert.equal(index.tx(id), undefined, "not hashed again");
  }
  index.close();
});

Deno.test("index: waits between slices as told, and only while blocks keep coming (a sync goes first)", async () => {
  // The pace: a burst of blocks (less than INDEX_QUIET_MS apart) slows the index; a quiet spell does not.
  assert.equal(indexPause(50_000, 50_000 - INDEX_QUIET_MS + 1), INDEX_BUSY_PAUSE_MS);
  assert.equal(indexPause(50_000, 50_000 - INDEX_QUIET_MS), 0);
  assert.equal(indexPause(50_000, -Infinity), 0, "no block yet: the start-up catch-up goes at full speed");
  assert.ok(INDEX_BUSY_PAUSE_MS > 0);
  // Kept at its share whatever a slice took: a slice of 40 ms waits 19 times that; a short one the floor.
  assert.equal(indexPause(50_000, 49_999, 40), Math.ceil(40 * (1 / INDEX_BUSY_SHARE - 1)));
  assert.equal(indexPause(50_000, 49_999, 40 * INDEX_BUSY_SHARE), INDEX_BUSY_PAUSE_MS);
  assert.equal(indexPause(50_000, 40_000, 40), 0, "quiet: no pause however long the slice");

  const { chain, mempool } = newLedger();
  const miner = await newKey();
  for (let i = 0; i < 8; i++) await chain.processBlock(makeBlock(chain, mempool, miner.pkh));
  // Each block read costs 3 ms, so a slice (INDEX_SLICE_MS) indexes a few and the catch-up takes several.
  const slow: ChainSource = {
    get height() {
      return chain.height;
    },
    entryAt: (h) => chain.entryAt(h),
    getBlock: (hash) => {
      const end = performance.now() + 3;
      while (performance.now() < end) { /* a slow read */ }
      return chain.getBlock(hash);
    },
  };
  const index = ChainIndex.open(":memory:", slow);
  const asked: number[] = [];
  const t0 = performance.now();
  const slices: number[] = [];
  await index.sync((sliceMs) => {
    asked.push(performance.now());
    slices.push(sliceMs);
    return 30;
  });
  // Each slice ran past INDEX_SLICE_MS (a block read costs 3 ms) and said how long it took.
  assert.ok(slices.every((ms) => ms > INDEX_SLICE_MS), `slices of ${slices.map(Math.round).join(", ")} ms`);
  assert.ok(index.synced);
  assert.equal(index.height, 8);
  assert.ok(asked.length >= 2, `the catch-up paused between its slices (${asked.length} pauses)`);
  assert.ok(performance.now() - t0 >= 30 * asked.length, "each pause was waited out");
  index.close();
});

Deno.test("live: a new block is indexed a moment later, not in the block's own turns (its relay goes first)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-explorer-" });
  const node = await startLocalNode(dir);
  const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0 });
  try {
    await waitFor(() => explorer.data.index.synced, 10_000, "the start-up catch-up");
    const before = explorer.data.index.height;
    await node.miner.mineBlocks(1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(explorer.data.index.height, before, "not indexed 20 ms after the block");
    await waitFor(() => explorer.data.index.synced, 10_000, "the index to catch up");
    assert.equal(explorer.data.index.height, before + 1);
  } finally {
    await explorer.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("map: many SuperPeers on a ring, their Peers around them, this Peer linked to two, a lost one crossed out", () => {
  const sp = (i: number) => ({ nodeId: `sp${i}`, listen: `10.200.0.${i}:8765`, peers: 4 });
  const view: NetworkView = {
    self: { nodeId: "me", listen: "10.200.1.1:8765", role: "peer" },
    superpeers: [1, 2, 3, 4, 5].map(sp),
    links: [
      { nodeId: "sp2", listen: "10.200.0.2:8765", role: "superpeer", inbound: false, primary: true },
      { nodeId: "sp3", listen: "10.200.0.3:8765", role: "superpeer", inbound: false, primary: false },
    ],
    networkSize: 25,
  };
  const lost = [{ nodeId: "sp9", listen: "10.200.0.9:8765", role: "superpeer" as const, since: 0 }];
  const layout = layoutNetwork(view, lost);
  const sps = layout.nodes.filter((n) => n.role === "superpeer");
  assert.equal(sps.length, 6, "five SuperPeers and the lost one");
  assert.equal(layout.nodes.filter((n) => n.role === "peer").length, 5 * 4, "each SuperPeer's four Peers");
  const me = layout.nodes.filter((n) => n.self);
  assert.equal(me.length, 1);
  const own = layout.edges.filter((e) => e.kind === "own");
  assert.deepEqual(own.map((e) => [e.a.nodeId, e.b.nodeId].sort().join("-")).sort(), ["me-sp2", "me-sp3"]);
  assert.equal(
    layout.edges.filter((e) => e.kind === "overlay").length,
    10,
    "the five live SuperPeers pairwise",
  );
  const svg = renderNetworkMap(view, lost).text;
  assert.match(svg, /class="node sp lost"/);
  assert.match(svg, /this node · 10\.200\.1\.1:8765/);
  for (let i = 1; i <= 5; i++) assert.ok(svg.includes(`10.200.0.${i}:8765`));
});

Deno.test("server: Host names from the internet are refused, addresses and LAN names served", () => {
  for (const ok of ["127.0.0.1:8", "[::1]:8", "localhost:1", "mypc:1", "mypc.local", "10.0.0.2"]) {
    assert.ok(hostAllowed(ok), ok);
  }
  for (const bad of [null, "evil.example.com", "attacker.com:18766", "127.0.0.1.nip.io"]) {
    assert.equal(hostAllowed(bad), false, String(bad));
  }
});

Deno.test("server: JSON API, pages, 404s with clear messages, headers and live events of a real node", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-explorer-" });
  const node = await startLocalNode(dir);
  const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0 });
  const base = explorer.url.slice(0, -1);
  const get = async (path: string, init?: RequestInit) => {
    const res = await fetch(base + path, { redirect: "manual", ...init });
    return { res, body: await res.text() };
  };
  const api = async <T = Record<string, unknown>>(path: string): Promise<T> => {
    const { res, body } = await get(path);
    assert.equal(res.status, 200, `${path}: ${body}`);
    assert.match(res.headers.get("content-type")!, /^application\/json/);
    return JSON.parse(body);
  };
  const events = new AbortController();
  try {
    // A JSON client of /events from the start.
    const seen: string[] = [];
    const sse = await fetch(`${base}/events`, { signal: events.signal });
    assert.equal(sse.headers.get("content-type"), "text/event-stream; charset=utf-8");
    (async () => {
      const dec = new TextDecoder();
      for await (const chunk of sse.body!) seen.push(dec.decode(chunk));
    })().catch(() => {});

    await node.miner.mineBlocks(12);
    const payee = encodeAddress("ab".repeat(20), params.addressPrefix);
    const { txid: paid } = await node.send(payee, 2e8);
    await waitFor(() => explorer.data.index.synced, 10_000, "the index to catch up");

    await t.step("status, blocks, block by height and hash, mempool, network", async () => {
      const s = await api("/api/status");
      assert.equal(s.height, 12);
      assert.equal(s.tip, node.chain.tip.hash);
      assert.equal("balance" in s || "address" in s, false, "nothing of the wallet");
      const { blocks } = await api<{ blocks: { height: number; miner: string }[] }>("/api/blocks?limit=3");
      assert.deepEqual(blocks.map((b) => b.height), [12, 11, 10]);
      assert.equal(blocks[0].miner, node.wallet.address);
      const byHeight = await api("/api/block/5");
      const byHash = await api(`/api/block/${byHeight.hash}`);
      assert.deepEqual(byHash, byHeight);
      assert.equal(byHeight.confirmations, 8);
      const m = await api<{ count: number; newest: { txid: string }[] }>("/api/mempool");
      assert.equal(m.count, 1);
      assert.equal(m.newest[0].txid, paid);
      const n = await api<{ view: NetworkView }>("/api/network");
      assert.equal(n.view.self.role, "superpeer");
      assert.equal(n.view.self.listen, node.net.listen);
    });

    await t.step(
      "a payment: pending, then confirmed with its fee, in both addresses' histories",
      async () => {
        const pending = await api("/api/tx/" + paid);
        assert.equal(pending.status, "pending");
        // Amounts in the API are exact decimal coin strings.
        assert.match(String(pending.fee), /^0\.\d*[1-9]$/);
        const before = await api("/api/address/" + payee);
        assert.equal(before.pending, "2");
        assert.equal(before.balance, "0");
        await node.miner.mineBlocks(1);
        await waitFor(() => explorer.data.index.synced && explorer.data.index.height === 13, 10_000, "index");
        const confirmed = await api("/api/tx/" + paid);
        assert.equal(confirmed.status, "confirmed");
        assert.equal(confirmed.confirmations, 1);
        assert.equal(confirmed.fee, pending.fee);
        const after = await api<{ balance: string; history: { txid: string }[] }>("/api/address/" + payee);
        assert.equal(after.balance, "2");
        assert.deepEqual(after.history.map((h) => h.txid), [paid]);
        const mine = await api<{ history: { txid: string; sent: string }[] }>(
          "/api/address/" + node.wallet.address,
        );
        assert.ok(mine.history.some((h) => h.txid === paid && h.sent !== "0"));
      },
    );

    await t.step("search leads to the right page", async () => {
      const cases: [string, string][] = [
        ["7", "/block/7"],
        [node.chain.entryAt(3)!.hash, `/block/${node.chain.entryAt(3)!.hash}`],
        [paid.toUpperCase(), `/tx/${paid}`],
        [payee, `/address/${payee}`],
      ];
      for (const [q, path] of cases) {
        const { res } = await get(`/search?q=${encodeURIComponent(q)}`);
        assert.equal(res.status, 303, q);
        assert.equal(res.headers.get("location"), path);
        assert.deepEqual(await api(`/api/search?q=${encodeURIComponent(q)}`), { path });
      }
    });

    await t.step("unknown and malformed: 404 with a clear message, the visitor's text escaped", async () => {
      const cases: [string, RegExp][] = [
        ["/block/999", /no block 999/],
        ["/block/" + "0".repeat(64), /no block 0{64}/],
        [
          "/block/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
          /&lt;script&gt;alert\(1\)&lt;\/script&gt;.* is neither a block height nor a block hash/,
        ],
        ["/tx/" + "f".repeat(64), /no transaction f{64}/],
        ["/tx/nothex", /is not a transaction id/],
        [
          "/address/pcrt1qqqq%22%3E%3Cimg%20src=x%3E",
          /&quot;&gt;&lt;img src=x&gt;.* is not a regtest address/,
        ],
        [
          "/address/" + encodeAddress("ab".repeat(20), "pc"),
          /is not a regtest address: this address is for another network/,
        ],
        ["/search?q=%3Cb%3Ezzz", /nothing matches &quot;&lt;b&gt;zzz&quot;/],
        ["/no/such/page", /no page \/no\/such\/page/],
        ["/block/5?page=x", /page must be a whole number/],
        ["/%E0%A4%A", /malformed path/],
      ];
      for (const [path, message] of cases) {
        const { res, body } = await get(path);
        assert.equal(res.status, 404, path);
        assert.match(body, message, path);
        assert.equal(/<script>|<img src=x>|<b>zzz/.test(body), false, `${path} reflects markup`);
      }
      const { res, body } = await get("/api/tx/nothex");
      assert.equal(res.status, 404);
      assert.match(JSON.parse(body).error, /not a transaction id/);
    });

    await t.step("every response carries the CSP; read-only; foreign Host refused", async () => {
      for (const path of ["/", "/block/1", "/api/status", "/assets/app.js", "/nothing"]) {
        const { res } = await get(path);
        const csp = res.headers.get("content-security-policy")!;
        assert.match(csp, /default-src 'none'/, path);
        assert.match(csp, /script-src 'self'(;|$)/, path);
        assert.equal(/unsafe-inline|unsafe-eval/.test(csp), false);
        assert.equal(res.headers.get("set-cookie"), null);
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      }
      assert.equal((await get("/api/status", { method: "POST", body: "{}" })).res.status, 405);
      // fetch sets Host itself: a DNS-rebinding page's request, written by hand.
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: explorer.port });
      await conn.write(
        new TextEncoder().encode("GET / HTTP/1.1\r\nHost: rebind.example.com\r\nConnection: close\r\n\r\n"),
      );
      const reply = await new Response(conn.readable).text();
      assert.match(reply, /^HTTP\/1\.1 421 /);
      const page = (await get("/")).body;
      assert.equal(/<script(?![^>]*\bsrc=)[^>]*>/.test(page), false, "no inline script");
      assert.equal(/\sstyle=|<style/.test(page), false, "no inline style");
      assert.equal(/(src|href)="(https?:)?\/\//.test(page), false, "nothing from elsewhere");
    });

    await t.step("/events told the API client of each block and of the payment", async () => {
      await waitFor(() => seen.join("").includes(`"height":13`), 10_000, "block 13 on /events");
      const all = seen.join("");
      for (let h = 1; h <= 13; h++) {
        assert.match(all, new RegExp(`event: block\\ndata: \\{[^\\n]*"height":${h},`));
      }
      assert.match(all, new RegExp(`event: tx\\ndata: \\{"txid":"${paid}"\\}`));
    });
  } finally {
    events.abort();
    await explorer.close();
    await node.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile: the binary carries the explorer's assets, which the server reads at run time", async () => {
  const script = await Deno.readTextFile(new URL("../scripts/compile.sh", import.meta.url));
  assert.match(script, /--include lib\/explorer\/assets(\s|\))/);
  const server = await Deno.readTextFile(new URL("../lib/explorer/server.ts", import.meta.url));
  for (const [, name] of server.matchAll(/"((?:vendor\/)?[\w.]+\.(?:css|js|svg))"/g)) {
    await Deno.stat(new URL(`../lib/explorer/assets/${name}`, import.meta.url)); // throws when missing
  }
});
