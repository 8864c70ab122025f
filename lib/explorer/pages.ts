/**
 * The explorer's HTML: whole pages, and the dashboard's sections on their own (what `/events` sends a live
 * dashboard). Rendered from the JSON of `data.ts` with the escaping `html` tag, readable without JavaScript;
 * no inline script or style (the CSP forbids them), charts and maps are plain SVG.
 * @module
 */
import { formatAmount } from "../consensus/amount.ts";
import { html, ident, type Safe, type Value } from "./html.ts";
import type {
  BlockSummary,
  ChartSeries,
  ExplorerData,
  ExplorerStatus,
  ForkEvent,
  MempoolSummary,
  NextBlock,
  SearchMatch,
} from "./data.ts";
import { renderNetworkMap, renderNetworkTable } from "./network_map.ts";
import { API_DOCS } from "./api_docs.ts";
import type { NetworkView } from "./network_view.ts";
import type { LostNode } from "./network_map.ts";

/** URLs of the static files, with their content hash so browsers may cache them for good. */
export interface AssetUrls {
  css: string;
  favicon: string;
  uplotCss: string;
  uplotJs: string;
  appJs: string;
}

/** A news line on the dashboard. */
export interface NewsItem {
  /** ms since the epoch. */
  at: number;
  text: string;
  /** "warn" lines (failover, reorg) are highlighted. */
  level: "info" | "warn";
}

/** The dashboard's sections, by element id. */
export type SectionId = "status" | "network" | "blocks" | "forks" | "mempool" | "charts" | "news";

/** The unit of money in human text (JSON amounts are coin strings without it). */
const UNIT = "coins";
/** An amount with its unit: "1.5 coins", "1 coin". */
const coins = (units: number) => {
  const n = formatAmount(units);
  return `${n} ${n === "1" ? "coin" : UNIT}`;
};
/** An amount alone, for a column whose header names the unit. */
const amount = (units: number) => formatAmount(units);
const short = (hash: string, n = 16) => hash.length > n ? `${hash.slice(0, n)}…` : hash;

/** A time as the reader's local time (the script rewrites the UTC text) and how long ago. */
function when(seconds: number): Safe {
  const iso = new Date(seconds * 1000).toISOString();
  return html`<time class="local" datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time> (${
    age(seconds)
  })`;
}

/** A table column: its header, and whether it holds numbers (right-aligned, header too) or identifiers. */
interface Col {
  label: string;
  kind?: "num" | "id";
}

/**
 * A table whose numbers sit under their headers; on a phone its rows stack, each cell labelled by its header
 * (`data-label`). `rowClass` and `rowHeight` mark rows for styles and scripts.
 */
function table(
  cls: string,
  cols: Col[],
  rows: { cells: Value[]; height?: number }[],
  head = true,
): Safe {
  return html`<table class="${cls} stack">${
    head
      ? html`
        <thead>
          <tr>${cols.map((c) =>
            html`<th${
              c.kind
                ? html`
                  class="${c.kind}"
                `
                : ""
            }>${c.label}</th>`
          )}</tr>
        </thead>
      `
      : ""
  }<tbody>${
    rows.map((r) =>
      html`<tr${
        r.height === undefined ? "" : html`
          data-height="${r.height}"
        `
      }>${
        r.cells.map((v, i) =>
          html`<td${
            cols[i].kind
              ? html`
                class="${cols[i].kind}"
              `
              : ""
          } data-label="${cols[i].label}">${v}</td>`
        )
      }</tr>`
    )
  }</tbody></table>`;
}

function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`;
  return `${(n / 1_000_000).toFixed(2)} MB`;
}

function rate(perSecond: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s"];
  let v = perSecond, i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(2)} ${units[i]}`;
}

/** "12 s ago" now; the page's script keeps it current from `data-t`. */
function age(seconds: number, now = Date.now() / 1000): Safe {
  return html`<time datetime="${new Date(seconds * 1000).toISOString()}" data-t="${seconds}">${
    ago(now - seconds)
  }</time>`;
}

