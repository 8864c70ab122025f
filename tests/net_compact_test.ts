/**
 * Compact relay between two real ledgers (chain and mempool, in memory) through two relays and scripted links
 * whose messages go through JSON and `parseMessage` as on the wire: a warm block rebuilt from the mempool
 * with its signatures found checked, a block with missing transactions fetched with `getblocktxn`, a short-id
 * collision falling back to the full block, and a hostile sender (garbage, a forged coinbase, transactions
 * nobody asked for, wrong transactions) scored while the block still arrives and nothing is lost.
 */
import assert from "node:assert/strict";
import type { Chain } from "../lib/chain/chain.ts";
import type { Mempool } from "../lib/chain/mempool.ts";
import { fromHex, toHex } from "../lib/crypto/hex.ts";
import type { LedgerPort, Verdict } from "../lib/net/ledger_port.ts";
import type { Link } from "../lib/net/link.ts";
import {
  type HelloMessage,
  LEGACY_PROTOCOL_VERSION,
  type Message,
  parseMessage,
} from "../lib/net/messages.ts";
import { Relay } from "../lib/net/relay.ts";
import { compactLedger } from "../lib/node/compact.ts";
import { malformed, refused } from "../lib/node/verdict.ts";
import { type Block, decodeBlock, encodeBlock } from "../lib/primitives/block.ts";
import {
  compactBlock,
  decodeCompactBlock,
  encodeCompactBlock,
  shortId,
  shortIdKey,
} from "../lib/primitives/compact_block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { encodeTransaction, type Transaction, txid, wtxid } from "../lib/primitives/transaction.ts";
import { makeBlock, spend } from "./support/ledger.ts";
import { COIN_AMOUNT, FAN_OUT, type FundedLedger, fundedLedger } from "./support/rules.ts";
import { recordingLink } from "./support/recording_link.ts";

/** The node's port over a test ledger: the same compact side (`compactLedger`), a plain receive. */
function portOf(chain: Chain, mempool: Mempool): LedgerPort {
  return {
    network: "regtest",
    genesis: chain.params.genesisHash,
    walletAddress: "x",
    tip: () => ({ hash: chain.tip.hash, height: chain.tip.height, work: chain.tip.chainWork }),
    locator: () => chain.locator(),
    hashesAfter: (locator, max) => chain.hashesAfter(locator, max),
    blockBytes: (hash) => chain.getBlockBytes(hash),
    txBytes: (id) => {
      const e = mempool.get(id);
      return e && encodeTransaction(e.tx);
    },
    has: (kind, id) => kind === "tx" ? mempool.has(id) : chain.has(id),
    async receiveBlock(bytes, _from, requested): Promise<Verdict> {
      let block: Block;
      try {
        block = decodeBlock(bytes);
      } catch (e) {
        return malformed(e);
      }
      const hash = blockHashSync(block.header);
      try {
        const r = await chain.processBlock(block, bytes, { requested });
        await mempool.chainUpdated(r.update);
        return { kind: r.status === "connected" ? "accepted" : r.status, id: hash };
      } catch (e) {
        return refused(e, hash);
      }
    },
    receiveTx: () => Promise.resolve({ kind: "rejected", code: "test", reason: "not here", score: 0 }),
    pendingTxids: () => mempool.entries().map((e) => e.txid),
    ...compactLedger(chain, mempool),
  };
}

/** Two relays over two ledgers, linked: `a` sends on `ab` (read by `b` from `ba`) and back. */
interface Pair {
  a: FundedLedger;
  b: FundedLedger;
  ra: Relay;
  rb: Relay;
  /** A's link to B (what A sends B), and B's link to A. */
  ab: Link & { sent: Message[] };
  ba: Link & { sent: Message[] };
  /** Scores B gave, by link name. */
  scored: string[];
  /** Every message that crossed, by type, in order. */
  trace: string[];
  /** And the messages themselves. */
  crossed: Message[];
}

async function pair(): Promise<Pair> {
  const [a, b] = [await fundedLedger(), await fundedLedger()];
  const scored: string[] = [];
  const ra = new Relay(portOf(a.chain, a.mempool), { misbehaved: (_l, _s, why) => scored.push(`A:${why}`) });
  const rb = new Relay(portOf(b.chain, b.mempool), {
    misbehaved: (l, _s, why) => scored.push(`${l.hello?.nodeId}:${why}`),
  });
  return { a, b, ra, rb, ab: recordingLink("a"), ba: recordingLink("b"), scored, trace: [], crossed: [] };
}

