/**
 * The network's timings and limits, named once. `NetworkOptions` can override the timings (tests run with
 * short ones); the limits are the protocol's and the overlay's shape.
 * @module
 */

/** Timings a `Network` may be given; every field has a default in `DEFAULT_TIMINGS`. */
export interface NetworkTimings {
  /** Dial timeout in ms. */
  connectTimeoutMs: number;
  /** A quiet link is pinged this often, in ms. */
  pingIntervalMs: number;
  /** A link with no frame for this long is dead, in ms. */
  deadAfterMs: number;
  /** How often a SuperPeer dials a remembered address outside its directory, to heal partitions, in ms. */
  probeIntervalMs: number;
}

/**
 * Default timings: a dead or frozen link is noticed within 8–10 s, a refused dial at once. The one place a
 * timing default is set: a `Connection` made without a `Network` (tools, tests) pings and gives up by these too.
 */
export const DEFAULT_TIMINGS: Readonly<NetworkTimings> = {
  connectTimeoutMs: 1000,
  pingIntervalMs: 2000,
  deadAfterMs: 8000,
  probeIntervalMs: 3000,
};

/**
 * A `connect()` (a tool or a test dialling one node, never the overlay, which dials with `connectTimeoutMs`)
 * waits this long for the socket by default, in ms: a person's one dial may cross a slow link, so it gets
 * more than the overlay's dials, which give up fast and try another address.
 */
export const CONNECT_TOOL_TIMEOUT_MS = 5000;

/**
 * A link whose unsent bytes pass this is closed: the far end reads too slowly (a `Connection`'s default
 * `maxQueuedBytes`). Serving stops adding to a link at `SEND_QUEUE_LIMIT` (serve.ts), well below it.
 */