function duration(s: number): string {
  if (Math.abs(s) < 120) return `${Math.round(s)} s`;
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`;
  if (Math.abs(s) < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function ago(s: number): string {
  if (s < 1) return "just now";
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

const blockLink = (b: { height: number; hash: string }, text: Value = b.height) =>
  html`<a href="/block/${b.hash}">${text}</a>`;
const hashLink = (kind: "block" | "tx", hash: string) => ident(hash, `/${kind}/${hash}`);
const addressLink = (a: string | null) => a ? ident(a, `/address/${a}`) : html`<span class="dim">none</span>`;

/**
 * Which `/events` make a page read itself again (its script replaces `<main>` with the fresh one): "blocks" a
 * block or a reorg (confirmations, the next block, pending turning confirmed), "blocks txs" also a new
 * transaction (an address's pending payments).
 */
export type Follow = "blocks" | "blocks txs";

/** A complete page. */
export function page(
  title: string,
  assets: AssetUrls,
  body: Safe,
  opts: { live?: boolean; network?: string; follow?: Follow } = {},
): Safe {
  return html`
    <!doctype html>
    <html lang="en">
      <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title} · peerchain explorer</title>
    <link rel="stylesheet" href="${assets.css}"><link rel="icon" href="${assets
      .favicon}" type="image/svg+xml">${opts.live
      ? html`<link rel="stylesheet" href="${assets.uplotCss}">`
      : ""}
    <script defer src="${assets.appJs}"></script>
      </head>
      <body${opts.live
        ? html`
          data-live="1" data-charts="${assets.uplotJs}"
        `
        : ""}${opts.follow
        ? html`
          data-follow="${opts.follow}"
        `
        : ""}>
        <header><a class="brand" href="/">peerchain explorer</a>${opts.network
          ? html`<span class="net">${opts.network}</span>`
          : ""}<form action="/search" method="get" role="search"><input name="q" type="search" maxlength="200" placeholder="height, hash or txid (8+ hex digits), address" aria-label="search"><button>Search</button></form></header>
        <main>${body}</main>
        <footer>read-only; served by this node · <a href="/api">JSON API</a> · <a href="/metrics">metrics</a></footer>
        </body>
        </html>
  `;
}

/** The page for anything unknown or malformed. */
export function notFoundPage(message: string, assets: AssetUrls, network?: string): Safe {
  return page(
    "not found",
    assets,
    html`
      <h1>Not found</h1>
      <p class="error">${message}</p>
      <p><a href="/">Back to the dashboard</a></p>
    `,
    {
      network,
    },
  );
}

/** The status line. */
function renderStatus(s: ExplorerStatus): Safe {
  return html`<span class="role ${s.role}">${s.role === "superpeer" ? "SuperPeer" : "Peer"}</span>
<span>listening on <b>${s.listen}</b></span>
${
    s.role === "superpeer"
      ? ""
      : html`<span>primary SuperPeer ${
        s.primary ?? html`<span class="warn">none yet (looking)</span>`
      }</span>`
  }
<span>${s.peers} link${s.peers === 1 ? "" : "s"}</span>
<span>height <b class="height">${s.height}</b></span>
<span class="tip">tip ${hashLink("block", s.tip)} ${age(s.tipTime)}</span>
<span>mempool ${s.mempool}</span>${
    s.mining ? html`<span class="mining">mining ${rate(s.hashrate)}</span>` : ""
  }${s.index.synced ? "" : html`<span class="warn">indexing ${s.index.height} / ${s.height}</span>`}`;
}

/** True when this node knows no other node and has no link: its map would be one dot. */
export function alone(view: NetworkView, lost: readonly LostNode[] = []): boolean {
  return view.links.length === 0 && lost.length === 0 &&
    view.superpeers.every((s) => s.nodeId === view.self.nodeId);
}

function renderNetwork(n: { view: NetworkView; lost: LostNode[] }): Safe {
  if (alone(n.view, n.lost)) {
    return html`<p class="alone">This node is alone: no Peer or SuperPeer is linked to it, and it knows of none.
