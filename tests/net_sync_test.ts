/**
 * Pipelined sync through the relay, with scripted links and a scripted chain (blocks are real headers, each on
 * the previous one; a body byte says whether the ledger refuses it): hashes from one lead, bodies from every
 * link in a bounded window, connected in chain order; a source that answers notfound, sends bodies that are
 * refused, or goes silent is dropped (scored when it lied) and its share asked of the others.
 */
import assert from "node:assert/strict";
import { toHex } from "../lib/crypto/hex.ts";
import { SYNC_LIE_SCORE, SYNC_PER_LINK, SYNC_SLOW_MS, SYNC_WINDOW } from "../lib/net/block_sync.ts";
import type { LedgerPort, Verdict } from "../lib/net/ledger_port.ts";
import type { Link } from "../lib/net/link.ts";
import { type HelloMessage, LEGACY_PROTOCOL_VERSION, MAX_HASHES } from "../lib/net/messages.ts";
import { Relay } from "../lib/net/relay.ts";
import { idOf } from "../lib/node/compact.ts";
import { encodeHeader } from "../lib/primitives/header.ts";
import { recordingLink } from "./support/recording_link.ts";

const GENESIS = "00".repeat(32);

/** A chain of `n` blocks on GENESIS: each a real header on the previous one and one body byte (0: good). */
function chain(n: number): { ids: string[]; bytes: Map<string, Uint8Array> } {
  const ids: string[] = [], bytes = new Map<string, Uint8Array>();
  let prev = GENESIS;
  for (let i = 0; i < n; i++) {
    const b = new Uint8Array(81);
    b.set(
      encodeHeader({
        version: 1,
        prevHash: prev,
        merkleRoot: GENESIS,
        time: 1000 + i,
        bits: 0x207fffff,
        nonce: i,
      }),
    );
    prev = idOf("block", b)!;
    ids.push(prev);
    bytes.set(prev, b);
  }
  return { ids, bytes };
}

/** A ledger at GENESIS that connects a block only on its tip, refusing one whose body byte is not 0. */
function ledger(blocks: Map<string, Uint8Array>) {
  const connected: string[] = [], unrequested: string[] = [];
  let tip = GENESIS;
  const port: LedgerPort = {
    network: "regtest",
    genesis: GENESIS,
    walletAddress: "x",
    tip: () => ({ hash: tip, height: connected.length, work: BigInt(connected.length + 1) }),
    locator: () => [tip],
    hashesAfter: () => [],
    blockBytes: (h) => blocks.get(h),
    txBytes: () => undefined,
    has: (kind, id) => kind === "block" && (id === GENESIS || connected.includes(id)),
    receiveBlock(bytes, _from, requested): Promise<Verdict> {
      const id = idOf("block", bytes)!;
      if (!requested) unrequested.push(id);
      if (bytes[80] !== 0) {
        return Promise.resolve({ kind: "rejected", id, code: "bad-txnmrklroot", reason: "x", score: 100 });
      }
      if (toHex(bytes.subarray(4, 36).reverse()) !== tip) return Promise.resolve({ kind: "orphan", id });
      connected.push(id);
      tip = id;
      return Promise.resolve({ kind: "accepted", id });
    },
    receiveTx: () => Promise.resolve({ kind: "known", id: "x" }),
    pendingTxids: () => [],
    idOf,
  };
  return { port, connected, unrequested };
}

type Behaviour = "honest" | "notfound" | "bad-bodies" | "silent";

/** A scripted link serving `blocks` as `behaviour` says; it answers the lead's gethashes with `ids`. */
function source(name: string, behaviour: Behaviour) {
  const link = recordingLink(name);
  return { name, link: link as Link, sent: link.sent, behaviour, asked: [] as string[] };
}
type Source = ReturnType<typeof source>;

interface Run {
  relay: Relay;
  connected: string[];
  /** Blocks the ledger was given as pushed, not as the sync's. */
  unrequested: string[];
  scores: { name: string; score: number; reason: string }[];
  /** Most blocks asked and not yet delivered, at any time. */
  maxOutstanding: number;
  setNow(t: number): void;
  /** Answers what every source was sent, until quiet; blocks are delivered last first within each batch. */
  pump(): Promise<void>;
}

