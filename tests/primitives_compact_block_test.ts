/**
 * Compact blocks, the pure parts: SipHash-2-4 against its reference vectors, the short-id key, and rebuilding
 * a block from short ids: all held, some missing (then received), a short id held twice, duplicate short ids,
 * a short-id collision (a held transaction that is not the block's), and a copy with other signatures.
 */
import assert from "node:assert/strict";
import { blockMerkleRoot } from "../lib/primitives/block.ts";
import {
  compactBlock,
  MAX_SHORT_IDS,
  rebuildBlock,
  shortId,
  shortIdIndex,
  type ShortIdKey,
  shortIdKey,
  sipHash24,
} from "../lib/primitives/compact_block.ts";
import type { BlockHeader } from "../lib/primitives/header.ts";
import { encodeHeader } from "../lib/primitives/header.ts";
import { type Transaction, txid, wtxid } from "../lib/primitives/transaction.ts";
import { seeded, seededBytes } from "./support/random.ts";

/** A transaction from a seed (signatures need not verify: rebuilding checks none). */
function tx(seed: number, inputs = 1): Transaction {
  return {
    version: 1,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      prevout: { txid: seededBytes(32, seed * 10 + i).toHex(), index: i },
      publicKey: seededBytes(32, seed + 1000),
      signature: seededBytes(64, seed + 2000),
    })),
    outputs: [{ amount: 1000 + seed, pubKeyHash: seededBytes(20, seed + 3000).toHex() }],
    lockTime: 0,
  };
}

const coinbase: Transaction = {
  version: 1,
  inputs: [],
  outputs: [{ amount: 50e8, pubKeyHash: "11".repeat(20) }],
  lockTime: 7,
};

/** A block of a coinbase and `n` seeded transactions, its header carrying their merkle root. */
function block(n: number) {
  const txs = [coinbase, ...Array.from({ length: n }, (_, i) => tx(i + 1))];
  const header: BlockHeader = {
    version: 1,
    prevHash: seededBytes(32, 99).toHex(),
    merkleRoot: blockMerkleRoot(txs),
    time: 1_700_000_000,
    bits: 0x207fffff,
    nonce: 42,
  };
  return { header, txs };
}

/** A seeded shuffle. */
function shuffled<T>(xs: T[], seed: number): T[] {
  const rand = seeded(seed), out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

Deno.test("SipHash-2-4 gives the reference implementation's vectors (key 00..0f, messages 00, 01, ...)", () => {
  // From the SipHash reference implementation (github.com/veorq/SipHash, vectors.h, vectors_sip64), read as
  // little-endian 64-bit numbers.
  const key: ShortIdKey = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];
  const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);
  assert.equal(sipHash24(key, message(0)), 0x726fdb47dd0e0e31n);
  assert.equal(sipHash24(key, message(1)), 0x74f839c593dc67fdn);
  assert.equal(sipHash24(key, message(8)), 0x93f5f5799a932462n);
  assert.equal(sipHash24(key, message(15)), 0xa129ca6149be45e5n);
  assert.equal(sipHash24(key, message(63)), 0x958a324ceb064572n);
});

Deno.test("the short-id key is SHA-256(header || nonce u64 LE)'s first 16 bytes; a short id is 48 bits of SipHash", async () => {
  const { header, txs } = block(3);
  const nonce = 0x0123456789abcdefn;
  const data = new Uint8Array(88);
  data.set(encodeHeader(header));
  new DataView(data.buffer).setBigUint64(80, nonce, true);
  const digest = new DataView(await crypto.subtle.digest("SHA-256", data));
  const key = shortIdKey(header, nonce);
  assert.deepEqual(key, [0, 4, 8, 12].map((at) => digest.getUint32(at, true)));
  const id = wtxid(txs[1]);
  const internal = Uint8Array.fromHex(id).reverse();
  assert.equal(shortId(key, id), Number(sipHash24(key, internal) & 0xffff_ffff_ffffn));
  assert.ok(shortId(key, id) < 2 ** 48);
  assert.notDeepEqual(shortIdKey(header, nonce + 1n), key);
  assert.throws(() => shortIdKey(header, -1n), RangeError);
  assert.throws(() => shortIdKey(header, 1n << 64n), RangeError);
});