It is a ${n.view.self.role === "superpeer" ? "SuperPeer" : "Peer"} listening on <b>${n.view.self.listen}</b>;
other nodes join it when its address is in their <code>server_tracker.txt</code> or they find it on the LAN.</p>`;
  }
  return html`${renderNetworkMap(n.view, n.lost)}<p class="dim">${n.view.networkSize} node${
    n.view.networkSize === 1 ? "" : "s"
  } known · ${n.view.superpeers.length} SuperPeer${n.view.superpeers.length === 1 ? "" : "s"}</p>${
    renderNetworkTable(n.view, n.lost)
  }`;
}

function renderBlocks(blocks: BlockSummary[]): Safe {
  return table(
    "blocks",
    [
      { label: "height", kind: "num" },
      { label: "hash", kind: "id" },
      { label: "age" },
      { label: "txs", kind: "num" },
      { label: "size", kind: "num" },
      { label: `fees (${UNIT})`, kind: "num" },
      { label: "mined by", kind: "id" },
    ],
    blocks.map((b) => ({
      height: b.height,
      cells: [
        blockLink(b),
        hashLink("block", b.hash),
        age(b.time),
        b.txCount,
        bytes(b.size),
        amount(b.fees),
        addressLink(b.miner),
      ],
    })),
  );
}

function renderForks(forks: ForkEvent[]): Safe {
  if (!forks.length) return html`<p class="dim">No side branches or reorgs since this node started.</p>`;
  return html`<ul class="forks">${
    forks.map((f) =>
      f.kind === "reorg"
        ? html`
          <li
            class="warn"><b>reorg</b> at height ${f.forkHeight}: ${f.stale.length} block${f.stale.length === 1
              ? ""
              : "s"} out (${f.stale.slice(0, 3).map((s, i) =>
                html`${i ? ", " : ""}${blockLink(s, short(s.hash, 10))}`
              )}), ${f.joined.length} in ${age(f.at / 1000)}</li>
        `
        : html`<li><b>side block</b> ${blockLink(f.stale[0], f.stale[0].height)} ${
          blockLink(f.stale[0], short(f.stale[0].hash, 10))
        } ${age(f.at / 1000)}</li>`
    )
  }</ul>`;
}

/** The fee-rate histogram: one bar per bucket, heights by count. */
function histogramSvg(m: MempoolSummary): Safe {
  const W = 320, H = 120, n = m.histogram.length, bw = W / n;
  const max = Math.max(1, ...m.histogram.map((b) => b.count));
  return html`
    <svg class="histogram" viewBox="0 0 ${W} ${H + 30}" role="img"
      aria-label="fee rates">${m.histogram.map((b, i) => {
        const h = Math.round((b.count / max) * H);
        return html`<g><title>${b.count} tx, ${bytes(b.bytes)} at ${b.min}+ per byte</title><rect x="${
          i * bw + 3
        }" y="${H - h}" width="${bw - 6}" height="${h}"/><text x="${i * bw + bw / 2}" y="${
          H + 14
        }" text-anchor="middle">${b.min}+</text>${
          b.count
            ? html`<text class="count" x="${i * bw + bw / 2}" y="${
              Math.max(10, H - h - 3)
            }" text-anchor="middle">${b.count}</text>`
            : ""
        }</g>`;
      })}<text x="${W / 2}" y="${H +
        28}" text-anchor="middle" class="dim">fee rate (base units per byte)</text></svg>
  `;
}

/** The next block as the mempool would fill it, in one line. */
function renderNextBlock(n: NextBlock): Safe {
  const suggested = html`<p class="suggested-fee">A payment now: <b>${n.suggestedFeeRate}</b> base units per
    byte suggested (what the wallet offers)</p>`;
  if (n.count === 0) {
    return html`<p class="next-block">Next block: <span class="dim">no transactions waiting</span></p>${suggested}`;
  }
  return html`
    <p
      class="next-block">Next block: <b>${n.count}</b> transaction${n.count === 1 ? "" : "s"}, ${bytes(
        n.bytes,
      )}, ${coins(n.fees)} in fees; fee rates ${n.minFeeRate} to ${n.maxFeeRate}, median <b>${n
        .medianFeeRate}</b> base units per byte</p>${suggested}
  `;
}

function renderMempool(m: MempoolSummary): Safe {
  return html`<p><b class="mempool-count">${m.count}</b> transaction${m.count === 1 ? "" : "s"} · ${
    bytes(m.bytes)
  } · fees ${coins(m.fees)}</p>${renderNextBlock(m.nextBlock)}${histogramSvg(m)}${
    m.newest.length
      ? table(
        "txs",
        [{ label: "newest", kind: "id" }, { label: `fee (${UNIT})`, kind: "num" }, {
          label: "per byte",
          kind: "num",
        }],
        m.newest.map((t) => ({ cells: [hashLink("tx", t.txid), amount(t.fee), t.feeRate] })),
      )
      : ""
  }`;
}