/** Delivers what the two sides sent each other until neither has more. */
async function pump(p: Pair): Promise<void> {
  for (let rounds = 0; rounds < 20; rounds++) {
    const toB = p.ab.sent.splice(0), toA = p.ba.sent.splice(0);
    if (!toB.length && !toA.length) return;
    for (const m of toB) {
      p.trace.push(`>${m.type}`);
      p.crossed.push(m);
      await p.rb.handle(p.ba, m, () => []);
    }
    for (const m of toA) {
      p.trace.push(`<${m.type}`);
      p.crossed.push(m);
      await p.ra.handle(p.ab, m, () => []);
    }
  }
  throw new Error("the relays keep talking");
}

/** `n` signed payments, each spending one of the ledger's fan-out coins. */
async function payments(l: FundedLedger, n: number): Promise<Transaction[]> {
  assert.ok(n <= FAN_OUT);
  return await Promise.all(
    l.coins.slice(0, n).map((c) =>
      spend(l.key, [c], [{ amount: COIN_AMOUNT - 1000, pubKeyHash: l.key.pkh }])
    ),
  );
}

/** A mines a block of `txs` (all in its mempool) and connects it. */
async function mineOnA(p: Pair, txs: Transaction[]): Promise<Block> {
  for (const tx of txs) await p.a.mempool.accept(tx);
  const block = makeBlock(p.a.chain, p.a.mempool, p.a.key.pkh);
  assert.equal(block.txs.length, txs.length + 1);
  await p.a.mempool.chainUpdated((await p.a.chain.processBlock(block)).update);
  return block;
}

Deno.test("compact relay: a block whose transactions the receiver holds crosses as short ids, rebuilt with its signatures already checked", async () => {
  const p = await pair();
  const txs = await payments(p.a, 6);
  for (const tx of txs) await p.b.mempool.accept(tx);
  const block = await mineOnA(p, txs);
  const before = p.b.chain.sigCacheStats;
  const full = encodeBlock(block);
  p.ra.pushBlock(full, [p.ab]);
  const sent = p.ab.sent[0];
  assert.equal(sent.type, "cmpctblock");
  assert.ok(sent.type === "cmpctblock" && sent.data.length / 2 < full.length / 4, "compact, not whole");
  await pump(p);
  assert.deepEqual(p.trace, [">cmpctblock"], "nothing asked for");
  assert.equal(p.b.chain.tip.hash, blockHashSync(block.header));
  const after = p.b.chain.sigCacheStats;
  assert.equal(after.hits - before.hits, txs.length, "every signature found checked by the mempool");
  assert.equal(p.b.mempool.entries().length, 0);
  assert.deepEqual(p.scored, []);
});

Deno.test("compact relay: a block with transactions the receiver lacks fetches just those (getblocktxn), then is accepted", async () => {
  const p = await pair();
  const txs = await payments(p.a, 6);
  for (const tx of txs.slice(0, 4)) await p.b.mempool.accept(tx);
  const block = await mineOnA(p, txs);
  p.ra.pushBlock(encodeBlock(block), [p.ab]);
  await pump(p);
  assert.deepEqual(p.trace, [">cmpctblock", "<getblocktxn", ">blocktxn"]);
  const missing = new Set(txs.slice(4).map(wtxid));
  const positions = block.txs.flatMap((tx, i) => missing.has(wtxid(tx)) ? [i] : []);
  assert.equal(p.b.chain.tip.hash, blockHashSync(block.header), "the block is accepted");
  assert.equal(positions.length, 2);
  const ask = p.crossed[1];
  assert.ok(ask.type === "getblocktxn" && ask.hash === blockHashSync(block.header));
  assert.deepEqual(ask.positions, positions, "exactly the two it lacks");
  assert.deepEqual(p.scored, []);
});

/** The compact message of `block` under `nonce`, with `edit` applied to its decoded form. */
function compactMessage(
  p: Pair,
  block: Block,
  nonce: bigint,
  edit: (cb: ReturnType<typeof decodeCompactBlock>) => void,
): Message {
  const bytes = portOf(p.a.chain, p.a.mempool).compactBlock!(encodeBlock(block), nonce)!;
  const cb = decodeCompactBlock(bytes);
  edit(cb);
  return { type: "cmpctblock", data: toHex(encodeCompactBlock(cb)) };
}

