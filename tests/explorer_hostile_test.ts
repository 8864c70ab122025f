/**
 * A hostile string in every field that reaches an explorer page, from a table: this node's id and listen
 * address, each SuperPeer's in the directory, each link's of every kind (a Peer we serve, our SuperPeers, mesh
 * links), and what a person types or links to (search input, block, transaction and address paths, any path).
 * Each field carries its own marker; every page and the dashboard's event stream must show it escaped, never
 * as markup. What a node says of itself is a claim from the network: here it is injected into the node's
 * view of the network, so the rendering path is the real one.
 */
import assert from "node:assert/strict";
import { escapeHtml } from "../lib/explorer/html.ts";
import { startExplorer } from "../lib/explorer/server.ts";
import type { LinkInfo } from "../lib/net/network.ts";
import type { SuperPeerEntry } from "../lib/net/messages.ts";
import { withLocalNode } from "./support/local_node.ts";

/** A marker that is markup if not escaped: `<i>F3"'&`, with a field number. */
const hostile = (n: number) => `<i>F${n}"'&`;
/** Its raw form's start, which must never appear, and its escaped form's start, which must. */
const rawOf = (n: number) => `<i>F${n}"`;
const escapedOf = (n: number) => escapeHtml(`<i>F${n}"`);

interface NetField {
  field: string;
  n: number;
}

/** The network fields, each with its own marker. */
const NET_FIELDS: NetField[] = [
  "self nodeId",
  "self listen",
  "directory SuperPeer nodeId",
  "directory SuperPeer listen",
  "link member (a Peer we serve) nodeId",
  "link member (a Peer we serve) listen",
  "link superpeer (ours, primary) nodeId",
  "link superpeer (ours, primary) listen",
  "link mesh nodeId",
  "link mesh listen",
].map((field, i) => ({ field, n: i + 1 }));

const marker = (field: string) => hostile(NET_FIELDS.find((f) => f.field === field)!.n);

/** What a person types or follows: paths and the search box, each with its own marker. */
const INPUT_FIELDS = [
  { field: "search input", path: (s: string) => `/search?q=${encodeURIComponent(s)}`, n: 21 },
  { field: "block path", path: (s: string) => `/block/${encodeURIComponent(s)}`, n: 22 },
  { field: "transaction path", path: (s: string) => `/tx/${encodeURIComponent(s)}`, n: 23 },
  { field: "address path", path: (s: string) => `/address/${encodeURIComponent(s)}`, n: 24 },
  { field: "any path", path: (s: string) => `/${encodeURIComponent(s)}`, n: 25 },
  { field: "blocks before", path: (s: string) => `/blocks?before=${encodeURIComponent(s)}`, n: 26 },
  { field: "block page number", path: (s: string) => `/block/1?page=${encodeURIComponent(s)}`, n: 27 },
];

function assertEscaped(body: string, where: string): void {
  for (let n = 1; n <= 30; n++) assert.ok(!body.includes(rawOf(n)), `${where}: marker F${n} is raw markup`);
  assert.ok(
    !/<script(?! (defer )?src="\/assets\/)|onerror=/i.test(body),
    `${where}: markup that no template writes`,
  );
}

Deno.test("explorer: a hostile string in every field that reaches a page is escaped, on each page and in the event stream", async () => {
  await withLocalNode(async (node) => {
    await node.miner.mineBlocks(2);
    const net = node.net as unknown as Record<string, unknown>;
    const dir: SuperPeerEntry[] = [
      { ...node.net.directory()[0], nodeId: marker("self nodeId"), listen: marker("self listen") },
      {
        ...node.net.directory()[0],
        nodeId: marker("directory SuperPeer nodeId"),
        listen: marker("directory SuperPeer listen"),
        peers: 3,
      },
      {
        ...node.net.directory()[0],
        nodeId: marker("link mesh nodeId"),
        listen: marker("link mesh listen"),
        peers: 1,
      },
    ];
    const link = (kind: LinkInfo["kind"], id: string, listen: string, primary: boolean): LinkInfo => ({
      kind,
      nodeId: id,
      listen,
      primary,
      inbound: kind === "member",
      protocol: 3,
    });
    const links: LinkInfo[] = [
      link(
        "member",
        marker("link member (a Peer we serve) nodeId"),
        marker("link member (a Peer we serve) listen"),
        true,
      ),
      link(
        "superpeer",
        marker("link superpeer (ours, primary) nodeId"),
        marker("link superpeer (ours, primary) listen"),
        true,
      ),
      link("mesh", marker("link mesh nodeId"), marker("link mesh listen"), false),
    ];
    Object.defineProperty(net, "nodeId", { value: marker("self nodeId"), configurable: true });
    Object.defineProperty(net, "listen", { get: () => marker("self listen"), configurable: true });
    Object.defineProperty(net, "directory", { value: () => dir, configurable: true });
    Object.defineProperty(net, "linkInfo", { value: () => links, configurable: true });

    const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0 });
    const base = explorer.url.slice(0, -1);
    const get = async (path: string) => {
      const res = await fetch(base + path, { redirect: "manual" });
      const body = await res.text();
      return { status: res.status, type: res.headers.get("content-type") ?? "", body };
    };
    const sse = new AbortController();
    try {
      // Every page: none shows a marker raw.
      const shown = new Map<string, string>();
      for (const path of ["/", "/blocks", "/block/1", "/block/2", `/address/${node.wallet.address}`]) {
        const r = await get(path);
        assert.equal(r.status, 200, path);
        assertEscaped(r.body, path);
        shown.set(path, r.body);
      }
      // The dashboard's event stream: every live section at once on connect, rendered by the same templates.
      const res = await fetch(`${base}/events?html=1`, { signal: sse.signal });
      const reader = res.body!.getReader();
      let stream = "";
      const dec = new TextDecoder();
      while (!/event: charts/.test(stream)) {
        const { value, done } = await reader.read();
        if (done) break;
        stream += dec.decode(value, { stream: true });
      }
      assertEscaped(stream, "/events?html=1");
      // Each network field reached the dashboard (or its stream), escaped: the check above was not empty.
      const dashboard = shown.get("/")! + stream;
      const missing = NET_FIELDS.filter((f) => !dashboard.includes(escapedOf(f.n))).map((f) => f.field);
      assert.deepEqual(missing, [], "network fields that never reached the dashboard");
      // What a person types or follows: the answer (a page, a 404 page, a redirect) shows it escaped.
      for (const f of INPUT_FIELDS) {
        const r = await get(f.path(hostile(f.n)));
        assert.ok([200, 303, 404].includes(r.status), `${f.field}: ${r.status}`);
        assertEscaped(r.body, f.field);
        if (/html/.test(r.type) && r.status === 404) {
          // Named escaped, or (an unknown path) as the URL carried it, percent-encoded.
          const named = r.body.includes(escapedOf(f.n)) || r.body.includes(encodeURIComponent(rawOf(f.n)));
          assert.ok(named, `${f.field}: the 404 page names what was asked`);
        }
        // The API answers JSON (a browser told nosniff never reads it as a page), the text as it came.
        const api = await get(`/api${f.path(hostile(f.n))}`);
        assert.match(api.type, /^application\/json/, `${f.field}: the API answers JSON`);
      }
    } finally {
      sse.abort();
      await explorer.close();
    }
  });
});
