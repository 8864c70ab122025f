/**
 * Subcommands against real headless regtest nodes on 127.0.0.1: every `--json` shape, every exit code, the
 * cookie, file modes, `stop`, SIGTERM, a stale `rpc.json`, and two nodes started from one folder.
 */
import assert from "node:assert/strict";
import { NETWORKS } from "../lib/consensus/params.ts";
import { COIN, parseAmount } from "../lib/consensus/amount.ts";
import { encodeAddress } from "../lib/crypto/address.ts";
import type { PeersReply } from "../lib/rpc/methods.ts";
import type { RpcInfo } from "../lib/rpc/server.ts";
import { lockDataDir } from "../lib/store/lock.ts";
import { assertRefusal, cli, json } from "./support/cli.ts";
import { Cluster, freePort, type TestNode } from "./support/cluster.ts";
import { parseTracker } from "../lib/net/tracker.ts";
import { waitFor } from "./support/wait.ts";

const HEX64 = /^[0-9a-f]{64}$/;
/** An exact decimal amount of coins, as JSON carries amounts: "0", "1.5", "0.0000198". */
const COINS = /^(0|[1-9]\d*)(\.\d{0,7}[1-9])?$/;
const dec = new TextDecoder();

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** True when nothing holds the data directory's lock (taking and releasing it at once). */
function lockFree(dir: string): boolean {
  try {
    lockDataDir(dir).release();
    return true;
  } catch {
    return false;
  }
}

/**
 * The local addresses of listening TCP sockets on `port`, as /proc/net/tcp{,6} spells them (`0100007F:1F90`).
 * Read through `cat` because Deno reads /proc/net only with --allow-all.
 */
async function listeners(port: number): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: ["/proc/net/tcp", "/proc/net/tcp6"], stderr: "null" })
    .output();
  const found: string[] = [];
  for (const line of dec.decode(out.stdout).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length > 3 && f[3] === "0A" && parseInt(f[1].split(":")[1], 16) === port) found.push(f[1]);
  }
  return found;
}

/** The `status --json` object as printed: its shape is what `assertStatusShape` checks. */
type Status = Record<string, unknown>;

function assertStatusShape(s: Status): void {
  assert.ok(s.role === "peer" || s.role === "superpeer", `role ${s.role}`);
  assert.match(String(s.primary), /^[\w.\-\[\]:]+:\d+$/);
  // The old names stay for one version as aliases of the new (CHANGELOG.md, README "JSON keys").
  assert.equal(s.hub, s.primary, "hub: the deprecated alias of primary");
  assert.equal(s.network_size, s.networkSize, "network_size: the deprecated alias of networkSize");
  assert.ok(Array.isArray(s.backups) && s.backups.every((a) => typeof a === "string" && a !== s.primary));
  const snake = Object.keys(s).filter((k) => !/^[a-z][a-zA-Z0-9]*$/.test(k));
  assert.deepEqual(snake, ["network_size"], "camelCase keys; network_size only as the documented alias");
  assert.match(String(s.listen), /^[\w.\-\[\]:]+:\d+$/);
  assert.equal(s.network, "regtest");
  assert.ok(Number.isSafeInteger(s.height) && (s.height as number) >= 0);
  assert.match(String(s.tip), HEX64);
  assert.ok(Number.isSafeInteger(s.peers) && (s.peers as number) >= 0);
  assert.ok(Array.isArray(s.superpeers) && s.superpeers.every((a) => /^[\w.\-\[\]:]+:\d+$/.test(a)));
  assert.ok(Number.isSafeInteger(s.networkSize) && (s.networkSize as number) >= 1);
  assert.match(String(s.address), /^pcrt1[02-9ac-hj-np-z]+$/);
  // Amounts are exact decimal coin strings; the hash rate is a number of hashes a second.
  for (const k of ["balance", "immature", "pending", "change"]) assert.match(String(s[k]), COINS, k);
  assert.equal(typeof s.hashrate, "number");
  assert.equal(typeof s.dataDir, "string");
  assert.ok(Number.isSafeInteger(s.mempool));
  assert.equal(typeof s.mining, "boolean");
}

/** `address` with one character changed to another of the bech32 alphabet: a typo the checksum catches. */
function mistype(address: string): string {
  const i = address.length - 3;
  return address.slice(0, i) + (address[i] === "q" ? "p" : "q") + address.slice(i + 1);
}