/** A line chart as SVG (what a browser without JavaScript shows; the script draws uPlot over it). */
function lineSvg(label: string, xs: number[], ys: (number | null)[], unit: (v: number) => string): Safe {
  const W = 300, H = 90;
  const pts = xs.map((x, i) => [x, ys[i]] as const).filter((p): p is readonly [number, number] =>
    p[1] !== null
  );
  if (pts.length < 2) {
    return html`
      <figure>
        <figcaption>${label}</figcaption>
        <p class="dim">not enough blocks yet</p>
      </figure>
    `;
  }
  const x0 = pts[0][0], x1 = pts.at(-1)![0];
  const lo = Math.min(...pts.map((p) => p[1])), hi = Math.max(...pts.map((p) => p[1]));
  const sx = (x: number) => ((x - x0) / Math.max(1, x1 - x0)) * W;
  const sy = (y: number) => H - ((y - lo) / (hi - lo || 1)) * (H - 4) - 2;
  const d = pts.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join("");
  return html`
    <figure>
      <figcaption>${label} <span class="dim">(last ${unit(pts.at(-1)![1])}; ${unit(lo)} to ${unit(
        hi,
      )})</span></figcaption>
      <svg class="spark" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img"
        aria-label="${label}">
        <path d="${d}" />
      </svg>
    </figure>
  `;
}

function renderCharts(c: ChartSeries): Safe {
  return html`<div class="chart" data-series="interval">${
    lineSvg("block interval", c.height, c.interval, duration)
  }</div>
<div class="chart" data-series="difficulty">${
    lineSvg("difficulty", c.height, c.difficulty, (v) => String(+v.toPrecision(4)))
  }</div>
<div class="chart" data-series="hashrate">${lineSvg("network hash rate", c.height, c.hashrate, rate)}</div>`;
}

function renderNews(news: readonly NewsItem[]): Safe {
  if (!news.length) return html`<p class="dim">Nothing has happened since this page's node started.</p>`;
  return html`<ul class="news">${
    [...news].reverse().map((n) => html`<li class="${n.level}">${age(n.at / 1000)} ${n.text}</li>`)
  }</ul>`;
}

/** One dashboard section's inner markup. */
export function renderSection(id: SectionId, data: ExplorerData, news: readonly NewsItem[]): Safe {
  switch (id) {
    case "status":
      return renderStatus(data.status());
    case "network":
      return renderNetwork(data.network());
    case "blocks":
      return renderBlocks(data.blocks());
    case "forks":
      return renderForks(data.forks());
    case "mempool":
      return renderMempool(data.mempool());
    case "charts":
      return renderCharts(data.charts());
    case "news":
      return renderNews(news);
  }
}

/** The dashboard. */
export function dashboardPage(data: ExplorerData, news: readonly NewsItem[], assets: AssetUrls): Safe {
  const s = (id: SectionId) => renderSection(id, data, news);
  return page(
    `height ${data.node.chain.height}`,
    assets,
    html`
      <section id="status" class="statusline" aria-live="polite">${s("status")}</section>
      <div class="grid">
        <section class="card${alone(data.network().view, data.network().lost)
          ? ""
          : " wide"}" id="network-card">
          <h2>Network</h2>
          <div id="network">${s("network")}</div>
        </section>
        <section class="card">
          <h2>Newest blocks</h2>
          <div id="blocks">${s("blocks")}</div>
          <p><a href="/blocks">older blocks</a></p>
        </section>
        <section class="card">
          <h2>Mempool</h2>
          <div id="mempool">${s("mempool")}</div>
        </section>
        <section class="card">
          <h2>Side branches and reorgs</h2>
          <div id="forks">${s("forks")}</div>
        </section>
        <section class="card">
          <h2>News</h2>
          <div id="news">${s("news")}</div>
        </section>
        <section class="card wide">
          <h2>Charts <span class="dim">(last ${data.charts().height.length} blocks)</span></h2>
          <div id="charts" class="charts">${s("charts")}</div>
        </section>
      </div>
    `,
    { live: true, network: data.node.params.name },
  );
}

/** `/blocks`: a page of the active chain. */
export function blocksPage(
  blocks: BlockSummary[],
  next: number | null,
  assets: AssetUrls,
  network: string,
): Safe {
  return page(
    "blocks",
    assets,
    html`<h1>Blocks</h1>${renderBlocks(blocks)}${
      next !== null ? html`<p><a href="/blocks?before=${next}">older</a></p>` : ""
    }`,
    { network },
  );
}