function run(ids: string[], blocks: Map<string, Uint8Array>, sources: Source[]): Run {
  const { port, connected, unrequested } = ledger(blocks);
  const scores: Run["scores"] = [];
  let now = 0, outstanding = 0;
  const relay = new Relay(port, {
    misbehaved: (l, score, reason) => scores.push({ name: l.hello!.nodeId, score, reason }),
    now: () => now,
  });
  const r: Run = {
    relay,
    connected,
    unrequested,
    scores,
    maxOutstanding: 0,
    setNow: (t) => now = t,
    async pump() {
      for (let round = 0; round < 10_000; round++) {
        let quiet = true;
        for (const s of sources) {
          for (const m of s.sent.splice(0)) {
            quiet = false;
            if (m.type === "gethashes") {
              const from = ids.indexOf(m.locator[0]) + 1;
              await relay.handle(
                s.link,
                { type: "hashes", ids: ids.slice(from, from + MAX_HASHES) },
                () => [],
              );
            } else if (m.type === "getdata" && m.kind === "block") {
              outstanding += m.ids.length;
              r.maxOutstanding = Math.max(r.maxOutstanding, outstanding);
              s.asked.push(...m.ids);
              if (s.behaviour === "silent") continue;
              outstanding -= m.ids.length;
              if (s.behaviour === "notfound") {
                await relay.handle(s.link, { type: "notfound", kind: "block", ids: m.ids }, () => []);
                continue;
              }
              for (const id of [...m.ids].reverse()) {
                const b = blocks.get(id)!.slice();
                if (s.behaviour === "bad-bodies") b[80] = 1;
                await relay.handle(s.link, { type: "block", data: toHex(b) }, () => []);
              }
            }
          }
        }
        if (quiet) return;
      }
      throw new Error("the sync never ends");
    },
  };
  return r;
}

const ahead = { tip: { hash: "11".repeat(32), height: 5000, work: "ffff" } } as HelloMessage;

Deno.test("pipelined sync: hashes from one lead, bodies from every link within the window, connected in chain order", async () => {
  const { ids, bytes } = chain(3 * SYNC_WINDOW + 7);
  const links = [source("a", "honest"), source("b", "honest"), source("c", "honest")];
  const r = run(ids, bytes, links);
  for (const s of links) r.relay.afterHandshake(s.link, ahead);
  assert.deepEqual(links.map((s) => s.sent.filter((m) => m.type === "gethashes").length), [1, 0, 0]);
  await r.pump();
  assert.deepEqual(r.connected, ids, "every block, in chain order");
  assert.deepEqual(r.unrequested, [], "each as the sync's own");
  for (const s of links) {
    assert.ok(s.asked.length > SYNC_WINDOW / 2, `${s.name} served a share: ${s.asked.length}`);
  }
  assert.ok(r.maxOutstanding <= SYNC_WINDOW, `${r.maxOutstanding} asked ahead`);
  assert.deepEqual(r.scores, []);
});

Deno.test("pipelined sync: the window bounds what is asked ahead, however many links could serve more", async () => {
  const { ids, bytes } = chain(4 * SYNC_WINDOW);
  const links = ["a", "b", "c", "d", "e", "f"].map((n) => source(n, "silent"));
  assert.ok(links.length * SYNC_PER_LINK > SYNC_WINDOW, "the links alone would take more");
  const r = run(ids, bytes, links);
  for (const s of links) r.relay.afterHandshake(s.link, ahead);
  await r.pump();
  const asked = links.reduce((n, s) => n + s.asked.length, 0);
  assert.equal(asked, SYNC_WINDOW, "the window, and no more, while nothing has come");
  for (const s of links) s.behaviour = "honest";
  for (const s of links) {
    for (const id of s.asked.splice(0)) {
      await r.relay.handle(s.link, { type: "block", data: toHex(bytes.get(id)!) }, () => []);
    }
  }
  await r.pump();
  assert.deepEqual(r.connected, ids);
});