Deno.test("compact relay: a short-id collision (a held transaction that is not the block's) falls back to the full block", async () => {
  const p = await pair();
  const txs = await payments(p.a, 6);
  const block = await mineOnA(p, txs.slice(0, 5));
  // B holds the block's transactions, and one more that the receiver's index matches to slot 3's short id: a
  // collision as the receiver meets it (one of 2^48 by chance; here forced).
  for (const tx of txs) await p.b.mempool.accept(tx);
  const other = txs[5];
  const msg = compactMessage(p, block, 7n, (cb) => {
    const key = shortIdKey(cb.header, cb.nonce);
    cb.shortIds[2] = shortId(key, wtxid(other));
  });
  await p.rb.handle(p.ba, msg, () => []);
  p.trace.push(">cmpctblock");
  await pump(p);
  assert.deepEqual(p.trace, [">cmpctblock", "<getdata", ">block"], "asked for the full block");
  assert.equal(p.b.chain.tip.hash, blockHashSync(block.header), "and accepted it");
  assert.ok(p.b.mempool.has(txid(other)), "the other payment stays in the mempool");
  assert.deepEqual(p.scored, [], "a collision is nobody's fault");
});

Deno.test("compact relay: a hostile sender's garbage, forged coinbase, unasked and wrong transactions are scored; the block still arrives, nothing lost", async () => {
  const p = await pair();
  const txs = await payments(p.a, 4);
  for (const tx of txs.slice(0, 2)) await p.b.mempool.accept(tx);
  const block = await mineOnA(p, txs);
  const hash = blockHashSync(block.header);
  const h = recordingLink("h");
  const fromH = async (m: Message) =>
    await p.rb.handle(h, parseMessage(JSON.parse(JSON.stringify(m))), () => []);

  // Garbage that is no compact block: scored as malformed.
  await fromH({ type: "cmpctblock", data: "00".repeat(120) });
  assert.equal(p.scored.length, 1);
  assert.match(p.scored[0], /^h:cmpctblock: /);
  // Transactions nobody asked for: scored.
  await fromH({ type: "blocktxn", hash, data: [toHex(encodeTransaction(txs[3]))] });
  assert.match(p.scored[1], /^h:blocktxn: not requested/);
  // The real header with a forged coinbase: B asks h for the two payments it lacks, h sends the right ones,
  // and the block still does not rebuild (its merkle root): the full block is asked of h.
  await fromH(compactMessage(p, block, 9n, (cb) => {
    cb.coinbase = { ...cb.coinbase, outputs: [{ ...cb.coinbase.outputs[0], amount: 1 }] };
  }));
  const ask = h.sent.at(-1);
  assert.ok(ask?.type === "getblocktxn" && ask.hash === hash, `asked: ${ask?.type}`);
  assert.deepEqual(ask.positions, [3, 4]);
  await fromH({ type: "blocktxn", hash, data: [3, 4].map((i) => toHex(encodeTransaction(block.txs[i]))) });
  assert.equal(h.sent.at(-1)?.type, "getdata", "a forged coinbase: the full block is asked for");
  // The honest short ids, then wrong transactions for the two missing: the full block is asked for again.
  await fromH(compactMessage(p, block, 11n, () => {}));
  assert.equal(h.sent.at(-1)?.type, "getblocktxn");
  const wrong = await spend(p.a.key, [p.a.coins[7]], [{ amount: 5, pubKeyHash: p.a.key.pkh }]);
  await fromH({
    type: "blocktxn",
    hash,
    data: [toHex(encodeTransaction(wrong)), toHex(encodeTransaction(wrong))],
  });
  assert.equal(h.sent.at(-1)?.type, "getdata", "wrong transactions: the full block is asked for");
  assert.equal(p.scored.length, 2, `scored: ${p.scored.join("; ")}`);
  // h answers with a block whose body is not the header's: refused and scored.
  const bad = encodeBlock({ header: block.header, txs: [block.txs[0], wrong] });
  await fromH({ type: "block", data: toHex(bad) });
  assert.equal(p.scored.length, 3, `scored: ${p.scored.join("; ")}`);
  assert.equal(p.b.chain.tip.height, p.a.chain.tip.height - 1, "nothing hostile was accepted");
  assert.equal(p.b.mempool.entries().length, 2, "B's payments are all still there");

  // The honest sender's compact block still rebuilds and is accepted: nothing was lost.
  p.ra.pushBlock(encodeBlock(block), [p.ab]);
  await pump(p);
  assert.equal(p.b.chain.tip.hash, hash);
  assert.ok(p.scored.every((s) => s.startsWith("h:")), `only h is scored: ${p.scored.join("; ")}`);
});