type BlockJson = ReturnType<ExplorerData["block"]>;
type TxJson = ReturnType<ExplorerData["tx"]>;
type AddressJson = ReturnType<ExplorerData["addressInfo"]>;

function dl(rows: [string, Value][]): Safe {
  return html`<dl class="facts">${
    rows.map(([k, v]) =>
      html`
        <dt>${k}</dt>
        <dd>${v}</dd>
      `
    )
  }</dl>`;
}

export function blockPage(b: BlockJson, assets: AssetUrls, network: string): Safe {
  return page(
    `block ${b.height}`,
    assets,
    html`
      <h1>Block ${b.height}</h1>
      ${b.active
        ? ""
        : html`<p class="warn">This block is not on the active chain: it is on a side branch.</p>`}
      ${dl([
        ["hash", ident(b.hash, undefined, true)],
        ["confirmations", b.active ? b.confirmations : "none (side branch)"],
        ["time", when(b.time)],
        ["transactions", b.txCount],
        ["size", bytes(b.size)],
        ["mined by", addressLink(b.miner)],
        ["reward", html`${coins(b.reward)} (subsidy ${coins(b.subsidy)})`],
        ["previous", b.height > 0 ? hashLink("block", b.prevHash) : "none (genesis)"],
        ["next", b.nextHash ? hashLink("block", b.nextHash) : "none yet"],
        ["merkle root", ident(b.merkleRoot)],
        ["bits", b.bits],
        ["difficulty", +b.difficulty.toPrecision(6)],
        ["nonce", b.nonce],
        ["version", b.version],
      ])}
      <h2>Transactions${b.pages > 1 ? ` (page ${b.page} of ${b.pages})` : ""}</h2>
      ${table(
        "txs",
        [
          { label: "txid", kind: "id" },
          { label: "inputs", kind: "num" },
          { label: "outputs", kind: "num" },
          { label: `value (${UNIT})`, kind: "num" },
          { label: "size", kind: "num" },
        ],
        b.txs.map((t) => ({
          cells: [
            html`${hashLink("tx", t.txid)}${
              t.coinbase
                ? html`
                  <span class="tag">coinbase</span>
                `
                : ""
            }`,
            t.inputs,
            t.outputs,
            amount(t.value),
            bytes(t.size),
          ],
        })),
      )}${b.pages > 1
        ? html`<p>${
          b.page > 1
            ? html`
              <a href="/block/${b.hash}?page=${b.page - 1}">previous page</a>
            `
            : ""
        }${b.page < b.pages ? html`<a href="/block/${b.hash}?page=${b.page + 1}">next page</a>` : ""}</p>`
        : ""}
    `,
    { network, follow: "blocks" },
  );
}

export function txPage(t: TxJson, assets: AssetUrls, network: string): Safe {
  return page(
    `transaction ${short(t.txid)}`,
    assets,
    html`
      <h1>Transaction</h1>
      ${dl([
        ["txid", ident(t.txid, undefined, true)],
        [
          "status",
          t.status === "pending"
            ? html`<span class="pending">pending</span> (in the mempool)`
            : html`${t.confirmations} confirmation${t.confirmations === 1 ? "" : "s"} in block ${
              blockLink(t.block!)
            }`,
        ],
        ["time", when(t.time)],
        ["value", coins(t.value)],
        [
          "fee",
          t.coinbase
            ? "none (coinbase)"
            : t.fee === null
            ? "unknown"
            : html`${coins(t.fee)} (${t.feeRate} base units per byte)`,
        ],
        ["size", bytes(t.size)],
      ])}
      <div class="io">
        <section><h2>Inputs (${t.inputCount})</h2>${t.coinbase
          ? html`<p class="dim">coinbase: new coins</p>`
          : table(
            "io",
            [{ label: "address", kind: "id" }, { label: `amount (${UNIT})`, kind: "num" }, {
              label: "spends",
              kind: "id",
            }],
            t.inputs.map((i) => ({
              cells: [
                addressLink(i.address),
                i.amount === null ? "?" : amount(i.amount),
                html`<a class="mono" href="/tx/${i.txid}">${short(i.txid, 10)}:${i.index}</a>`,
              ],
            })),
          )}</section>
        <section>
          <h2>Outputs (${t.outputCount})</h2>
          ${table(
            "io",
            [{ label: "#", kind: "num" }, { label: "address", kind: "id" }, {
              label: `amount (${UNIT})`,
              kind: "num",
            }, { label: "state" }],
            t.outputs.map((o) => ({
              cells: [
                o.index,
                addressLink(o.address),
                amount(o.amount),
                o.spentBy
                  ? html`spent by <a class="mono" href="/tx/${o.spentBy}">${short(o.spentBy, 10)}</a>`
                  : t.status === "confirmed"
                  ? "unspent"
                  : "",
              ],
            })),
          )}
        </section>
      </div>
    `,
    { network, follow: "blocks" },
  );
}

