/**
 * Hostile inputs at a hub of real node processes, over raw sockets to 127.0.0.1 only: random bytes, mutated
 * valid frames, wrong types, huge length prefixes, half-sent frames left open, structurally valid but invalid
 * transactions and blocks, and a connection flood. The hub must stay up with bounded memory, the honest
 * nodes must keep relaying, and nothing invalid may reach the hub's chain or mempool.
 * @module
 */
import { COIN } from "../../lib/consensus/amount.ts";
import { NETWORKS } from "../../lib/consensus/params.ts";
import { toHex } from "../../lib/crypto/hex.ts";
import { encodeFrame, MAX_FRAME } from "../../lib/net/frame.ts";
import { encodeTransaction } from "../../lib/primitives/transaction.ts";
import type { NodeStatus } from "../../lib/node.ts";
import { Cluster, describeNodes, mempoolIds, waitForOnePrimary } from "../../tests/support/cluster.ts";
import { sleep, waitFor } from "../../tests/support/wait.ts";
import { rssMiB } from "../stats.ts";
import { JUDGED, JUDGED_STAR, mineMature, scenarioResult } from "./scenario.ts";
import type { Progress, ScenarioResult } from "./scenario.ts";
import { seeded } from "../../tests/support/random.ts";
import { badPowBlock, concat, handshake, helloFrame, rawFrame } from "../../tests/support/hostile.ts";

const REGTEST = NETWORKS.regtest;
const enc = new TextEncoder();

/** How `hostile` runs. */
export interface HostileOptions {
  /** Hostile inputs in all (the flood's sockets count as inputs). */
  inputs: number;
  /** Sockets of the connection flood, all open at once. */
  flood?: number;
  /** Attacking sockets in flight at once. */
  concurrency?: number;
  seed?: number;
  progress?: Progress;
}

/** A well-formed transaction spending an outpoint nobody has, with a made-up key and signature. */
function bogusTx(rand: (n: number) => number): string {
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rand(256)) as Uint8Array<ArrayBuffer>;
  return toHex(encodeTransaction({
    version: 1,
    inputs: [{
      prevout: { txid: toHex(bytes(32)), index: rand(4) },
      publicKey: bytes(32),
      signature: bytes(64),
    }],
    outputs: [{ amount: 1 + rand(COIN), pubKeyHash: toHex(bytes(20)) }],
    lockTime: 0,
  }));
}

/** One hostile input: the bytes to send and whether to leave the socket open afterwards. */
interface Attack {
  kind: string;
  bytes: Uint8Array;
  holdOpen?: boolean;
  /** Prove a key of its own in the handshake first (protocol 3), so `bytes` reach the hub's message checks. */
  proven?: boolean;
}

/** Valid messages to mutate, built from the live hub's state. */
function validMessages(tip: NodeStatus, realTx: string): Record<string, unknown>[] {
  return [
    { type: "ping", nonce: 7 },
    { type: "pong", nonce: 7 },
    { type: "inv", kind: "tx", ids: [tip.tip] },
    { type: "getdata", kind: "block", ids: [tip.tip] },
    { type: "getblocks", locator: [tip.tip, REGTEST.genesisHash], stop: null },
    { type: "tx", data: realTx },
    { type: "block", data: toHex(badPowBlock(tip)) },
    { type: "peers", peers: [{ nodeId: "x", listen: "127.0.0.1:1" }], hub: "127.0.0.1:1" },
    { type: "notfound", kind: "tx", ids: [tip.tip] },
  ];
}

const WRONG_VALUES: unknown[] = [null, 0, -1, 1e300, "", "zz", [], {}, true, "a".repeat(70_000), [[[[[]]]]]];

