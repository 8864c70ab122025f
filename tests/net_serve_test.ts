/**
 * Relay's answers within budgets: getdata deduplicated and capped, serving that stops for closed or slow
 * links, takes turns and yields to the event loop, a per-link byte rate; `blocks` taken only as the answer to
 * our own request; blocks off the best chain never relayed. A fake link and ledger, no sockets.
 */
import assert from "node:assert/strict";
import type { LedgerPort, Verdict } from "../lib/net/ledger_port.ts";
import type { Link } from "../lib/net/link.ts";
import type { Message } from "../lib/net/messages.ts";
import { Relay } from "../lib/net/relay.ts";
import {
  SEND_QUEUE_LIMIT,
  SERVE_LINK_BURST,
  SERVE_REQUEST_BYTES,
  SERVE_TOTAL_BURST,
  SERVE_TOTAL_BYTES_PER_S,
  ServeQueue,
} from "../lib/net/serve.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import { encodeBlock } from "../lib/primitives/block.ts";
import { encodeTransaction } from "../lib/primitives/transaction.ts";
import { hashOf } from "./support/rules.ts";
import { waitFor } from "./support/wait.ts";
import { idOf } from "../lib/node/compact.ts";

const MB = 1_000_000;
const id = (n: number) => n.toString(16).padStart(64, "0");

/** A link whose sends are recorded; `queued` grows with each send unless drained. */
function fakeLink(name = "l") {
  const sent: Message[] = [];
  const state = { closed: false, queued: 0, drain: true };
  const conn = {
    send(msg: Message) {
      if (state.closed) return false;
      sent.push(msg);
      if (!state.drain) {
        state.queued += "data" in msg && typeof msg.data === "string" ? msg.data.length / 2 : 100;
      }
      return true;
    },
    get isClosed() {
      return state.closed;
    },
    get queuedBytes() {
      return state.queued;
    },
    remote: { hostname: "127.0.0.1", port: 1 },
  };
  const link = { conn, inbound: true, member: true, yielded: false, name } as unknown as Link;
  return { link, sent, state };
}

/** A ledger holding `blocks` (id → bytes); `verdict` answers every received block. */
function fakeLedger(blocks: Map<string, Uint8Array>, verdict: Verdict = { kind: "known", id: id(0) }) {
  const received: { requested: boolean }[] = [];
  const txs = { count: 0 };
  const ledger: LedgerPort = {
    network: "regtest",
    genesis: NETWORKS.regtest.genesisHash,
    walletAddress: "x",
    tip: () => ({ hash: id(0), height: 0, work: 1n }),
    locator: () => [id(0)],
    hashesAfter: () => [],
    blockBytes: (h) => blocks.get(h),
    txBytes: () => undefined,
    has: () => false,
    receiveBlock: (_bytes, _from, requested) => {
      received.push({ requested: requested ?? false });
      return Promise.resolve(verdict);
    },
    receiveTx: () => {
      txs.count++;
      return Promise.resolve({ kind: "known", id: id(0) });
    },
    pendingTxids: () => [],
    idOf,
  };
  return { ledger, received, txs };
}

function relayWith(ledger: LedgerPort) {
  const scores: { score: number; reason: string }[] = [];
  const relay = new Relay(ledger, { misbehaved: (_l, score, reason) => scores.push({ score, reason }) });
  return { relay, scores };
}

Deno.test("getdata naming one 1 MB block a thousand times is answered with it once, and costs its sender 20", async () => {
  const blocks = new Map([[id(1), new Uint8Array(MB)]]);
  const { relay, scores } = relayWith(fakeLedger(blocks).ledger);
  const { link, sent } = fakeLink();
  await relay.handle(link, { type: "getdata", kind: "block", ids: Array(1000).fill(id(1)) }, () => []);
  assert.equal(sent.filter((m) => m.type === "block").length, 1);
  assert.deepEqual(scores.map((s) => s.score), [20]);
  assert.match(scores[0].reason, /999 duplicate/);
});

Deno.test(`a getdata is answered with up to ${SERVE_REQUEST_BYTES / MB} MB; the rest is reported notfound`, async () => {
  const blocks = new Map(Array.from({ length: 10 }, (_, i) => [id(i + 1), new Uint8Array(MB)]));
  const { relay, scores } = relayWith(fakeLedger(blocks).ledger);
  const { link, sent } = fakeLink();
  const ids = [...blocks.keys(), id(99)];
  await relay.handle(link, { type: "getdata", kind: "block", ids }, () => []);
  assert.equal(sent.filter((m) => m.type === "block").length, SERVE_REQUEST_BYTES / MB);
  const notfound = sent.find((m) => m.type === "notfound");
  assert.ok(notfound && notfound.type === "notfound");
  assert.deepEqual(notfound.ids, ids.slice(SERVE_REQUEST_BYTES / MB));
  assert.equal(scores.length, 0, "asking for many distinct blocks is no misbehaviour");
});

