/** The relations between the network's limits (lib/net/config.ts): each one a rule another relies on. */
import assert from "node:assert/strict";
import * as c from "../lib/net/config.ts";
import { MAX_ADDRS } from "../lib/net/messages.ts";
import { MAX_FRAME } from "../lib/net/frame.ts";
import { SEND_QUEUE_LIMIT } from "../lib/net/serve.ts";
import { encodeBeacon, NONCE_DIGITS } from "../lib/net/beacon.ts";

Deno.test("the network's limits keep their relations", () => {
  const d = c.MESH_DEGREE;
  assert.ok(d.low <= d.target && d.target <= d.high, "mesh degree: low ≤ target ≤ high");
  assert.ok(c.MESH_FULL_UP_TO <= d.high + 1, "a full mesh fits within the high degree");
  assert.ok(c.SUCCESSOR_WAIT_MS < c.FAILOVER_WAIT_MS, "a successor waits less for hearsay than a failover");
  assert.ok(c.FAILOVER_WAIT_MS <= 1000, "issue 19's failover goal: 1 s");
  assert.ok(c.FAILOVER_MAX_DIALS >= c.JOIN_PARALLEL, "failover dials at least as widely as a join");
  assert.ok(c.DIR_LINK_BUDGET.burst >= c.LIST_PAGE, "one full page of entries fits a link's budget");
  assert.ok(
    c.DIR_LINK_BUDGET.perSecond * c.DIR_HEARTBEAT_MS / 1000 >= 630,
    "every heartbeat of a 10,000-node LAN's ~630 SuperPeers fits a link's budget",
  );
  assert.ok(c.DIR_HEARTBEAT_MS < c.DIR_TTL_MS, "an entry is refreshed before it expires");
  assert.ok(
    c.DIR_HEARTBEAT_MS <= c.DIR_REFRESH_MS && 2 * c.DIR_REFRESH_MS <= c.DIR_TTL_MS,
    "a distant entry is refreshed twice before it expires, even with one refresh lost",
  );
  assert.ok(
    c.DIR_LINK_BYTES.burst >= 630 * 400 &&
      c.DIR_LINK_BYTES.perSecond * c.DIR_HEARTBEAT_MS / 1000 >= 630 * 130,
    "a 10,000-node LAN's ~630 signed entries (~400 bytes each) fit a link's byte burst, a digest of all of them per heartbeat its rate",
  );
  assert.ok(c.DIR_OVER_BUDGET_SCORE > 0, "a link over its budget is scored");
  assert.ok(c.DIR_WANT_MAX >= c.LIST_PAGE && c.DIR_WANT_MAX <= c.DIR_MAX, "a page of digests can be pulled");
  assert.ok(c.DIR_PEER_REFRESH <= c.DIR_PEER_SAMPLE && c.DIR_PEER_SAMPLE >= c.FAILOVER_MAX_DIALS);
  assert.ok(
    630 <= c.DIR_MAX_PER_SOURCE && c.DIR_LINK_BUDGET.burst <= c.DIR_MAX_PER_SOURCE &&
      2 * c.DIR_MAX_PER_SOURCE <= c.DIR_MAX,
    "one link brings a 10,000-node LAN's directory and its burst, and two links cannot fill the directory",
  );
  assert.ok(c.DIR_MAX_SEQ_AHEAD_MS >= c.DIR_TTL_MS, "an honest clock's skew within the bound");
  assert.ok(c.MESH_DIAL_BURST >= d.target, "a SuperPeer can dial its whole target mesh at once");
  assert.ok(
    1 <= c.MESH_OUTBOUND_MIN && c.MESH_OUTBOUND_MIN < d.low,
    "links of its own choice are a part of the degree, never all of it",
  );
  assert.ok(
    c.MESH_RELAY_GRACE_MS >= c.MESH_TICK_MS && c.BEHIND_GRACE_MS >= c.DELIVERY_BOUND_MS,
    "a link gets at least a tick, a SuperPeer at least the delivery bound, to relay a block",
  );
  assert.ok(c.MESH_REDIAL_MS > c.MESH_TICK_MS, "the mesh tick does not redial an address every tick");
  assert.ok(c.MESH_REDIRECT_FANOUT <= MAX_ADDRS && c.MESH_REDIRECT_DEPTH >= 1);
  assert.ok(c.MESH_PROTECT_OLDEST < c.MAX_WAITING_LINKS + 2 * d.high, "eviction can still find a victim");
  assert.ok(c.DEMOTE_MIN_OTHERS >= 2, "a SuperPeer that steps down needs two for itself as a Peer");
  assert.ok(c.TURNED_AWAY_AFTER >= 2, "one node's refusal is never enough to promote");
  assert.ok(c.SELF_PROMOTE_MIN_MS < c.DEMOTE_AFTER_MS, "promotion's rate bound below the step-down delay");
  assert.ok(c.BACKUP_RETRY_MS <= c.BACKUP_RETRY_MAX_MS);
  assert.ok(
    7 * c.BACKUP_RETRY_MS <= c.SECOND_STALL_MS && c.SECOND_STALL_MS < c.BACKUP_RETRY_MAX_MS,
    "a Peer whose every SuperPeer is full asks for three rounds of the backoff before it adds capacity",
  );
  assert.ok(c.TRACKER_MAX <= c.ADDRESS_BOOK_MAX);
});

