/**
 * LAN discovery without a single broadcast: the beacon codec, the broadcast-address derivation, the answer
 * budget and the choice of addresses as pure functions; the sockets over 127.0.0.1 with unicast targets only;
 * and the network's use of a discoverer (asked only when nothing remembered took us, found addresses dialled
 * at once, a silent one holding nobody up, a SuperPeer linking to the SuperPeers it finds) with a fake one.
 * The real broadcasts run in network namespaces only, in `net_lan_test.ts`.
 */
import { generateIdentity } from "../lib/net/identity.ts";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { fc } from "./support/test_deps.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import {
  AnswerLimiter,
  type Beacon,
  decodeBeacon,
  encodeBeacon,
  foundAddresses,
  type InterfaceAddress,
  isNeighbour,
  localSubnets,
} from "../lib/net/beacon.ts";
import {
  ANSWERS_PER_SECOND,
  ANSWERS_PER_SOURCE,
  MAX_BEACON_BYTES,
  MAX_FOUND,
  SERVE_FIRST_QUERY_MS,
  SERVE_MAX_QUERY_MS,
} from "../lib/net/config.ts";
import { type DiscoverHost, LanDiscovery, nextSearchInterval } from "../lib/net/discovery.ts";
import type { LedgerPort } from "../lib/net/ledger_port.ts";
import { Network } from "../lib/net/network.ts";
import type { TrackerFile } from "../lib/net/tracker.ts";
import { formatHostPort, parseHostPort } from "../lib/net/messages.ts";
import { tcpTransport } from "../lib/net/transport.ts";
import { seededRandom } from "./support/random.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { idOf } from "../lib/node/compact.ts";

/** Waits in one process: polled every 20 ms, the deadline as given (nothing here waits on another process). */
const IN_PROCESS = { everyMs: 20, atLeastMs: 0 };

const GENESIS = NETWORKS.regtest.genesisHash;
const OTHER_GENESIS = "ab".repeat(32);
const NONCE = "0123456789abcdef";
const enc = (s: string) => new TextEncoder().encode(s);

// ---- the codec ----

Deno.test("beacon codec: queries and answers round-trip in one short ASCII line", () => {
  const q: Beacon = { kind: "query", network: "regtest", genesis: GENESIS, nonce: NONCE };
  const a: Beacon = { kind: "answer", network: "main", genesis: GENESIS, nonce: NONCE, port: 65535 };
  for (const b of [q, a]) {
    const bytes = encodeBeacon(b);
    assert.ok(bytes.length <= MAX_BEACON_BYTES, `${bytes.length} bytes`);
    assert.deepEqual(decodeBeacon(bytes), b);
  }
  assert.equal(new TextDecoder().decode(encodeBeacon(q)), `PCD1 Q regtest ${GENESIS} ${NONCE}`);
});

