/**
 * Live updates: turns the node's events into `/events` messages without ever working inside the node's own
 * call. The listener only notes what changed; the work (re-reading the network view, rendering sections,
 * catching the index up) runs later in a timer, at most every `FLUSH_MS`, once for all clients, and not at
 * all for an audience nobody is in. Relay and validation have finished by then.
 * @module
 */
import type { Node, NodeEvent } from "../node.ts";
import { apiAmounts, type ExplorerData } from "./data.ts";
import { type EventStreams, type SseMessage, sseMessage } from "./events.ts";
import type { LostNode } from "./network_map.ts";
import type { NetworkView, ViewRole } from "./network_view.ts";
import { type NewsItem, renderSection, type SectionId } from "./pages.ts";
import { indexPause } from "./chain_index.ts";

/** Updates go out at most this often (the first of a quiet spell at once). */
const FLUSH_MS = 100;
/** The network view is re-read at most this often while its events keep coming. */
const NETWORK_MS = 200;
/** A node that vanished from the view stays on the map, crossed out, this long. */
const LOST_MS = 20_000;
const NEWS_KEPT = 30;
/** Transaction events sent per flush at most; the mempool event counts the rest. */
const MAX_TX_EVENTS = 50;
/**
 * After a block, the index starts catching up this much later (ms): the block's relay, and on one machine the
 * other nodes' checks of it, go first (each full block indexed at once held 9 nodes on 2 cores ~40 ms each).
 */
const INDEX_DELAY_MS = 250;
/** Ledger events kept for one flush at most. */
const MAX_JSON_EVENTS = 256;
/** Events that are about the ledger; every other kind is about the network and re-reads its view. */
const LEDGER_EVENTS = new Set(["block", "tx", "reorg", "mined", "side"]);

/** Sections sent to a dashboard that connects (the charts go as data, for the page's chart library). */
export const LIVE_SECTIONS: SectionId[] = ["status", "network", "blocks", "forks", "mempool", "news"];

/** Follows a node for the explorer; `close()` unsubscribes. */
export class Live {
  readonly news: NewsItem[] = [];
  #node: Node;
  #data: ExplorerData;
  #streams: EventStreams;
  #dirty = new Set<SectionId>();
  /** JSON events waiting for the next flush, built only then (and only if an API client listens). */
  #json: (() => SseMessage)[] = [];
  #jsonDropped = 0;
  #txs: string[] = [];
  #txsDropped = 0;
  #chartsDirty = false;
  #networkDirty = false;
  /** Updates go out at once after a quiet spell, then at most every `FLUSH_MS`. */
  #flushes = new Throttle(FLUSH_MS, () => this.flush());
  /** The network view is re-read at once after a quiet spell, then at most every `NETWORK_MS`. */
  #netReads = new Throttle(NETWORK_MS, () => this.#readNetwork());
  #view: NetworkView;
  #viewKey: string;
  #lost: LostNode[] = [];
  #expiry?: ReturnType<typeof setTimeout>;
  #unsubscribe: () => void;
  #indexing?: ReturnType<typeof setTimeout>;
  /** When the last block or reorg event came (ms, `performance.now`): the index's pace follows it. */
  #lastBlockAt = -Infinity;
  #closed = false;

  constructor(node: Node, data: ExplorerData, streams: EventStreams) {
    this.#node = node;
    this.#data = data;
    this.#streams = streams;
    this.#view = data.network().view;
    this.#viewKey = JSON.stringify(this.#view);
    this.#unsubscribe = node.subscribe((e) => this.#onEvent(e));
    this.#syncIndex(0);
  }