Deno.test("serving stops when the link closes, and when its send queue is full (no notfound either)", async () => {
  const blocks = new Map(Array.from({ length: 4 }, (_, i) => [id(i + 1), new Uint8Array(MB)]));
  const { relay } = relayWith(fakeLedger(blocks).ledger);
  const closing = fakeLink();
  const send = closing.link.conn.send.bind(closing.link.conn);
  closing.link.conn.send = (m: Message) => {
    const r = send(m);
    if (closing.sent.length === 2) closing.state.closed = true;
    return r;
  };
  await relay.handle(closing.link, { type: "getdata", kind: "block", ids: [...blocks.keys()] }, () => []);
  assert.equal(closing.sent.length, 2);

  const slow = fakeLink();
  slow.state.queued = SEND_QUEUE_LIMIT + 1;
  await relay.handle(slow.link, { type: "getdata", kind: "block", ids: [...blocks.keys()] }, () => []);
  assert.equal(slow.sent.length, 0);

  // A link that stopped reading: served while its queue is under the limit, then nothing more.
  const big = new Map([[id(1), new Uint8Array(3 * MB)]]);
  const r2 = relayWith(fakeLedger(big).ledger);
  const stuck = fakeLink();
  stuck.state.drain = false;
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    await r2.relay.handle(stuck.link, { type: "getdata", kind: "block", ids: [id(1)] }, () => []);
    counts.push(stuck.sent.length);
  }
  assert.deepEqual(counts, [1, 2, 3, 3], "9 MB queued: the fourth request gets nothing");
});