Deno.test("beacon codec: malformed, oversized and non-ASCII datagrams are refused, never thrown", () => {
  const q = `PCD1 Q regtest ${GENESIS} ${NONCE}`;
  const bad = [
    "",
    "PCD1",
    q.replace("PCD1", "PCD2"),
    q.replace(" Q ", " X "),
    q + " 8765", // a query with a port
    `PCD1 A regtest ${GENESIS} ${NONCE}`, // an answer without one
    `PCD1 A regtest ${GENESIS} ${NONCE} 0`,
    `PCD1 A regtest ${GENESIS} ${NONCE} 65536`,
    `PCD1 A regtest ${GENESIS} ${NONCE} 08765`,
    `PCD1 A regtest ${GENESIS} ${NONCE} 87a`,
    `PCD1 A regtest ${GENESIS} ${NONCE} 8765 extra`,
    q.replace(GENESIS, GENESIS.toUpperCase()),
    q.replace(GENESIS, GENESIS.slice(2)),
    q.replace(NONCE, NONCE.slice(1)),
    q.replace("regtest", "Regtest"),
    q.replace("regtest", "x".repeat(17)),
    q.replace(" regtest ", "  regtest "), // two spaces
    q + "\n",
    q.replace("regtest", "regtést"),
  ];
  for (const text of bad) assert.equal(decodeBeacon(enc(text)), undefined, JSON.stringify(text));
  assert.equal(decodeBeacon(new Uint8Array([0x50, 0x43, 0x44, 0x31, 0x00])), undefined);
  // Oversized: dropped before a byte is read (every valid beacon is far shorter).
  const long = enc(`PCD1 Q regtest ${GENESIS} ${NONCE}`.padEnd(MAX_BEACON_BYTES + 1, " "));
  assert.equal(decodeBeacon(long), undefined);
  assert.equal(decodeBeacon(new Uint8Array(65_000).fill(0x41)), undefined);
  // Any bytes at all: an answer or undefined, never an exception.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const b = decodeBeacon(bytes);
      return b === undefined || (b.kind === "query" || b.kind === "answer");
    }),
    { seed: 14, numRuns: 2000 },
  );
  // Mutations of a valid beacon: each decodes to a beacon with valid fields, or to nothing.
  fc.assert(
    fc.property(fc.nat(120), fc.integer({ min: 0, max: 255 }), (i, byte) => {
      const bytes = enc(`PCD1 A regtest ${GENESIS} ${NONCE} 8765`);
      bytes[i % bytes.length] = byte;
      const b = decodeBeacon(bytes);
      return b === undefined ||
        (/^[0-9a-f]{64}$/.test(b.genesis) && (b.kind === "query" || (b.port >= 1 && b.port <= 65535)));
    }),
    { seed: 15, numRuns: 2000 },
  );
});

// ---- where queries go, and who is answered ----

const iface = (address: string, netmask: string, family = "IPv4"): InterfaceAddress => ({
  family,
  address,
  netmask,
});

Deno.test("broadcast addresses come from the netmasks: never loopback, /31, /32, under /8, a broken mask, or 255.255.255.255", () => {
  const subnets = localSubnets([
    iface("127.0.0.1", "255.0.0.0"),
    iface("192.168.1.23", "255.255.255.0"),
    iface("10.200.7.3", "255.255.0.0"),
    iface("10.1.2.3", "255.0.0.0"),
    iface("172.16.5.5", "255.255.255.252"), // /30: a broadcast of its own
    iface("172.16.9.1", "255.255.255.254"), // /31: point to point
    iface("172.16.9.9", "255.255.255.255"), // /32
    iface("44.1.2.3", "254.0.0.0"), // /7: too wide
    iface("44.1.2.3", "0.0.0.0"),
    iface("192.168.2.1", "255.0.255.0"), // not contiguous
    iface("192.168.3.1", "255.255.255.0"),
    iface("192.168.3.2", "255.255.255.0"), // a second address on the same subnet: one broadcast
    iface("192.168.4.0", "255.255.255.0"), // the network's own number
    iface("fe80::1", "ffff:ffff:ffff:ffff::", "IPv6"),
    iface("not.an.ip.addr", "255.255.255.0"),
    iface("192.168.5.1", "255.255.256.0"),
  ]);
  assert.deepEqual(subnets.map((s) => s.broadcast), [
    "192.168.1.255",
    "10.200.255.255",
    "10.255.255.255",
    "172.16.5.7",
    "192.168.3.255",
  ]);
  assert.ok(!subnets.some((s) => s.broadcast === "255.255.255.255"));
  // At most 8 subnets, however many interfaces.
  const many = Array.from({ length: 20 }, (_, i) => iface(`10.${i}.0.1`, "255.255.255.0"));
  assert.equal(localSubnets(many).length, 8);
  assert.deepEqual(localSubnets([]), []);
});

Deno.test("a SuperPeer answers only neighbours: sources on its subnets, or its own addresses", () => {
  const subnets = localSubnets([iface("192.168.1.23", "255.255.255.0"), iface("10.200.7.3", "255.255.0.0")]);
  const own = new Set(["127.0.0.1", "192.168.1.23"]);
  for (const ip of ["192.168.1.1", "192.168.1.254", "10.200.0.9", "10.200.255.1", "127.0.0.1"]) {
    assert.ok(isNeighbour(ip, subnets, own), ip);
  }
  for (const ip of ["192.168.2.1", "10.201.0.1", "8.8.8.8", "127.0.0.2", "::1", "garbage"]) {
    assert.ok(!isNeighbour(ip, subnets, own), ip);
  }
});

