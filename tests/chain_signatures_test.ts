/**
 * Signatures at every input position, in block connection and in the mempool: a bad signature anywhere is
 * refused, including a victim's coin slipped in as a later input under the victim's public key with a junk
 * signature; and the signature cache, which block connection trusts, covers every input's signature.
 */
import assert from "node:assert/strict";
import { BAN } from "../lib/chain/errors.ts";
import { sign, verify } from "../lib/crypto/ed25519.ts";
import { type VerifyItem, VerifyQueue } from "../lib/crypto/verify_queue.ts";
import { type OutPoint, sigHash, type Transaction, txid } from "../lib/primitives/transaction.ts";
import { makeBlock, mine, newKey, spend, type TestKey } from "./support/ledger.ts";
import { seededBytes } from "./support/random.ts";
import {
  assertRefused,
  COIN_AMOUNT,
  type FundedLedger,
  fundedLedger,
  hashOf,
  ledgerState,
  refuseInBlock,
  refuseInPool,
  withTxs,
} from "./support/rules.ts";

/** An input to sign: the coin and the key that signs for it (or, for junk, whose public key is claimed). */
interface Signer {
  prevout: OutPoint;
  key: TestKey;
}

/** A transaction spending each input with its own key's signature of the txid, paying `to` all but a fee. */
async function signEach(inputs: Signer[], amount: number, to: string): Promise<Transaction> {
  const tx: Transaction = {
    version: 1,
    inputs: inputs.map((s) => ({
      prevout: s.prevout,
      publicKey: s.key.publicKey,
      signature: new Uint8Array(64),
    })),
    outputs: [{ amount, pubKeyHash: to }],
    lockTime: 0,
  };
  const msg = sigHash(tx);
  for (let i = 0; i < inputs.length; i++) tx.inputs[i].signature = await sign(inputs[i].key.privateKey, msg);
  return tx;
}

/** `tx` with the signature of input `at` replaced by `signature` (the txid stays the same). */
function withSignature(tx: Transaction, at: number, signature: Uint8Array<ArrayBuffer>): Transaction {
  const copy = structuredClone(tx);
  copy.inputs[at].signature = signature;
  assert.equal(txid(copy), txid(tx));
  return copy;
}

/** The three kinds of bad signature at one position: a flipped bit, random bytes, zeros. */
function badSignatures(good: Uint8Array<ArrayBuffer>, seed: number): [string, Uint8Array<ArrayBuffer>][] {
  const flipped = good.slice();
  flipped[seed % 64] ^= 1 << (seed % 8);
  return [["a flipped bit", flipped], ["random bytes", seededBytes(64, seed)], ["zeros", new Uint8Array(64)]];
}

/** Asserts `tx` is refused as bad-sig naming input `at`, in the mempool and in a block, leaving both as they were. */
async function assertBadSigAt(l: FundedLedger, tx: Transaction, at: number, what: string): Promise<void> {
  const inPool = await refuseInPool(l, "bad-sig", tx, BAN);
  assert.match(inPool.reason, new RegExp(`^input ${at} `), `mempool, ${what}`);
  const { block, error } = await refuseInBlock(l, "bad-sig", [tx], BAN);
  assert.match(error.reason, new RegExp(`^input ${at} `), `block, ${what}`);
  await assertRefused(l.chain.processBlock(block), "duplicate-invalid", BAN);
}

Deno.test("bad-sig at every input position of a 1-, 2-, 3- and 5-input transaction, in the mempool and in a block", async () => {
  const l = await fundedLedger();
  for (const n of [1, 2, 3, 5]) {
    const inputs = l.coins.slice(0, n).map((prevout) => ({ prevout, key: l.key }));
    const good = await signEach(inputs, n * COIN_AMOUNT - 10_000, l.key.pkh);
    for (let at = 0; at < n; at++) {
      for (const [kind, sig] of badSignatures(good.inputs[at].signature, 10 * n + at)) {
        await assertBadSigAt(l, withSignature(good, at, sig), at, `${n} inputs, ${kind} at input ${at}`);
      }
    }
  }
  // The untouched transaction is fine in both places: the refusals above were about the signatures alone.
  const good = await signEach(
    l.coins.slice(0, 5).map((prevout) => ({ prevout, key: l.key })),
    5 * COIN_AMOUNT - 10_000,
    l.key.pkh,
  );
  const block = makeBlock(l.chain, undefined, l.key.pkh, withTxs(good));
  assert.equal((await l.chain.processBlock(block)).status, "connected");
});

