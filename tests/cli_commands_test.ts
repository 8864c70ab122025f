/**
 * The subcommands a person reads: labelled text with units by default, JSON only with `--json`, errors under
 * `--json` as JSON with a stable code; `tx`, `mining start|stop`, `bans`/`unban`; balances that tell
 * incoming payments from the payer's own change; JSON-RPC 2.0 batches and the application error codes.
 */
import assert from "node:assert/strict";
import { encodeAddress } from "../lib/crypto/address.ts";
import { NETWORKS } from "../lib/consensus/params.ts";
import type { Node } from "../lib/node.ts";
import { humanText } from "../lib/cli/output.ts";
import { RPC_BATCH_MAX, RPC_ERRORS } from "../lib/rpc/methods.ts";
import { type RpcInfo, startRpc } from "../lib/rpc/server.ts";
import { cli } from "./support/cli.ts";
import { startLocalNode } from "./support/local_node.ts";
import { withTempDir } from "./support/temp_dir.ts";
import { waitFor } from "./support/wait.ts";

const OTHER = encodeAddress("ab".repeat(20), NETWORKS.regtest.addressPrefix);

/** Runs `fn` with an in-process node serving its RPC, as the subcommands find it. */
async function withServedNode(fn: (node: Node) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const node = await startLocalNode(dir);
    const rpc = await startRpc(node);
    try {
      await fn(node);
    } finally {
      await rpc.close();
      await node.stop();
    }
  }, "peerchain-commands-");
}