Deno.test("answer budget: a few a second per source, a cap in all and on sources counted; the next second starts afresh", () => {
  const l = new AnswerLimiter();
  const t = 5_000;
  for (let i = 0; i < ANSWERS_PER_SOURCE; i++) assert.ok(l.allow("10.0.0.1", t + i));
  assert.ok(!l.allow("10.0.0.1", t + 10), "a flood from one source is ignored");
  assert.ok(l.allow("10.0.0.2", t + 10), "another source is still answered");
  assert.ok(!l.allow("10.0.0.1", t + 999));
  assert.ok(l.allow("10.0.0.1", t + 1000), "a new second");
  // All sources together.
  const all = new AnswerLimiter();
  let given = 0;
  for (let i = 0; i < 1000; i++) if (all.allow(`10.0.${i >> 8}.${i & 255}`, t)) given++;
  assert.equal(given, ANSWERS_PER_SECOND);
  // Sources counted: a flood of forged sources does not grow the table past its bound.
  const few = new AnswerLimiter(3, 1000, 4);
  for (let i = 0; i < 4; i++) assert.ok(few.allow(`s${i}`, t));
  assert.ok(!few.allow("s4", t), "a fifth source waits for the next second");
  assert.ok(few.allow("s0", t), "a counted source still has its budget");
  assert.ok(few.allow("s4", t + 1000));
  // A clock that went back starts a new window rather than silencing everyone.
  assert.ok(l.allow("10.0.0.9", 10));
});

Deno.test("found addresses: the answer's sender with the port it named, one per host, a random 16 of many", () => {
  assert.deepEqual(
    foundAddresses([
      { source: "10.0.0.1", port: 18765 },
      { source: "10.0.0.1", port: 9999 }, // a second answer from the same host
      { source: "10.0.0.2", port: 18766 },
      { source: "::1", port: 1 },
    ], () => 0),
    ["10.0.0.1:18765", "10.0.0.2:18766"],
  );
  const many = Array.from({ length: 60 }, (_, i) => ({ source: `10.0.1.${i}`, port: 18765 }));
  const random = seededRandom(7);
  const picks = new Set<string>();
  for (let run = 0; run < 20; run++) {
    const f = foundAddresses(many, random);
    assert.equal(f.length, MAX_FOUND);
    assert.equal(new Set(f).size, MAX_FOUND);
    for (const a of f) picks.add(a);
  }
  assert.ok(picks.size > 40, `the sample is drawn from all answers, not the first ones (${picks.size})`);
});

Deno.test("a SuperPeer's own searches back off: twice the interval each time, from 300 ms to a minute", () => {
  const seen = [SERVE_FIRST_QUERY_MS];
  while (seen.length < 12) seen.push(nextSearchInterval(seen.at(-1)!));
  assert.deepEqual(seen.slice(0, 5), [300, 600, 1200, 2400, 4800]);
  assert.equal(seen.at(-1), SERVE_MAX_QUERY_MS);
  assert.equal(SERVE_MAX_QUERY_MS, 60_000);
});

// ---- the sockets, over 127.0.0.1 and unicast only ----

const LOOPBACK_ONLY = () => [iface("127.0.0.1", "255.0.0.0")];

/** A free UDP port on 127.0.0.1 (released before returning). */
async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A discoverer on 127.0.0.1 whose queries go to 127.0.0.1:`port` (never a broadcast address). */
function local(port: number, enabled = true, genesis = GENESIS): LanDiscovery {
  return new LanDiscovery({
    network: "regtest",
    genesis,
    port,
    enabled,
    interfaces: LOOPBACK_ONLY,
    targets: ["127.0.0.1"],
    bindHost: "127.0.0.1",
  });
}