export function addressPage(a: AddressJson, assets: AssetUrls, network: string): Safe {
  return page(
    `address ${short(a.address, 20)}`,
    assets,
    html`<h1>Address</h1><p class="subject">${ident(a.address, undefined, true)}</p>
${
      dl([
        [
          "balance",
          html`<b class="balance">${coins(a.balance)}</b>${
            a.immature ? ` (${coins(a.immature)} still maturing)` : ""
          }`,
        ],
        ["pending", a.pending ? (a.pending > 0 ? "+" : "−") + coins(Math.abs(a.pending)) : "none"],
        ["received", coins(a.received)],
        ["sent", coins(a.sent)],
        ["transactions", a.txCount],
      ])
    }${
      a.index.synced
        ? ""
        : html`<p class="warn">The index has reached block ${a.index.height}; newer blocks are not counted yet.</p>`
    }
${
      a.pendingTxs.length
        ? html`<h2>Pending</h2>${
          table(
            "txs",
            [{ label: "transaction", kind: "id" }, { label: `received (${UNIT})`, kind: "num" }, {
              label: `sent (${UNIT})`,
              kind: "num",
            }],
            a.pendingTxs.map((p) => ({
              cells: [
                hashLink("tx", p.txid),
                p.received ? `+${amount(p.received)}` : "",
                p.sent ? `−${amount(p.sent)}` : "",
              ],
            })),
          )
        }`
        : ""
    }
<h2>History</h2>${
      a.history.length
        ? table(
          "txs",
          [
            { label: "transaction", kind: "id" },
            { label: "block", kind: "num" },
            { label: `received (${UNIT})`, kind: "num" },
            { label: `sent (${UNIT})`, kind: "num" },
          ],
          a.history.map((h) => ({
            cells: [
              hashLink("tx", h.txid),
              html`<a href="/block/${h.height}">${h.height}</a>`,
              h.received ? amount(h.received) : "",
              h.sent ? amount(h.sent) : "",
            ],
          })),
        )
        : html`<p class="dim">No confirmed transactions.</p>`
    }${a.next !== null ? html`<p><a href="/address/${a.address}?before=${a.next}">older</a></p>` : ""}`,
    { network, follow: "blocks txs" },
  );
}

/** `/search` when the start of an id matches several blocks or transactions. */
export function searchPage(
  query: string,
  matches: SearchMatch[],
  more: boolean,
  assets: AssetUrls,
  network: string,
): Safe {
  return page(
    "search",
    assets,
    html`<h1>Search</h1><p>${matches.length}${
      more ? " or more" : ""
    } blocks and transactions start with <code>${query}</code>${
      more ? "; type more of it to narrow the list" : ""
    }:</p>${
      table(
        "matches",
        [{ label: "kind" }, { label: "id", kind: "id" }, { label: "block", kind: "num" }],
        matches.map((m) => ({
          cells: [
            m.kind === "block" ? "block" : "transaction",
            hashLink(m.kind, m.id),
            m.height === null
              ? html`<span class="pending">pending</span>`
              : html`<a href="/block/${m.height}">${m.height}</a>`,
          ],
        })),
      )
    }`,
    { network },
  );
}

/** `/api`: what the JSON API answers, from `API_DOCS`. */
export function apiPage(assets: AssetUrls, network: string): Safe {
  return page(
    "JSON API",
    assets,
    html`<h1>JSON API</h1><p>GET only; answers are JSON; times are seconds since the epoch; amounts are in base
units (1 coin = 100,000,000) unless a field says otherwise; an unknown or malformed request is a 404 with
<code>{"error": "..."}</code> saying why. Read-only and served by this node, like the pages.</p>${
      table(
        "api",
        [{ label: "path" }, { label: "answer" }],
        API_DOCS.map((e) => ({ cells: [html`<code>${e.path}</code>`, e.answer] })),
      )
    }`,
    { network },
  );
}