function makeAttack(i: number, rand: (n: number) => number, valid: Record<string, unknown>[]): Attack {
  const id = `hostile-${i}`;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rand(256));
  switch (i % 7) {
    case 0:
      return { kind: "random bytes", bytes: bytes(1 + rand(2048)) };
    case 1: { // a valid hello, then a valid frame with a few bytes of its body flipped, cut or extended
      const body = encodeFrame(valid[rand(valid.length)]).subarray(4).slice();
      for (let k = 1 + rand(4); k > 0; k--) body[rand(body.length)] = rand(256);
      const cut = rand(3) === 0 ? body.subarray(0, rand(body.length)) : body;
      return {
        kind: "mutated valid frames",
        bytes: rawFrame(concat(cut, bytes(rand(3) * 8))),
        proven: true,
      };
    }
    case 2: { // a valid hello, then a known type whose fields have the wrong types (or the hello itself)
      const msg = { ...valid[rand(valid.length)] };
      const keys = Object.keys(msg).filter((k) => k !== "type");
      if (keys.length) msg[keys[rand(keys.length)]] = WRONG_VALUES[rand(WRONG_VALUES.length)];
      if (rand(5) === 0) msg.type = ["", "HELLO", "yield", "blocks", "x".repeat(200)][rand(5)];
      if (rand(6) === 0) {
        const first = helloFrame(id, {
          [["protocol", "tip", "role", "genesis", "nodeId"][rand(5)]]: WRONG_VALUES[rand(9)],
        });
        return { kind: "wrong types", bytes: concat(first, encodeFrame(msg)) };
      }
      return { kind: "wrong types", bytes: encodeFrame(msg), proven: true };
    }
    case 3: { // a length prefix over the limit, before or after a hello
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, MAX_FRAME + 1 + rand(0xffffffff - MAX_FRAME));
      return { kind: "huge length prefixes", bytes: concat(prefix, bytes(64)), proven: rand(2) === 1 };
    }
    case 4: { // a frame announced but only partly sent, socket left open
      const prefix = new Uint8Array(4);
      new DataView(prefix.buffer).setUint32(0, 100 + rand(100_000));
      return {
        kind: "half-sent frames left open",
        bytes: concat(prefix, enc.encode('{"type":"tx","da')),
        holdOpen: true,
        proven: rand(2) === 1,
      };
    }
    case 5: // well-formed but invalid items: a transaction spending nothing, a block with bad proof of work
      return {
        kind: "invalid tx/block",
        bytes: encodeFrame(rand(2) ? { type: "tx", data: bogusTx(rand) } : valid[6]),
        proven: true,
      };
    default: // not JSON, not an object, no type, deep nesting, bad UTF-8 behind a valid hello
      return {
        kind: "malformed bodies",
        bytes: rawFrame(
          [
            enc.encode("[1,2]"),
            enc.encode('{"typ":1}'),
            enc.encode("[".repeat(100_000)),
            bytes(32),
          ][rand(4)],
        ),
        proven: true,
      };
  }
}

/**
 * What became of one hostile input: it never got through (the connection was refused: not tested), or it was
 * sent and the hub answered on that socket (its hello, or a close) or stayed silent throughout.
 */
type Outcome = "not connected" | "closed by the hub" | "left open by the hub" | "unanswered";

/** How long a hub may take to say anything on a socket (its hello, or a close) before the input counts as unanswered. */
const ANSWER_MS = 10_000;

/**
 * Sends `a` on a fresh socket and watches the hub's side: whether it answers at all, and whether it closes the
 * socket within `waitMs` after the input was sent (waiting on to `ANSWER_MS` while it has said nothing).
 */
async function deliver(port: number, a: Attack, waitMs: number): Promise<Outcome> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return "not connected";
  }
  let answered = false;
  if (a.proven) {
    try {
      await handshake(conn);
      answered = true;
    } catch {
      try {
        conn.close();
      } catch { /* closed */ }
      return "closed by the hub";
    }
  }
  const closed = (async () => {
    const buf = new Uint8Array(16 * 1024);
    try {
      while ((await conn.read(buf)) !== null) answered = true; // the hub's hello and pings
    } catch { /* reset: closed all the same */ }
    answered = true;
    return true;
  })();
  try {
    for (let off = 0; off < a.bytes.length;) off += await conn.write(a.bytes.subarray(off));
  } catch { /* cut off mid-write */ }
  const wait = (ms: number) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([closed, new Promise<false>((r) => timer = setTimeout(() => r(false), ms))])
      .finally(() => clearTimeout(timer));
  };
  let byHub = await wait(waitMs);
  for (let waited = waitMs; !byHub && !answered && waited < ANSWER_MS; waited += 100) byHub = await wait(100);
  try {
    conn.close();
  } catch { /* already closed */ }
  await closed;
  return byHub ? "closed by the hub" : answered ? "left open by the hub" : "unanswered";
}

/**
 * Runs `inputs` hostile inputs at the hub of a three-node network while one honest node keeps paying, then
 * a connection flood; returns the figures. Each input is counted on its own: `survived` are the inputs that
 * got through to the hub and were answered on their socket (its hello, or a close) while its process was
 * alive, so "survived N" says how many were really tested. The honest network's checks afterwards (one hub,
 * relay, nothing invalid accepted) are failures of the scenario when they fail.
 */
