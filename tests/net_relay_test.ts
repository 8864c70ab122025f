/**
 * The relay's rules with a scripted ledger and links (no sockets): one block download at a time, and
 * transactions offered during a download fetched only after it.
 */
import assert from "node:assert/strict";
import { fromHex, toHex } from "../lib/crypto/hex.ts";
import type { LedgerPort, Verdict } from "../lib/net/ledger_port.ts";
import type { HelloMessage } from "../lib/net/messages.ts";
import { Relay } from "../lib/net/relay.ts";
import { encodeTransaction, type Transaction, txid } from "../lib/primitives/transaction.ts";
import { idOf } from "../lib/node/compact.ts";
import { recordingLink } from "./support/recording_link.ts";

/** A ledger at height 0 whose peers are ahead; it records the transactions it was asked to judge. */
function fakeLedger(): LedgerPort & { judged: string[]; pool: Set<string> } {
  const judged: string[] = [], pool = new Set<string>();
  return {
    judged,
    pool,
    network: "regtest",
    genesis: "00".repeat(32),
    walletAddress: "x",
    tip: () => ({ hash: "00".repeat(32), height: 0, work: 1n }),
    locator: () => ["00".repeat(32)],
    hashesAfter: () => [],
    blockBytes: () => undefined,
    txBytes: () => undefined,
    has: (kind, id) => kind === "tx" && pool.has(id),
    receiveBlock: (): Promise<Verdict> => Promise.resolve({ kind: "orphan", id: "11".repeat(32) }),
    receiveTx: (bytes): Promise<Verdict> => {
      judged.push(toHex(bytes));
      return Promise.resolve({ kind: "accepted", id: "x" });
    },
    pendingTxids: () => [],
    idOf,
  };
}

const tx = (n: number): Transaction => ({
  version: 1,
  inputs: [{
    prevout: { txid: n.toString(16).padStart(64, "0"), index: 0 },
    publicKey: new Uint8Array(32),
    signature: new Uint8Array(64),
  }],
  outputs: [{ amount: n, pubKeyHash: "00".repeat(20) }],
  lockTime: 0,
});
const aheadHello = { tip: { hash: "22".repeat(32), height: 500, work: "ff" } } as HelloMessage;
/** A block's bytes as hex, as far as the relay reads them (its header). */
const BLOCK_HEX = "00".repeat(81);

Deno.test("relay: a node that is behind follows one link's hashes at a time, however many offer blocks", async () => {
  const ledger = fakeLedger();
  const relay = new Relay(ledger, { misbehaved: () => {} });
  const [a, b] = [recordingLink("a"), recordingLink("b")];
  relay.afterHandshake(a, aheadHello);
  relay.afterHandshake(b, aheadHello);
  await relay.handle(b, { type: "block", data: "00" }, () => []); // an orphan from b during a's download
  assert.equal(a.sent.filter((m) => m.type === "gethashes").length, 1);
  assert.equal(b.sent.filter((m) => m.type === "gethashes").length, 0, "b is not asked for the same chain");
  await relay.handle(a, { type: "hashes", ids: [] }, () => []); // a is done
  assert.equal(b.sent.filter((m) => m.type === "gethashes").length, 1, "after a's download, b is asked");
});

/** Two blocks' bytes as hex (as far as the relay reads them: their headers differ). */
const BLOCKS_HEX = [BLOCK_HEX, "01" + "00".repeat(80)];

Deno.test("relay: transactions offered or pushed during a download are fetched after it, not judged half-synced", async () => {
  const ledger = fakeLedger();
  const relay = new Relay(ledger, { misbehaved: () => {} });
  const sp = recordingLink("sp");
  relay.afterHandshake(sp, aheadHello); // behind: the download starts
  const ids = BLOCKS_HEX.map((h) => idOf("block", fromHex(h))!);
  await relay.handle(sp, { type: "hashes", ids }, () => []);
  await relay.handle(sp, { type: "block", data: BLOCKS_HEX[0] }, () => []); // and brings a block
  const [t1, t2, t3] = [tx(1), tx(2), tx(3)];
  await relay.handle(sp, { type: "inv", kind: "tx", ids: [txid(t1), txid(t2)] }, () => []);
  await relay.handle(sp, { type: "tx", data: toHex(encodeTransaction(t3)) }, () => []);
  assert.deepEqual(ledger.judged, [], "nothing judged while the blocks it may spend are on their way");
  assert.equal(sp.sent.filter((m) => m.type === "getdata" && m.kind === "tx").length, 0);
  ledger.pool.add(txid(t2)); // meanwhile t2 arrived some other way
  await relay.handle(sp, { type: "block", data: BLOCKS_HEX[1] }, () => []); // level: the download is over
  const asked = sp.sent.filter((m) => m.type === "getdata" && m.kind === "tx")
    .flatMap((m) => m.type === "getdata" ? m.ids : []);
  assert.deepEqual(asked.sort(), [txid(t1), txid(t3)].sort());
  // Level now: a pushed transaction is judged at once.
  await relay.handle(sp, { type: "tx", data: toHex(encodeTransaction(t3)) }, () => []);
  assert.equal(ledger.judged.length, 1);
});

Deno.test("relay: once the lead names blocks we lack, payments wait for them (a mempool of children is not judged before its parents' blocks)", async () => {
  const ledger = fakeLedger();
  const relay = new Relay(ledger, { misbehaved: () => {} });
  const sp = recordingLink("sp");
  relay.afterHandshake(sp, aheadHello);
  const ids = BLOCKS_HEX.map((h) => idOf("block", fromHex(h))!);
  await relay.handle(sp, { type: "hashes", ids }, () => []); // named: no block has come yet
  const t1 = tx(1);
  await relay.handle(sp, { type: "tx", data: toHex(encodeTransaction(t1)) }, () => []);
  assert.deepEqual(ledger.judged, [], "a payment is not judged before the blocks it may spend");
  for (const h of BLOCKS_HEX) await relay.handle(sp, { type: "block", data: h }, () => []);
  const asked = sp.sent.filter((m) => m.type === "getdata" && m.kind === "tx")
    .flatMap((m) => m.type === "getdata" ? m.ids : []);
  assert.deepEqual(asked, [txid(t1)], "asked again once the download is over");
});

Deno.test("relay: a hello that claims more work holds back no payment until blocks actually come", async () => {
  const ledger = fakeLedger();
  const relay = new Relay(ledger, { misbehaved: () => {} });
  const liar = recordingLink("liar"), honest = recordingLink("honest");
  relay.afterHandshake(liar, aheadHello); // it says it is ahead, then never answers our getblocks
  await relay.handle(honest, { type: "tx", data: toHex(encodeTransaction(tx(7))) }, () => []);
  assert.equal(ledger.judged.length, 1, "the payment is judged at once");
});