/** A node behind a discoverer: a SuperPeer listening at `listen`, or a Peer (undefined); records what it was handed. */
function host(listen: string | undefined): DiscoverHost & { handed: string[][] } {
  const handed: string[][] = [];
  return { listen: () => listen, found: (a) => void handed.push(a), handed };
}

/** A raw UDP socket on 127.0.0.1 that records what it receives and can answer. */
async function rawSocket(port = 0): Promise<{
  socket: dgram.Socket;
  port: number;
  got: { bytes: Uint8Array; from: number }[];
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  const got: { bytes: Uint8Array; from: number }[] = [];
  socket.on(
    "message",
    (m: Uint8Array, r: dgram.RemoteInfo) => got.push({ bytes: new Uint8Array(m), from: r.port }),
  );
  await new Promise<void>((r) => socket.bind(port, "127.0.0.1", () => r()));
  return {
    socket,
    port: socket.address().port,
    got,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

const send = (s: dgram.Socket, bytes: Uint8Array, port: number) =>
  new Promise<void>((r) => s.send(bytes, port, "127.0.0.1", () => r()));

Deno.test("over 127.0.0.1: a SuperPeer answers a matching query with its port; the searcher dials the sender's address", async () => {
  const port = await freeUdpPort();
  const sp = local(port), seeker = local(port);
  try {
    sp.serve(host("127.0.0.1:40123"));
    await sleep(50); // bound
    assert.deepEqual(await seeker.find(), ["127.0.0.1:40123"]);
  } finally {
    sp.close();
    seeker.close();
  }
});

Deno.test("over 127.0.0.1: queries for another network or genesis get no answer; answers for another genesis or another query are ignored", async () => {
  const port = await freeUdpPort();
  const sp = local(port);
  const probe = await rawSocket();
  try {
    sp.serve(host("127.0.0.1:40123"));
    await sleep(50);
    const ask = (network: string, genesis: string) =>
      send(probe.socket, encodeBeacon({ kind: "query", network, genesis, nonce: NONCE }), port);
    await ask("regtest", OTHER_GENESIS);
    await ask("main", GENESIS);
    await send(probe.socket, enc("PCD1 Q regtest"), port);
    await sleep(150);
    assert.equal(probe.got.length, 0, "no answer to a query that does not match");
    await ask("regtest", GENESIS);
    await waitFor(() => probe.got.length === 1, 2000, "the matching query's answer", IN_PROCESS);
    assert.deepEqual(decodeBeacon(probe.got[0].bytes), {
      kind: "answer",
      network: "regtest",
      genesis: GENESIS,
      nonce: NONCE,
      port: 40123,
    });
  } finally {
    sp.close();
    await probe.close();
  }
  // The other way: a liar answers every query, for another genesis, with another nonce, or oversized.
  const liarPort = await freeUdpPort();
  const liar = await rawSocket(liarPort);
  liar.socket.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    const q = decodeBeacon(new Uint8Array(m));
    if (q?.kind !== "query") return;
    const answers = [
      encodeBeacon({ ...q, kind: "answer", genesis: OTHER_GENESIS, port: 1111 }),
      encodeBeacon({ ...q, kind: "answer", network: "main", port: 2222 }),
      encodeBeacon({ ...q, kind: "answer", nonce: "f".repeat(16), port: 3333 }),
      enc(`PCD1 A regtest ${GENESIS} ${q.nonce} 4444`.padEnd(MAX_BEACON_BYTES + 1, " ")),
      encodeBeacon({ ...q, kind: "query" }),
    ];
    for (const a of answers) liar.socket.send(a, r.port, r.address);
  });
  const seeker = local(liarPort);
  try {
    assert.deepEqual(await seeker.find(), [], "nothing that does not match is offered");
    assert.ok(liar.got.length >= 1, "the liar did hear the query");
  } finally {
    seeker.close();
    await liar.close();
  }
});

