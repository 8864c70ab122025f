import assert from "node:assert/strict";
import { fc } from "./support/test_deps.ts";
import { DIR_SUM_BUCKETS, DIR_SUM_BUCKETS_MAX } from "../lib/net/config.ts";
import {
  AddressFormatError,
  formatHostPort,
  MAX_BLOCKTXN,
  MAX_DATA_BYTES,
  MAX_HASHES,
  MAX_TX_DATA_BYTES,
  type Message,
  MessageError,
  parseHostPort,
  parseMessage,
  PROTOCOL_VERSION,
} from "../lib/net/messages.ts";

const H = "0f".repeat(32);
const H2 = "a1".repeat(32);

/** One valid example per message type. */
const VALID: Record<Message["type"], Record<string, unknown>> = {
  hello: {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    network: "regtest",
    genesis: H,
    nodeId: "node-1",
    listen: "127.0.0.1:8333",
    address: "pc1qexampleaddress",
    tip: { hash: H2, height: 0, work: "0100000001" },
    role: "superpeer",
    nonce: "ab".repeat(32),
  },
  proof: { type: "proof", signature: "cd".repeat(64) },
  reject: { type: "reject", code: "network", reason: "wrong genesis" },
  ping: { type: "ping", nonce: 123 },
  pong: { type: "pong", nonce: 0 },
  join: { type: "join", primary: true },
  mesh: { type: "mesh" },
  getaddr: { type: "getaddr" },
  welcome: {
    type: "welcome",
    superpeers: [{ nodeId: "a", listen: "[::1]:9000", peers: 3, load: 5, capacity: 32, seq: 17 }],
    members: [{ nodeId: "b", listen: "h.local:1" }],
  },
  full: { type: "full", try: ["10.0.0.2:8765"], promote: false },
  redirect: { type: "redirect", to: ["10.0.0.2:8765", "[fe80::1]:8765"] },
  superpeers: {
    type: "superpeers",
    add: [{ nodeId: "a", listen: "h.local:1", peers: 0, load: 0, capacity: 1, seq: 0 }],
    remove: [{ nodeId: "c", seq: 99 }],
  },
  ihave: { type: "ihave", entries: [{ nodeId: "a", seq: 17 }, { nodeId: "b", seq: 0 }] },
  iwant: { type: "iwant", ids: ["a", "b"] },
  dirsum: { type: "dirsum", buckets: "0123abcd".repeat(DIR_SUM_BUCKETS) },
  members: { type: "members", add: [{ nodeId: "b", listen: "h.local:1" }], remove: ["c"] },
  primary: { type: "primary", primary: false },
  inv: { type: "inv", kind: "block", ids: [H, H2] },
  getdata: { type: "getdata", kind: "tx", ids: [H] },
  notfound: { type: "notfound", kind: "tx", ids: [] },
  tx: { type: "tx", data: "00ff" },
  block: { type: "block", data: "01".repeat(80) },
  getblocks: { type: "getblocks", locator: [H, H2], stop: null },
  blocks: { type: "blocks", data: ["00", "abcd"] },
  gethashes: { type: "gethashes", locator: [H, H2] },
  hashes: { type: "hashes", ids: [H, H2] },
  cmpctblock: { type: "cmpctblock", data: "01".repeat(95) },
  getblocktxn: { type: "getblocktxn", hash: H, positions: [1, 2, 7] },
  blocktxn: { type: "blocktxn", hash: H, data: ["00ff", "abcd"] },
};

