/**
 * The network map: a `NetworkView` laid out and drawn as SVG. SuperPeers sit on an inner ring (one alone
 * sits in the middle), each with its Peers fanned out around it; lines are links. This node is ringed, its
 * own links drawn bold, nodes that just vanished (a dead SuperPeer during a failover) drawn crossed out for a while.
 * Plain markup with classes only (the page's CSP forbids style attributes), the same with or without
 * JavaScript.
 * @module
 */
import { html, ident, type Safe } from "./html.ts";
import type { NetworkView, ViewRole } from "./network_view.ts";

/** A node that was in the view a moment ago and is not any more. */
export interface LostNode {
  /** Its id. */
  nodeId: string;
  /** Where it listened. */
  listen: string;
  /** What it was. */
  role: ViewRole;
  /** When it vanished (ms since the epoch). */
  since: number;
  /** True when it is still listed (a SuperPeer stays in the directory a while) and only the link is gone. */
  linkOnly?: boolean;
}

const W = 640, H = 360, CX = W / 2, CY = H / 2;
/** Peers drawn around one SuperPeer at most; the rest are a count. */
const MAX_DOTS = 18;

interface Placed {
  nodeId: string;
  listen: string;
  role: ViewRole;
  x: number;
  y: number;
  /** Direction of its label from the node. */
  angle: number;
  self: boolean;
  lost: boolean;
  label: boolean;
}