Deno.test({
  name: "subcommands against a headless node: shapes, refusals, cookie, stop, SIGTERM, stale rpc.json",
  async fn(t) {
    const cluster = await Cluster.create("peerchain-cli-");
    const root = cluster.root;
    // Data directory <root>/node, tracker <root>/server_tracker.txt, default timings.
    const start = () => cluster.start("node", { cwd: root, defaultTimings: true });
    const dir = `${root}/node`;
    try {
      const node = await start();
      let address = "";
      let hashes: string[] = [];
      let restarted: TestNode | undefined;

      await t.step("status, address, mine, chain, block, peers, balance, mempool --json", async () => {
        const s0 = await json<Status>(dir, "status");
        assertStatusShape(s0);
        assert.equal(s0.role, "superpeer");
        assert.equal(s0.primary, node.listen);
        assert.deepEqual(s0.backups, [], "a SuperPeer has no backups");
        assert.equal(s0.listen, node.listen);
        const zeros = { height: 0, peers: 0, balance: "0", pending: "0", mempool: 0, mining: false };
        for (const [k, v] of Object.entries(zeros)) assert.equal(s0[k], v, k);
        address = (await json<{ address: string }>(dir, "address")).address;
        assert.equal(address, s0.address);

        const mined = await json<{ hashes: string[] }>(dir, "mine", "2");
        assert.deepEqual(Object.keys(mined), ["hashes"]);
        hashes = mined.hashes;
        assert.equal(hashes.length, 2);
        for (const h of hashes) assert.match(h, HEX64);
        const s1 = await json<Status>(dir, "status");
        assert.equal(s1.height, (s0.height as number) + 2);
        assert.equal(s1.tip, hashes[1]);

        const chain = await json<{ height: number; hash: string; time: number }[]>(dir, "chain", "3");
        assert.deepEqual(chain.map((b) => b.height), [2, 1, 0]);
        assert.deepEqual(chain.map((b) => b.hash), [hashes[1], hashes[0], s0.tip]);
        for (const b of chain) assert.ok(Number.isSafeInteger(b.time));

        const byHeight = await json(dir, "block", "1");
        const byHash = await json(dir, "block", hashes[0]);
        assert.deepEqual(byHash, byHeight);
        assert.equal(byHeight.hash, hashes[0]);
        assert.equal(byHeight.height, 1);
        assert.equal(byHeight.prevHash, s0.tip);
        assert.equal(byHeight.confirmations, 2);
        const txs = byHeight.txs as { txid: string; outputs: { address: string }[] }[];
        assert.equal(txs.length, 1);
        assert.match(txs[0].txid, HEX64);
        assert.equal(txs[0].outputs[0].address, address, "the coinbase pays the node's wallet");

        const peers = await json<PeersReply>(dir, "peers");
        assert.equal(peers.role, "superpeer");
        assert.equal(peers.primary?.listen, node.listen);
        assert.deepEqual(peers.hub, peers.primary, "hub: the deprecated alias of primary");
        assert.deepEqual(peers.links, []);
        assert.deepEqual(
          peers.superpeers.map((e) => [e.listen, e.peers, e.load, e.capacity]),
          [[node.listen, 0, 0, 32]],
          "alone, it is the one SuperPeer, serving nobody, with the default 32 slots",
        );
        assert.equal(peers.networkSize, 1);
        assert.equal(peers.network_size, 1, "network_size: the deprecated alias of networkSize");
        assert.deepEqual(Object.keys(peers).filter((k) => !/^[a-z][a-zA-Z0-9]*$/.test(k)), ["network_size"]);

        assert.deepEqual(await json(dir, "mempool"), []);
        const bal = await json(dir, "balance");
        // Block 1's coinbase matures in the block after 8 more: 1 + 10 (regtest's maturity) - 3.
        assert.deepEqual(bal, { spendable: "0", immature: "100", maturesIn: 8, incoming: "0", change: "0" });
      });

      await t.step("refusals exit 1 and send nothing; send --json gives the txid", async () => {
        const other = encodeAddress("ab".repeat(20), NETWORKS.regtest.addressPrefix);
        // Nothing is mature yet: insufficient funds.
        assertRefusal(await cli(dir, "send", other, "1"), 1, /insufficient funds/);
        const maturing = await json<{ hashes: string[] }>(dir, "mine", "10");
        assert.equal(maturing.hashes.length, 10);
        const s = await json<Status>(dir, "status");
        assert.equal(s.height, 12);
        assert.ok(parseAmount(String(s.balance)) >= 50 * COIN, `mature coinbase, got ${s.balance}`);

        const sent = await json<{ txid: string; amount: string; fee: string }>(dir, "send", other, "1.5");
        assert.equal(sent.amount, "1.5");
        assert.match(sent.fee, COINS);
        assert.match(sent.txid, HEX64);
        const pool = await json<{ txid: string }[]>(dir, "mempool");
        assert.deepEqual(pool.map((e) => e.txid), [sent.txid]);

        const refusals = await Promise.all([
          cli(dir, "send", mistype(other), "1"),
          cli(dir, "send", other, "1,5"),
          cli(dir, "send", other, "-1"),
          cli(dir, "send", other, "1e3"),
          cli(dir, "send", other, "21000000"),
          cli(dir, "block", "99999"),
          cli(dir, "block", "0".repeat(64)),
          cli(dir, "block", "ef".repeat(32)),
        ]);
        assertRefusal(refusals[0], 1, /checksum|mistyped/);
        assertRefusal(refusals[1], 1, /"1,5" is not an amount/);
        assertRefusal(refusals[2], 1, /"-1" is not an amount/);
        assertRefusal(refusals[3], 1, /"1e3" is not an amount/);
        assertRefusal(refusals[4], 1, /insufficient funds/);
        for (const r of refusals.slice(5)) assertRefusal(r, 1, /no block/);
        const after = await json<Status>(dir, "status");
        assert.equal(after.mempool, 1, "a refused send must not reach the mempool");
        assert.deepEqual((await json<{ txid: string }[]>(dir, "mempool")).map((e) => e.txid), [sent.txid]);
        // A malformed parameter from a script is a usage error, not a refusal.
        assertRefusal(await cli(dir, "block", "tip"), 2, /block hash/);
      });

      await t.step("cookie required, RPC on 127.0.0.1 only, rpc.json and wallet.json 0600", async () => {
        const info: RpcInfo = JSON.parse(await Deno.readTextFile(`${dir}/rpc.json`));
        assert.equal(info.pid, node.proc.pid);
        const url = `http://127.0.0.1:${info.port}/`;
        const body = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "status", params: [] });
        const post = async (headers: Record<string, string>) => {
          const res = await fetch(url, { method: "POST", headers, body });
          return { status: res.status, text: await res.text() };
        };
        const wrong = await post({ authorization: `Bearer ${"0".repeat(64)}` });
        assert.equal(wrong.status, 401);
        assert.doesNotMatch(wrong.text, /height/);
        assert.equal((await post({})).status, 401);
        assert.equal(
          (await post({ authorization: info.cookie })).status,
          401,
          "the bare cookie is not a bearer",
        );
        const right = await post({ authorization: `Bearer ${info.cookie}` });
        assert.equal(right.status, 200);
        assert.equal(JSON.parse(right.text).result.height, 12);
        if (Deno.build.os === "linux") {
          assert.deepEqual(await listeners(info.port), [
            `0100007F:${info.port.toString(16).toUpperCase().padStart(4, "0")}`,
          ]);
        }
        if (Deno.build.os !== "windows") {
          assert.equal((await Deno.stat(`${dir}/rpc.json`)).mode! & 0o777, 0o600);
          assert.equal((await Deno.stat(`${dir}/wallet.json`)).mode! & 0o777, 0o600);
        }
      });

      await t.step(
        "stop --json: the node exits 0, frees its data directory, and a new node takes it",
        async () => {
          assert.deepEqual(await json(dir, "stop"), { stopping: true });
          const st = await node.exited;
          assert.equal(st.code, 0, node.log.join("\n"));
          assert.equal(await exists(`${dir}/rpc.json`), false);
          assert.ok(lockFree(dir), "the lock is released");
          assertRefusal(await cli(dir, "status"), 3, /no node is running/);

          restarted = await start();
          const s = await json<Status>(dir, "status");
          assert.equal(s.height, 12, "the chain is kept");
          assert.equal(s.address, address, "the wallet is kept");
        },
      );

      await t.step("SIGTERM: exits 0, rpc.json removed, lock free", async () => {
        const again = restarted!;
        let gone = false;
        again.exited.then(() => gone = true);
        again.proc.kill("SIGTERM");
        // Bounded only so a node that ignores SIGTERM fails the test instead of hanging it.
        await waitFor(() => gone, 30_000, () => `the node to exit on SIGTERM\n${again.log.join("\n")}`);
        const st = await again.exited;
        assert.equal(st.code, 0, again.log.join("\n"));
        assert.ok(again.log.some((l) => /stopping/.test(l)), again.log.join("\n"));
        assert.equal(await exists(`${dir}/rpc.json`), false);
        assert.ok(lockFree(dir));
      });

      await t.step("a SIGKILLed node leaves a stale rpc.json: exit 3", async () => {
        const doomed = await start();
        doomed.proc.kill("SIGKILL");
        await doomed.exited;
        assert.ok(await exists(`${dir}/rpc.json`), "SIGKILL leaves rpc.json behind");
        assertRefusal(await cli(dir, "status", "--json"), 3, /no node answers .*stale/);
        assert.ok(lockFree(dir), "the OS lock dies with the process");
      });
    } finally {
      await cluster.cleanup();
    }
  },
});