Deno.test("pipelined sync: a window source that answers notfound is dropped (not scored: it named none of them); the others serve its share", async () => {
  const { ids, bytes } = chain(2 * SYNC_WINDOW);
  const links = [source("a", "honest"), source("lacking", "notfound"), source("c", "honest")];
  const r = run(ids, bytes, links);
  for (const s of links) r.relay.afterHandshake(s.link, ahead);
  await r.pump();
  assert.deepEqual(r.connected, ids);
  assert.deepEqual(r.scores, []);
  assert.ok(links[1].asked.length <= SYNC_PER_LINK, "asked once, then never again");
});

Deno.test("pipelined sync: a window source whose bodies are refused is scored and dropped; each block is asked again elsewhere and connected", async () => {
  const { ids, bytes } = chain(SYNC_WINDOW);
  const links = [source("a", "honest"), source("forger", "bad-bodies")];
  const r = run(ids, bytes, links);
  for (const s of links) r.relay.afterHandshake(s.link, ahead);
  await r.pump();
  assert.deepEqual(r.connected, ids, "nothing lost");
  assert.ok(r.scores.length >= 1 && r.scores.every((s) => s.name === "forger" && s.score === 100));
});

Deno.test("pipelined sync: a silent window source is dropped after SYNC_SLOW_MS and its share asked of the others", async () => {
  const { ids, bytes } = chain(SYNC_WINDOW);
  const links = [source("a", "honest"), source("mute", "silent")];
  const r = run(ids, bytes, links);
  for (const s of links) r.relay.afterHandshake(s.link, ahead);
  await r.pump();
  assert.ok(r.connected.length < ids.length, "held up by the silent one");
  const asked = links[1].asked.length;
  assert.ok(asked > 0);
  r.setNow(SYNC_SLOW_MS - 1);
  r.relay.tick();
  await r.pump();
  assert.ok(r.connected.length < ids.length, "not before SYNC_SLOW_MS");
  r.setNow(SYNC_SLOW_MS + 1);
  r.relay.tick();
  await r.pump();
  assert.deepEqual(r.connected, ids);
  assert.equal(links[1].asked.length, asked, "the silent one is asked nothing more");
  assert.deepEqual(r.scores, [], "slow is not lying: dropped, not scored");
});

Deno.test("pipelined sync: a lead that answers notfound for blocks it named is scored and its sync given up; another link leads next", async () => {
  const { ids, bytes } = chain(SYNC_WINDOW);
  const liar = source("liar", "notfound"), honest = source("honest", "honest");
  const r = run(ids, bytes, [liar, honest]);
  r.relay.afterHandshake(liar.link, ahead);
  r.relay.afterHandshake(honest.link, ahead);
  await r.pump();
  assert.deepEqual(r.scores.map((s) => [s.name, s.score]), [["liar", SYNC_LIE_SCORE]]);
  assert.deepEqual(r.connected, ids, "the chain, led by the honest link");
  assert.ok(honest.asked.length >= ids.length - SYNC_PER_LINK);
});

Deno.test("pipelined sync: a protocol-2 Peer (it knows no gethashes) is never asked; it downloads from us with getblocks", async () => {
  const { ids, bytes } = chain(4);
  const old = source("old", "honest");
  (old.link as { hello: HelloMessage }).hello = {
    nodeId: "old",
    protocol: LEGACY_PROTOCOL_VERSION,
  } as HelloMessage;
  const r = run(ids, bytes, [old]);
  r.relay.afterHandshake(old.link, ahead);
  await r.relay.handle(old.link, { type: "block", data: "00" }, () => []); // an orphan push
  assert.deepEqual(old.sent.map((m) => m.type), [], "no gethashes, no getdata");
  await r.relay.handle(old.link, { type: "getblocks", locator: [GENESIS], stop: null }, () => []);
  assert.deepEqual(old.sent.map((m) => m.type), ["blocks"], "served as before");
});
