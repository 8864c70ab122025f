/**
 * What a headless node prints: one line per event on stderr, each stamped with the time, and while an initial
 * sync runs, a progress line every `SYNC_LOG_MS` instead of a line per block.
 * @module
 */
import type { NodeEvent } from "../node.ts";
import { syncLine, type SyncProgress } from "../node/sync_progress.ts";

/** How often a headless node logs its sync progress, in ms. */
export const SYNC_LOG_MS = 2_000;

/** Writes one line on stderr, stamped with the time. */
export function log(line: string): void {
  console.error(`${new Date().toISOString()} ${line}`);
}

/** One event in words, as a headless node logs it. */
export function describe(e: NodeEvent): string {
  switch (e.type) {
    case "role":
      return e.role === "superpeer" ? `promoted to SuperPeer (${e.reason})` : `became a Peer (${e.reason})`;
    case "superpeer-linked":
    case "superpeer-lost":
      return `${e.type} ${e.peer.listen} ${e.primary ? "primary" : "backup"}`;
    case "peer-joined":
    case "peer-left":
    case "mesh-linked":
    case "mesh-lost":
      return `${e.type} ${e.peer.listen}`;
    case "misbehaviour":
      return `misbehaviour from ${e.host} (+${e.score}): ${e.reason}`;
    case "block":
      return `block ${e.height} ${e.hash} (${e.source})`;
    case "side":
      return `side block ${e.height} ${e.hash} (${e.source}): on a branch with less work`;
    case "reorg":
      return `reorg: ${e.disconnected} blocks out, ${e.connected} in`;
    case "tx":
      return `tx ${e.txid} (${e.source})`;
    case "mined":
      return `mined ${e.hash}`;
    case "discovery":
      return e.found.length
        ? `discovery: ${e.found.length} SuperPeer(s) answered in ${e.ms} ms: ${e.found.join(", ")}`
        : `discovery: no SuperPeer answered on this LAN (${e.ms} ms)`;
    case "clock":
      return e.warning
        ? `warning: ${e.warning}`
        : "clock: this computer's clock agrees with its peers' again";
  }
}

/**
 * A headless node's event listener: `describe`'s line per event, except for blocks from the network while
 * `progress()` says a sync runs (then a progress line every `SYNC_LOG_MS`, and `synced` when it ends).
 */
export function headlessLogger(
  progress: () => SyncProgress | null | undefined,
  write: (line: string) => void = log,
  now: () => number = () => performance.now(),
): (e: NodeEvent) => void {
  let syncing = false;
  let lastProgress = -Infinity;
  return (e) => {
    if (e.type !== "block" || e.source !== "network") return write(describe(e));
    const p = progress();
    if (!p) {
      if (syncing) write(`synced: height ${e.height}`);
      syncing = false;
      return write(describe(e));
    }
    syncing = true;
    if (now() - lastProgress < SYNC_LOG_MS) return;
    lastProgress = now();
    write(syncLine(p));
  };
}