/** A subcommand that must succeed; its stdout. */
async function run(node: Node, ...args: string[]): Promise<string> {
  const r = await cli(node.dataDir, ...args);
  assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A `--json` subcommand that must fail: its exit code and the stable error code. */
async function jsonError(node: Node, ...args: string[]): Promise<{ exit: number; code: string }> {
  const r = await cli(node.dataDir, ...args, "--json");
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  const { error } = JSON.parse(lines[0]);
  assert.equal(typeof error.message, "string");
  return { exit: r.code, code: error.code };
}

Deno.test("status text: a Peer's primary and backup SuperPeers by those words, from the status fields", () => {
  const base = {
    role: "peer",
    primary: "127.0.0.1:9001",
    hub: "127.0.0.1:9001",
    superpeers: ["127.0.0.1:9001", "127.0.0.1:9002"],
    backups: ["127.0.0.1:9002"],
    networkSize: 3,
    network_size: 3,
    balance: "0",
    immature: "0",
    pending: "0",
    change: "0",
  };
  const text = humanText("status", base);
  assert.match(text, /^role +Peer of 127\.0\.0\.1:9001 \(primary\), backup 127\.0\.0\.1:9002$/m);
  assert.match(text, /^links +\S+, 3 nodes in the network$/m);
  assert.doesNotMatch(text, /\bhub\b/i);
  const alone = humanText("status", { ...base, superpeers: ["127.0.0.1:9001"], backups: [] });
  assert.match(alone, /^role +Peer of 127\.0\.0\.1:9001 \(primary\), no backup$/m);
  const looking = humanText("status", { ...base, primary: null, hub: null, superpeers: [], backups: [] });
  assert.match(looking, /^role +Peer, looking for a SuperPeer$/m);
});

Deno.test("status, balance, peers, block and tx print labelled text with units; JSON only with --json", async () => {
  await withServedNode(async (node) => {
    await node.miner.mineBlocks(12);
    const status = await run(node, "status");
    assert.doesNotMatch(status, /^[{[]/, "text, not JSON");
    assert.match(status, /^role +SuperPeer, linked to 0 other SuperPeers$/m);
    assert.match(status, /^height +12, tip [0-9a-f]{16}…, (just now|\d+ s ago)$/m);
    // Regtest coinbases mature after 10 blocks: those of blocks 1..3 can be spent in block 13.
    assert.match(status, /^balance +150 coins spendable, 450 immature$/m);
    assert.match(status, new RegExp(`^data +${node.dataDir}$`, "m"));
    assert.match(status, /^mining +off$/m);
    assert.doesNotMatch(status, /maxStallMs|network_size/, "labels, not key names");
    assert.equal(JSON.parse(await run(node, "status", "--json")).height, 12);

    const balance = await run(node, "balance");
    assert.match(balance, /^spendable +150 coins$/m);
    // Block 4's coinbase is spendable in block 14: after 1 more block.
    assert.match(balance, /^immature +450 coins \(the next matures in 1 blocks\)$/m);
    assert.match(balance, /^incoming +0 coins/m);

    const peers = await run(node, "peers");
    assert.match(peers, /^role +SuperPeer, primary 127\.0\.0\.1:\d+, 1 node in the network$/m);
    for (const text of [status, peers]) assert.doesNotMatch(text, /\bhub\b/i, "the human text says primary");
    const block = await run(node, "block", "1");
    assert.match(block, /^block +1 [0-9a-f]{64}$/m);
    assert.match(block, /^time +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \((just now|\d+ s ago)\)$/m);
    assert.match(block, /^confirmations +12$/m);
    assert.match(block, /coinbase: 50 to pcrt1/);

    // Mining from the command line: the hash rate in H/s.
    assert.equal(await run(node, "mining", "start"), "mining: on\n");
    await waitFor(() => node.miner.status().hashrate > 0, 10_000, "a hash rate");
    assert.match(await run(node, "status"), /^mining +on, [\d.]+ (k|M|G)?H\/s$/m);
    assert.equal(await run(node, "mining", "stop"), "mining: off\n");
    assert.equal(node.miner.status().mining, false);
  });
});

Deno.test("a payment: the payer's change is change, not incoming; tx shows inputs, outputs, fee and confirmations", async () => {
  await withServedNode(async (node) => {
    await node.miner.mineBlocks(11);
    const sent = await run(node, "send", OTHER, "12.5");
    const txid = /transaction ([0-9a-f]{64})/.exec(sent)![1];
    const b = node.balances();
    assert.equal(b.incoming, 0, "nobody else paid this wallet");
    assert.ok(b.change > 37 * 1e8 && b.change < 37.5 * 1e8, `change ${b.change}`);
    const balance = await run(node, "balance");
    assert.match(balance, /^incoming +0 coins/m);
    assert.match(balance, /^change +37\.4999\d+ coins \(unconfirmed change of your own payments\)$/m);

    const pending = await run(node, "tx", txid);
    assert.match(pending, /^status +pending \(in the mempool\)$/m);
    assert.match(pending, /^fee +0\.0000\d+ coins$/m);
    assert.match(pending, /^inputs: 1\n {2}[0-9a-f]{64}:0 {2}50 coins$/m);
    assert.match(pending, new RegExp(`^  0  12\\.5 coins to ${OTHER}$`, "m"));
    await node.miner.mineBlocks(2);
    const confirmed = await run(node, "tx", txid);
    assert.match(confirmed, /^status +confirmed in block 12, 2 confirmations$/m);
    assert.match(confirmed, /^fee +0\.0000\d+ coins$/m, "the fee of a confirmed one, from its spent inputs");
    const json = JSON.parse(await run(node, "tx", txid, "--json"));
    assert.equal(json.confirmations, 2);
    assert.equal(json.inputs[0].amount, "50");

    // Refusals under --json: stable codes.
    assert.deepEqual(await jsonError(node, "tx", "ab".repeat(32)), { exit: 1, code: "not-found" });
    assert.deepEqual(await jsonError(node, "send", OTHER.slice(0, -1) + "q", "1"), {
      exit: 1,
      code: "bad-address",
    });
    assert.deepEqual(await jsonError(node, "send", OTHER, "1e3"), { exit: 1, code: "bad-amount" });
    assert.deepEqual(await jsonError(node, "send", OTHER, "20000"), { exit: 1, code: "insufficient-funds" });
    assert.deepEqual(await jsonError(node, "block", "99999"), { exit: 1, code: "not-found" });
    assert.deepEqual(await jsonError(node, "staus"), { exit: 2, code: "usage" });
    assert.deepEqual(await jsonError(node, "block", "tip"), { exit: 2, code: "bad-params" });
  });
});

Deno.test("bans lists banned hosts and unban HOST lifts a ban at once (kept in bans.json)", async () => {
  await withServedNode(async (node) => {
    assert.equal(await run(node, "bans"), "no host is banned\n");
    node.bans.ban("192.168.1.7");
    assert.match(await run(node, "bans"), /^192\.168\.1\.7 +banned until .* \(1440 min left\)$/m);
    const listed = JSON.parse(await run(node, "bans", "--json"));
    assert.equal(listed[0].host, "192.168.1.7");
    assert.ok(listed[0].secondsLeft > 86_000);
    assert.equal(await run(node, "unban", "192.168.1.7"), "192.168.1.7 is no longer banned\n");
    assert.equal(node.bans.isBanned("192.168.1.7"), false);
    const file = JSON.parse(await Deno.readTextFile(`${node.dataDir}/bans.json`));
    assert.ok(!JSON.stringify(file).includes("192.168.1.7"), "the file forgot it too");
    assert.deepEqual(await jsonError(node, "unban", "192.168.1.7"), { exit: 1, code: "not-found" });
  });
});

Deno.test("JSON-RPC 2.0 batches: answers in order, notifications unanswered, application codes beside the standard ones", async () => {
  await withServedNode(async (node) => {
    const info: RpcInfo = JSON.parse(await Deno.readTextFile(`${node.dataDir}/rpc.json`));
    const post = async (body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${info.port}/`, {
        method: "POST",
        headers: { authorization: `Bearer ${info.cookie}` },
        body: JSON.stringify(body),
      });
      return res.status === 204 ? undefined : await res.json();
    };
    const batch = await post([
      { jsonrpc: "2.0", id: 1, method: "status" },
      { jsonrpc: "2.0", method: "mine", params: [1] }, // a notification: done, not answered
      { jsonrpc: "2.0", id: "b", method: "nope" },
      { jsonrpc: "2.0", id: 3, method: "block", params: ["tip"] },
      { jsonrpc: "2.0", id: 4, method: "block", params: ["999"] },
      { jsonrpc: "2.0", id: 5, method: "send", params: [OTHER, "1"] },
      42,
    ]);
    assert.deepEqual(batch.map((r: { id: unknown }) => r.id), [1, "b", 3, 4, 5, null]);
    assert.equal(batch[0].result.height, 0);
    assert.equal(batch[1].error.code, RPC_ERRORS.notFound);
    assert.equal(batch[1].error.code, -32601);
    assert.equal(batch[2].error.code, -32602);
    assert.equal(batch[3].error.code, 5, "no such block: an application code");
    assert.equal(batch[4].error.code, 4, "insufficient funds");
    assert.equal(batch[5].error.code, -32600);
    assert.equal(node.chain.height, 1, "the notification ran");
    assert.equal(
      await post([{ jsonrpc: "2.0", method: "status" }]),
      undefined,
      "only notifications: no body",
    );
    assert.equal((await post([])).error.code, -32600);
    const big = Array.from(
      { length: RPC_BATCH_MAX + 1 },
      (_, i) => ({ jsonrpc: "2.0", id: i, method: "status" }),
    );
    assert.equal((await post(big)).error.code, -32600);
    assert.equal(
      (await post({ jsonrpc: "2.0", id: 9, method: "status" })).result.height,
      1,
      "single still works",
    );
  });
});