Deno.test("over 127.0.0.1: a flood of queries from one source gets at most a few answers a second", async () => {
  const port = await freeUdpPort();
  // The SuperPeer's clock stands still: all 50 queries fall in one budget second however slowly they are
  // handled, so more than ANSWERS_PER_SOURCE answers is impossible unless the rule is broken. The test waits
  // for the answers that must come (a condition), then gives the others time to show up: a slow machine can
  // only hide a broken rule here, never fail a sound one.
  const sp = new LanDiscovery({
    network: "regtest",
    genesis: GENESIS,
    port,
    enabled: true,
    interfaces: LOOPBACK_ONLY,
    targets: ["127.0.0.1"],
    bindHost: "127.0.0.1",
    now: () => 0,
  });
  const probe = await rawSocket();
  try {
    sp.serve(host("127.0.0.1:40123"));
    await sleep(50);
    const q = encodeBeacon({ kind: "query", network: "regtest", genesis: GENESIS, nonce: NONCE });
    for (let i = 0; i < 50; i++) await send(probe.socket, q, port);
    await waitFor(
      () => probe.got.length >= ANSWERS_PER_SOURCE,
      10_000,
      "the answers within budget",
      IN_PROCESS,
    );
    await sleep(300);
    assert.equal(probe.got.length, ANSWERS_PER_SOURCE);
  } finally {
    sp.close();
    await probe.close();
  }
});

Deno.test("over 127.0.0.1: off means nothing bound or sent; a Peer does not answer, nor a SuperPeer its own query", async () => {
  const port = await freeUdpPort();
  // Off: the port stays free (an exclusive bind succeeds), and a search finds nothing and sends nothing.
  const off = local(port, false);
  const fake = await rawSocket(port);
  try {
    off.serve(host("127.0.0.1:40123"));
    await sleep(50);
    assert.deepEqual(await off.find(), []);
    await sleep(50);
    assert.equal(fake.got.length, 0, "a discoverer that is off sent nothing");
  } finally {
    off.close();
    await fake.close();
  }
  const exclusive = dgram.createSocket("udp4");
  await new Promise<void>((r, j) => {
    exclusive.once("error", j);
    exclusive.bind(port, "127.0.0.1", () => r());
  });
  await new Promise<void>((r) => exclusive.close(() => r()));

  // A Peer (no listen address) stays silent; a SuperPeer does not answer itself.
  const peer = local(port), sp = local(port);
  try {
    peer.serve(host(undefined));
    sp.serve(host("127.0.0.1:40123"));
    await sleep(50);
    assert.deepEqual(await sp.find(), [], "neither the Peer nor the SuperPeer itself answered");
  } finally {
    peer.close();
    sp.close();
  }
});

/** A fake SuperPeer on 127.0.0.1:`port` that answers every query with port 40777 and counts them. */
async function answeringFake(port: number) {
  const fake = await rawSocket(port);
  fake.socket.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    const q = decodeBeacon(new Uint8Array(m));
    if (q?.kind !== "query") return;
    fake.socket.send(encodeBeacon({ ...q, kind: "answer", port: 40777 }), r.port, r.address);
  });
  return fake;
}

Deno.test("over 127.0.0.1: searches within a second of each other send one query", async () => {
  const port = await freeUdpPort();
  const fake = await answeringFake(port);
  const seeker = local(port);
  try {
    const [a, b] = await Promise.all([seeker.find(), seeker.find()]);
    const c = await seeker.find();
    // Searches, told apart by their nonce: a search repeats its datagram when no answer came within 200 ms,
    // which a busy machine can make happen; a datagram count would depend on it.
    const searches = () => new Set(fake.got.map((g) => decodeBeacon(g.bytes)?.nonce)).size;
    assert.deepEqual([a, b, c], [["127.0.0.1:40777"], ["127.0.0.1:40777"], ["127.0.0.1:40777"]]);
    assert.equal(searches(), 1, "one search for three finds");
    await sleep(1000);
    assert.deepEqual(await seeker.find(), ["127.0.0.1:40777"]);
    assert.equal(searches(), 2, "a second later, a new search");
  } finally {
    seeker.close();
    await fake.close();
  }
});

