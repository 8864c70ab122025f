/** Test fixtures: a regtest chain in memory, keys, mining and signed spends. */
import { Chain, type ChainOptions, type ProcessResult } from "../../lib/chain/chain.ts";
import { Mempool } from "../../lib/chain/mempool.ts";
import { type NetworkParams, NETWORKS } from "../../lib/consensus/params.ts";
import { blockHashSync } from "../../lib/primitives/header.ts";
import { generateKeyPair, type KeyPair, sign } from "../../lib/crypto/ed25519.ts";
import { pubKeyHash } from "../../lib/crypto/key_hash.ts";
import { createTemplate, solveSync } from "../../lib/mining/template.ts";
import type { Block } from "../../lib/primitives/block.ts";
import { blockMerkleRoot } from "../../lib/primitives/block.ts";
import {
  type OutPoint,
  sigHash,
  type Transaction,
  txid,
  type TxOutput,
} from "../../lib/primitives/transaction.ts";
import { openStore, type Store } from "../../lib/store/store.ts";

/** The regtest parameters. */
export const params = NETWORKS.regtest;

/** A key with its hash. */
export interface TestKey extends KeyPair {
  pkh: string;
}

/** A fresh key. */
export async function newKey(): Promise<TestKey> {
  const kp = await generateKeyPair();
  return { ...kp, pkh: pubKeyHash(kp.publicKey) };
}

/** A regtest chain and mempool over a store (in memory unless `path`). */
export function newLedger(
  opts: ChainOptions & { path?: string; maxBytes?: number; params?: NetworkParams } = {},
): {
  store: Store;
  chain: Chain;
  mempool: Mempool;
} {
  const store = openStore(opts.path ?? ":memory:");
  const chain = Chain.open(store, opts.params ?? params, opts);
  return { store, chain, mempool: new Mempool(chain, { maxBytes: opts.maxBytes }) };
}

let clock = params.genesis.header.time;

/** A solved block on the tip paying `payTo`, with the mempool's transactions; `edit` may change it first. */
export function makeBlock(
  chain: Chain,
  mempool: Mempool | undefined,
  payTo: string,
  edit?: (b: Block) => void,
): Block {
  clock += 10;
  const { block } = createTemplate(chain, mempool, payTo, { time: clock });
  if (edit) {
    edit(block);
    block.header.merkleRoot = blockMerkleRoot(block.txs);
  }
  return solveSync(block);
}

/** Mines `n` blocks on the tip, feeding the mempool each update. Returns the blocks. */
export async function mine(chain: Chain, mempool: Mempool, payTo: string, n = 1): Promise<Block[]> {
  const blocks: Block[] = [];
  for (let i = 0; i < n; i++) {
    const b = makeBlock(chain, mempool, payTo);
    const r: ProcessResult = await chain.processBlock(b);
    await mempool.chainUpdated(r.update);
    blocks.push(b);
  }
  return blocks;
}

/** A signed transaction spending `inputs` (all owned by `key`) to `outputs`. */
export async function spend(
  key: TestKey,
  inputs: OutPoint[],
  outputs: TxOutput[],
  lockTime = 0,
): Promise<Transaction> {
  const tx: Transaction = {
    version: 1,
    inputs: inputs.map((prevout) => ({ prevout, publicKey: key.publicKey, signature: new Uint8Array(64) })),
    outputs,
    lockTime,
  };
  const msg = sigHash(tx);
  const sig = await sign(key.privateKey, msg);
  for (const i of tx.inputs) i.signature = sig;
  return tx;
}

/** The outpoint of a block's coinbase output. */
export function coinbaseOut(block: Block): OutPoint {
  return { txid: txid(block.txs[0]), index: 0 };
}

/**
 * Regtest-like parameters whose genesis needs about 2^8 hashes (bits 0x2000ffff) and that retarget every
 * `interval` blocks, so branches can differ in work per block.
 */
export function retargetingParams(interval = 5): NetworkParams {
  const genesis = solveSync({
    header: { ...params.genesis.header, bits: 0x2000ffff },
    txs: params.genesis.txs,
  });
  return {
    ...params,
    genesis,
    genesisHash: blockHashSync(genesis.header),
    noRetargeting: false,
    retargetInterval: interval,
  };
}

/** Mines a block on `chain`'s tip at `time` (no mempool), and processes it. */
export async function mineAt(chain: Chain, payTo: string, time: number): Promise<Block> {
  const { block } = createTemplate(chain, undefined, payTo, { time });
  const solved = solveSync(block);
  await chain.processBlock(solved);
  return solved;
}

/**
 * A fresh in-memory ledger with coins to spend: 11 blocks mined to a new key, then a transaction `fan` that
 * splits the first coinbase into `outputs` coins of 8 coins each for that key, confirmed in block 12.
 */
export async function fannedLedger(outputs = 6): Promise<{
  key: TestKey;
  ledger: ReturnType<typeof newLedger>;
  history: Block[];
  fan: Transaction;
}> {
  const key = await newKey();
  const ledger = newLedger();
  const history = await mine(ledger.chain, ledger.mempool, key.pkh, 11);
  const fan = await spend(
    key,
    [coinbaseOut(history[0])],
    Array.from({ length: outputs }, () => ({ amount: 8e8, pubKeyHash: key.pkh })),
  );
  await ledger.mempool.accept(fan);
  history.push(...await mine(ledger.chain, ledger.mempool, key.pkh, 1));
  return { key, ledger, history, fan };
}
