/**
 * The explorer's HTTP server: the pages, `/api/...`, `/events` and `/assets/...`, all served by the node.
 * Read-only by construction: GET and HEAD only, no cookie, no wallet, no RPC; every response carries a strict
 * Content-Security-Policy (scripts and styles from this origin only, nothing inline), and requests naming a
 * host that is not an address or a LAN name are refused (a web page elsewhere cannot rebind its name to read
 * the node). Work per request is bounded: URLs and queries have a length, lists a page size, and requests in
 * flight a number; connections are bounded in number, per address and in time (`BoundedServer`).
 * @module
 */
import type { Node } from "../node.ts";
import { ChainIndex } from "./chain_index.ts";
import { apiAmounts, clip, ExplorerData, MAX_BLOCKS_PAGE, NotFound } from "./data.ts";
import { EventStreams, type SseLimits, type SseMessage, sseMessage } from "./events.ts";
import { Live, LIVE_SECTIONS } from "./live.ts";
import { METRICS_CONTENT_TYPE, NodeMetrics } from "./metrics.ts";
import type { Safe } from "./html.ts";
import { type BoundedLimits, BoundedServer, type BoundedServerStats } from "../http/bounded_server.ts";
import {
  addressPage,
  apiPage,
  type AssetUrls,
  blockPage,
  blocksPage,
  dashboardPage,
  notFoundPage,
  searchPage,
  txPage,
} from "./pages.ts";

/** Where and how to serve. */
export interface ExplorerOptions {
  /** Interface to listen on (127.0.0.1: this machine only; 0.0.0.0: the LAN). */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** The host name to print in the URL when listening on all interfaces. */
  publicHost?: string;
  /** Where the index lives (default `explorer.sqlite` in the node's data directory). */
  indexPath?: string;
  /** Limits of `/events`. */
  events?: SseLimits;
  /** Limits of the connections (tests lower the timeouts). */
  limits?: BoundedLimits;
}

/** A running explorer. */
export interface Explorer {
  /** The URL to open, e.g. `http://127.0.0.1:18766/`. */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Its data and caches (for tests and the bench). */
  data: ExplorerData;
  /** Its `/events` clients. */
  streams: EventStreams;
  /** Its connections' counts. */
  connections(): BoundedServerStats;
  /** Stops serving and closes the index. */
  close(): Promise<void>;
}

/** Requests handled at once at most; more get 503 (a page needs one, its assets three). */
const MAX_IN_FLIGHT = 64;
const MAX_URL = 2048;
/** Connections at most: the event stream's default 128 clients, and as many again for pages and the API. */
const MAX_CONNECTIONS = 256;
/** Connections from one address at most (a browser opens about 6; a LAN of viewers shares no address). */
const MAX_CONNECTIONS_PER_ADDRESS = 64;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
};

/** Where the assets are: the compiled binary carries this folder (scripts/compile.sh includes it). */
const ASSETS_DIR = new URL("./assets", import.meta.url);
/** The files under assets/, read once at start. */
const ASSET_FILES = [
  "style.css",
  "app.js",
  "favicon.svg",
  "vendor/uPlot.iife.min.js",
  "vendor/uPlot.min.css",
];

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  version: string;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const name of ASSET_FILES) {
    const body = await Deno.readFile(new URL(`${ASSETS_DIR.href}/${name}`));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    out.set(name, { body, type: TYPES[name.split(".").pop()!], version: digest.subarray(0, 8).toHex() });
  }
  return out;
}

/**
 * Serves the explorer for `node` until `close()`. Throws `Deno.errors.AddrInUse` when the port is taken.
 * @example const explorer = await startExplorer(node, { hostname: "127.0.0.1", port: 0 }); console.log(explorer.url);
 */