Deno.test("compact relay: the rebuilt block is handed on once, to its very bytes, of the mempool's own transactions", async () => {
  const p = await pair();
  const txs = await payments(p.a, 3);
  for (const tx of txs) await p.b.mempool.accept(tx);
  const block = await mineOnA(p, txs);
  const sender = compactLedger(p.a.chain, p.a.mempool);
  const side = compactLedger(p.b.chain, p.b.mempool);
  for (const tx of txs) side.noteTx(tx);
  const compact = sender.compactBlock(encodeBlock(block), 5n)!;
  const first = side.rebuildCompact(compact);
  assert.equal(first.kind, "rebuilt");
  if (first.kind !== "rebuilt") return;
  // Other bytes (a copy, or any block pushed whole) are decoded as always: nothing is handed to them.
  assert.equal(side.takeRebuilt(first.block.slice()), undefined);
  const again = side.rebuildCompact(compact);
  if (again.kind !== "rebuilt") throw new Error(again.kind);
  const rebuilt = side.takeRebuilt(again.block);
  assert.ok(rebuilt, "the block just rebuilt");
  const taken = rebuilt.block;
  // With its ids: the mempool's txids (the very strings), the memo's wtxids, the coinbase hashed.
  assert.deepEqual(rebuilt.ids.txids, taken.txs.map(txid));
  assert.deepEqual(rebuilt.ids.wtxids, taken.txs.map(wtxid));
  assert.equal(rebuilt.ids.txids[1], p.b.mempool.entryOf(txs[0])?.txid);
  assert.deepEqual(encodeBlock(taken), again.block, "its bytes are its encoding");
  assert.equal(taken.txs[1], p.b.mempool.entryOf(txs[0])?.tx, "made of the mempool's objects");
  assert.equal(side.takeRebuilt(again.block), undefined, "taken once");
  // The mempool finds its entries by those objects, and by their txid for any other copy.
  assert.equal(p.b.mempool.entryOf(decodeBlock(again.block).txs[1])?.txid, txid(txs[0]));
  const r = await p.b.chain.processBlock(taken, again.block, { knownIds: rebuilt.ids });
  assert.equal(p.b.chain.txidsOf(taken), rebuilt.ids.txids, "the chain kept the ids it was given");
  assert.equal(p.b.chain.wtxidsOf(taken), rebuilt.ids.wtxids);
  await p.b.mempool.chainUpdated(r.update);
  assert.equal(p.b.mempool.size, 0, "the block's transactions left the mempool");
  assert.equal(p.b.mempool.entryOf(txs[0]), undefined);
});

Deno.test("compact relay: the sender builds a held block's compact form from the chain's object and the wtxids its checks hashed", async () => {
  const p = await pair();
  const txs = await payments(p.a, 3);
  const block = await mineOnA(p, txs);
  const held = p.a.chain.getBlock(blockHashSync(block.header))!;
  assert.deepEqual(p.a.chain.wtxidsOf(held), held.txs.map(wtxid), "the chain's wtxids are the block's");
  let asked = 0;
  const chain = {
    getBlock: (hash: string) => p.a.chain.getBlock(hash),
    wtxidsOf: (b: Block) => (asked++, p.a.chain.wtxidsOf(b)),
  } as unknown as Chain;
  const sender = compactLedger(chain, p.a.mempool);
  const fresh = encodeCompactBlock(compactBlock(block, 5n));
  assert.deepEqual(
    sender.compactBlock(encodeBlock(block), 5n),
    fresh,
    "the same compact form as from scratch",
  );
  assert.equal(asked, 1, "its wtxids came from the chain, not hashed again");
  // A block the chain does not hold (a test's, a peer's unchecked) is decoded and hashed as before.
  const other = await mineOnA(p, []);
  const unheld = { getBlock: () => undefined, wtxidsOf: () => assert.fail("not held") } as unknown as Chain;
  assert.deepEqual(
    compactLedger(unheld, p.a.mempool).compactBlock(encodeBlock(other), 6n),
    encodeCompactBlock(compactBlock(other, 6n)),
  );
});

Deno.test("compact relay: the ledger side never throws on bytes that are not a compact block", () => {
  const { rebuildCompact } = compactLedger(
    {} as Chain,
    { entries: () => [] } as unknown as Mempool,
  );
  for (const bytes of [new Uint8Array(0), new Uint8Array(87), fromHex("ff".repeat(200))]) {
    const r = rebuildCompact(bytes);
    assert.equal(r.kind, "malformed");
  }
});

Deno.test("compact relay: a protocol-2 Peer (it knows no cmpctblock) gets the block whole, the others compact", async () => {
  const p = await pair();
  const txs = await payments(p.a, 2);
  const block = await mineOnA(p, txs);
  const legacy = recordingLink("old");
  (legacy as { hello: HelloMessage }).hello = {
    nodeId: "old",
    protocol: LEGACY_PROTOCOL_VERSION,
  } as HelloMessage;
  p.ra.pushBlock(encodeBlock(block), [p.ab, legacy]);
  assert.deepEqual(p.ab.sent.map((m) => m.type), ["cmpctblock"]);
  assert.deepEqual(legacy.sent.map((m) => m.type), ["block"]);
});