  #onEvent(e: NodeEvent): void {
    switch (e.type) {
      case "block": {
        this.#data.noteTip();
        this.#jsonEvent(() =>
          sseMessage(
            "block",
            JSON.stringify(this.#data.summary(e.hash) ?? { hash: e.hash, height: e.height }, apiAmounts),
          )
        );
        this.#mark("status", "blocks", "mempool");
        this.#chartsDirty = true;
        this.#lastBlockAt = performance.now();
        this.#syncIndex();
        break;
      }
      case "reorg":
        this.#data.noteReorg();
        {
          const fork = this.#data.forks()[0];
          this.#jsonEvent(() => sseMessage("reorg", JSON.stringify(fork ?? e)));
        }
        this.#say(`reorg: ${e.disconnected} block(s) out, ${e.connected} in`, "warn");
        this.#mark("forks", "status", "blocks", "mempool");
        this.#chartsDirty = true;
        this.#lastBlockAt = performance.now();
        this.#syncIndex();
        break;
      case "side":
        this.#data.noteSide(e.hash, e.height);
        this.#jsonEvent(() => sseMessage("side", JSON.stringify({ hash: e.hash, height: e.height })));
        this.#mark("forks");
        break;
      case "tx":
        if (this.#txs.length < MAX_TX_EVENTS) this.#txs.push(e.txid);
        else this.#txsDropped++;
        this.#mark("mempool", "status");
        break;
      case "mined":
        return; // the block event that follows says it
      default:
        if (!LEDGER_EVENTS.has(e.type)) this.#networkChanged();
        return;
    }
    this.#schedule();
  }