export async function startExplorer(node: Node, opts: ExplorerOptions): Promise<Explorer> {
  const assets = await loadAssets();
  const urls: AssetUrls = {
    css: assetUrl(assets, "style.css"),
    favicon: assetUrl(assets, "favicon.svg"),
    appJs: assetUrl(assets, "app.js"),
    uplotJs: assetUrl(assets, "vendor/uPlot.iife.min.js"),
    uplotCss: assetUrl(assets, "vendor/uPlot.min.css"),
  };
  const index = ChainIndex.open(opts.indexPath ?? `${node.dataDir}/explorer.sqlite`, node.chain);
  const data = new ExplorerData(node, index);
  const streams = new EventStreams(opts.events);
  const live = new Live(node, data, streams);
  streams.start();
  const network = node.params.name;
  let inFlight = 0;
  // Read when scraped; `server` is assigned below, before any request can come.
  const metrics = new NodeMetrics(node, { streams, connections: () => server.stats() });

  const handle = (req: Request, remote: string): Response => {
    const url = new URL(req.url);
    if (req.method !== "GET" && req.method !== "HEAD") {
      return text(405, "the explorer is read-only: GET and HEAD only\n", { allow: "GET, HEAD" });
    }
    if (req.url.length > MAX_URL) return text(414, "URL too long\n");
    if (!hostAllowed(req.headers.get("host"))) {
      return text(421, "open the explorer by its IP address or LAN name (this Host is not served)\n");
    }
    let parts: string[];
    try {
      parts = url.pathname.split("/").slice(1).map(decodeURIComponent);
    } catch {
      return notFound(false, `malformed path ${clip(url.pathname)}`);
    }
    const api = parts[0] === "api";
    if (api) parts = parts.slice(1);
    const [head, arg, extra] = parts;
    try {
      const q = url.searchParams;
      if (!api && head === "assets") return asset(assets, parts.slice(1).join("/"), q.get("v"));
      if (extra !== undefined) throw new NotFound(`no page ${clip(url.pathname)}`);
      if (!api && head === "favicon.ico") return asset(assets, "favicon.svg", null);
      if (!api && head === "events" && arg === undefined) return events(remote, q.get("html") === "1");
      if (api && head === undefined) return page(apiPage(urls, network));
      switch (head) {
        case "metrics":
          if (api || arg !== undefined) break;
          return new Response(metrics.text(), {
            headers: {
              ...SECURITY_HEADERS,
              "content-type": METRICS_CONTENT_TYPE,
              "cache-control": "no-store",
            },
          });
        case "":
          if (arg !== undefined) break;
          return api ? json(data.dashboard()) : page(dashboardPage(data, live.news, urls));
        case "dashboard":
          if (!api || arg !== undefined) break;
          return json(data.dashboard());
        case "status":
          if (!api || arg !== undefined) break;
          return json(data.status());
        case "blocks": {
          if (arg !== undefined) break;
          const before = intParam(q, "before", Number.MAX_SAFE_INTEGER);
          const limit = api ? intParam(q, "limit", MAX_BLOCKS_PAGE) : 50;
          if (limit < 1 || limit > MAX_BLOCKS_PAGE) {
            throw new NotFound(`limit is from 1 to ${MAX_BLOCKS_PAGE}`);
          }
          const blocks = data.blocks(before === Number.MAX_SAFE_INTEGER ? undefined : before, limit);
          const last = blocks.at(-1);
          const next = last && last.height > 0 ? last.height : null;
          return api ? json({ blocks, next }) : page(blocksPage(blocks, next, urls, network));
        }
        case "block": {
          if (arg === undefined) break;
          const b = data.block(arg, intParam(q, "page", 1));
          return api ? json(b) : page(blockPage(b, urls, network));
        }
        case "tx": {
          if (arg === undefined) break;
          const t = data.tx(arg);
          return api ? json(t) : page(txPage(t, urls, network));
        }
        case "address": {
          if (arg === undefined) break;
          const before = intParam(q, "before", Number.MAX_SAFE_INTEGER);
          const a = data.addressInfo(arg, before);
          return api ? json(a) : page(addressPage(a, urls, network));
        }
        case "mempool":
          if (!api || arg !== undefined) break;
          return json(data.mempool());
        case "network":
          if (!api || arg !== undefined) break;
          return json(data.network());
        case "charts":
          if (!api || arg !== undefined) break;
          return json(data.charts());
        case "search": {
          if (arg !== undefined) break;
          const found = data.search((q.get("q") ?? "").slice(0, 200));
          if ("matches" in found) {
            return api
              ? json({ path: null, matches: found.matches, more: found.more })
              : page(searchPage(q.get("q")!.trim(), found.matches, found.more, urls, network));
          }
          return api
            ? json({ path: found.path })
            : new Response(null, { status: 303, headers: { ...SECURITY_HEADERS, location: found.path } });
        }
      }
      throw new NotFound(
        `no page ${clip(url.pathname)}: try the dashboard, /block/HEIGHT, /tx/TXID or /address/ADDRESS`,
      );
    } catch (e) {
      if (e instanceof NotFound) return notFound(api, e.message);
      throw e;
    }
  };

  const notFound = (api: boolean, message: string) =>
    api
      ? json({ error: message }, 404)
      : new Response(notFoundPage(message, urls, network).text, { status: 404, headers: htmlHeaders() });

  const events = (remote: string, dashboard: boolean): Response => {
    const first: SseMessage[] = [{ bytes: new TextEncoder().encode("retry: 3000\n\n") }];
    if (dashboard) {
      // Everything at once: the page may have been rendered a moment before something changed.
      for (const id of LIVE_SECTIONS) first.push(live.sectionMessage(id));
      first.push(live.chartsMessage());
    } else first.push(sseMessage("status", JSON.stringify(data.status()), "status"));
    const stream = streams.open(remote, dashboard ? "html" : "json", first);
    if (!stream) return text(503, "too many live connections: try again later\n", { "retry-after": "10" });
    return new Response(stream, {
      headers: {
        ...SECURITY_HEADERS,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
      },
    });
  };

  let server: BoundedServer;
  try {
    server = new BoundedServer({
      name: "explorer",
      hostname: opts.hostname,
      port: opts.port,
      // Room for every event-stream client and as many page and API clients again.
      maxConnections: MAX_CONNECTIONS,
      maxPerAddress: MAX_CONNECTIONS_PER_ADDRESS,
      ...opts.limits,
      headers: SECURITY_HEADERS,
      handler: (req, remote) => {
        if (inFlight >= MAX_IN_FLIGHT) return text(503, "busy: try again\n", { "retry-after": "1" });
        inFlight++;
        try {
          return handle(req, remote);
        } finally {
          inFlight--;
        }
      },
    });
  } catch (e) {
    live.close();
    streams.close();
    index.close();
    throw e;
  }
  const port = server.port;
  const shown = opts.hostname === "0.0.0.0" || opts.hostname === "::"
    ? opts.publicHost ?? "127.0.0.1"
    : opts.hostname;
  return {
    url: `http://${shown.includes(":") ? `[${shown}]` : shown}:${port}/`,
    port,
    data,
    streams,
    connections: () => server.stats(),
    async close() {
      live.close();
      streams.close();
      await server.close();
      index.close();
    },
  };
}