Deno.test("a compact block rebuilds from a mempool holding its transactions (and others), in block order", () => {
  const b = block(40);
  const cb = compactBlock(b, 77n);
  assert.equal(cb.shortIds.length, 40);
  const mempool = shuffled([...b.txs.slice(1), tx(500), tx(501), tx(502)], 1);
  const index = shortIdIndex(shortIdKey(cb.header, cb.nonce), mempool);
  const r = rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (id) => index.get(id));
  assert.equal(r.status, "rebuilt");
  assert.deepEqual(r.status === "rebuilt" && r.block, b);
});

Deno.test("the merkle check of a rebuilt block hashes through the memo it is given (the mempool's wtxids)", () => {
  const b = block(12);
  const cb = compactBlock(b, 9n);
  const index = shortIdIndex(shortIdKey(cb.header, cb.nonce), b.txs.slice(1));
  let asked = 0;
  const memo = (t: Transaction) => (asked++, wtxid(t));
  const r = rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (id) => index.get(id), new Map(), memo);
  assert.deepEqual(r.status === "rebuilt" && r.block, b);
  assert.equal(asked, b.txs.length, "every transaction's wtxid came from the memo");
});

Deno.test("a missing transaction: its position is named; once received, the block rebuilds", () => {
  const b = block(10);
  const cb = compactBlock(b, 5n);
  const held = b.txs.slice(1).filter((_, i) => i !== 2 && i !== 6); // positions 3 and 7 are not held
  const index = shortIdIndex(shortIdKey(cb.header, cb.nonce), held);
  const lookup = (id: number) => index.get(id);
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, cb.shortIds, lookup), {
    status: "missing",
    missing: [3, 7],
  });
  const received = new Map([[3, b.txs[3]], [7, b.txs[7]]]);
  const r = rebuildBlock(cb.header, cb.coinbase, cb.shortIds, lookup, received);
  assert.deepEqual(r.status === "rebuilt" && r.block, b);
});

Deno.test("a short-id collision: a held transaction under the block's short id that is not the block's fails on the merkle root", () => {
  const b = block(8);
  const cb = compactBlock(b, 9n);
  const index = shortIdIndex(shortIdKey(cb.header, cb.nonce), b.txs.slice(1));
  // The receiver holds another transaction under position 4's short id (what a 48-bit collision looks like).
  const impostor = tx(900);
  const lookup = (id: number) => id === cb.shortIds[3] ? impostor : index.get(id);
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, cb.shortIds, lookup), {
    status: "failed",
    reason: "merkle-mismatch",
  });
});

Deno.test("a short id held twice is asked for, not guessed; equal short ids in a compact block fail at once", () => {
  const b = block(6);
  const cb = compactBlock(b, 11n);
  const key = shortIdKey(cb.header, cb.nonce);
  // Two entries under one short id (here the same transaction offered twice): ambiguous, so asked for.
  const index = shortIdIndex(key, [...b.txs.slice(1), b.txs[2]]);
  assert.equal(index.get(cb.shortIds[1]), null);
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (id) => index.get(id)), {
    status: "missing",
    missing: [2],
  });
  // A sender listing one short id twice: no lookup can make sense of it.
  const twice = [...cb.shortIds];
  twice[4] = twice[1];
  let lookups = 0;
  const counting = (id: number) => (lookups++, index.get(id));
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, twice, counting), {
    status: "failed",
    reason: "duplicate-short-id",
  });
  assert.equal(lookups, 0);
  const tooMany = Array.from({ length: MAX_SHORT_IDS + 1 }, (_, i) => i);
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, tooMany, counting), {
    status: "failed",
    reason: "too-many-short-ids",
  });
  assert.equal(lookups, 0);
});

Deno.test("a held copy with other signatures (same txid, other wtxid) does not answer the block's short id", () => {
  const b = block(4);
  const cb = compactBlock(b, 13n);
  const copy = structuredClone(b.txs[2]);
  copy.inputs[0].signature = seededBytes(64, 4242);
  assert.equal(txid(copy), txid(b.txs[2]));
  const held = [b.txs[1], copy, b.txs[3], b.txs[4]];
  const index = shortIdIndex(shortIdKey(cb.header, cb.nonce), held);
  assert.deepEqual(rebuildBlock(cb.header, cb.coinbase, cb.shortIds, (id) => index.get(id)), {
    status: "missing",
    missing: [2],
  });
});