Deno.test("the overlay's named timings keep their relations", () => {
  const t = c.DEFAULT_TIMINGS;
  assert.ok(t.pingIntervalMs < t.deadAfterMs, "a live link pings before it would be called dead");
  assert.ok(
    c.CONNECT_TOOL_TIMEOUT_MS >= t.connectTimeoutMs,
    "a tool's one dial waits at least the overlay's",
  );
  assert.ok(0 < c.JITTER_SHARE && c.JITTER_SHARE < 1, "jitter: low (1 − share) > 0, and ≤ target ≤ high");
  assert.ok(
    c.SUCCESSOR_RETRY_MS * (1 + c.JITTER_SHARE) < c.FAILOVER_ROSTER_EXTRA_MS,
    "the roster walk asks a slow successor again within its extra time",
  );
  assert.ok(
    t.deadAfterMs < c.DEAD_FORGET_MS && c.DEAD_FORGET_MS < c.DIR_TTL_MS,
    "a dead SuperPeer is shunned longer than a death takes to notice, shorter than an entry lives",
  );
  assert.ok(
    c.MESH_CHECK_DELAY_MS * (1 + c.JITTER_SHARE) < t.deadAfterMs,
    "a closed mesh link is checked soon",
  );
  assert.ok(
    1 <= c.DIR_PUBLISH_STEP && c.DIR_PUBLISH_STEP <= c.DEFAULT_MAX_PEERS,
    "a default SuperPeer's load step is at least one Peer",
  );
  assert.ok(c.ROSTER_BOUND.perCapacity >= 1 && c.ROSTER_BOUND.slack >= 0, "an honest roster always fits");
  assert.ok(c.JOIN_TRY <= MAX_ADDRS, "the SuperPeers a full one names fit one answer");
});

Deno.test("a network's numbers are resolved once: defaults for what is absent or undefined, maxPeers as capacity", () => {
  assert.deepEqual(c.resolveNetworkConfig({}), { ...c.DEFAULT_TIMINGS, capacity: c.DEFAULT_MAX_PEERS });
  const r = c.resolveNetworkConfig({ pingIntervalMs: undefined, deadAfterMs: 300, maxPeers: 8 });
  assert.equal(r.pingIntervalMs, c.DEFAULT_TIMINGS.pingIntervalMs);
  assert.equal(r.deadAfterMs, 300);
  assert.equal(r.capacity, 8);
  assert.ok(Object.isFrozen(r));
});

Deno.test("LAN discovery's limits keep their relations", () => {
  assert.ok(c.FIND_GRACE_MS < c.FIND_WINDOW_MS, "the first answer's grace ends within a search's window");
  assert.ok(
    c.QUERY_REPEAT_MS < c.FIND_WINDOW_MS,
    "a lost query is sent again while the search still listens",
  );
  assert.ok(
    c.FIND_WINDOW_MS <= c.MIN_QUERY_GAP_MS,
    "one search at a time: the next starts after the last ended",
  );
  assert.ok(c.FIND_WINDOW_MS <= c.FOUND_WAIT_MS, "a search ends before a joining node stops waiting for it");
  assert.ok(c.MAX_FOUND <= c.MAX_DATAGRAMS_PER_FIND, "a search can read as many answers as it returns");
  assert.ok(
    c.ANSWERS_PER_SOURCE <= c.ANSWERS_PER_SECOND && c.ANSWERS_PER_SECOND <= c.ANSWER_SOURCES_COUNTED,
    "answers: per source ≤ in all ≤ sources counted",
  );
  assert.ok(c.ANSWER_WINDOW_MS === 1000, "the answer budgets are per second, as named");
  assert.ok(
    c.SERVE_POLL_MS <= c.SERVE_FIRST_QUERY_MS && c.SERVE_FIRST_QUERY_MS <= c.SERVE_MAX_QUERY_MS,
    "a new SuperPeer's first search: polled in time, first interval ≤ the longest",
  );
  assert.ok(
    0 < c.SEARCH_JITTER_SHARE && c.SEARCH_JITTER_SHARE < 1,
    "a SuperPeer's search jitter: low (1 − share) > 0, and ≤ target ≤ high",
  );
  const longest = encodeBeacon({
    kind: "answer",
    network: "n".repeat(16),
    genesis: "0".repeat(64),
    nonce: "0".repeat(NONCE_DIGITS),
    port: 65535,
  });
  assert.ok(longest.length <= c.MAX_BEACON_BYTES, "the longest beacon is read");
  assert.ok(c.OWN_NONCES_KEPT >= 1 && c.BEACON_MAX_TARGETS >= 1);
  assert.ok(c.INTERFACES_REREAD_MS >= c.MIN_QUERY_GAP_MS, "interfaces are not read again for every search");
});

Deno.test("a link's limits keep their relations", () => {
  assert.ok(
    SEND_QUEUE_LIMIT + MAX_FRAME <= c.LINK_MAX_QUEUED_BYTES,
    "serving stops adding to a link before one more frame could get it closed as slow",
  );
  assert.ok(c.LINK_RATE.perSecond <= c.LINK_RATE.burst, "a link's rate: refill ≤ burst");
  assert.ok(
    c.LINK_FLUSH_MS < c.DEFAULT_TIMINGS.deadAfterMs,
    "a closing link's last frames leave before it is dead",
  );
  assert.ok(
    c.ACCEPT_RETRY_MS < c.DEFAULT_TIMINGS.connectTimeoutMs,
    "a listener out of sockets accepts again within a dialler's timeout",
  );
  assert.ok(
    c.STALE_TRIAL_MS < c.STALE_TIP_RETRY_MS && c.STALE_TIP_RETRY_MS <= c.STALE_TIP_MS,
    "the stale-tip check: a trial ends before the next try, and tries no more often than it waits for a block",
  );
});
