/** Helpers for the reject-code tests: a funded regtest ledger, refusal assertions and hand-built transactions. */
import assert from "node:assert/strict";
import type { Chain, ChainOptions } from "../../lib/chain/chain.ts";
import { ValidationError } from "../../lib/chain/errors.ts";
import type { Mempool } from "../../lib/chain/mempool.ts";
import { checkProofOfWork } from "../../lib/consensus/pow.ts";
import { sign } from "../../lib/crypto/ed25519.ts";
import type { Block } from "../../lib/primitives/block.ts";
import { blockHashSync } from "../../lib/primitives/header.ts";
import {
  type OutPoint,
  sigHash,
  type Transaction,
  txid,
  type TxOutput,
} from "../../lib/primitives/transaction.ts";
import type { Store } from "../../lib/store/store.ts";
import { coinbaseOut, makeBlock, mine, newKey, newLedger, spend, type TestKey } from "./ledger.ts";

/** Outputs of the fan-out transaction in every funded ledger. */
export const FAN_OUT = 8;
/** Fee paid by the fan-out transaction. */
const FAN_FEE = 10_000;
/** Amount of each fan-out output. */
export const COIN_AMOUNT = (50e8 - FAN_FEE) / FAN_OUT;

/** A ledger with spendable coins. */
export interface FundedLedger {
  store: Store;
  chain: Chain;
  mempool: Mempool;
  /** Owner of every coin below. */
  key: TestKey;
  /** Confirmed, non-coinbase outputs of `COIN_AMOUNT` each, spendable at once. */
  coins: OutPoint[];
  /** A coinbase output that is mature. */
  matureCoinbase: OutPoint;
  /** The coinbase output of the tip: immature. */
  immatureCoinbase: OutPoint;
  /** The blocks on top of genesis. */
  blocks: Block[];
}

interface Base {
  key: TestKey;
  blocks: Block[];
  coins: OutPoint[];
}

let base: Promise<Base> | undefined;

/** Mines the shared history once: 11 blocks to mature block 1's coinbase, then a fan-out of it. */
async function buildBase(): Promise<Base> {
  const key = await newKey();
  const { chain, mempool, store } = newLedger();
  const blocks = await mine(chain, mempool, key.pkh, 11);
  const outputs: TxOutput[] = Array.from(
    { length: FAN_OUT },
    () => ({ amount: COIN_AMOUNT, pubKeyHash: key.pkh }),
  );
  const fan = await spend(key, [coinbaseOut(blocks[0])], outputs);
  await mempool.accept(fan);
  blocks.push(...await mine(chain, mempool, key.pkh, 1));
  store.close();
  const id = txid(fan);
  return { key, blocks, coins: outputs.map((_, index) => ({ txid: id, index })) };
}

/**
 * A fresh regtest ledger (in memory unless `path`) at height 12 holding `FAN_OUT` spendable coins and a mature
 * coinbase.
 * The history is mined once per process and replayed, so each call costs a few milliseconds.
 */
export async function fundedLedger(
  opts: ChainOptions & { maxBytes?: number; path?: string } = {},
): Promise<FundedLedger> {
  base ??= buildBase();
  const { key, blocks, coins } = await base;
  const ledger = newLedger(opts);
  for (const b of blocks) await ledger.chain.processBlock(b);
  assert.equal(ledger.chain.height, blocks.length);
  return {
    ...ledger,
    key,
    coins: [...coins],
    matureCoinbase: coinbaseOut(blocks[1]),
    immatureCoinbase: coinbaseOut(blocks[blocks.length - 1]),
    blocks,
  };
}

/** Awaits `p` and asserts it was refused with `code` (and `score`, when given); returns the error. */
export async function assertRefused(
  p: Promise<unknown>,
  code: string,
  score?: number,
): Promise<ValidationError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof ValidationError)) {
    assert.fail(`expected a ValidationError "${code}", got ${e === undefined ? "success" : String(e)}`);
  }
  assert.equal(e.code, code, `wrong code: ${e.message}`);
  if (score !== undefined) assert.equal(e.score, score, `wrong score for ${e.message}`);
  return e;
}

/** What a refusal must leave untouched. */
export interface LedgerState {
  tip: string;
  height: number;
  coinCount: number;
  orphans: number;
  mempool: string[];
}

/** The observable state of a chain and its mempool. */
export function ledgerState(chain: Chain, mempool?: Mempool): LedgerState {
  return {
    tip: chain.tip.hash,
    height: chain.height,
    coinCount: chain.coinCount,
    orphans: chain.orphanCount,
    mempool: mempool?.entries().map((e) => e.txid) ?? [],
  };
}

/** Asserts the chain and mempool look as they did in `before`. */
export function assertUnchanged(before: LedgerState, chain: Chain, mempool?: Mempool): void {
  assert.deepEqual(ledgerState(chain, mempool), before);
}

/** Asserts a block on `l`'s tip holding `txs` is refused with `code` and changes nothing. */
export async function refuseInBlock(
  l: FundedLedger,
  code: string,
  txs: Transaction[],
  score?: number,
): Promise<{ block: Block; error: ValidationError }> {
  const before = ledgerState(l.chain, l.mempool);
  const block = makeBlock(l.chain, undefined, l.key.pkh, withTxs(...txs));
  const error = await assertRefused(l.chain.processBlock(block), code, score);
  assertUnchanged(before, l.chain, l.mempool);
  return { block, error };
}

/** Asserts the mempool refuses `tx` with `code` (and `score`, when given) and stays as it was. */
export async function refuseInPool(
  l: FundedLedger,
  code: string,
  tx: Transaction,
  score?: number,
): Promise<ValidationError> {
  const before = ledgerState(l.chain, l.mempool);
  const error = await assertRefused(l.mempool.accept(tx), code, score);
  assertUnchanged(before, l.chain, l.mempool);
  return error;
}

/** A block's hash. */
export function hashOf(block: Block): string {
  return blockHashSync(block.header);
}

/** A `makeBlock` edit that appends `txs` after the coinbase (and its template transactions). */
export function withTxs(...txs: Transaction[]): (b: Block) => void {
  return (b) => b.txs.push(...txs);
}

/** Signs every input of `tx` with `signer` (which need not own the coins), in place; returns `tx`. */
export async function signAll(tx: Transaction, signer: TestKey): Promise<Transaction> {
  const sig = await sign(signer.privateKey, sigHash(tx));
  for (const i of tx.inputs) i.signature = sig;
  return tx;
}

/** A transaction spending `inputs` with `key`'s public key and zero signatures (for context-free rules). */
export function unsigned(key: TestKey, inputs: OutPoint[], outputs: TxOutput[], lockTime = 0): Transaction {
  return {
    version: 1,
    inputs: inputs.map((prevout) => ({ prevout, publicKey: key.publicKey, signature: new Uint8Array(64) })),
    outputs,
    lockTime,
  };
}

/** `block` with its nonce moved to the first value whose hash fails the target (about two tries on regtest). */
export function failingNonce(block: Block): Block {
  const header = { ...block.header };
  for (let n = 0; n < 1000; n++, header.nonce++) {
    if (!checkProofOfWork(blockHashSync(header), header.bits)) return { header, txs: block.txs };
  }
  throw new Error("every nonce met the target");
}