/** Per type, field paths and values that must each be rejected. */
const INVALID: Record<Message["type"], [string, unknown][]> = {
  proof: [["signature", "xyz"], ["signature", "abc"], ["signature", 7], ["signature", "ab".repeat(129)]],
  hello: [
    ["nonce", "ab".repeat(31)],
    ["nonce", "AB".repeat(32)],
    ["nonce", 5],
    ["protocol", 1.5],
    ["protocol", "1"],
    ["protocol", -1],
    ["network", "testnet"],
    ["genesis", H.toUpperCase()],
    ["genesis", H.slice(2)],
    ["nodeId", ""],
    ["nodeId", "x".repeat(65)],
    ["nodeId", "a b"],
    ["listen", "127.0.0.1"],
    ["listen", "127.0.0.1 8333"],
    ["listen", "::1:8333"],
    ["listen", 8333],
    ["address", "x".repeat(101)],
    ["address", "bad\nline"],
    ["address", null],
    ["tip", null],
    ["tip.hash", "zz".repeat(32)],
    ["tip.height", -1],
    ["tip.height", 2 ** 53],
    ["tip.work", ""],
    ["tip.work", "f".repeat(65)],
    ["tip.work", "0x10"],
    ["role", "hub"],
  ],
  reject: [["code", "c".repeat(65)], ["reason", "r".repeat(501)], ["reason", 5]],
  ping: [["nonce", "1"], ["nonce", 0.5], ["nonce", undefined]],
  pong: [["nonce", null], ["nonce", Infinity]],
  join: [["primary", "yes"], ["primary", 1]],
  mesh: [],
  getaddr: [],
  welcome: [
    ["superpeers", {}],
    ["superpeers", [{ nodeId: "a", listen: "h:1", peers: -1, load: 0, capacity: 1, seq: 0 }]],
    ["superpeers", [{ nodeId: "a", listen: "h:1", peers: 0, load: 0, capacity: 1 }]],
    ["members", [{ nodeId: "a" }]],
    ["members", [{ nodeId: "a", listen: "host:0" }]],
    ["members", Array.from({ length: 501 }, (_, i) => ({ nodeId: `n${i}`, listen: "a:1" }))],
  ],
  full: [["try", ["nope"]], ["try", Array(17).fill("a:1")], ["promote", null]],
  redirect: [["to", ["::1:8765"]], ["to", "a:1"]],
  superpeers: [["add", [{ nodeId: "a b", listen: "h:1", peers: 0, load: 0, capacity: 1, seq: 0 }]], [
    "remove",
    [{ nodeId: "c" }],
  ]],
  // Digests and wants are bounded like every list: 500 at most.
  ihave: [
    ["entries", [{ nodeId: "a" }]],
    ["entries", [{ nodeId: "a b", seq: 1 }]],
    ["entries", [{ nodeId: "a", seq: -1 }]],
    ["entries", Array.from({ length: 501 }, (_, i) => ({ nodeId: `n${i}`, seq: 1 }))],
    ["entries", { nodeId: "a", seq: 1 }],
    ["sync", "yes"],
  ],
  iwant: [["ids", [""]], ["ids", ["x".repeat(65)]], ["ids", Array(501).fill("a")], ["ids", "a"]],
  dirsum: [
    ["buckets", "0"],
    ["buckets", "0123ABCD".repeat(DIR_SUM_BUCKETS)],
    [
      "buckets",
      "0".repeat(8 * DIR_SUM_BUCKETS + 8),
    ],
    ["buckets", "0".repeat(8 * DIR_SUM_BUCKETS / 2)],
    ["buckets", "0".repeat(16 * DIR_SUM_BUCKETS_MAX)],
    [
      "buckets",
      "0".repeat(8 * 3 * DIR_SUM_BUCKETS),
    ],
    ["buckets", 7],
  ],
  members: [["add", [{ listen: "h:1" }]], ["remove", [""]], ["reset", "yes"]],
  primary: [["primary", "true"]],
  inv: [["kind", "header"], ["ids", [H, "x"]], ["ids", Array(1001).fill(H)], ["ids", H]],
  getdata: [["kind", null], ["ids", [1]]],
  notfound: [["kind", "blocks"], ["ids", null]],
  // A transaction over the standard size is refused here, before it is decoded.
  tx: [["data", ""], ["data", "abc"], ["data", "AB"], ["data", "zz"], [
    "data",
    "00".repeat(MAX_TX_DATA_BYTES + 1),
  ]],
  block: [["data", ["00"]], ["data", 1], ["data", "00".repeat(MAX_DATA_BYTES + 1)]],
  getblocks: [["locator", Array(102).fill(H)], ["locator", [null]], ["stop", ""], ["stop", undefined]],
  blocks: [["data", Array(501).fill("00")], ["data", ["0"]], ["data", "00"]],
  gethashes: [["locator", Array(102).fill(H)], ["locator", [null]], ["locator", H]],
  hashes: [["ids", Array(MAX_HASHES + 1).fill(H)], ["ids", ["ab"]], ["ids", null]],
  cmpctblock: [["data", ""], ["data", "0"], ["data", "AB"], ["data", "00".repeat(MAX_DATA_BYTES + 1)], [
    "data",
    5,
  ]],
  getblocktxn: [
    ["hash", "ab"],
    ["positions", [0]],
    ["positions", [2, 1]],
    ["positions", [3, 3]],
    ["positions", [1.5]],
    ["positions", Array.from({ length: MAX_BLOCKTXN + 1 }, (_, i) => i + 1)],
  ],
  blocktxn: [
    ["hash", null],
    ["data", [""]],
    ["data", ["00".repeat(MAX_TX_DATA_BYTES + 1)]],
    ["data", Array(MAX_BLOCKTXN + 1).fill("00")],
    ["data", Array(Math.ceil(MAX_DATA_BYTES / MAX_TX_DATA_BYTES) + 1).fill("00".repeat(MAX_TX_DATA_BYTES))],
  ],
};

function withField(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(base);
  const keys = path.split(".");
  let o = copy;
  for (const k of keys.slice(0, -1)) o = o[k] as Record<string, unknown>;
  if (value === undefined) delete o[keys.at(-1)!];
  else o[keys.at(-1)!] = value;
  return copy;
}

