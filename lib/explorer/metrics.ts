/**
 * `GET /metrics`: the node for an operator's Prometheus, in its text format (prometheus.ts). Every
 * name starts with `peerchain_` and carries its unit (`_seconds`, `_bytes`, `_total` for counters), as
 * Prometheus' naming guide asks. Values are read from the node when scraped: nothing is kept here but the
 * registry. Labels come from closed sets (roles, verdicts, message types and rule codes, the last two bounded
 * in lib/metrics.ts), so no peer can grow the output.
 * @module
 */
import type { Node } from "../node.ts";
import { traffic, verdicts } from "../runtime/metrics.ts";
import type { Counters } from "../runtime/metrics.ts";
import { verifyQueue } from "../crypto/verify_queue.ts";
import { type Family, PROMETHEUS_CONTENT_TYPE, renderPrometheus, type Sample } from "./prometheus.ts";
import { networkView } from "./network_view.ts";
import { linkKind } from "./network_map.ts";
import type { EventStreams } from "./events.ts";
import type { BoundedServerStats } from "../http/bounded_server.ts";

/** The content type of the text format, version 0.0.4. */
export const METRICS_CONTENT_TYPE: string = PROMETHEUS_CONTENT_TYPE;

/** What the explorer adds to the node's figures. */
export interface MetricsSources {
  /** The explorer's `/events` clients. */
  streams: EventStreams;
  /** The explorer's connection counts. */
  connections: () => BoundedServerStats;
}

/** A registry of the node's metrics; `text()` renders them. */
export class NodeMetrics {
  #families: (() => Family)[] = [];