export async function hostile(o: HostileOptions): Promise<ScenarioResult> {
  const t0 = Date.now(), notes: string[] = [], failures: string[] = [], log = o.progress ?? (() => {});
  const rand = seeded(o.seed ?? 11);
  const cluster = await Cluster.create("peerchain-stress-");
  try {
    const hub = await cluster.start("hub");
    const b = await cluster.start("b"), c = await cluster.start("c");
    const honest = [hub, b, c];
    await waitForOnePrimary(honest, 20_000, "three nodes to form one network", JUDGED_STAR);
    // Twenty mature coins: each carries at most 25 unconfirmed payments in a row (the mempool's chain
    // limit), and nothing is mined during the attack (a new tip there would read as an accepted block).
    const before = await mineMature(b, 20, [hub], 10_000, "funding at the hub");
    const cAddr = (await c.rpc<NodeStatus>("status")).address;
    const probe = await b.rpc<{ txid: string }>("send", [cAddr, "0.5"]);
    // Mutations start from a well-formed transaction: a real one is no better, as its signature breaks anyway.
    const valid = validMessages(await hub.rpc<NodeStatus>("status"), bogusTx(rand));
    // A control: an honest handshake and a ping are not cut off, so a cut-off below means a refusal.
    const control = await deliver(hub.port, {
      kind: "control",
      bytes: encodeFrame(valid[0]),
      proven: true,
    }, 500);
    if (control !== "left open by the hub") {
      failures.push(`control failed: an honest handshake and ping were not left open (${control})`);
    }
    const baseRss = await rssMiB(hub.proc.pid);
    let peakRss = baseRss, sampling = true;
    const trail: number[] = [];
    const sampler = (async () => {
      for (let i = 0; sampling; i++) {
        const now = await rssMiB(hub.proc.pid);
        peakRss = Math.max(peakRss, now);
        if (i % 20 === 0) trail.push(Math.round(now));
        await sleep(100);
      }
    })();
    const honestTx: string[] = [probe.txid];
    let paying = true;
    const payer = (async () => {
      while (paying) {
        await b.rpc<{ txid: string }>("send", [cAddr, "0.01"]).then((r) => honestTx.push(r.txid), () => {});
        await sleep(300);
      }
    })();
    const flood = Math.min(o.flood ?? 200, o.inputs);
    const total = o.inputs - flood;
    /** Per kind of input: how many were tried, and what became of them. */
    const byKind = new Map<string, Map<Outcome | "hub down", number>>();
    let survived = 0, hubDiedAt = -1;
    const count = (kind: string, what: Outcome | "hub down") => {
      const k = byKind.get(kind) ?? new Map<Outcome | "hub down", number>();
      byKind.set(kind, k);
      k.set(what, (k.get(what) ?? 0) + 1);
    };
    // Two queues: quick attacks, and half-sent frames that are held open until the hub drops them. Both pools
    // together stay under the hub's 64 links, so a cut-off is never just "no room".
    const queues = [[] as number[], [] as number[]];
    for (let i = 0; i < total; i++) queues[i % 7 === 4 ? 1 : 0].push(i);
    const worker = async (queue: number[]) => {
      for (let i = queue.shift(); i !== undefined && hubDiedAt < 0; i = queue.shift()) {
        const a = makeAttack(i, rand, valid);
        // Half-sent frames stay open past the hub's hello timeout (3 s) or dead-after (1.5 s).
        const outcome = await deliver(hub.port, a, a.holdOpen ? 4_000 : 150);
        if (!hub.alive) {
          if (hubDiedAt < 0) hubDiedAt = i;
          count(a.kind, "hub down");
        } else {
          count(a.kind, outcome);
          if (outcome === "closed by the hub" || outcome === "left open by the hub") survived++;
        }
      }
    };
    const n = o.concurrency ?? 24;
    await Promise.all([
      ...Array.from({ length: n }, () => worker(queues[0])),
      ...Array.from({ length: Math.round(n * 1.25) }, () => worker(queues[1])),
    ]);
    const tried = [...byKind.values()].reduce((s, k) => s + [...k.values()].reduce((a, b) => a + b, 0), 0);
    log(`hostile: ${total} inputs sent, hub ${hub.alive ? "up" : "DOWN"}`);
    // The flood: many sockets at once, saying nothing; a new honest node then tries to join. Each socket is
    // one input: it counts once the hub has answered on it (its hello, or a close) and is still alive.
    const socks = (await Promise.allSettled(
      Array.from({ length: flood }, () => Deno.connect({ hostname: "127.0.0.1", port: hub.port })),
    )).flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    const floodAnswered = socks.map((s) => {
      const answer = { seen: false };
      (async () => {
        const buf = new Uint8Array(4096);
        try {
          await s.read(buf); // a byte (its hello), or null: the hub closed it
        } catch { /* reset by the hub, or closed by us below */ }
        answer.seen = true;
      })();
      return answer;
    });
    const rpcDuringFlood = await hub.rpc<NodeStatus>("status").then(() => true, () => false);
    const joinStart = Date.now();
    const d = await cluster.start("d");
    const joinedUnderFlood = await waitFor(
      async () => (await d.rpc<NodeStatus>("status")).hub === hub.listen,
      15_000,
      "a new honest node to join during the flood",
      JUDGED,
    ).then(() => Date.now() - joinStart, () => -1);
    await waitFor(
      () => floodAnswered.every((a) => a.seen),
      ANSWER_MS,
      "the hub to answer every flood socket",
      JUDGED,
    )
      .catch(() => {});
    const floodSurvived = hub.alive ? floodAnswered.filter((a) => a.seen).length : 0;
    for (const s of socks) {
      try {
        s.close();
      } catch { /* closed by the hub */ }
    }
    paying = false;
    await payer;
    // Afterwards: the hub is up, no failover, a fresh payment reaches everyone, nothing else got in.
    const everyone = [hub, b, c, d];
    log(`hostile: flood over, new node joined in ${joinedUnderFlood} ms`);
    const stillHub = await waitForOnePrimary(everyone, 15_000, "one hub after the attack", JUDGED_STAR).catch(
      () => null,
    );
    log(`hostile: one hub ${stillHub?.name}`);
    const after = await b.rpc<{ txid: string }>("send", [cAddr, "0.02"]).catch(() => null);
    if (after) honestTx.push(after.txid);
    const relayed = after !== null && await waitFor(
      async () => (await Promise.all(everyone.map(mempoolIds))).every((p) => p.has(after.txid)),
      10_000,
      "a payment after the attack to reach every node",
      JUDGED,
    ).then(() => true, () => false);
    sampling = false;
    await sampler;
    const hubNow = await hub.rpc<NodeStatus>("status").catch(() => null);
    const pool = hubNow ? await mempoolIds(hub) : new Set<string>();
    const invalid = [...pool].filter((id) => !honestTx.includes(id)).length +
      (hubNow && hubNow.tip !== before.tip ? Math.max(1, hubNow.height - before.height) : 0);
    await sleep(3_000); // room for a garbage collection before the last reading
    const afterRss = await rssMiB(hub.proc.pid);
    const honestLost = honestTx.filter((id) => !pool.has(id)).length;
    if (!hub.alive) failures.push(`the hub died${hubDiedAt >= 0 ? ` at input ${hubDiedAt}` : ""}`);
    if (stillHub !== hub) {
      failures.push(`after the attack the hub was ${stillHub?.name ?? "nobody"}, not the hub`);
    }
    if (!relayed) {
      const pools = await Promise.all(everyone.map((n) => mempoolIds(n).catch(() => new Set<string>())));
      const lacking = everyone.filter((_, i) => !after || !pools[i].has(after.txid)).map((n) => n.name);
      failures.push(
        `a payment after the attack (${after?.txid ?? "not sent"}) did not reach ${lacking.join(", ")}\n` +
          await describeNodes(everyone, 12),
      );
    }
    if (joinedUnderFlood < 0) failures.push("a new honest node did not join during the flood");
    const outcomes = (k: Map<string, number>) => [...k].map(([what, n]) => `${n} ${what}`).join(", ");
    notes.push(
      `${tried} inputs tried one by one, ${survived} answered by a live hub; ` +
        [...byKind].map(([kind, k]) => `${kind}: ${outcomes(k)}`).join("; "),
      `flood: ${socks.length} of ${flood} sockets opened at once, ${floodSurvived} answered by the hub; ` +
        `hub RPC answered during it: ${rpcDuringFlood}; a new honest node joined ${
          joinedUnderFlood >= 0 ? `after ${joinedUnderFlood} ms` : "NOT within 15 s"
        }`,
      `hub VmRSS: ${baseRss.toFixed(0)} MiB before, peak ${peakRss.toFixed(0)} MiB, ${
        afterRss.toFixed(0)
      } MiB 3 s ` +
        `after; every 2 s: ${trail.join(" ")} MiB; ` +
        `${honestTx.length} honest payments during and after the attack, ${honestLost} missing from the hub's mempool`,
    );
    return scenarioResult(
      t0,
      "hostile inputs at a hub",
      {
        runs: total + flood,
        survived: survived + floodSurvived,
        lost: honestLost,
        control: control === "left open by the hub",
        invalidAccepted: invalid,
        peakRssMiB: Math.round(peakRss),
      },
      notes,
      failures,
    );
  } finally {
    await cluster.cleanup();
  }
}
