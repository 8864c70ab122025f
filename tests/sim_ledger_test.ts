/**
 * The simulation's ledger: real regtest blocks shared by all nodes, per-node tips, orphans connected when
 * their parent comes, arrivals recorded with the sender, and forged blocks refused.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { checkProofOfWork } from "../lib/consensus/pow.ts";
import { decodeBlock } from "../lib/primitives/block.ts";
import { blockHashSync } from "../lib/primitives/header.ts";
import { BlockStore, hashOf, SimLedger } from "../lib/sim/sim_ledger.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";

function setup() {
  const clock = new VirtualClock();
  const store = new BlockStore(clock);
  return { clock, store, a: new SimLedger(store, "aaaa", clock), b: new SimLedger(store, "bbbb", clock) };
}

Deno.test("mined blocks are real regtest blocks on the miner's tip, stored once for every node", () => {
  const { a, store } = setup();
  assert.equal(a.tip().hash, NETWORKS.regtest.genesisHash);
  const b1 = a.mine(), b2 = a.mine();
  for (const b of [b1, b2]) {
    const block = decodeBlock(b.bytes);
    assert.equal(blockHashSync(block.header), b.hash);
    assert.ok(checkProofOfWork(b.hash, block.header.bits, NETWORKS.regtest.powLimit));
    assert.equal(block.txs[0].lockTime, b.height);
  }
  assert.equal(b2.prevHash, b1.hash);
  assert.deepEqual(a.tip(), { hash: b2.hash, height: 2, work: 6n });
  assert.equal(store.size, 3);
  assert.equal(b1.arrivals.get("aaaa")!.from, undefined);
});

Deno.test("a block whose parent is missing waits as an orphan and connects, with its sender, when the parent comes", async () => {
  const { a, b, clock } = setup();
  const [b1, b2, b3] = [a.mine(), a.mine(), a.mine()];
  assert.deepEqual(await b.receiveBlock(b3.bytes, "c"), { kind: "orphan", id: b3.hash });
  assert.deepEqual(await b.receiveBlock(b2.bytes, "c"), { kind: "orphan", id: b2.hash });
  await clock.advance(5);
  assert.deepEqual(await b.receiveBlock(b1.bytes, "aaaa"), { kind: "accepted", id: b1.hash });
  assert.equal(b.tip().hash, b3.hash);
  assert.deepEqual(b3.arrivals.get("bbbb"), { t: 5, from: "c" });
  assert.deepEqual(await b.receiveBlock(b1.bytes, "aaaa"), { kind: "known", id: b1.hash });
  assert.deepEqual(b.locator(), [b3.hash, b2.hash, b1.hash, NETWORKS.regtest.genesisHash]);
  assert.deepEqual(b.hashesAfter([b1.hash], 10), [b2.hash, b3.hash]);
  assert.deepEqual(b.hashesAfter(["ff".repeat(32)], 2), [b1.hash, b2.hash]);
  assert.equal(b.blockBytes(b2.hash), b2.bytes);
});

Deno.test("a block whose body does not match its header, or that is not one, is refused with a score", async () => {
  const { a, b } = setup();
  const b1 = a.mine();
  const mutated = b1.bytes.slice();
  mutated[mutated.length - 5] ^= 1; // the coinbase's amount: same header, other body
  const v = await b.receiveBlock(mutated, "evil");
  assert.equal(v.kind, "rejected");
  assert.ok(v.kind === "rejected" && v.score > 0);
  assert.equal((await b.receiveBlock(new Uint8Array(10))).kind, "rejected");
  assert.equal(b.knows(b1.hash), false);
  assert.equal((await b.receiveBlock(b1.bytes)).kind, "accepted");
});

Deno.test("a block no node mined is checked in full before it is stored (proof of work, merkle root, height)", async () => {
  const { a, b, store } = setup();
  const b1 = a.mine();
  const forged = b1.bytes.slice();
  forged[36] ^= 1; // the merkle root: a new header nobody stored
  for (let nonce = 0; nonce < 1000; nonce++) {
    new DataView(forged.buffer).setUint32(76, nonce, true);
    if (checkProofOfWork(hashOf(forged), 0x207fffff)) break;
  }
  const v = await b.receiveBlock(forged);
  assert.ok(v.kind === "rejected" && v.code === "merkle", JSON.stringify(v));
  assert.equal(store.get(hashOf(forged)), undefined);
});