Deno.test("every message type is accepted when valid, and unknown fields are dropped", () => {
  for (const [type, msg] of Object.entries(VALID)) {
    const parsed = parseMessage({ ...msg, futureField: [1, 2] });
    assert.deepEqual(parsed, msg, type);
    assert.equal("futureField" in parsed, false);
  }
  assert.equal(parseMessage({ type: "tx", data: "00".repeat(MAX_TX_DATA_BYTES) }).type, "tx");
  assert.equal(parseMessage({ type: "block", data: "00".repeat(MAX_DATA_BYTES) }).type, "block");
  // A summary of any power of two of buckets within its bounds; a digest answering one says so.
  for (const n of [DIR_SUM_BUCKETS, 2 * DIR_SUM_BUCKETS, DIR_SUM_BUCKETS_MAX]) {
    const buckets = "0123abcd".repeat(n);
    assert.deepEqual(parseMessage({ type: "dirsum", buckets }), { type: "dirsum", buckets }, `${n} buckets`);
  }
  const sync = { type: "ihave", entries: [{ nodeId: "a", seq: 1 }], sync: true };
  assert.deepEqual(parseMessage(sync), sync);
});

/** Fields a message may leave out. */
// A protocol-2 hello has no nonce: it parses, so the handshake can refuse it with a readable reason.
const OPTIONAL = new Set<string>(["hello.nonce"]);

Deno.test("claims a protocol-1 hello carried about its sender (members, seniority) are not even read", () => {
  const old = { ...VALID.hello, since: 1, members: 2 ** 40 };
  assert.deepEqual(parseMessage(old), VALID.hello);
});

Deno.test("every message type is rejected when a field is wrong or missing", () => {
  for (const [type, cases] of Object.entries(INVALID)) {
    const base = VALID[type as Message["type"]];
    for (const [path, value] of cases) {
      assert.throws(() => parseMessage(withField(base, path, value)), MessageError, `${type}.${path}`);
    }
    for (const key of Object.keys(base)) {
      if (key === "type" || OPTIONAL.has(`${type}.${key}`)) continue;
      assert.throws(
        () => parseMessage(withField(base, key, undefined)),
        MessageError,
        `${type} without ${key}`,
      );
    }
  }
});

Deno.test("errors name the offending field", () => {
  assert.throws(() => parseMessage(withField(VALID.inv, "ids", [H, "x"])), /inv\.ids\[1\]/);
  assert.throws(() => parseMessage(withField(VALID.hello, "tip.height", -1)), /hello\.tip\.height/);
});

Deno.test("unknown types and non-objects are MessageErrors", () => {
  for (const v of [null, 1, "ping", [], [{ type: "ping" }], {}, { type: "version" }, { type: "toString" }]) {
    assert.throws(() => parseMessage(v), MessageError);
  }
  assert.throws(() => parseMessage({ type: "__proto__" }), MessageError);
  assert.throws(() => parseMessage(JSON.parse('{"type":"ping","__proto__":{"nonce":1}}')), MessageError);
});

Deno.test("parseMessage throws only MessageError for any JSON value", () => {
  const types = Object.keys(VALID);
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.constantFrom(...types),
      fc.dictionary(fc.string(), fc.jsonValue()),
      (v, t, extra) => {
        for (const input of [v, { ...extra, type: t }, { ...VALID[t as Message["type"]], ...extra }]) {
          try {
            parseMessage(input);
          } catch (e) {
            if (!(e instanceof MessageError)) throw e;
          }
        }
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("parseHostPort accepts host:port, host port, IPv4, names and [IPv6]", () => {
  const ok: [string, string, number][] = [
    ["127.0.0.1:8333", "127.0.0.1", 8333],
    ["127.0.0.1 8333", "127.0.0.1", 8333],
    ["  localhost\t1  ", "localhost", 1],
    ["node-2.example.org:65535", "node-2.example.org", 65535],
    ["[::1]:9000", "::1", 9000],
    ["::1 9000", "::1", 9000],
    ["[fe80::1] 9000", "fe80::1", 9000],
  ];
  for (const [input, hostname, port] of ok) {
    assert.deepEqual(parseHostPort(input), { hostname, port }, input);
  }
  assert.equal(formatHostPort({ hostname: "::1", port: 9000 }), "[::1]:9000");
  assert.equal(formatHostPort({ hostname: "a.b", port: 1 }), "a.b:1");
  assert.deepEqual(parseHostPort(formatHostPort({ hostname: "2001:db8::5", port: 7 })), {
    hostname: "2001:db8::5",
    port: 7,
  });
});

Deno.test("parseHostPort refuses bad addresses with AddressFormatError", () => {
  const bad = [
    "",
    "localhost",
    "localhost:",
    ":8333",
    "host:0",
    "host:65536",
    "host:-1",
    "host:80a",
    "host:123456",
    "::1:8333",
    "[::1]",
    "[::1]8333",
    "[1.2.3.4]:80",
    "[::zz]:80",
    "256.1.1.1:80",
    "1.2.3:80",
    "-bad.host:80",
    "bad_host:80",
    "a b c",
    "a:1 2",
  ];
  for (const input of bad) assert.throws(() => parseHostPort(input), AddressFormatError, input);
  assert.throws(() => parseHostPort("127.0.0.1 8333", { allowSpace: false }), AddressFormatError);
  assert.throws(() => parseHostPort("host:0"), /port must be an integer from 1 to 65535/);
});
