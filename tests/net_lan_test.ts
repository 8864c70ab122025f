/**
 * A real LAN on one machine: four hosts in their own Linux network namespaces on a bridge, each running the
 * real CLI on its own 10.200.x.n address with its own data directory and tracker copy. Pulled cables, the
 * SuperPeer SIGKILLed under load, a 2+2 partition, and a hostile fifth host. Needs root and iproute2;
 * skipped (with one line saying why) elsewhere. Measured times are printed as `lan: ...` lines.
 */
import assert from "node:assert/strict";
import { COIN, formatAmount, parseAmount } from "../lib/consensus/amount.ts";
import type { NodeStatus } from "../lib/node.ts";
import type { PeersReply } from "../lib/rpc/methods.ts";
import {
  describeNodes,
  mempoolIds,
  statuses,
  waitForOneNetwork,
  waitForOnePrimary,
  withViews,
} from "./support/cluster.ts";
import { Lan, type LanHost, type LanOptions, lanSkipReason } from "./support/lan.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { hasTmux, Terminal } from "./support/terminal.ts";

const ATTACKER = new URL("./support/lan_attacker.ts", import.meta.url).pathname;

const skip = await lanSkipReason();
if (skip) console.log(`LAN tests skipped: ${skip}`);

interface BlockJson {
  txs: { txid: string; inputs: { txid: string; index: number }[] }[];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Waits until every host has the same tip at `minHeight` or above; returns the tip. */
async function waitForSameTip(hosts: LanHost[], minHeight: number, ms: number, what: string) {
  let tip = "";
  await waitFor(
    async () => {
      const s = await statuses(hosts);
      tip = s[0].tip;
      return s.every((x) => x.tip === tip && x.height >= minHeight);
    },
    ms,
    withViews(hosts, what),
  );
  return tip;
}

/** Every transaction of `h`'s active chain above `from`, by txid. */
async function chainTxs(h: LanHost, from = 0): Promise<Map<string, BlockJson["txs"][number]>> {
  const { height } = await h.rpc<NodeStatus>("status");
  const out = new Map<string, BlockJson["txs"][number]>();
  for (let n = from + 1; n <= height; n++) {
    for (const tx of (await h.rpc<BlockJson>("block", [String(n)])).txs) out.set(tx.txid, tx);
  }
  return out;
}

/** True when every host holds every txid in its mempool or on its active chain. */
async function allHold(hosts: LanHost[], txids: string[], from: number): Promise<boolean> {
  for (const h of hosts) {
    const [pool, chain] = await Promise.all([mempoolIds(h), chainTxs(h, from)]);
    if (!txids.every((id) => pool.has(id) || chain.has(id))) return false;
  }
  return true;
}

/** Mines `n` blocks on `h`, then waits until every host of `group` has them (so the next miner builds on them). */
/** Waits until every host of `hosts` holds every txid in `ids` in its mempool. */
async function waitInMempools(hosts: LanHost[], ids: string[], ms: number, what: string): Promise<void> {
  await waitFor(
    async () => (await Promise.all(hosts.map(mempoolIds))).every((pool) => ids.every((id) => pool.has(id))),
    ms,
    withViews(hosts, `${what}: ${ids.join(", ")}`),
  );
}

async function mine(h: LanHost, n: number, group: LanHost[]): Promise<string> {
  const { hashes } = await h.rpc<{ hashes: string[] }>("mine", [n]);
  const { height } = await h.rpc<NodeStatus>("status");
  const tip = await waitForSameTip(
    group,
    height,
    10_000,
    `${n} blocks from host ${h.n} on hosts of its side`,
  );
  assert.equal(tip, hashes.at(-1));
  return tip;
}

/** Pays `amount` (coins, as the RPC takes them: a decimal string) from `from`'s wallet to `to`'s. */
async function send(from: LanHost, to: LanHost, amount: string): Promise<string> {
  const { address } = await to.rpc<{ address: string }>("address");
  return (await from.rpc<{ txid: string }>("send", [address, amount])).txid;
}

/** Builds a LAN, runs `body`, and always tears everything down. */
async function withLan(
  body: (lan: Lan, h: (n: number) => LanHost) => Promise<void>,
  hosts = 4,
  opts: LanOptions = {},
): Promise<void> {
  const lan = await Lan.create(hosts, opts);
  try {
    await body(lan, (n) => lan.host(n));
  } finally {
    await lan.cleanup();
  }
}

/** `withLan` with all hosts started and host 1 (first in the tracker) seen as the one SuperPeer. */
function withStartedLan(body: (lan: Lan, h: (n: number) => LanHost) => Promise<void>): Promise<void> {
  return withLan(async (lan, h) => {
    await lan.startAll();
    assert.equal(await waitForOnePrimary(lan.hosts, 15_000, "one network"), h(1));
    await body(lan, h);
  });
}

Deno.test({
  name: "LAN: four hosts form one network and a payment made on host 4 is confirmed on host 1",
  ignore: !!skip,
  fn: () =>
    withLan(async (lan, h) => {
      const t0 = performance.now();
      await lan.startAll();
      const hub = await waitForOnePrimary(lan.hosts, 15_000, "four hosts to form one network");
      console.log(`lan: four hosts formed one network ${secs(performance.now() - t0)} after the first start`);
      assert.equal(hub, h(1), "the tracker's first line names host 1, which started first");
      // What each host learned (server_tracker.regtest.txt beside its given tracker) names the hub first.
      for (const host of lan.hosts) {
        await waitFor(
          async () =>
            (await Deno.readTextFile(host.learned).catch(() => "")).split("\n")[0] ===
              h(1).listen.replace(":", " "),
          5_000,
          `host ${host.n}'s tracker to name the hub first`,
        );
      }
      await mine(h(4), 11, lan.hosts); // host 4's first coinbase is then mature for the next block
      const { address } = await h(1).rpc<{ address: string }>("address");
      // The payment goes through the real `send` subcommand run inside host 4's namespace.
      const r = await h(4).cli(["send", address, "12.5", "--json"]);
      assert.equal(r.code, 0, `send failed: ${r.stderr}`);
      const { txid } = JSON.parse(r.stdout) as { txid: string };
      await waitInMempools(lan.hosts, [txid], 10_000, "the payment in every mempool");
      await mine(h(2), 1, lan.hosts); // mined by a third host, so the payment crossed the LAN twice
      assert.ok((await chainTxs(h(1), 11)).has(txid), "the payment is in block 12 on host 1");
      const bal = await h(1).rpc<{ spendable: string }>("balance");
      assert.equal(bal.spendable, "12.5");
    }),
});

Deno.test({
  name:
    "LAN: cable pull: the SuperPeer's link goes down, the three others settle on a successor; back up, the old one links to it, takes nobody back and catches up",
  ignore: !!skip,
  fn: () =>
    withStartedLan(async (lan, h) => {
      await mine(h(2), 2, lan.hosts);
      const others = [h(2), h(3), h(4)];
      const tDown = performance.now();
      await lan.cableDown(1);
      const newHub = await waitForOnePrimary(others, 15_000, "the three to agree on a new hub");
      console.log(
        `lan: cable pull: three hosts agreed on hub ${newHub.n} in ${secs(performance.now() - tDown)}`,
      );
      const tip = await mine(h(3), 3, others); // while host 1 is cut off
      const tUp = performance.now();
      await lan.cableUp(1);
      await waitForOneNetwork(lan.hosts, 20_000, "one network of four after the cable is back");
      const tMerged = performance.now();
      assert.equal(await waitForSameTip(lan.hosts, 5, 15_000, "host 1 to catch up"), tip);
      console.log(
        `lan: cable back: one network after ${secs(tMerged - tUp)}, host 1 caught up after ${
          secs(performance.now() - tUp)
        }`,
      );
      // Host 1 said nothing that could pull its old Peers back: they keep the successor as primary.
      for (const x of others.filter((x) => x !== newHub)) {
        assert.equal(
          (await x.rpc<NodeStatus>("status")).hub,
          newHub.listen,
          `no move back\n${await describeNodes(lan.hosts)}`,
        );
      }
    }),
});

Deno.test({
  name: "LAN: the SuperPeer SIGKILLed while two hosts send payments: every accepted transaction survives",
  ignore: !!skip,
  fn: () =>
    withStartedLan(async (lan, h) => {
      await mine(h(3), 4, lan.hosts);
      await mine(h(4), 4, lan.hosts);
      await mine(h(2), 10, lan.hosts);
      const base = 18;
      const accepted: string[] = [];
      let refused = 0, stop = false;
      const loop = async (from: LanHost, to: LanHost) => {
        while (!stop) {
          try {
            accepted.push(await send(from, to, "0.01"));
          } catch {
            refused++;
          }
          await sleep(40);
        }
      };
      const loops = [loop(h(3), h(4)), loop(h(4), h(3))];
      await sleep(1500);
      const beforeKill = accepted.length;
      const tKill = performance.now();
      h(1).kill("SIGKILL");
      const survivors = [h(2), h(3), h(4)];
      let hub: LanHost, failover: number;
      try {
        hub = await waitForOnePrimary(survivors, 15_000, "the survivors to agree on a new hub");
        failover = performance.now() - tKill;
        await sleep(1500); // payments keep flowing through the new hub
      } finally {
        stop = true;
        await Promise.all(loops);
      }
      const tStop = performance.now();
      await waitFor(
        () => allHold(survivors, accepted, base),
        20_000,
        async () => {
          const missing = [];
          for (const s of survivors) {
            const [pool, chain] = await Promise.all([mempoolIds(s), chainTxs(s, base)]);
            missing.push(
              `host ${s.n} lacks ${accepted.filter((id) => !pool.has(id) && !chain.has(id)).length}`,
            );
          }
          return await withViews(
            survivors,
            `every accepted transaction on every survivor: ${missing.join(", ")}`,
          )();
        },
      );
      console.log(
        `lan: hub SIGKILL under load: new hub host ${hub.n} after ${secs(failover)}; ${accepted.length} ` +
          `accepted (${beforeKill} before the kill), ${refused} refused, all on every survivor ${
            secs(performance.now() - tStop)
          } after the senders stopped`,
      );
      assert.ok(
        beforeKill >= 5 && accepted.length >= beforeKill + 5,
        "payments flowed before and after the kill",
      );
      await mine(h(2), 1, survivors);
      for (const s of survivors) {
        const chain = await chainTxs(s, base);
        const missing = accepted.filter((id) => !chain.has(id));
        assert.deepEqual(missing, [], `host ${s.n}: accepted payments not confirmed`);
      }
    }),
});

Deno.test({
  name:
    "LAN: partition 2+2: both sides keep working; healed, one network, the most-work chain, losing side's valid payments mined, no double spend",
  ignore: !!skip,
  fn: () =>
    withLan(async (lan, h) => {
      // Hosts 1 and 4 share one wallet, so one coin can be spent differently on each side of the split.
      await lan.start(1);
      await Deno.copyFile(`${h(1).dataDir}/wallet.json`, `${h(4).dataDir}/wallet.json`);
      await Promise.all([2, 3, 4].map((n) => lan.start(n)));
      assert.equal(await waitForOnePrimary(lan.hosts, 15_000, "one network"), h(1));
      await mine(h(2), 5, lan.hosts);
      await mine(h(3), 5, lan.hosts);
      await mine(h(1), 11, lan.hosts);
      const sideA = [h(1), h(2)], sideB = [h(3), h(4)];
      const tSplit = performance.now();
      await lan.partition([3, 4]);
      const [hubA, hubB] = await Promise.all([
        waitForOnePrimary(sideA, 15_000, "side A (hosts 1, 2) to settle on a hub"),
        waitForOnePrimary(sideB, 15_000, "side B (hosts 3, 4) to elect a hub"),
      ]);
      console.log(
        `lan: partition: hubs host ${hubA.n} and host ${hubB.n}, both settled ${
          secs(performance.now() - tSplit)
        } after the split`,
      );
      // The shared wallet spends all its mature coins on each side: two conflicting payments.
      const { spendable } = await h(1).rpc<{ spendable: string }>("balance");
      const units = parseAmount(spendable);
      assert.ok(units >= 50 * COIN, `the shared wallet has mature coins (${spendable})`);
      const dA = await send(h(1), h(2), formatAmount(units - COIN));
      const pA = await send(h(2), h(3), "1");
      const dB = await send(h(4), h(3), formatAmount(units - COIN));
      const pB = await send(h(3), h(2), "1");
      await waitInMempools(sideA, [dA, pA], 10_000, "side A's payments on both its hosts");
      await waitInMempools(sideB, [dB, pB], 10_000, "side B's payments on both its hosts");
      await mine(h(2), 2, sideA);
      // Host 2's largest coin is now dA's output, so cA is a child of the double spend: it must not survive.
      const cA = await send(h(2), h(3), "2");
      await mine(h(2), 1, sideA);
      await mine(h(3), 4, sideB);
      const pA2 = await send(h(1), h(3), "3"); // a mature coinbase of the shared wallet; unconfirmed on side A
      const chainA = await chainTxs(h(1), 21), chainB = await chainTxs(h(4), 21);
      assert.ok(chainA.has(dA) && chainA.has(pA) && chainA.has(cA) && chainB.has(dB) && chainB.has(pB));
      const spentA = new Set(chainA.get(dA)!.inputs.map((i) => `${i.txid}:${i.index}`));
      assert.ok(chainB.get(dB)!.inputs.some((i) => spentA.has(`${i.txid}:${i.index}`)), "dA and dB conflict");
      assert.ok(chainA.get(cA)!.inputs.some((i) => i.txid === dA), "cA spends an output of dA");

      const tHeal = performance.now();
      await lan.heal();
      await waitForOneNetwork(lan.hosts, 20_000, "the two sides' SuperPeers to link up");
      const tMerged = performance.now();
      const tip = await waitForSameTip(lan.hosts, 25, 15_000, "every host on the most-work chain");
      assert.equal(tip, (await h(3).rpc<NodeStatus>("status")).tip);
      assert.ok((await chainTxs(h(1), 21)).has(dB), "side B's branch (more work) won");
      console.log(
        `lan: partition healed: one network after ${secs(tMerged - tHeal)}, every host on the ` +
          `most-work tip after ${secs(performance.now() - tHeal)}`,
      );
      await waitInMempools(
        lan.hosts,
        [pA, pA2],
        10_000,
        "side A's still-valid payments (pA, pA2) everywhere",
      );
      console.log(
        `lan: losing side's valid payments in every mempool ${
          secs(performance.now() - tHeal)
        } after the heal`,
      );
      for (const host of lan.hosts) {
        const pool = await mempoolIds(host);
        assert.ok(
          !pool.has(dA) && !pool.has(cA),
          `host ${host.n} dropped the losing double spend and its child`,
        );
      }
      await mine(h(3), 1, lan.hosts); // mined on the winning side: side A's payments must have crossed over
      const final = await chainTxs(h(4), 0);
      for (const [name, id] of Object.entries({ pA, pA2, dB, pB })) assert.ok(final.has(id), `${name} mined`);
      assert.ok(!final.has(dA) && !final.has(cA), "the losing double spend is not on the final chain");
      const spent = new Set<string>();
      for (const tx of final.values()) {
        for (const i of tx.inputs) {
          const key = `${i.txid}:${i.index}`;
          assert.ok(!spent.has(key), `coin ${key} spent twice`);
          spent.add(key);
        }
      }
    }),
});

Deno.test({
  name:
    "LAN: a hostile fifth host forges SuperPeer hellos and opens 64 idle sockets: its address gets a few slots, nobody steps down or moves, no tracker names it, a late honest host still joins",
  ignore: !!skip,
  fn: () =>
    withLan(
      async (lan, h) => {
        await lan.startAll(3);
        assert.equal(await waitForOnePrimary([h(1), h(2), h(3)], 15_000, "three hosts in one network"), h(1));
        const ip5 = h(5).listen.split(":")[0];
        // 64 sockets that greet as the biggest SuperPeer there is and answer pings, for 6 s.
        const idle = lan.run(5, ATTACKER, ["idle", h(1).listen, ip5, "64", "6"]);
        await sleep(1000);
        // Meanwhile one liar sends forged directory entries and the old `yield` to each honest host.
        const liars = [1, 2, 3].map((n) => lan.run(5, ATTACKER, ["liar", h(n).listen, ip5, "1", "2"]));
        await lan.start(4); // the late honest host
        await waitForOnePrimary([h(1), h(2), h(3), h(4)], 15_000, "the late host to join despite the attack");
        const seen = JSON.parse(await idle.stdout);
        for (const l of liars) await l.stdout;
        console.log(`lan: hostile host: ${JSON.stringify(seen)} of 64 sockets; late host joined`);
        assert.ok(seen.open <= 4, `one address holds at most 4 links, it held ${seen.open}`);
        const hosts = [h(1), h(2), h(3), h(4)];
        const s = await Promise.all(hosts.map((x) => x.rpc<NodeStatus>("status")));
        assert.deepEqual(s.map((x) => x.role), ["superpeer", "peer", "peer", "peer"], "nobody stepped down");
        assert.ok(s.every((x) => x.hub === h(1).listen), "nobody moved to the liar");
        for (const x of hosts) {
          const tracker = await Deno.readTextFile(x.learned).catch(() => "");
          assert.ok(!tracker.includes(ip5), `host ${x.n}'s tracker names the liar:\n${tracker}`);
        }
        const tip = await mine(h(4), 1, hosts);
        assert.ok(tip);
      },
      5,
      { trackerHosts: 4 },
    ),
});

// ---- LAN discovery (`--discover`): the only place where a test broadcasts, inside these namespaces ----

const BEACONS = new URL("./support/lan_beacons.ts", import.meta.url).pathname;

/** When host `h` started its first search and when it next joined a SuperPeer or became one (its log). */
function joinTime(h: LanHost, fromLine = 0): { askedAt: number; joinedAt: number; ms: number; line: string } {
  const lines = h.log.slice(fromLine);
  const i = lines.findIndex((l) => /^\S+ discovery: /.test(l));
  if (i < 0) throw new Error(`host ${h.n} never searched:\n${lines.join("\n")}`);
  const [ts, rest] = [lines[i].slice(0, lines[i].indexOf(" ")), lines[i]];
  const searchMs = Number(/\((\d+) ms\)$|in (\d+) ms/.exec(rest)?.slice(1).find((x) => x) ?? NaN);
  const askedAt = Date.parse(ts) - searchMs;
  const j = lines.findIndex((l, k) => k > i && / (promoted to SuperPeer|became a Peer) /.test(l));
  if (j < 0) throw new Error(`host ${h.n} never joined or promoted after searching:\n${lines.join("\n")}`);
  const joinedAt = Date.parse(lines[j].slice(0, lines[j].indexOf(" ")));
  return { askedAt, joinedAt, ms: joinedAt - askedAt, line: lines[j].slice(lines[j].indexOf(" ") + 1) };
}

/** Waits until UDP port 18765 is bound in host `n`'s namespace (a beacon script is ready). */
async function udpBound(lan: Lan, n: number): Promise<void> {
  await waitFor(
    async () => {
      const out = await new Deno.Command("ip", {
        args: ["netns", "exec", lan.host(n).ns, "ss", "-Huln", "sport = :18765"],
        stdout: "piped",
        stderr: "null",
      }).output();
      return new TextDecoder().decode(out.stdout).trim() !== "";
    },
    20_000,
    () => `host ${n}'s beacon script to bind UDP 18765`,
  );
}

/** Addresses a host's links and tracker file name. */
async function namedBy(h: LanHost): Promise<string> {
  const peers = await h.rpc<PeersReply>("peers");
  return [...peers.links.map((l) => l.listen), await Deno.readTextFile(h.learned).catch(() => "")].join(" ");
}

Deno.test({
  name:
    "LAN discovery: four hosts with empty tracker files and --discover form one network; a fifth host beaconing for another genesis gets no answer and nobody dials or lists it",
  ignore: !!skip,
  fn: () =>
    withLan(
      async (lan, h) => {
        const ip5 = h(5).listen.split(":")[0];
        const other = lan.run(5, BEACONS, ["other-genesis", ip5, lan.root]);
        await udpBound(lan, 5);
        const hosts = [h(1), h(2), h(3), h(4)];
        for (const x of hosts) assert.equal(await Deno.readTextFile(x.tracker), "", "empty tracker files");
        const t0 = Date.now();
        await Promise.all(hosts.map((x) => lan.start(x.n, ["--discover"])));
        await waitForOneNetwork(hosts, 20_000, "four hosts found by discovery to form one network");
        const formed = Date.now();
        const times = hosts.map((x) => joinTime(x));
        const first = Math.min(...times.map((t) => t.askedAt)),
          last = Math.max(...times.map((t) => t.askedAt));
        console.log(
          `lan: discovery: four hosts with empty trackers in one network ${secs(formed - first)} after the ` +
            `first host's first beacon (${secs(formed - last)} after the last's; first start ${
              secs(first - t0)
            } after spawning, polled every 100 ms); ${
              times.map((t, i) => `host ${i + 1} ${t.line} after ${t.ms} ms`).join("; ")
            }`,
        );
        // One network that works: a block mined on one host reaches the others.
        await mine(h(3), 1, hosts);
        // The tracker file is written as usual: a Peer names its SuperPeer, a SuperPeer the others it greeted.
        const roles = (await Promise.all(hosts.map((x) => x.rpc<NodeStatus>("status")))).map((x) => x.role);
        const sps = hosts.filter((_, i) => roles[i] === "superpeer");
        for (const x of hosts) {
          const others = sps.filter((y) => y !== x);
          if (!others.length) continue; // the only SuperPeer names itself alone
          await waitFor(
            async () => {
              const tracker = await Deno.readTextFile(x.learned).catch(() => "");
              return others.some((y) => tracker.includes(y.listen.replace(":", " ")));
            },
            10_000,
            async () =>
              `host ${x.n}'s tracker file to name a SuperPeer: ${await Deno.readTextFile(x.learned).catch(
                () => "",
              )}`,
          );
        }
        await Deno.writeTextFile(`${lan.root}/stop`, "");
        const seen = JSON.parse(await other.stdout);
        console.log(`lan: discovery: the other chain's host: ${JSON.stringify(seen)}`);
        assert.ok(
          seen.queriesHeard >= 4,
          "the other chain's host heard our hosts' beacons (and answered them)",
        );
        assert.ok(seen.answersSent >= 4);
        assert.ok(seen.queriesSent >= 4, "it beaconed all along");
        assert.equal(seen.answersReceived, 0, "nobody answered a beacon for another genesis");
        assert.equal(seen.tcpAccepted, 0, "nobody dialled the other chain's host");
        for (const x of hosts) assert.ok(!(await namedBy(x)).includes(ip5), `host ${x.n} lists ${ip5}`);

        // A host that is not the only SuperPeer goes off; restarted without --discover, it joins through the
        // tracker file it wrote: no search.
        const victim = hosts.find((_, i) => roles[i] === "peer") ?? h(4);
        const rest = hosts.filter((x) => x !== victim);
        const before = victim.log.length;
        victim.kill("SIGKILL");
        await waitFor(
          async () =>
            (await Promise.all(rest.map((x) => x.rpc<NodeStatus>("status")))).every((s) =>
              s.network_size === 3
            ),
          20_000,
          withViews(rest, `the others to notice host ${victim.n} is gone`),
        );
        await lan.start(victim.n);
        await waitForOneNetwork(hosts, 20_000, `host ${victim.n} back through its tracker file`);
        const again = victim.log.slice(before);
        assert.ok(!again.some((l) => / discovery: /.test(l)), "no search on the second start");
        assert.ok(
          again.some((l) => / became a Peer \(start\)/.test(l)),
          `host ${victim.n} joined a SuperPeer its tracker named:\n${again.join("\n")}`,
        );
      },
      5,
      { trackerHosts: 0 },
    ),
});

Deno.test({
  name:
    "LAN discovery: a host forging answers that point at dead addresses and a silent port delays neither a join nor a lone node's promotion by more than a second",
  ignore: !!skip,
  fn: () =>
    withLan(
      async (lan, h) => {
        // Without the forger: a lone first node, then one that joins it.
        await lan.start(1, ["--discover"]);
        await lan.start(2, ["--discover"]);
        const alone = joinTime(h(1)), joined = joinTime(h(2));
        assert.match(alone.line, /promoted to SuperPeer/);
        assert.match(joined.line, /became a Peer/);
        // The forger: six addresses nobody can reach, and a port that accepts and stays silent.
        const ip5 = h(5).listen.split(":")[0];
        const dead = await lan.deadAddresses(5, 6);
        const forger = lan.run(5, BEACONS, ["forge", ip5, lan.root, dead.join(","), "18999"]);
        await udpBound(lan, 5);
        await lan.start(3, ["--discover"]);
        await lan.start(4, ["--discover"]);
        const forged = [joinTime(h(3)), joinTime(h(4))];
        for (const t of forged) assert.match(t.line, /became a Peer/);
        await waitForOnePrimary([h(1), h(2), h(3), h(4)], 15_000, "the four in one star despite the forger");
        // A lone node with the forger: every SuperPeer gone, host 4 restarted with an empty tracker file.
        for (const n of [1, 2, 3, 4]) h(n).kill("SIGKILL");
        await Deno.writeTextFile(h(4).tracker, "");
        const before = h(4).log.length;
        await lan.start(4, ["--discover"]);
        const aloneForged = joinTime(h(4), before);
        assert.match(aloneForged.line, /promoted to SuperPeer/);
        await Deno.writeTextFile(`${lan.root}/stop`, "");
        const seen = JSON.parse(await forger.stdout);
        const worstJoin = Math.max(...forged.map((t) => t.ms));
        console.log(
          `lan: discovery with a forger (6 dead addresses, 1 silent port): join ${joined.ms} ms without, ` +
            `${
              forged.map((t) => t.ms).join(" and ")
            } ms with; lone node promoted after ${alone.ms} ms without, ` +
            `${aloneForged.ms} ms with; forger ${JSON.stringify(seen)}`,
        );
        assert.ok(seen.queriesHeard >= 3 && seen.answersSent >= 21, "the forger answered every search");
        assert.ok(seen.tcpAccepted >= 1, "its forged answers were dialled (the silent port was reached)");
        assert.ok(worstJoin <= joined.ms + 1000, `a join took ${worstJoin} ms with the forger`);
        assert.ok(
          aloneForged.ms <= alone.ms + 1000,
          `a lone promotion took ${aloneForged.ms} ms with the forger`,
        );
        for (const n of [1, 2, 3]) {
          const tracker = await Deno.readTextFile(h(n).learned).catch(() => "");
          assert.ok(![ip5, ...dead].some((a) => tracker.includes(a)), `host ${n}'s tracker names the forger`);
        }
      },
      5,
      { trackerHosts: 0 },
    ),
});

Deno.test({
  name:
    "LAN discovery from the menu: a node with an empty tracker file offers to look; yes finds the SuperPeer on the LAN and joins it",
  ignore: !!skip || !hasTmux(),
  fn: () =>
    withLan(
      async (lan, h) => {
        await lan.start(1, ["--discover"]);
        // Host 2: the menu, with the permissions of `deno task start`, inside its namespace; no --discover.
        const term = new Terminal();
        const node = { prefix: ["ip", "netns", "exec", h(2).ns], listen: h(2).listen };
        try {
          await term.startMenu("lan-menu", { ...node, dataDir: h(2).dataDir, tracker: h(2).tracker });
          await term.waitFor(["No SuperPeer found. Look for one on this LAN (UDP broadcast)?", "(y/N)"]);
          const t0 = Date.now();
          await term.type("y");
          await term.keys("Enter");
          const screen = await term.waitFor([`Found 1 SuperPeer on this LAN: ${h(1).listen}`, "What next?"]);
          assert.ok(screen.includes(`Joined SuperPeer ${h(1).listen}`), screen);
          await waitForOneNetwork([h(1), h(2)], 15_000, "the menu's node linked to the SuperPeer it found");
          console.log(`lan: menu discovery: yes to one network in ${secs(Date.now() - t0)}`);
          const s2 = await h(2).rpc<NodeStatus>("status");
          assert.equal(s2.role, "peer", "it joined the SuperPeer it found as a Peer");
          assert.deepEqual(s2.superpeers, [h(1).listen]);
          await waitFor(
            async () =>
              (await Deno.readTextFile(h(2).learned).catch(() => "")).includes(h(1).listen.replace(":", " ")),
            5000,
            () => "the tracker file to name the SuperPeer found",
          );
        } finally {
          await term.close();
        }
      },
      2,
      { trackerHosts: 0 },
    ),
});
