/**
 * Transaction rules shared by block validation and the mempool: context-free checks, input checks against a
 * coin view, and signature checks. Each refusal is a `ValidationError` with Bitcoin Core's code.
 * @module
 */
import { type VerifyItem, type VerifyQueue, verifyQueue } from "../crypto/verify_queue.ts";
import { pubKeyHash } from "../crypto/key_hash.ts";
import { isMoneyRange, MAX_MONEY } from "../consensus/amount.ts";
import type { NetworkParams } from "../consensus/params.ts";
import { fromHexReversed } from "../crypto/hex.ts";
import { outpointKey, type Transaction, txid } from "../primitives/transaction.ts";
import type { Coin, CoinView } from "./coins.ts";
import { ensure } from "./errors.ts";

/** Checks that need nothing but the transaction itself. */
export function checkTransaction(tx: Transaction): void {
  ensure(tx.outputs.length > 0, "bad-txns-vout-empty", "a transaction needs at least one output");
  let total = 0;
  for (const o of tx.outputs) {
    ensure(o.amount >= 0, "bad-txns-vout-negative", () => `output amount ${o.amount} is negative`);
    ensure(
      isMoneyRange(o.amount),
      "bad-txns-vout-toolarge",
      () => `output amount ${o.amount} exceeds the money supply`,
    );
    total += o.amount;
    ensure(total <= MAX_MONEY, "bad-txns-txouttotal-toolarge", "outputs together exceed the money supply");
  }
  if (tx.inputs.length < 2) return; // a coinbase, or one input that cannot repeat itself
  const seen = new Set<string>();
  for (const i of tx.inputs) {
    const key = outpointKey(i.prevout);
    ensure(!seen.has(key), "bad-txns-inputs-duplicate", () => `input ${key} is spent twice`);
    seen.add(key);
  }
}

/** True when a coin may be spent in a block at `spendHeight`, given the network's coinbase maturity. */
export function isMature(coin: Coin, spendHeight: number, coinbaseMaturity: number): boolean {
  return !coin.coinbase || spendHeight - coin.height >= coinbaseMaturity;
}

/**
 * Checks a non-coinbase transaction's inputs against `view` for inclusion in a block at `spendHeight`, and
 * returns its fee. Signatures are checked separately (`checkSignatures`), since they cost a promise each.
 * `contextScore` blames the sender of a refusal that depends on the chain's state: a block's content is
 * fixed (100), while a mempool transaction may simply have arrived too early or too late (0).
 */
export function checkInputs(
  tx: Transaction,
  view: CoinView,
  spendHeight: number,
  params: NetworkParams,
  contextScore = 100,
): { fee: number; coins: Coin[] } {
  ensure(
    tx.lockTime <= spendHeight,
    "bad-txns-nonfinal",
    () => `locked until height ${tx.lockTime}`,
    contextScore,
  );
  let valueIn = 0;
  const coins: Coin[] = [];
  for (const input of tx.inputs) {
    const coin = view.getCoin(input.prevout);
    ensure(
      coin !== undefined,
      "bad-txns-inputs-missingorspent",
      () => `input ${outpointKey(input.prevout)} does not exist or is already spent`,
      contextScore,
    );
    ensure(
      isMature(coin, spendHeight, params.coinbaseMaturity),
      "bad-txns-premature-spend-of-coinbase",
      () =>
        `coinbase output from height ${coin.height} is spendable at height ${
          coin.height + params.coinbaseMaturity
        }`,
      contextScore,
    );
    ensure(
      input.publicKey.length === 32 && pubKeyHash(input.publicKey) === coin.pubKeyHash,
      "bad-pubkey-address",
      () => `the public key of input ${outpointKey(input.prevout)} is not the one its output pays`,
    );
    valueIn += coin.amount;
    coins.push(coin);
  }
  const valueOut = tx.outputs.reduce((s, o) => s + o.amount, 0);
  ensure(
    valueIn >= valueOut,
    "bad-txns-in-belowout",
    () => `inputs ${valueIn} are less than outputs ${valueOut}`,
  );
  return { fee: valueIn - valueOut, coins };
}

/** How `checkSignatures` runs. */
export interface SignatureCheckOptions {
  /** Ahead of network transactions (our own payment). */
  urgent?: boolean;
  /** The queue to use (default: the process-wide `verifyQueue`). */
  queue?: VerifyQueue;
  /** Aborted: no more of these checks start (the caller has refused the transactions on other grounds). */
  signal?: AbortSignal;
}

/**
 * Verifies every input's Ed25519 signature of the txid (`id`, if already known); throws `bad-sig` naming a bad
 * input. The checks go through a bounded queue (`verifyQueue`); none starts after the first failure.
 */
export function checkSignatures(
  tx: Transaction,
  id: string = txid(tx),
  opts: SignatureCheckOptions = {},
): Promise<void> {
  if (tx.inputs.length !== 1) return checkAllSignatures([{ tx, id }], opts);
  // A payment's usual shape, on every acceptance's path: one check, nothing to deduplicate.
  const { publicKey, signature } = tx.inputs[0];
  return (opts.queue ?? verifyQueue).verifyAll(
    [{ publicKey, signature, message: fromHexReversed(id) }],
    { urgent: opts.urgent },
  ).then(failIfBad);
}

function failIfBad(bad: number): void {
  ensure(bad < 0, "bad-sig", "input 0 has an invalid signature");
}

/**
 * Verifies the signatures of several transactions as one urgent group (a block being connected) through `queue`
 * (default: the process-wide `verifyQueue`): the first invalid one cancels the checks not yet started. Throws
 * `bad-sig` naming the first bad transaction and input in block order, however the checks were spread.
 * Once `signal` is aborted no more checks start.
 */
export function checkBlockSignatures(
  txs: { tx: Transaction; id: string }[],
  queue?: VerifyQueue,
  signal?: AbortSignal,
): Promise<void> {
  return checkAllSignatures(txs, { urgent: true, queue, signal });
}

async function checkAllSignatures(
  txs: { tx: Transaction; id: string }[],
  opts: SignatureCheckOptions,
): Promise<void> {
  const items: VerifyItem[] = [], origin: [tx: number, input: number][] = [];
  txs.forEach(({ tx, id }, t) => {
    const message = fromHexReversed(id);
    const inputs = tx.inputs;
    // Inputs of one key carry one signature (Ed25519 is deterministic): each distinct pair is checked once.
    const seen = inputs.length > 1 ? new Set<string>() : undefined;
    inputs.forEach((input, i) => {
      if (seen) {
        const key = input.publicKey.toHex() + input.signature.toHex();
        if (seen.has(key)) return;
        seen.add(key);
      }
      items.push({ publicKey: input.publicKey, signature: input.signature, message });
      origin.push([t, i]);
    });
  });
  const queue = opts.queue ?? verifyQueue;
  const bad = await queue.verifyAll(items, { urgent: opts.urgent, signal: opts.signal });
  opts.signal?.throwIfAborted(); // given up: the answer may name no item
  ensure(bad < 0, "bad-sig", () => {
    const [t, i] = origin[bad];
    return `${txs.length > 1 ? `transaction ${txs[t].id} ` : ""}input ${i} has an invalid signature`;
  });
}

/**
 * What a signature check's verdict depends on: the txid (which covers the public keys) and every signature.
 * Keys the signature cache; cheaper than hashing the whole transaction again.
 */
export function signatureKey(tx: Transaction, id: string): string {
  let key = id;
  for (const i of tx.inputs) key += i.signature.toHex();
  return key;
}