Deno.test("serving takes turns between links and lets the event loop run between items", async () => {
  const q = new ServeQueue();
  const a = fakeLink("a"), b = fakeLink("b");
  const order: string[] = [];
  let ticks = 0, ticking = true;
  const tick = () => {
    ticks++;
    if (ticking) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  // Each item takes longer than a turn's slice, as a large block's encoding does.
  const slow = (name: string) => (n: string) => {
    const end = performance.now() + 6;
    while (performance.now() < end) { /* busy */ }
    order.push(`${name}${n.slice(-1)}`);
    return new Uint8Array(10);
  };
  const ids = [1, 2, 3].map(id);
  await Promise.all([
    q.serve(a.link, ids, slow("a"), (x) => a.link.conn.send({ type: "block", data: x.toHex() })),
    q.serve(b.link, ids, slow("b"), (x) => b.link.conn.send({ type: "block", data: x.toHex() })),
  ]);
  ticking = false;
  assert.deepEqual(order, ["a1", "b1", "a2", "b2", "a3", "b3"]);
  // The first slice serves one item of each link; every later item has a turn of its own.
  assert.ok(ticks >= 4, `other work ran ${ticks} times between the 6 items`);
});

Deno.test(`each link has a byte budget: ${SERVE_LINK_BURST / MB} MB at once, then a steady rate`, async () => {
  let now = 0;
  const q = new ServeQueue(() => now);
  const { link, sent } = fakeLink();
  const read = () => new Uint8Array(MB);
  const send = (x: Uint8Array) => link.conn.send({ type: "block", data: x.toHex() });
  const four = [1, 2, 3, 4].map(id);
  for (let i = 0; i < SERVE_LINK_BURST / (4 * MB); i++) await q.serve(link, four, read, send);
  assert.equal(sent.length, SERVE_LINK_BURST / MB);
  let done = false;
  const next = q.serve(link, four, read, send).then(() => done = true);
  // The overdrawing item goes out (a condition, not a time: a busy machine may take longer than 300 ms);
  // then, its clock standing still, the link waits however long real time runs.
  await waitFor(
    () => sent.length === SERVE_LINK_BURST / MB + 1,
    10_000,
    "the item that overdraws the budget",
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(done, false, "the budget is spent: the link waits (its own messages wait with it)");
  assert.equal(sent.length, SERVE_LINK_BURST / MB + 1, "one item may overdraw the budget, no more");
  now += 1_000; // a second later: 8 MB more
  await next;
  assert.equal(sent.length, SERVE_LINK_BURST / MB + 4);
});

Deno.test(
  `all links together share a budget: ${SERVE_TOTAL_BURST / MB} MB at once, then ${
    SERVE_TOTAL_BYTES_PER_S / MB
  } MB/s`,
  async () => {
    let now = 0;
    const q = new ServeQueue(() => now);
    const links = Array.from({ length: 8 }, (_, i) => fakeLink(`l${i}`));
    const read = () => new Uint8Array(MB);
    const four = [1, 2, 3, 4].map(id);
    let done = 0;
    const all = Promise.all(
      links.map((l) =>
        q.serve(l.link, four, read, (x) => l.link.conn.send({ type: "block", data: x.toHex() })).then(() =>
          done++
        )
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const sent = () => links.reduce((s, l) => s + l.sent.length, 0);
    assert.ok(done < 8, "8 links x 4 MB is more than the total budget");
    assert.ok(sent() <= SERVE_TOTAL_BURST / MB + 1, `${sent()} MB served at once`);
    now += 1_000;
    await all;
    assert.equal(sent(), 32);
  },
);

Deno.test("a block is taken as requested only as the answer to our sync's getdata; unasked blocks or hashes cost 20", async () => {
  const { ledger, received } = fakeLedger(new Map());
  const { relay, scores } = relayWith(ledger);
  const { link, sent } = fakeLink();
  const hex = encodeBlock(NETWORKS.regtest.genesis).toHex(), hash = hashOf(NETWORKS.regtest.genesis);
  await relay.handle(link, { type: "blocks", data: [hex] }, () => []);
  await relay.handle(link, { type: "hashes", ids: [hash] }, () => []);
  assert.equal(received.length, 0, "not looked at");
  assert.deepEqual(scores.map((s) => s.score), [20, 20]);
  // Our hello-time request, its answer, our getdata and its answer.
  relay.afterHandshake(link, { tip: { work: "ff" } } as Parameters<Relay["afterHandshake"]>[1]);
  assert.equal(sent.filter((m) => m.type === "gethashes").length, 1);
  await relay.handle(link, { type: "hashes", ids: [hash] }, () => []);
  assert.deepEqual(sent.at(-1), { type: "getdata", kind: "block", ids: [hash] });
  await relay.handle(link, { type: "block", data: hex }, () => []);
  assert.deepEqual(received, [{ requested: true }]);
  assert.equal(scores.length, 2);
});

Deno.test("a pushed block is passed on as unrequested, and relayed only when it joined the best chain", async () => {
  const block = encodeBlock(NETWORKS.regtest.genesis);
  for (const [kind, relayed] of [["accepted", 1], ["side", 0], ["known", 0]] as const) {
    const { ledger, received } = fakeLedger(new Map(), { kind, id: hashOf(NETWORKS.regtest.genesis) });
    const { relay } = relayWith(ledger);
    const from = fakeLink("from"), to = fakeLink("to");
    await relay.handle(from.link, { type: "block", data: block.toHex() }, () => [to.link]);
    assert.deepEqual(received, [{ requested: false }]);
    assert.equal(to.sent.length, relayed, kind);
  }
});

Deno.test("a getblocks from a link that is behind is answered once it drains (a sync's next batch is not dropped)", async () => {
  const { relay } = relayWith(fakeLedger(new Map()).ledger);
  const { link, sent, state } = fakeLink();
  state.queued = SEND_QUEUE_LIMIT + 1;
  const answered = relay.handle(link, { type: "getblocks", locator: [id(0)], stop: null }, () => []);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sent.length, 0, "not while its queue is over the limit");
  state.queued = 0;
  await answered;
  assert.deepEqual(sent.map((m) => m.type), ["blocks"]);
});

Deno.test("an orphan block from a peer that never answers our gethashes does not hold back others' transactions", async () => {
  const { ledger, txs } = fakeLedger(new Map(), { kind: "orphan", id: id(9) });
  const { relay } = relayWith(ledger);
  const attacker = fakeLink("attacker"), honest = fakeLink("honest");
  await relay.handle(attacker.link, { type: "block", data: "00" }, () => []);
  assert.deepEqual(attacker.sent.map((m) => m.type), ["gethashes"], "asked for the missing parent");
  const payment = encodeTransaction({
    version: 1,
    inputs: [{
      prevout: { txid: id(5), index: 0 },
      publicKey: new Uint8Array(32),
      signature: new Uint8Array(64),
    }],
    outputs: [{ amount: 1, pubKeyHash: "00".repeat(20) }],
    lockTime: 0,
  });
  await relay.handle(honest.link, { type: "tx", data: payment.toHex() }, () => []);
  assert.equal(txs.count, 1, "the payment was judged at once, not deferred until the attacker answers");
});