export const LINK_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Messages a link may send us: `burst` at once, then `perSecond` on average (a `Connection`'s token bucket). */
export const LINK_RATE = { burst: 2000, perSecond: 500 } as const;
/** A link closed with `flush` gives its queued frames (a `reject`, a withdrawal) this long to leave, in ms. */
export const LINK_FLUSH_MS = 1000;
/** After a failed accept (out of file descriptors, a reset), the listener waits this long to accept again, in ms. */
export const ACCEPT_RETRY_MS = 100;

/** A `Network`'s numbers once resolved: every timing with its default applied, and the capacity. */
export interface NetworkConfig extends NetworkTimings {
  /** Peers this node serves at most as a SuperPeer (the `maxPeers` option, `--max-peers`). */
  readonly capacity: number;
}

/**
 * Resolves a `Network`'s numbers once, like btcd connmgr's `New`: each absent (or `undefined`: the CLI passes
 * timings it was not told) keeps its default; `maxPeers` is from here on the `capacity`.
 */
export function resolveNetworkConfig(
  given: Partial<NetworkTimings> & { maxPeers?: number },
): Readonly<NetworkConfig> {
  const d = DEFAULT_TIMINGS;
  return Object.freeze({
    connectTimeoutMs: given.connectTimeoutMs ?? d.connectTimeoutMs,
    pingIntervalMs: given.pingIntervalMs ?? d.pingIntervalMs,
    deadAfterMs: given.deadAfterMs ?? d.deadAfterMs,
    probeIntervalMs: given.probeIntervalMs ?? d.probeIntervalMs,
    capacity: given.maxPeers ?? DEFAULT_MAX_PEERS,
  });
}

/**
 * Peers one SuperPeer serves by default (`--max-peers`). Up to this many nodes the network is a star around
 * one SuperPeer; past it, every Peer holds two SuperPeers, so S SuperPeers serve S × 32 / 2 Peers and a
 * 1,000-machine LAN needs about 63 of them, whose mesh keeps any block within 3 SuperPeer hops. A SuperPeer's
 * upload per block grows with its cluster: 32 copies of a full 1 MB block is about 0.3 s of a gigabit link.
 * Gnutella's ultrapeers served about 30 leaves for the same reasons.
 */
export const DEFAULT_MAX_PEERS = 32;

/** SuperPeers form a full mesh while there are at most this many. */
export const MESH_FULL_UP_TO = 12;
/** Past a full mesh, each SuperPeer keeps between these many SuperPeer links (gossipsub's D_lo, D, D_hi). */
export const MESH_DEGREE = { low: 6, target: 8, high: 12 } as const;
/**
 * Past a full mesh, a SuperPeer keeps at least this many mesh links it dialled itself, whatever dialled it
 * (gossipsub v1.1's D_out, Bitcoin Core's outbound links): links others opened to it, Sybils' among them,
 * cannot fill its degree alone. Those are never pruned while it holds no more than this many.
 */
export const MESH_OUTBOUND_MIN = 2;
/**
 * A Peer's SuperPeer whose hello said its chain has less work than this node's tip now, and that sent no block
 * frame within this long of its link, lags or relays nothing: it is replaced (`lagsBehind`), in ms.
 */
export const BEHIND_GRACE_MS = 3_000;
/**
 * A mesh link a SuperPeer chose that sent no block frame, though a block new to it came over the mesh this long
 * after the link opened, no longer counts as its choice (`MESH_OUTBOUND_MIN`), in ms.
 */
export const MESH_RELAY_GRACE_MS = 2_000;

/** Links that have not said hello yet, at most: an honest node says it within milliseconds. */
export const MAX_WAITING_LINKS = 16;
/** Links one non-loopback host (an IPv4 address, an IPv6 /64) may hold open to a node: a LAN machine may run a few nodes. */
export const MAX_LINKS_PER_HOST = 4;
/** After hello, the dialer must say what it wants (`join`, `mesh`, `getaddr`) within this, in ms. */
export const HANDSHAKE_TIMEOUT_MS = 3000;
/** Redirects a SuperPeer follows from a mesh dial: one hop (each redirector names links it holds). */
export const MESH_REDIRECT_DEPTH = 1;
/** Addresses of one redirect a SuperPeer dials for a mesh link, at most. */
export const MESH_REDIRECT_FANOUT = 2;
/** Mesh dials a SuperPeer starts at most, per second on average (`MESH_DIAL_BURST` at once). */
export const MESH_DIAL_RATE = 4;
/** Mesh dials a SuperPeer may start at once, after a quiet spell. */
export const MESH_DIAL_BURST = 16;
/** A SuperPeer dials no address for a mesh link again within this, in ms. */
export const MESH_REDIAL_MS = 5000;
/** Addresses the mesh dial budget remembers at most. */
export const MESH_DIAL_MEMORY = 1024;
/** Redirects a joining node follows in a row before it tries the next address. */
export const MAX_REDIRECTS = 3;
/**
 * A joining node turned away by this many full SuperPeers (distinct proven keys, on distinct hosts where two
 * answered) adds capacity itself (linked to them); so does one that every SuperPeer it reached turned away.
 */
export const TURNED_AWAY_AFTER = 2;
/** A node promotes itself at most once per this many ms: answers (or liars) cannot make it flap, in ms. */
export const SELF_PROMOTE_MIN_MS = 10_000;
/** SuperPeers a full one names as having room, at most: the least loaded it knows. */
export const JOIN_TRY = 3;
/**
 * Addresses of its own book (tracker lines, SuperPeers it greeted) a node weighs beside what others told it:
 * as a Peer's second beside its primary's entries, and as a new SuperPeer's first mesh dials beside the
 * directory it inherited; the best few, so the SuperPeers that told it do not choose for it alone.
 */
export const OWN_BOOK_SAMPLE = 16;
/** A Peer checks what its two SuperPeers delivered and whether they answer this often, in ms. */
export const WATCH_TICK_MS = 250;
/** A Peer pings a SuperPeer of its own that has sent nothing for this long (its own probe), in ms. */
export const PROBE_AFTER_MS = 750;
/**
 * A primary that sent nothing for this long (a probe unanswered for over a second), while the backup was heard
 * within it, is frozen: the Peer swaps them at once rather than waiting for the ping deadline (issue 22).
 */
export const FROZEN_SILENT_MS = 2000;
/** A block one SuperPeer delivered counts against the other if it sent no block within this much, in ms. */
export const DELIVERY_BOUND_MS = 1000;
/** A SuperPeer that missed this many blocks in a row that the other delivered is replaced. */
export const REPLACE_AFTER_MISSES = 2;
/** A Peer that accepted no new block for this long (three 10 s target spacings) tries another SuperPeer, in ms. */
export const STALE_TIP_MS = 30_000;
/** ... and asks at most this many SuperPeers each time (its own book, its directory, then those the answers name). */
export const STALE_TIP_ASKS = 6;
/** ... and, while no new block comes, tries again this often, in ms (a third of `STALE_TIP_MS`). */
export const STALE_TIP_RETRY_MS = STALE_TIP_MS / 3;
/**
 * ... and keeps one that took it only once it delivered a block this node lacked within this, in ms (a claim of
 * more work in its hello starts the download at once, and a LAN delivers the first block in milliseconds).
 */
export const STALE_TRIAL_MS = 3_000;
/** A Peer that found no second SuperPeer waits at most this long before it looks again, in ms. */
export const BACKUP_RETRY_MAX_MS = 30_000;
/**
 * A Peer that has sought its second SuperPeer this long, turned away by every other it could pick while its own
 * primary is full too (every SuperPeer it knows is full), adds capacity itself, in ms: a few rounds of asking
 * (1 + 2 + 4 s of `BACKUP_RETRY_MS` doubling), so a SuperPeer that has just filled may free a place first.
 */
export const SECOND_STALL_MS = 10_000;
/** Dials a joining node runs at once. */
export const JOIN_PARALLEL = 3;
/** A full SuperPeer hands out at most one promotion per this many ms, so a burst does not mint dozens. */
export const PROMOTE_COOLDOWN_MS = 1000;
/** A Peer that lost its only SuperPeer dials at most this many directory entries at once. */
export const FAILOVER_MAX_DIALS = 8;
/** ... and waits at most this long for one of them to take it, in ms. */
export const FAILOVER_WAIT_MS = 1000;
/**
 * A roster successor with no SuperPeer greeted before waits this long for hearsay entries to answer before it
 * promotes itself, in ms: a live SuperPeer on a LAN answers within milliseconds, silent ones never do (issue
 * 19's goal: failover within 1 s with 10,000 poisoned entries).
 */
export const SUCCESSOR_WAIT_MS = 300;
/**
 * A Peer that lost its only SuperPeer walks the roster's successors for `deadAfterMs` plus this, in ms: a
 * successor needs `deadAfterMs` to notice the death itself, and this much more to promote.
 */
export const FAILOVER_ROSTER_EXTRA_MS = 2000;
/** A roster successor that has not noticed the death yet is asked again after about this, in ms. */
export const SUCCESSOR_RETRY_MS = 150;
/** A mesh link closed without a prune: the SuperPeer is asked where it stands after about this, in ms. */
export const MESH_CHECK_DELAY_MS = 300;
/** Timers the overlay sets are spread by this share either way (±30 %), so nodes do not act in step. */
export const JITTER_SHARE = 0.3;
/** A SuperPeer found dead is not chosen again (as a second, or in a failover) for this long, in ms. */
export const DEAD_FORGET_MS = 30_000;
/** A Peer without a second SuperPeer looks for one this often, in ms. */
export const BACKUP_RETRY_MS = 1000;
/** How often a SuperPeer checks its mesh degree, in ms. */
export const MESH_TICK_MS = 1000;

/** Directory gossip: changes are batched per link this often, in ms (past a full mesh, `DIR_GOSSIP_LARGE_MS`). */
export const DIR_GOSSIP_MS = 200;
/** Past a full mesh every change floods all SuperPeers: batched a second at a time, in ms. */
export const DIR_GOSSIP_LARGE_MS = 1000;
/** Past a full mesh, a SuperPeer republishes a changed load at most this often, in ms. */
export const DIR_PUBLISH_MIN_MS = 2000;
/**
 * Past a full mesh, a SuperPeer republishes a load change of at least capacity / this (an eighth), or one that
 * makes room appear or run out.
 */
export const DIR_PUBLISH_STEP = 8;
/** A SuperPeer republishes its own entry at least this often, in ms (and when its load changes). */
export const DIR_HEARTBEAT_MS = 20_000;
/**
 * A heartbeat (an entry whose claims did not change) refreshes the neighbours' copies only; it travels on as
 * news once this long after the version last passed on, so distant SuperPeers keep the entry alive, in ms.
 */
export const DIR_REFRESH_MS = 3 * 60_000;
/**
 * An entry not refreshed for this long is dropped, in ms: a distant entry is refreshed every `DIR_REFRESH_MS`
 * (and a neighbour's by each heartbeat and by its live link); a death seen is dropped at once where seen.
 */
export const DIR_TTL_MS = 8 * 60_000;
/**
 * Past a full mesh, a SuperPeer sends its Peers a fresh sample of the directory (and the withdrawals) this often,
 * in ms: each Peer hears of DIR_PEER_REFRESH more SuperPeers per period from each of its two SuperPeers, and keeps
 * what it heard for DIR_TTL_MS. At 15 s this sample was about a quarter of all directory bytes of a 1,000-node LAN.
 */
export const DIR_MEMBER_REFRESH_MS = 30_000;
/** Entries a directory holds at most (a 10,000-node LAN needs about 630). */
export const DIR_MAX = 4096;
/**
 * Entries a directory holds at most from one source (link): a whole 10,000-node LAN's ~630 fit, one
 * flooding link cannot fill the directory.
 */
export const DIR_MAX_PER_SOURCE = 1024;
/**
 * Directory entries one link may make this node check, at once (a welcome of a 10,000-node LAN's ~630
 * SuperPeers fits) and then per second (every SuperPeer's heartbeat, 630 / 20 s, fits too): past that a link's
 * entries are dropped unread, so a flood costs its sender, not the signature checks of every receiver.
 */
export const DIR_LINK_BUDGET = { burst: 1000, perSecond: 100 } as const;
/**
 * A Peer keeps at most `perCapacity` × its own capacity + `slack` of a SuperPeer's roster: an honest roster is
 * bounded by that SuperPeer's capacity (ours is a fair guess of it), a longer one is a lie not worth memory.
 */
export const ROSTER_BOUND = { perCapacity: 4, slack: 100 } as const;
/**
 * Bytes of directory gossip (entries, digests, wants) one link may make this node read, at once (a welcome of a
 * 10,000-node LAN's ~630 signed entries, ~400 bytes each, fits) and then per second (every SuperPeer's heartbeat
 * digest, 630 / 20 s at ~130 bytes, fits many times): past that the rest is dropped unread and the link scored.
 */
export const DIR_LINK_BYTES = { burst: 512 * 1024, perSecond: 32 * 1024 } as const;
/** Misbehaviour score of a directory message over its link's budget (the tenth bans the host). */
export const DIR_OVER_BUDGET_SCORE = 10;
/** Entries this node has asked for (`iwant`) and not received yet, at most. */
export const DIR_WANT_MAX = 4096;
/** An entry asked for and not received within this is asked again of the next neighbour announcing it, in ms. */
export const DIR_WANT_MS = 2000;
/**
 * Past a full mesh, a Peer is told our own entry and a random sample of this many others when it joins (all of
 * them while SuperPeers are few): enough to choose a second and to fail over, at a cost that does not grow.
 */
export const DIR_PEER_SAMPLE = 16;
/** ... and a fresh sample of this many every `DIR_MEMBER_REFRESH_MS` (its view keeps what was told recently). */
export const DIR_PEER_REFRESH = 2;
/**
 * A directory's summary (`dirsum`, sent when a mesh link forms past a full mesh) splits its entries into at least
 * this many buckets by node id, each summed as a 32-bit hash of what its entries claim: the far end offers a digest of
 * only the buckets that differ, so a link that forms between SuperPeers that agree costs the same whatever the
 * number of SuperPeers. A power of two.
 */
export const DIR_SUM_BUCKETS = 32;
/**
 * ... and at most this many: a summary has about one bucket per two entries, a power of two between
 * `DIR_SUM_BUCKETS` and this (`summaryBuckets`), so a difference in a few entries offers a few entries, not a
 * twentieth of a large directory each (a 10,000-node LAN's ~650 entries: 2 KiB of summary rather than 36 KiB
 * of digest per new mesh link).
 */
export const DIR_SUM_BUCKETS_MAX = 256;
/**
 * A SuperPeer sends its summary on one new mesh link at a time, this far apart, in ms: a node that has just
 * promoted (its directory a sample) is offered what it lacks by its first neighbour, and its later summaries
 * then differ from its other neighbours' in little, so they do not all offer it the whole directory at once.
 */
export const DIR_SYNC_GAP_MS = 300;
/** Entries in one `superpeers` or `members` message at most. */
export const LIST_PAGE = 500;
/** A sequence number further than this ahead of our clock is refused, in ms: it would pin an entry. */
export const DIR_MAX_SEQ_AHEAD_MS = 10 * 60_000;

/**
 * Shrinking: a SuperPeer that served no Peer for this long steps down, in ms (plus up to half again), if it
 * has held its links to `DEMOTE_MIN_OTHERS` other SuperPeers at least this long too.
 */
export const DEMOTE_AFTER_MS = 30_000;
/** An idle SuperPeer steps down only with links of its own to this many other SuperPeers (a Peer needs two). */
export const DEMOTE_MIN_OTHERS = 2;

/** Addresses remembered at most; the tracker file holds the first `TRACKER_MAX`. */
export const ADDRESS_BOOK_MAX = 1000;
/** Addresses written to the tracker file at most. */
export const TRACKER_MAX = 50;
/** The tracker file is rewritten at most this often, in ms. */
export const TRACKER_WRITE_MS = 1000;

/** Mesh eviction never closes this many of the oldest mesh links (proven neighbours of long standing). */
export const MESH_PROTECT_OLDEST = 4;
/** Eviction protects this many members each by recent blocks, recent transactions and lowest ping. */
export const EVICTION_PROTECT = { blocks: 4, txs: 4, ping: 8 } as const;

/**
 * A joining node waits at most this long for SuperPeers found on the LAN to take it, in ms: one on the LAN
 * answers within milliseconds, and a forged answer naming a dead or silent address must not hold anyone up.
 * One that is slower is met again by this node's own beacons once it is a SuperPeer.
 */
export const FOUND_WAIT_MS = 1000;

// ---- LAN discovery (`discovery.ts`, `beacon.ts`) ----

/** Bytes a beacon may have at most; longer datagrams are dropped unread. */
export const MAX_BEACON_BYTES = 160;
/** With nobody answering, a search ends after this, in ms. */
export const FIND_WINDOW_MS = 600;
/** After the first answer a search waits this much longer for the others, in ms. */
export const FIND_GRACE_MS = 120;
/** A query is sent again this long after the first while nobody answered (a datagram may be lost), in ms. */
export const QUERY_REPEAT_MS = 200;
/** A search within this long of the last one reuses its answers instead of sending again, in ms. */
export const MIN_QUERY_GAP_MS = 1000;
/**
 * Addresses a search returns at most: one per answering host, drawn at random when more answered, so a host
 * with many source addresses cannot push the honest answers out by answering first.
 */
export const MAX_FOUND = 16;
/** Datagrams a search reads at most; the rest of a flood is dropped unread. */
export const MAX_DATAGRAMS_PER_FIND = 64;
/** Broadcast addresses (subnets) a query goes to at most. */
export const BEACON_MAX_TARGETS = 8;
/** A SuperPeer's answer budget counts in windows of this, in ms (the budgets below are per window). */
export const ANSWER_WINDOW_MS = 1000;
/** Answers a SuperPeer gives one source per second at most. */
export const ANSWERS_PER_SOURCE = 3;
/** Answers a SuperPeer gives per second at most, all sources together. */
export const ANSWERS_PER_SECOND = 64;
/** Sources a SuperPeer counts per second at most; further ones wait for the next second. */
export const ANSWER_SOURCES_COUNTED = 1024;
/** A new SuperPeer looks for others this long after it became one (then twice as long each time), in ms. */
export const SERVE_FIRST_QUERY_MS = 300;
/** ... up to this interval, in ms. */
export const SERVE_MAX_QUERY_MS = 60_000;
/** A SuperPeer's searches are spread by this share either way (±50 %), so SuperPeers do not search in step. */
export const SEARCH_JITTER_SHARE = 0.5;
/** How often the serving side checks whether this node is a SuperPeer (no traffic), in ms. */
export const SERVE_POLL_MS = 250;
/** The own queries remembered, so a SuperPeer does not answer itself. */
export const OWN_NONCES_KEPT = 8;
/** This machine's interfaces (its subnets and own addresses) are read again at most this often, in ms. */
export const INTERFACES_REREAD_MS = 10_000;