  #jsonEvent(make: () => SseMessage): void {
    // A burst (a sync of thousands of blocks) keeps the newest; API clients learn of the gap from `lagged`.
    if (this.#json.length >= MAX_JSON_EVENTS) {
      this.#json.shift();
      this.#jsonDropped++;
    }
    this.#json.push(make);
  }

  #mark(...ids: SectionId[]): void {
    for (const id of ids) this.#dirty.add(id);
  }

  #say(text: string, level: NewsItem["level"] = "info"): void {
    this.news.push({ at: Date.now(), text, level });
    if (this.news.length > NEWS_KEPT) this.news.shift();
    this.#dirty.add("news");
  }

  /** Re-reads the network view soon (at once after a quiet spell, then at most every `NETWORK_MS`). */
  #networkChanged(): void {
    if (!this.#closed) this.#netReads.request();
  }

  #readNetwork(): void {
    const view = this.#data.network().view;
    const now = Date.now();
    const key = JSON.stringify(view);
    const expired = this.#lost.some((l) => now - l.since >= LOST_MS);
    if (key === this.#viewKey && !expired) return;
    const before = nodesOf(this.#view), after = nodesOf(view);
    const linkedBefore = new Set(this.#view.links.map((l) => l.nodeId));
    const linkedAfter = new Set(view.links.map((l) => l.nodeId));
    const name = (n: { role: ViewRole; listen: string }) =>
      `${n.role === "superpeer" ? "SuperPeer" : "Peer"} ${n.listen}`;
    if (view.self.role !== this.#view.self.role) {
      this.#say(`this node is now ${view.self.role === "superpeer" ? "a SuperPeer" : "a Peer"}`, "warn");
    }
    // Lost: gone from the view, or still listed (a SuperPeer stays in the directory a while) but unlinked.
    for (const [id, n] of before) {
      const gone = !after.has(id), unlinked = linkedBefore.has(id) && !linkedAfter.has(id);
      if (id === view.self.nodeId || !(gone || unlinked)) continue;
      this.#lost = this.#lost.filter((l) => l.nodeId !== id);
      this.#lost.push({ nodeId: id, listen: n.listen, role: n.role, since: now, linkOnly: !gone });
      this.#say(
        `${gone ? `${name(n)} is gone` : `lost the link to ${name(n)}`}`,
        n.role === "superpeer" ? "warn" : "info",
      );
    }
    for (const [id, n] of after) {
      const linked = linkedAfter.has(id) && !linkedBefore.has(id);
      if (id === view.self.nodeId || !linked) continue; // a SuperPeer only heard of is no news
      this.#lost = this.#lost.filter((l) => l.nodeId !== id);
      this.#say(n.role === "superpeer" ? `linked to ${name(n)}` : `${name(n)} joined`);
    }
    this.#lost = this.#lost.filter((l) =>
      now - l.since < LOST_MS && !linkedAfter.has(l.nodeId) && !(after.has(l.nodeId) && !l.linkOnly)
    );
    this.#data.setLost(this.#lost);
    this.#view = view;
    this.#viewKey = key;
    clearTimeout(this.#expiry);
    if (this.#lost.length) {
      const next = Math.min(...this.#lost.map((l) => l.since + LOST_MS)) - now;
      this.#expiry = setTimeout(() => this.#networkChanged(), Math.max(0, next));
    }
    this.#networkDirty = true;
    this.#mark("network", "status");
    this.#schedule();
  }

  /**
   * Catches the index up `delayMs` later, in slices: never inside the node's own call, and in the background
   * while blocks keep coming (a sync), at `INDEX_BUSY_SHARE` of the thread (`indexPause`).
   */
  #syncIndex(delayMs = INDEX_DELAY_MS): void {
    if (this.#indexing !== undefined || this.#closed) return;
    this.#indexing = setTimeout(() => {
      this.#indexing = undefined;
      if (this.#closed) return;
      this.#data.index.sync((sliceMs) => indexPause(performance.now(), this.#lastBlockAt, sliceMs)).then(() =>
        this.#mark("status")
      ).catch((e) => console.error(`explorer index: ${e}`));
    }, delayMs);
  }

  #schedule(): void {
    if (!this.#closed) this.#flushes.request();
  }

  /** Sends what changed since the last flush. */
  flush(): void {
    const streams = this.#streams;
    if (streams.count("json")) {
      if (this.#jsonDropped) {
        streams.publish("json", sseMessage("lagged", JSON.stringify({ dropped: this.#jsonDropped })));
      }
      for (const make of this.#json) streams.publish("json", make());
      for (const id of this.#txs) streams.publish("json", sseMessage("tx", JSON.stringify({ txid: id })));
      if (this.#dirty.has("mempool")) {
        const m = this.#data.mempool();
        streams.publish(
          "json",
          sseMessage(
            "mempool",
            JSON.stringify({ ...m, unsentTxEvents: this.#txsDropped }, apiAmounts),
            "mempool",
          ),
        );
      }
      if (this.#networkDirty) {
        streams.publish("json", sseMessage("network", JSON.stringify(this.#data.network()), "network"));
      }
      if (this.#dirty.has("status")) {
        streams.publish("json", sseMessage("status", JSON.stringify(this.#data.status()), "status"));
      }
    }
    if (streams.count("html")) {
      for (const id of this.#dirty) streams.publish("html", this.sectionMessage(id));
      if (this.#chartsDirty) streams.publish("html", this.chartsMessage());
    }
    this.#json = [];
    this.#jsonDropped = 0;
    this.#txs = [];
    this.#txsDropped = 0;
    this.#dirty.clear();
    this.#chartsDirty = false;
    this.#networkDirty = false;
  }

  /** A dashboard section as a message (rendered once, shared by every dashboard). */
  sectionMessage(id: SectionId): SseMessage {
    const markup = renderSection(id, this.#data, this.news).text;
    return sseMessage("section", JSON.stringify({ id, html: markup }), `section:${id}`);
  }

  /** The chart series as a message. */
  chartsMessage(): SseMessage {
    return sseMessage("charts", JSON.stringify(this.#data.charts()), "charts");
  }

  /** Stops following the node. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    this.#flushes.cancel();
    this.#netReads.cancel();
    clearTimeout(this.#expiry);
    clearTimeout(this.#indexing);
  }
}

/** Runs a job soon: at once after a quiet spell, then at most every `everyMs`; requests meanwhile merge. */
class Throttle {
  #timer?: ReturnType<typeof setTimeout>;
  #last = 0;
  readonly #everyMs: number;
  readonly #job: () => void;

  constructor(everyMs: number, job: () => void) {
    this.#everyMs = everyMs;
    this.#job = job;
  }

  /** Runs the job once the interval since its last run is over, unless a run is already due. */
  request(): void {
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#last + this.#everyMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#last = Date.now();
      this.#job();
    }, wait);
  }

  /** Drops a run that is due. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Every node a view names, but this one, with its role. */
function nodesOf(v: NetworkView): Map<string, { listen: string; role: ViewRole }> {
  const out = new Map<string, { listen: string; role: ViewRole }>();
  for (const s of v.superpeers) out.set(s.nodeId, { listen: s.listen, role: "superpeer" });
  for (const l of v.links) if (!out.has(l.nodeId)) out.set(l.nodeId, { listen: l.listen, role: l.role });
  out.delete(v.self.nodeId);
  return out;
}