Deno.test("a victim's coin as input 2 under the victim's public key with a junk signature is refused", async () => {
  const l = await fundedLedger();
  const victim = await newKey(), mallory = l.key;
  // The victim owns a confirmed coin; Mallory owns others.
  const gift = await signEach([{ prevout: l.coins[7], key: l.key }], COIN_AMOUNT - 10_000, victim.pkh);
  await l.mempool.accept(gift);
  await mine(l.chain, l.mempool, mallory.pkh, 1);
  const victimCoin = { txid: txid(gift), index: 0 };
  assert.equal(l.chain.getCoin(victimCoin)?.pubKeyHash, victim.pkh);

  const total = 2 * COIN_AMOUNT + (COIN_AMOUNT - 10_000) - 20_000;
  /** Mallory's coins 0 and 1 and the victim's coin as input 2 under `victimCoinKey`, all paid to Mallory. */
  const spendWithVictimCoin = (victimCoinKey: typeof victim) =>
    signEach(
      [
        { prevout: l.coins[0], key: mallory },
        { prevout: l.coins[1], key: mallory },
        { prevout: victimCoin, key: victimCoinKey },
      ],
      total,
      mallory.pkh,
    );
  // Mallory's own key on the victim's coin is refused for the key (bad-pubkey-address)...
  const theft = await spendWithVictimCoin(mallory);
  await refuseInPool(l, "bad-pubkey-address", theft, BAN);
  await refuseInBlock(l, "bad-pubkey-address", [theft], BAN);
  // ...so she names the victim's public key, which passes that check, and signs input 2 with junk.
  const genuine = await spendWithVictimCoin(victim);
  // The txid covers the public keys: Mallory's signature of this txid is valid on her inputs, and junk on input 2.
  const mallorySig = await sign(mallory.privateKey, sigHash(genuine));
  const junk: [string, Uint8Array<ArrayBuffer>][] = [
    ["Mallory's valid signature of the txid", mallorySig],
    ["random bytes", seededBytes(64, 99)],
    ["zeros", new Uint8Array(64)],
  ];
  for (const [kind, sig] of junk) {
    const tx = withSignature(genuine, 2, sig);
    assert.deepEqual([tx.inputs[0].signature, tx.inputs[1].signature], [mallorySig, mallorySig]);
    await assertBadSigAt(l, tx, 2, `victim's coin at input 2 with ${kind}`);
  }
  assert.equal(l.chain.getCoin(victimCoin)?.pubKeyHash, victim.pkh, "the victim's coin is untouched");
  // Signed by the victim, the same transaction is valid: the refusals were about the signature alone.
  await l.mempool.accept(genuine);
});

Deno.test("the signature cache covers every input: a cached transaction with another signature at input 1 or 2 is checked", async () => {
  const l = await fundedLedger();
  const inputs = l.coins.slice(0, 3).map((prevout) => ({ prevout, key: l.key }));
  const good = await signEach(inputs, 3 * COIN_AMOUNT - 10_000, l.key.pkh);
  // The mempool verifies it and caches the verdict, keyed by what the verdict depends on.
  await l.mempool.accept(good);
  for (let at = 0; at < 3; at++) {
    const twin = withSignature(good, at, seededBytes(64, 200 + at));
    const { error } = await refuseInBlock(l, "bad-sig", [twin], BAN);
    assert.match(error.reason, new RegExp(`^input ${at} `));
  }
  // The cached transaction itself is accepted in a block without a second check.
  const block = makeBlock(l.chain, l.mempool, l.key.pkh);
  assert.equal(block.txs.length, 2);
  assert.equal((await l.chain.processBlock(block)).status, "connected");
  assert.equal(l.chain.tip.hash, hashOf(block));
});

Deno.test("a block refused by its inputs stops its signature checks: those not started never start", async () => {
  // Checks pass through at first (the ledger's history), then wait until the test lets them settle.
  const gate = { closed: false, waiting: [] as ((ok: boolean) => void)[] };
  let started = 0;
  const check = (i: VerifyItem) => {
    started++;
    return gate.closed
      ? new Promise<boolean>((r) => gate.waiting.push(r))
      : verify(i.publicKey, i.signature, i.message);
  };
  const l = await fundedLedger({ verifier: new VerifyQueue(2, check) });
  const pay = (prevout: OutPoint) =>
    spend(l.key, [prevout], [{ amount: COIN_AMOUNT - 1_000, pubKeyHash: l.key.pkh }]);
  const txs: Transaction[] = [];
  for (const coin of l.coins.slice(0, 7)) txs.push(await pay(coin));
  txs.push(await pay({ txid: "ab".repeat(32), index: 0 })); // the last one spends nothing that exists
  gate.closed = true;
  started = 0;
  const before = ledgerState(l.chain);
  const block = makeBlock(l.chain, undefined, l.key.pkh, withTxs(...txs));
  await assertRefused(l.chain.processBlock(block), "bad-txns-inputs-missingorspent", BAN);
  assert.equal(started, 2, "the block's first checks started at once, as many as the queue runs");
  while (gate.waiting.length) {
    gate.waiting.shift()!(true);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
  assert.equal(started, 2, "none of its other 6 checks started after the refusal");
  assert.deepEqual(ledgerState(l.chain), before);
  l.store.close();
});