Deno.test({
  name:
    "two nodes started from one folder: default data directories keyed by --listen port, the clone left clean",
  async fn() {
    const cluster = await Cluster.create("peerchain-cli-");
    const root = cluster.root;
    // Moving HOME would also move Deno's cache (and make the child download packages): keep the real one.
    const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
      .output();
    const denoDir: string = JSON.parse(dec.decode(info.stdout)).denoDir;
    const env = { HOME: `${root}/home`, XDG_DATA_HOME: `${root}/xdg`, DENO_DIR: denoDir };
    const base = `${root}/xdg/peerchain/regtest`;
    try {
      // The default listen address is every interface: stay on loopback and test the data-dir fallback.
      // No --data-dir and no --tracker: each picks its default, the tracker file in the folder they share.
      const from = { tracker: null, cwd: root, env, defaultTimings: true };
      // The folder holds a shipped tracker file, as a clone does: the nodes must leave it as it is.
      const shipped = "# shipped with the clone\nnot an address\n";
      await Deno.writeTextFile(`${root}/server_tracker.txt`, shipped);
      const [p1, p2] = [freePort(), freePort()];
      const first = await cluster.start("first", { port: p1, defaultDataDir: `${base}-${p1}`, ...from });
      const second = await cluster.start("second", { port: p2, defaultDataDir: `${base}-${p2}`, ...from });
      const [dir1, dir2] = [`${base}-${p1}`, `${base}-${p2}`];
      await waitFor(
        async () => {
          const [a, b] = await Promise.all([
            json<Status>(dir1, "status"),
            json<Status>(dir2, "status"),
          ]);
          return a.peers === 1 && b.peers === 1;
        },
        30_000,
        () =>
          `the two nodes to join\n--- first\n${first.log.join("\n")}\n--- second\n${second.log.join("\n")}`,
      );
      const [a, b] = await Promise.all([json<Status>(dir1, "status"), json<Status>(dir2, "status")]);
      assert.equal(a.role, "superpeer");
      assert.equal(b.role, "peer");
      assert.equal(a.primary, first.listen);
      assert.equal(b.primary, first.listen);
      assert.deepEqual(b.backups, [], "one SuperPeer in the network: no backup to hold");
      assert.notEqual(a.address, b.address, "each instance has its own wallet");
      // What they learned is in the regtest file beside the shipped one, which is unchanged.
      const learned = parseTracker(await Deno.readTextFile(`${root}/server_tracker.regtest.txt`)).addrs;
      assert.equal(`${learned[0].hostname}:${learned[0].port}`, first.listen);
      assert.equal(await Deno.readTextFile(`${root}/server_tracker.txt`), shipped);
      assert.ok(
        first.log.some((l) => /warning: tracker .*server_tracker.txt line 2/.test(l)),
        first.log.join("\n"),
      );
      // A block mined by one reaches the other.
      const [hash] = (await json<{ hashes: string[] }>(dir2, "mine", "1")).hashes;
      await waitFor(
        async () => (await json<Status>(dir1, "status")).tip === hash,
        30_000,
        "the block to relay",
      );
      assert.ok(second.log.some((l) => l.includes(`data ${dir2}`)), second.log.join("\n"));
      // Started again with the same flags, the second node gets the same data directory and wallet.
      second.kill("SIGTERM");
      await second.exited;
      await cluster.restart(second);
      assert.equal((await json<Status>(dir2, "status")).address, b.address);
    } finally {
      await cluster.cleanup();
    }
  },
});