Deno.test("over 127.0.0.1: a SuperPeer searches by itself, soon and then less often, and hands over what it found", async () => {
  const port = await freeUdpPort();
  const sp = local(port);
  const h = host("127.0.0.1:40123");
  sp.serve(h);
  await sleep(50);
  // Bound after the SuperPeer's own socket, the fake gets the unicast queries (on a LAN they are broadcasts).
  const fake = await answeringFake(port);
  // When each search's first query arrived (a search repeats its query if no answer came within 200 ms).
  const firstOf = new Map<string, number>();
  fake.socket.on("message", (m: Uint8Array) => {
    const q = decodeBeacon(new Uint8Array(m));
    if (q?.kind === "query" && !firstOf.has(q.nonce)) firstOf.set(q.nonce, performance.now());
  });
  try {
    await waitFor(() => h.handed.length > 0, 3000, "the SuperPeer's own search", IN_PROCESS);
    assert.deepEqual(h.handed[0], ["127.0.0.1:40777"]);
    // Conditions, not a count in a time window: three searches come, and no two of them less than the
    // 1 s apart every search keeps from the last (a lower bound, which a busy machine only widens; 100 ms
    // allowed for the two arrivals). The back-off's intervals are the pure nextSearchInterval's, tested above.
    await waitFor(() => firstOf.size >= 3, 20_000, "three searches", IN_PROCESS);
    const at = [...firstOf.values()];
    for (let i = 1; i < at.length; i++) {
      assert.ok(
        at[i] - at[i - 1] >= 900,
        `searches ${i} and ${i + 1} ${Math.round(at[i] - at[i - 1])} ms apart`,
      );
    }
  } finally {
    sp.close();
    await fake.close();
  }
});

// ---- the network's use of a discoverer (a fake one; real TCP on 127.0.0.1) ----

function stubLedger(): LedgerPort {
  return {
    network: "regtest",
    genesis: GENESIS,
    walletAddress: "pc1qtest",
    tip: () => ({ hash: GENESIS, height: 0, work: 1n }),
    locator: () => [GENESIS],
    hashesAfter: () => [],
    blockBytes: () => undefined,
    txBytes: () => undefined,
    has: () => false,
    receiveBlock: () => Promise.resolve({ kind: "known", id: "" }),
    receiveTx: () => Promise.resolve({ kind: "known", id: "" }),
    pendingTxids: () => [],
    idOf,
  };
}

function memoryTracker(addrs: string[] = []): TrackerFile {
  return {
    read: () => Promise.resolve({ addrs: addrs.map((a) => parseHostPort(a)), warnings: [] }),
    write: () => Promise.resolve(),
  };
}

interface FakeDiscover {
  calls: number;
  host?: DiscoverHost;
  find(): Promise<string[]>;
  serve(h: DiscoverHost): void;
}

function fakeDiscover(found: () => string[]): FakeDiscover {
  const d: FakeDiscover = {
    calls: 0,
    find: () => {
      d.calls++;
      return Promise.resolve(found());
    },
    serve: (h) => d.host = h,
  };
  return d;
}

/** A network on 127.0.0.1 with a fresh key; `_name` only labels the call site. */
async function startNet(_name: string, tracker: string[], discover?: FakeDiscover): Promise<Network> {
  const net = new Network(stubLedger(), {
    identity: await generateIdentity(),
    bind: { hostname: "127.0.0.1", port: 0 },
    tracker: memoryTracker(tracker),
    discover,
  });
  await net.start();
  return net;
}

/** A TCP listener that accepts and never says a word; counts what it accepted and what is still open. */
function tarpit(): { addr: string; accepted: number; open: number; close(): void } {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const t = {
    addr: `127.0.0.1:${(l.addr as Deno.NetAddr).port}`,
    accepted: 0,
    open: 0,
    close: () => {
      l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* gone */ }
      }
    },
  };
  (async () => {
    for await (const c of l) {
      conns.push(c);
      t.accepted++;
      t.open++;
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          while (await c.read(buf) !== null) { /* say nothing */ }
        } catch { /* closed */ }
        t.open--;
      })();
    }
  })().catch(() => {});
  return t;
}