interface Layout {
  nodes: Placed[];
  edges: { a: Placed; b: Placed; kind: "overlay" | "member" | "own" }[];
  more: { x: number; y: number; n: number }[];
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Positions every node and edge of `view` (plus `lost` nodes) on the map. */
export function layoutNetwork(view: NetworkView, lost: readonly LostNode[] = []): Layout {
  const self = view.self;
  const lostIds = new Set(lost.map((l) => l.nodeId));
  const sps = view.superpeers.map((s) => ({ ...s, lost: lostIds.has(s.nodeId) }));
  if (self.role === "superpeer" && !sps.some((s) => s.nodeId === self.nodeId)) {
    sps.unshift({ nodeId: self.nodeId, listen: self.listen, peers: null, lost: false });
  }
  for (const l of lost) {
    if (l.role === "superpeer" && !sps.some((s) => s.nodeId === l.nodeId)) {
      sps.push({ nodeId: l.nodeId, listen: l.listen, peers: null, lost: true });
    }
  }
  // Live SuperPeers share the ring; lost ones wait in a corner, so a failover does not reshuffle the map.
  const live = sps.filter((x) => !x.lost);
  const ringR = live.length <= 1 ? 0 : Math.min(110, 40 + 14 * live.length);
  const nodes: Placed[] = [];
  const edges: Layout["edges"] = [];
  const more: Layout["more"] = [];
  let lostCount = 0;
  const spPlaced = sps.map((s) => {
    const i = live.indexOf(s);
    const angle = s.lost ? 0 : -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, live.length);
    const at = s.lost
      ? { x: W - 50 - 110 * lostCount++, y: H - 40 }
      : { x: CX + ringR * Math.cos(angle), y: CY + ringR * Math.sin(angle) };
    const p: Placed = {
      nodeId: s.nodeId,
      listen: s.listen,
      role: "superpeer",
      x: round(at.x),
      y: round(at.y),
      angle: Math.PI / 2,
      self: s.nodeId === self.nodeId,
      lost: s.lost,
      label: true,
    };
    nodes.push(p);
    return { p, angle, peers: s.peers };
  });
  const byId = new Map(spPlaced.map((s) => [s.p.nodeId, s]));
  // Overlay links between SuperPeers: every pair, as the overlay rule has it.
  for (let i = 0; i < spPlaced.length; i++) {
    for (let j = i + 1; j < spPlaced.length; j++) {
      if (!spPlaced[i].p.lost && !spPlaced[j].p.lost) {
        edges.push({ a: spPlaced[i].p, b: spPlaced[j].p, kind: "overlay" });
      }
    }
  }
  // Known Peers of each SuperPeer: this node's own Peer links when it is one, this node when it is a Peer.
  type Known = { nodeId: string; listen: string; self: boolean; lost: boolean; backup?: boolean };
  const known = new Map<string, Known[]>();
  const add = (sp: string, n: Known) => {
    if (!known.has(sp)) known.set(sp, []);
    known.get(sp)!.push(n);
  };
  const primary = view.links.find((l) => l.role === "superpeer" && l.primary && byId.has(l.nodeId)) ??
    view.links.find((l) => l.role === "superpeer" && byId.has(l.nodeId));
  const home = self.role === "superpeer" ? self.nodeId : primary?.nodeId;
  if (self.role === "superpeer") {
    for (const l of view.links) {
      if (l.role === "peer") {
        // A backup member is counted under its own primary SuperPeer: drawn here, but not in our count.
        add(self.nodeId, {
          nodeId: l.nodeId,
          listen: l.listen,
          self: false,
          lost: false,
          backup: !l.primary,
        });
      }
    }
  } else if (home) add(home, { nodeId: self.nodeId, listen: self.listen, self: true, lost: false });
  for (const l of lost) {
    if (l.role === "peer" && home) add(home, { nodeId: l.nodeId, listen: l.listen, self: false, lost: true });
  }
  let selfPlaced: Placed | undefined = spPlaced.find((s) => s.p.self)?.p;
  for (const sp of spPlaced) {
    const mine = known.get(sp.p.nodeId) ?? [];
    // Primary Peers first, then backups and lost ones, so the count covers the former only.
    mine.sort((a, b) => Number(a.lost || !!a.backup) - Number(b.lost || !!b.backup));
    const counted = mine.filter((m) => !m.lost && !m.backup).length;
    const total = Math.max(sp.peers ?? 0, counted) + (mine.length - counted);
    const shown = Math.min(total, MAX_DOTS);
    const alone = spPlaced.filter((x) => !x.p.lost).length === 1;
    const dist = alone ? Math.min(140, 95 + 3 * shown) : 70;
    const spread = alone ? 2 * Math.PI : Math.min(Math.PI * 1.1, 0.5 * Math.max(1, shown - 1));
    for (let j = 0; j < shown; j++) {
      const m = mine[j];
      const a = alone
        ? -Math.PI / 2 + (2 * Math.PI * (j + 0.5)) / shown
        : sp.angle + (shown === 1 ? 0 : spread * (j / (shown - 1) - 0.5));
      const p: Placed = {
        nodeId: m?.nodeId ?? `${sp.p.nodeId}#${j}`,
        listen: m?.listen ?? "",
        role: "peer",
        x: round(sp.p.x + dist * Math.cos(a)),
        y: round(sp.p.y + dist * Math.sin(a)),
        angle: a,
        self: m?.self ?? false,
        lost: m?.lost ?? false,
        label: m !== undefined && (shown <= 10 || m.self),
      };
      nodes.push(p);
      if (p.self) selfPlaced = p;
      if (!p.lost) edges.push({ a: sp.p, b: p, kind: p.self || sp.p.self ? "own" : "member" });
    }
    if (total > shown) {
      more.push({
        x: round(sp.p.x + (dist + 22) * Math.cos(sp.angle)),
        y: round(sp.p.y + (dist + 22) * Math.sin(sp.angle)),
        n: total - shown,
      });
    }
  }
  if (!selfPlaced) { // no SuperPeer known: this node alone in the middle
    selfPlaced = { ...self, x: CX, y: CY, angle: Math.PI / 2, self: true, lost: false, label: true };
    nodes.push(selfPlaced);
  }
  // This node's other links (a Peer's second SuperPeer; a SuperPeer's links to other SuperPeers).
  for (const l of view.links) {
    const other = byId.get(l.nodeId)?.p;
    if (!other || other === selfPlaced) continue;
    const i = edges.findIndex((e) =>
      (e.a === other && e.b === selfPlaced) || (e.a === selfPlaced && e.b === other)
    );
    if (i >= 0) edges[i].kind = "own";
    else edges.push({ a: other, b: selfPlaced, kind: "own" });
  }
  return { nodes, edges, more };
}

/** Where a node's label goes: outward along its direction, so labels of a fan do not overlap. */
function labelAt(n: Placed, r: number): { x: number; y: number; anchor: "start" | "middle" | "end" } {
  const c = Math.cos(n.angle), s = Math.sin(n.angle), d = r + 5;
  const anchor = c > 0.35 ? "start" : c < -0.35 ? "end" : "middle";
  const dy = anchor !== "middle" ? 4 : s < 0 ? -4 : 10;
  return { x: round(n.x + d * c), y: round(n.y + d * s + dy), anchor };
}

function roleName(role: ViewRole): string {
  return role === "superpeer" ? "SuperPeer" : "Peer";
}