  /** Registers every metric of `node` (and of the explorer serving them). */
  constructor(node: Node, sources: MetricsSources) {
    const gauge = (name: string, help: string, read: () => number) =>
      this.#families.push(() => ({ name, help, type: "gauge", samples: [[{}, read()]] }));
    const labelled = (
      name: string,
      help: string,
      read: () => Sample[],
      type: "gauge" | "counter" = "gauge",
    ) => this.#families.push(() => ({ name, help, type, samples: read() }));
    const byKey = (c: Counters, label: string) => (): Sample[] =>
      c.entries().map(([k, v]) => [{ [label]: k }, v]);

    gauge("peerchain_chain_height", "Height of the best chain's tip.", () => node.chain.height);
    gauge(
      "peerchain_chain_tip_age_seconds",
      "Seconds since the tip's timestamp (the block's own clock).",
      () => Math.max(0, Date.now() / 1000 - node.chain.tip.header.time),
    );
    gauge(
      "peerchain_chain_orphan_blocks",
      "Blocks waiting for a missing parent.",
      () => node.chain.orphanCount,
    );
    labelled(
      "peerchain_node_role",
      "This node's role in the overlay: 1 for the role it has.",
      () => [[{ role: "peer" }, node.net.role === "peer" ? 1 : 0], [
        { role: "superpeer" },
        node.net.role === "superpeer" ? 1 : 0,
      ]],
    );
    labelled(
      "peerchain_links",
      "This node's links by the other end's role (peer, superpeer) and the link's kind: primary (a Peer's " +
        "first SuperPeer), backup (its other SuperPeers) or mesh (between SuperPeers).",
      () => {
        const n = new Map<string, number>();
        for (const role of ["peer", "superpeer"]) {
          for (const kind of ["primary", "backup", "mesh"]) n.set(`${role} ${kind}`, 0);
        }
        const view = networkView(node);
        for (const l of view.links) {
          const k = `${l.role} ${linkKind(view, l)}`;
          n.set(k, (n.get(k) ?? 0) + 1);
        }
        return [...n].map(([k, v]) => {
          const [role, kind] = k.split(" ");
          return [{ role, kind }, v];
        });
      },
    );
    gauge(
      "peerchain_superpeers_known",
      "SuperPeers in this node's directory.",
      () => node.net.directory().length,
    );
    gauge(
      "peerchain_network_nodes_known",
      "Nodes this node knows of in the whole network.",
      () => node.net.networkSize,
    );
    gauge("peerchain_mempool_transactions", "Transactions in the mempool.", () => node.mempool.size);
    gauge(
      "peerchain_mempool_bytes",
      "Encoded bytes of the mempool's transactions.",
      () => node.mempool.bytes,
    );
    gauge(
      "peerchain_mempool_orphan_transactions",
      "Transactions waiting for a missing parent.",
      () => node.mempool.orphanCount,
    );
    labelled(
      "peerchain_blocks_received_total",
      "Blocks peers sent, by verdict: accepted, known, side, orphan, rejected.",
      byKey(verdicts.blocks, "verdict"),
      "counter",
    );
    labelled(
      "peerchain_blocks_refused_total",
      "Blocks peers sent that were refused, by the rule's code.",
      byKey(verdicts.blocksRefused, "reason"),
      "counter",
    );
    labelled(
      "peerchain_transactions_received_total",
      "Transactions peers sent, by verdict: accepted, known, orphan, rejected.",
      byKey(verdicts.txs, "verdict"),
      "counter",
    );
    labelled(
      "peerchain_transactions_refused_total",
      "Transactions peers sent that were refused, by the rule's code.",
      byKey(verdicts.txsRefused, "reason"),
      "counter",
    );
    labelled(
      "peerchain_network_received_bytes_total",
      "Bytes of overlay frames received, by message type (length prefix included).",
      byKey(traffic.receivedBytes, "type"),
      "counter",
    );
    labelled(
      "peerchain_network_sent_bytes_total",
      "Bytes of overlay frames sent, by message type (length prefix included).",
      byKey(traffic.sentBytes, "type"),
      "counter",
    );
    labelled(
      "peerchain_network_received_messages_total",
      "Overlay messages received, by type.",
      byKey(traffic.receivedMessages, "type"),
      "counter",
    );
    labelled(
      "peerchain_network_sent_messages_total",
      "Overlay messages sent, by type.",
      byKey(traffic.sentMessages, "type"),
      "counter",
    );
    labelled(
      "peerchain_verify_queue_checks",
      "Signature checks in the process-wide queue: running (in_flight) and waiting to start.",
      () => [[{ state: "in_flight" }, verifyQueue.inFlight], [{ state: "waiting" }, verifyQueue.waiting]],
    );
    gauge(
      "peerchain_event_loop_stall_recent_seconds",
      "Longest block of the node's event loop in the last 5 to 10 seconds.",
      () => node.stallMs().recentMs / 1000,
    );
    gauge(
      "peerchain_event_loop_stall_max_seconds",
      "Longest block of the node's event loop since it started.",
      () => node.stallMs().longestMs / 1000,
    );
    gauge("peerchain_mining_active", "1 while this node mines.", () => node.miner.status().mining ? 1 : 0);
    gauge(
      "peerchain_mining_hashrate_hashes_per_second",
      "This node's hash rate.",
      () => node.miner.status().hashrate,
    );
    gauge("peerchain_explorer_event_stream_clients", "Open /events connections.", () => sources.streams.size);
    gauge(
      "peerchain_explorer_connections",
      "Open connections to the explorer's port.",
      () => sources.connections().open,
    );
    labelled(
      "peerchain_explorer_connections_closed_total",
      "Explorer connections closed by its limits: refused (caps full), evicted (idle, to make room), " +
        "timed_out (slow headers, body or reads), and failed accepts (accept_error).",
      () => {
        const s = sources.connections();
        return [
          [{ reason: "refused" }, s.refused],
          [{ reason: "evicted" }, s.evicted],
          [{ reason: "timed_out" }, s.timedOut],
          [{ reason: "accept_error" }, s.acceptErrors],
        ];
      },
      "counter",
    );
  }

  /** The metrics in the text format, read now. */
  text(): string {
    return renderPrometheus(this.#families.map((f) => f()));
  }
}