Deno.test("network: the discoverer is asked only when nothing remembered took us; what it found is joined as usual", async () => {
  const nets: Network[] = [];
  try {
    const sp = await startNet("sp", []);
    nets.push(sp);
    assert.equal(sp.role, "superpeer");
    // Remembered and alive: no search.
    const known = fakeDiscover(() => [sp.listen]);
    nets.push(await startNet("known", [sp.listen], known));
    assert.equal(nets[1].primary?.listen, sp.listen);
    assert.equal(known.calls, 0, "a node whose tracker answered did not search");
    // Nothing remembered: one search, and the SuperPeer it found takes it.
    const fresh = fakeDiscover(() => [sp.listen]);
    nets.push(await startNet("fresh", [], fresh));
    assert.equal(fresh.calls, 1);
    assert.equal(nets[2].role, "peer");
    assert.equal(nets[2].primary?.listen, sp.listen);
    // A dead tracker line, then the search.
    const dead = fakeDiscover(() => [sp.listen]);
    nets.push(await startNet("dead-tracker", ["127.0.0.1:1"], dead));
    assert.equal(dead.calls, 1);
    assert.equal(nets[3].primary?.listen, sp.listen);
    // Nobody answers the search either: it promotes itself, as without discovery.
    const none = fakeDiscover(() => []);
    nets.push(await startNet("alone", [], none));
    assert.equal(none.calls, 1);
    assert.equal(nets[4].role, "superpeer");
    // While a SuperPeer, the discoverer may answer with its address; a Peer's says nothing.
    assert.equal(none.host?.listen(), nets[4].listen);
    assert.equal(fresh.host?.listen(), undefined);
  } finally {
    for (const n of nets.reverse()) await n.stop();
  }
});

Deno.test("network: a found address that accepts and stays silent holds up neither a join nor a promotion", async () => {
  const nets: Network[] = [];
  const pit = tarpit();
  try {
    const sp = await startNet("sp", []);
    nets.push(sp);
    // The silent address comes first, the SuperPeer second: the SuperPeer's welcome ends the wait.
    const d = fakeDiscover(() => [pit.addr, sp.listen]);
    nets.push(await startNet("joiner", [], d));
    assert.equal(nets[1].primary?.listen, sp.listen);
    assert.equal(pit.accepted, 1, "the silent address was dialled alongside");
    await sleep(200);
    assert.equal(pit.open, 1, "the join did not wait for the silent address to time out");
    // The same from the tracker file (no found-wait there): the first welcome ends the wait too.
    const pit3 = tarpit();
    try {
      nets.push(await startNet("tracker-joiner", [pit3.addr, sp.listen]));
      assert.equal(nets.at(-1)!.primary?.listen, sp.listen);
      await sleep(200);
      // Every dial of the silent line is still open (none was waited out; seeking a backup may dial it again).
      assert.ok(pit3.accepted >= 1, "the silent tracker line was dialled");
      assert.equal(
        pit3.open,
        pit3.accepted,
        `the join from the tracker waited for its silent line (open ${pit3.open} of ${pit3.accepted})`,
      );
    } finally {
      pit3.close();
    }
    // Only silent addresses: the node promotes itself after the found-wait, not after the handshake timeout.
    const pit2 = tarpit();
    try {
      const lonely = fakeDiscover(() => [pit2.addr]);
      const alone = new Network(stubLedger(), {
        identity: await generateIdentity(),
        bind: { hostname: "127.0.0.1", port: 0 },
        tracker: memoryTracker(),
        discover: lonely,
      });
      nets.push(alone);
      await alone.start();
      assert.equal(alone.role, "superpeer");
      await sleep(200); // a dial given up on would be closed by now
      assert.equal(pit2.open, 1, "promoted while the silent dial still hung");
    } finally {
      pit2.close();
    }
  } finally {
    for (const n of nets.reverse()) await n.stop();
    pit.close();
  }
});

