/**
 * Many real node processes on 127.0.0.1 with small SuperPeers (`--max-peers 3`), all started from one
 * tracker file: they form one network of several SuperPeers, survive SuperPeer SIGKILLs one after another,
 * and nobody is left alone. The scenario is the stress run's (bench/stress/scale.ts), whose full size
 * (100 nodes, `--max-peers 8`) runs in `deno task stress`.
 */
import assert from "node:assert/strict";
import { overlayScale } from "../bench/stress/scale.ts";

const NODES = 16, MAX_PEERS = 3, KILLS = 3;

Deno.test(`${NODES} nodes with --max-peers ${MAX_PEERS} from one tracker form one network of several SuperPeers, survive ${KILLS} SuperPeer SIGKILLs, and nobody is alone`, async () => {
  const r = await overlayScale({ nodes: NODES, maxPeers: MAX_PEERS, kills: KILLS, batch: 4 });
  const show = [...r.failures, ...r.notes].join("\n");
  assert.deepEqual(r.failures, [], show);
  assert.equal(r.runs, KILLS, show);
  assert.equal(r.survived, KILLS, show);
  assert.equal(r.lost, 0, show);
});
