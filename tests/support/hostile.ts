/** Building blocks of hostile input: a valid hello to get past the handshake, and a block that is invalid. */
import { COIN } from "../../lib/consensus/amount.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { checkProofOfWork } from "../../lib/consensus/pow.ts";
import { blockMerkleRoot, encodeBlock } from "../../lib/primitives/block.ts";
import { blockHashSync } from "../../lib/primitives/header.ts";
import type { Transaction } from "../../lib/primitives/transaction.ts";
import { encodeFrame } from "../../lib/net/frame.ts";
import { PROTOCOL_VERSION } from "../../lib/net/messages.ts";

const REGTEST = NETWORKS.regtest;

/** A framed, valid regtest `hello` from `nodeId`, with fields overridden by `over`. */
export function helloFrame(nodeId: string, over: Record<string, unknown> = {}): Uint8Array {
  return encodeFrame({
    type: "hello",
    protocol: PROTOCOL_VERSION,
    network: "regtest",
    genesis: REGTEST.genesisHash,
    nodeId,
    listen: null,
    address: "hostile",
    tip: { hash: REGTEST.genesisHash, height: 0, work: "1" },
    role: "peer",
    since: null,
    members: 0,
    ...over,
  });
}

/** A framed `join`: after its hello, what a node sends a SuperPeer to be served by it. */
export function joinFrame(primary = true): Uint8Array {
  return encodeFrame({ type: "join", primary });
}

/** A block on `tip` whose hash misses its target; every other field is right. */
export function badPowBlock(tip: { tip: string; height: number }): Uint8Array {
  const coinbase: Transaction = {
    version: 1,
    inputs: [],
    outputs: [{ amount: 50 * COIN, pubKeyHash: "00".repeat(20) }],
    lockTime: tip.height + 1,
  };
  const header = {
    version: 1,
    prevHash: tip.tip,
    merkleRoot: blockMerkleRoot([coinbase]),
    time: Math.floor(Date.now() / 1000),
    bits: 0x207fffff,
    nonce: 0,
  };
  while (checkProofOfWork(blockHashSync(header), header.bits)) header.nonce++;
  return encodeBlock({ header, txs: [coinbase] });
}