Deno.test("network: a SuperPeer links to the SuperPeers its discoverer finds, greets one that only dialled it, and dials nothing it greeted", async () => {
  const nets: Network[] = [];
  const dials = new Map<string, number>(), trackers = new Map<string, string[]>();
  /** A SuperPeer alone, whose dials and tracker writes are counted. */
  const start = async (name: string, d: FakeDiscover) => {
    const net = new Network(stubLedger(), {
      identity: await generateIdentity(),
      bind: { hostname: "127.0.0.1", port: 0 },
      tracker: {
        read: () => Promise.resolve({ addrs: [], warnings: [] }),
        write: (addrs) => Promise.resolve(void trackers.set(name, addrs.map(formatHostPort))),
      },
      transport: {
        listen: (a) => tcpTransport.listen(a),
        dial: (a, ms) => {
          dials.set(name, (dials.get(name) ?? 0) + 1);
          return tcpTransport.dial(a, ms);
        },
      },
      discover: d,
    });
    nets.push(net);
    await net.start();
    return net;
  };
  try {
    const da = fakeDiscover(() => []), db = fakeDiscover(() => []);
    const a = await start("a", da), b = await start("b", db);
    assert.equal(a.role, "superpeer");
    assert.equal(b.role, "superpeer");
    // Each signs its own entry as it becomes a SuperPeer (a moment later, with real keys).
    await waitFor(
      () => a.directory().length > 0 && b.directory().length > 0,
      5000,
      "their own entries",
      IN_PROCESS,
    );
    assert.deepEqual(
      a.directory().map((e) => e.nodeId),
      [a.nodeId],
      "two SuperPeers that started at once do not know each other",
    );
    db.host!.found([b.listen, a.listen]); // its own address is skipped
    await waitFor(
      () =>
        a.superpeers.some((p) => p.listen === b.listen) && b.superpeers.some((p) => p.listen === a.listen),
      5000,
      "a mesh link between the two",
      IN_PROCESS,
    );
    await waitFor(
      () => a.directory().length === 2 && b.directory().length === 2,
      5000,
      "both directories",
      IN_PROCESS,
    );
    assert.equal(a.networkSize, 2);
    assert.equal(dials.get("b"), 1);
    // A found b too, which it knows only because b dialled it: it dials b once, and so may name it.
    const before = dials.get("a") ?? 0;
    da.host!.found([b.listen]);
    await waitFor(
      () => (trackers.get("a") ?? []).includes(b.listen),
      5000,
      "a's tracker file to name b",
      IN_PROCESS,
    );
    assert.equal(dials.get("a"), before + 1);
    await waitFor(
      () => a.linkCount === 1 && b.linkCount === 1,
      5000,
      "the duplicate mesh link dropped",
      IN_PROCESS,
    );
    // Found again by their next searches: both greeted the other and still know it, so nothing is dialled.
    da.host!.found([b.listen]);
    db.host!.found([a.listen]);
    await sleep(300);
    assert.equal(dials.get("a"), before + 1);
    assert.equal(dials.get("b"), 1);
    assert.equal(a.linkCount, 1);
  } finally {
    for (const n of nets.reverse()) await n.stop();
  }
});

Deno.test("network: found at the person's request, a SuperPeer serving nobody joins as a Peer; one serving Peers links instead", async () => {
  const nets: Network[] = [];
  try {
    const sp = await startNet("sp", []);
    const lone = await startNet("lone", []);
    nets.push(sp, lone);
    assert.equal(lone.role, "superpeer");
    await lone.joinFound([sp.listen]);
    assert.equal(lone.role, "peer");
    assert.equal(lone.primary?.listen, sp.listen, "it joined the SuperPeer found");
    // A SuperPeer with a Peer of its own keeps it and links to what was found.
    const busy = await startNet("busy", []);
    nets.push(busy);
    nets.push(await startNet("member", [busy.listen]));
    assert.equal(nets.at(-1)!.primary?.listen, busy.listen);
    await busy.joinFound([sp.listen]);
    assert.equal(busy.role, "superpeer");
    await waitFor(
      () => busy.superpeers.some((p) => p.listen === sp.listen),
      5000,
      "a mesh link to the one found",
      IN_PROCESS,
    );
    assert.equal(nets.at(-1)!.primary?.listen, busy.listen, "its Peer stayed");
  } finally {
    for (const n of nets.reverse()) await n.stop();
  }
});