function assetUrl(assets: Map<string, Asset>, name: string): string {
  return `/assets/${name}?v=${assets.get(name)!.version}`;
}

function asset(assets: Map<string, Asset>, name: string, version: string | null): Response {
  const a = assets.get(name);
  if (!a) throw new NotFound(`no file ${clip(name)}`);
  return new Response(a.body, {
    headers: {
      ...SECURITY_HEADERS,
      "content-type": a.type,
      etag: `"${a.version}"`,
      // A URL with the content's hash never changes meaning: cache it for good.
      "cache-control": version === a.version ? "public, max-age=31536000, immutable" : "no-cache",
    },
  });
}

/** A whole number from the query, `dflt` when absent; anything else is a 404 saying so. */
function intParam(q: URLSearchParams, name: string, dflt: number): number {
  const v = q.get(name);
  if (v === null) return dflt;
  if (!/^\d{1,15}$/.test(v)) throw new NotFound(`${name} must be a whole number, not "${clip(v, 20)}"`);
  return Number(v);
}

/**
 * Host headers served: IP addresses, `localhost`, and LAN names (one label, or ending in .local, .lan,
 * .internal or .home.arpa). A name on the internet is refused: that is what a DNS-rebinding page would send.
 */
export function hostAllowed(host: string | null): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  if (name.includes(":")) return true; // an IPv6 literal
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return true;
  const lower = name.toLowerCase();
  if (lower === "localhost" || /^[a-z0-9-]+$/.test(lower)) return true;
  return /\.(local|lan|internal|home\.arpa|localhost)$/.test(lower);
}

function htmlHeaders(): Record<string, string> {
  return { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
}

function page(body: Safe): Response {
  return new Response(body.text, { headers: htmlHeaders() });
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, apiAmounts), {
    status,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
    },
  });
}

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8", ...extra },
  });
}