/** The map as an SVG element, with a title per node for hovering. */
export function renderNetworkMap(view: NetworkView, lost: readonly LostNode[] = []): Safe {
  const { nodes, edges, more } = layoutNetwork(view, lost);
  const electing = view.self.role === "peer" && view.superpeers.length === 0;
  const edgeSvg = edges.map((e) =>
    html`
      <line class="edge edge-${e.kind}" x1="${e.a.x}" y1="${e.a.y}" x2="${e.b.x}" y2="${e.b.y}" />
    `
  );
  const nodeSvg = nodes.map((n) => {
    const r = n.role === "superpeer" ? 15 : 7;
    const cls = `node ${n.role === "superpeer" ? "sp" : "peer"}${n.self ? " self" : ""}${
      n.lost ? " lost" : ""
    }`;
    const title = `${roleName(n.role)}${n.self ? " (this node)" : ""}${n.lost ? " (lost)" : ""}${
      n.listen ? ` ${n.listen}` : ""
    }`;
    const label = labelAt(n, r);
    return html`
      <g class="${cls}"
        data-node="${n.nodeId}"><title>${title}</title>${n.self
          ? html`
            <circle class="halo" cx="${n.x}" cy="${n.y}" r="${r + 6}" />
          `
          : ""}<circle cx="${n.x}" cy="${n.y}" r="${r}"/>${n.lost
          ? html`
            <path class="cross"
              d="M${n.x - r} ${n.y - r}L${n.x + r} ${n.y + r}M${n.x + r} ${n.y - r}L${n.x - r} ${n.y + r}" />
          `
          : ""}${n.label
          ? html`<text x="${label.x}" y="${label.y}" text-anchor="${label.anchor}">${
            n.self ? "this node · " : n.lost ? "lost · " : ""
          }${n.listen}</text>`
          : ""}</g>
    `;
  });
  const moreSvg = more.map((m) =>
    html`<text class="more" x="${m.x}" y="${m.y}" text-anchor="middle">+${m.n}</text>`
  );
  return html`
    <svg class="netmap" viewBox="0 0 ${W} ${H}" role="img"
      aria-label="${`network map: ${view.superpeers.length} SuperPeer(s), ${view.networkSize} node(s) known`}">${edgeSvg}${nodeSvg}${moreSvg}${electing
        ? html`<text class="banner" x="${CX}" y="24" text-anchor="middle">looking for a SuperPeer (failover)</text>`
        : ""}</svg>
  `;
}

/**
 * What a link is in the overlay's words: "primary" (a Peer's first SuperPeer, seen from either end), "backup"
 * (a Peer's other SuperPeers), "mesh" (between SuperPeers).
 */
export function linkKind(view: NetworkView, l: NetworkView["links"][number]): "primary" | "backup" | "mesh" {
  if (l.primary) return "primary";
  return l.role === "superpeer" && view.self.role === "superpeer" ? "mesh" : "backup";
}

/** The nodes of the map as a table: what a screen reader, a text browser or a test reads. */
export function renderNetworkTable(view: NetworkView, lost: readonly LostNode[] = []): Safe {
  const rows: Safe[] = [
    html`
      <tr class="self">
        <td data-label="role">${roleName(view.self.role)}</td>
        <td data-label="listen">${view.self.listen}</td>
        <td class="id" data-label="node id">${ident(view.self.nodeId)}</td>
        <td data-label="link">this node</td>
      </tr>
    `,
  ];
  const lostIds = new Set(lost.map((l) => l.nodeId));
  for (const s of view.superpeers) {
    if (s.nodeId === view.self.nodeId || lostIds.has(s.nodeId)) continue; // its "lost" row says it
    const link = view.links.find((l) => l.nodeId === s.nodeId);
    rows.push(
      html`
        <tr>
          <td data-label="role">SuperPeer</td>
          <td data-label="listen">${s.listen}</td>
          <td class="id" data-label="node id">${ident(s.nodeId)}</td>
          <td data-label="link">${link
            ? `${link.inbound ? "inbound" : "outbound"} link (${linkKind(view, link)})`
            : "known"}${s.peers === null ? "" : ` · serves ${s.peers} peer${s.peers === 1 ? "" : "s"}`}</td>
        </tr>
      `,
    );
  }
  for (const l of view.links) {
    if (view.superpeers.some((s) => s.nodeId === l.nodeId)) continue;
    rows.push(
      html`
        <tr>
          <td data-label="role">${roleName(l.role)}</td>
          <td data-label="listen">${l.listen}</td>
          <td class="id" data-label="node id">${ident(l.nodeId)}</td>
          <td data-label="link">${l.inbound ? "inbound" : "outbound"} link (${linkKind(view, l)})</td>
        </tr>
      `,
    );
  }
  for (const l of lost) {
    rows.push(
      html`
        <tr class="lost">
          <td data-label="role">${roleName(l.role)}</td>
          <td data-label="listen">${l.listen}</td>
          <td class="id" data-label="node id">${ident(l.nodeId)}</td>
          <td data-label="link">lost</td>
        </tr>
      `,
    );
  }
  return html`
    <table class="nodes stack">
      <thead>
        <tr>
          <th>role</th>
          <th>listen</th>
          <th>node id</th>
          <th>link</th>
        </tr>
      </thead>
      <tbody>${rows}</tbody>
    </table>
  `;
}
