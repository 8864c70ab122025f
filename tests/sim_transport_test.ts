/**
 * The simulation's memory transport: ordered delivery with modelled latency, refused and timed-out dials,
 * kill (SIGKILL), freeze (SIGSTOP / pulled cable) and partition semantics, frame counters, determinism by
 * seed; and two real `Connection`s over it pinging each other and noticing a frozen peer.
 */
import assert from "node:assert/strict";
import { Connection } from "../lib/net/connection.ts";
import { encodeFrame } from "../lib/net/frame.ts";
import { ConnectError, type Stream } from "../lib/net/transport.ts";
import { GIGABIT_LAN, MemoryNet, SIM_PORT } from "../lib/sim/memory_transport.ts";
import { seededRandom } from "../lib/sim/random.ts";
import { VirtualClock } from "../lib/sim/virtual_clock.ts";

const A = "10.0.0.1", B = "10.0.0.2", C = "10.0.0.3";

/**
 * A LAN with hosts A, B, C (B and C listening, each with its node clock) and a connected stream pair A→B.
 * A quantum of 0 makes every continuation see its own timer's time, so the model's numbers can be checked exactly.
 */
async function lanWithPair(seed = 1) {
  const clock = new VirtualClock({ quantumMs: 0 });
  const lan = new MemoryNet(clock, seededRandom(seed, "lan"));
  const clocks = { a: clock.forNode(), b: clock.forNode(), c: clock.forNode() };
  const ta = lan.transport(A, clocks.a), tb = lan.transport(B, clocks.b), tc = lan.transport(C, clocks.c);
  const lb = tb.listen({ hostname: B, port: SIM_PORT });
  tc.listen({ hostname: C, port: SIM_PORT });
  const accepted = lb[Symbol.asyncIterator]().next();
  const dialled = ta.dial({ hostname: B, port: SIM_PORT }, 1000);
  await clock.advance(2);
  const a = await dialled, b = (await accepted).value as Stream;
  return { clock, clocks, lan, ta, tb, tc, a, b };
}

/** Reads whatever arrives on `s` in the background, with the virtual time of each chunk. */
function collect(s: Stream, clock: VirtualClock) {
  const got: { t: number; bytes: Uint8Array | null }[] = [];
  (async () => {
    for (;;) {
      const c = await s.read();
      got.push({ t: clock.elapsed, bytes: c && c.slice() });
      if (c === null) return;
    }
  })();
  return got;
}

const text = (chunks: { bytes: Uint8Array | null }[]) =>
  chunks.filter((c) => c.bytes).map((c) => new TextDecoder().decode(c.bytes!)).join("");

Deno.test("a dialled stream carries bytes both ways, in order, after 0.2–0.5 ms plus size at 1 Gbit/s", async () => {
  const { clock, a, b } = await lanWithPair();
  assert.deepEqual(a.remote, { hostname: B, port: SIM_PORT });
  assert.equal(b.remote.hostname, A);
  const got = collect(b, clock);
  const sentAt = clock.elapsed;
  for (let i = 0; i < 200; i++) await a.write(new TextEncoder().encode(`${i},`));
  await clock.advance(0.19);
  assert.equal(got.length, 0, "nothing arrives before the minimum latency");
  await clock.advance(10);
  assert.equal(text(got), Array.from({ length: 200 }, (_, i) => `${i},`).join(""));
  for (const g of got) assert.ok(g.t - sentAt >= GIGABIT_LAN.minLatencyMs);
  assert.ok(got[0].t - sentAt <= GIGABIT_LAN.maxLatencyMs + 1e-6);
  // 1 MB occupies the sender's wire for 8 ms at 1 Gbit/s.
  const back = collect(a, clock);
  const t0 = clock.elapsed;
  await b.write(new Uint8Array(1_000_000));
  await clock.advance(20);
  const took = back[0].t - t0;
  assert.ok(
    took >= 8 + GIGABIT_LAN.minLatencyMs && took <= 8 + GIGABIT_LAN.maxLatencyMs + 1e-6,
    `took ${took}`,
  );
});

Deno.test("dialling an address nobody listens on is refused within a round trip; listening twice is refused", async () => {
  const { clock, lan, ta, tb } = await lanWithPair();
  for (const target of [{ hostname: "10.9.9.9", port: SIM_PORT }, { hostname: B, port: 1234 }]) {
    const t0 = clock.elapsed;
    const dial = ta.dial(target, 5000);
    const outcome = dial.then(() => "connected", (e) => e);
    await clock.advance(2);
    const e = await outcome;
    assert.ok(e instanceof ConnectError, String(e));
    assert.match(e.message, /refused/);
    assert.ok(clock.elapsed - t0 <= 2);
  }
  assert.throws(() => tb.listen({ hostname: B, port: SIM_PORT }), Deno.errors.AddrInUse);
  assert.throws(() => tb.listen({ hostname: A, port: 9 }), Deno.errors.AddrNotAvailable);
  assert.equal(lan.stats(A)!.refused, 2);
});

Deno.test("SIGKILL: the far end reads what was already sent, then end-of-stream; the address refuses dials", async () => {
  const { clock, lan, ta, a, b } = await lanWithPair();
  const atB = collect(b, clock);
  await a.write(new TextEncoder().encode("last words"));
  let aRead: unknown = "pending";
  a.read().then((v) => aRead = v);
  lan.kill(A);
  await clock.advance(5);
  assert.equal(text(atB), "last words");
  assert.equal(atB.at(-1)!.bytes, null, "end-of-stream after the data");
  assert.equal(aRead, "pending", "a killed process never returns from a read");
  await b.write(new Uint8Array([1])); // to a dead host: dropped, no error yet
  const tb = lan.transport(B);
  const redial = tb.dial({ hostname: A, port: SIM_PORT }, 1000).then(() => "connected", (e) => e.message);
  await clock.advance(2);
  assert.match(await redial as string, /refused/);
  assert.equal(lan.state(A), "dead");
  assert.equal(lan.openStreams(A), 0);
  void ta;
});

Deno.test("freeze: nothing flows either way and no end-of-stream is sent; dials time out; thaw delivers in order", async () => {
  const { clock, lan, tc, a, b } = await lanWithPair();
  const atA = collect(a, clock), atB = collect(b, clock);
  lan.freeze(B);
  await a.write(new TextEncoder().encode("to frozen "));
  await b.write(new TextEncoder().encode("from frozen")); // a straggler written just as it froze
  await a.write(new TextEncoder().encode("again"));
  const t0 = clock.elapsed;
  const dial = tc.dial({ hostname: B, port: SIM_PORT }, 1000).then(() => "connected", (e) => e.message);
  await clock.advance(999);
  assert.equal(atA.length + atB.length, 0, "nothing delivered while frozen");
  let settled = false;
  dial.then(() => settled = true);
  await clock.advance(0);
  assert.equal(settled, false, "the dial is still waiting before its timeout");
  await clock.advance(1);
  assert.match(await dial as string, /timed out after 1000 ms/);
  assert.equal(clock.elapsed - t0, 1000);
  assert.equal(lan.stats(C)!.timedOut, 1);
  await clock.advance(60_000);
  assert.equal(atA.length + atB.length, 0, "still nothing, and no end-of-stream, however long");
  lan.thaw(B);
  await clock.advance(2);
  assert.equal(text(atB), "to frozen again");
  assert.equal(text(atA), "from frozen");
});

Deno.test("partition: traffic between groups stalls and dials across time out; within a group it flows; heal releases it", async () => {
  const { clock, lan, ta, tc, a, b } = await lanWithPair();
  const atB = collect(b, clock);
  lan.partition([[A, C], [B]]);
  await a.write(new TextEncoder().encode("across"));
  const across = tc.dial({ hostname: B, port: SIM_PORT }, 500).then(() => "connected", (e) => e.message);
  const within = ta.dial({ hostname: C, port: SIM_PORT }, 500).then(() => "connected", (e) => e.message);
  await clock.advance(600);
  assert.equal(await within, "connected");
  assert.match(await across as string, /timed out/);
  assert.equal(atB.length, 0);
  lan.heal();
  await clock.advance(2);
  assert.equal(text(atB), "across");
});

Deno.test("a closed stream ends the far end's reads after its data, and refuses writes on the closing side", async () => {
  const { clock, a, b } = await lanWithPair();
  const atB = collect(b, clock);
  await a.write(new TextEncoder().encode("bye"));
  a.close();
  assert.equal(await a.read(), null);
  await assert.rejects(() => a.write(new Uint8Array([1])), Deno.errors.BadResource);
  await clock.advance(2);
  assert.equal(text(atB), "bye");
  assert.equal(atB.at(-1)!.bytes, null);
});

Deno.test("frames are counted by type and size per host, even when a frame is split across writes", async () => {
  const { clock, lan, a, b } = await lanWithPair();
  collect(b, clock);
  const ping = encodeFrame({ type: "ping", nonce: 7 });
  const block = encodeFrame({ type: "block", data: "ab".repeat(100) });
  const both = new Uint8Array([...ping, ...block]);
  await a.write(both.subarray(0, 3)); // inside the first length prefix
  await a.write(both.subarray(3, ping.length + 6)); // the ping, and into the block's "type"
  await a.write(both.subarray(ping.length + 6));
  await a.write(encodeFrame({ type: "ping", nonce: 8 }));
  await clock.advance(2);
  const tx = lan.totals("tx"), rx = lan.totals("rx");
  assert.deepEqual(tx.ping, { frames: 2, bytes: ping.length * 2 });
  assert.deepEqual(tx.block, { frames: 1, bytes: block.length });
  assert.deepEqual(rx, tx);
  const ofA = lan.stats(A)!;
  assert.equal(ofA.tx.frames.reduce((s, x) => s + x, 0), 3);
  assert.equal(lan.stats(B)!.tx.frames.length, 0);
});

Deno.test("the same seed gives the same arrival times; another seed other times", async () => {
  const arrivals = async (seed: number) => {
    const { clock, a, b } = await lanWithPair(seed);
    const got = collect(b, clock);
    for (let i = 0; i < 50; i++) await a.write(new Uint8Array(i + 1));
    await clock.advance(10);
    return got.map((g) => g.t);
  };
  const [x, y, z] = [await arrivals(7), await arrivals(7), await arrivals(8)];
  assert.equal(x.length, 50);
  assert.deepEqual(x, y);
  assert.notDeepEqual(x, z);
});

Deno.test("two real Connections ping each other in virtual time, and one notices its peer froze after deadAfterMs", async () => {
  const { clock, clocks, lan, a, b } = await lanWithPair();
  const opts = { pingIntervalMs: 2000, deadAfterMs: 8000, random: seededRandom(3, "pings") };
  const ca = new Connection(a, { ...opts, clock: clocks.a }),
    cb = new Connection(b, { ...opts, clock: clocks.b });
  await clock.advance(10_000);
  assert.equal(ca.isClosed || cb.isClosed, false);
  assert.ok(ca.received >= 2 && cb.received >= 2, `pings and pongs flowed: ${ca.received}, ${cb.received}`);
  assert.ok(ca.rttMs !== undefined && ca.rttMs <= 1, `rtt ${ca.rttMs} ms on the LAN`);
  lan.freeze(B);
  clocks.b.freeze();
  const frozenAt = clock.elapsed;
  let closedAt = NaN;
  ca.closed.then(() => closedAt = clock.elapsed);
  await clock.advance(7_000);
  assert.equal(ca.isClosed, false, "not yet dead: the last frame came less than deadAfterMs ago");
  await clock.advance(5_000);
  assert.equal(await ca.closed, "timeout");
  assert.ok(
    closedAt - frozenAt >= 6_000 && closedAt - frozenAt <= 10_000,
    `closed ${closedAt - frozenAt} ms later`,
  );
  assert.equal(cb.isClosed, false, "the frozen side runs nothing, so it has not noticed");
  lan.thaw(B);
  clocks.b.thaw();
  await clock.advance(100);
  // Its overdue liveness timer and the end-of-stream that waited both come at once: either closes it.
  assert.ok(cb.isClosed, "closed on thaw");
  assert.match(await cb.closed, /^(timeout|eof)$/);
});

Deno.test("a Connection sends whole frames as text: a raw reader gets their exact bytes, the counters their sizes; raw garbage still reaches the parser", async () => {
  const { clock, lan, a, b } = await lanWithPair();
  assert.ok(a.frames, "the memory transport carries frames as text");
  const got = collect(b, clock);
  const conn = new Connection(a, { clock });
  const msg = { type: "getaddr" } as const;
  conn.send(msg);
  conn.send({ type: "reject", code: "x", reason: "é" }); // not ASCII: its size is its UTF-8
  await clock.advance(5);
  const want = [encodeFrame(msg), encodeFrame({ type: "reject", code: "x", reason: "é" })];
  assert.deepEqual(got.filter((c) => c.bytes).map((c) => [...c.bytes!]), want.map((f) => [...f]));
  const tx = lan.stats(A)!.tx, types = lan.frameTypes;
  assert.equal(tx.bytes[types.indexOf("getaddr")], want[0].length);
  assert.equal(tx.bytes[types.indexOf("reject")], want[1].length);
  // Bytes written raw to a Connection's stream go through the byte decoder: garbage is a frame error.
  const scores: string[] = [];
  const far = new Connection(b, { clock, onMisbehaviour: (_, reason) => scores.push(reason) });
  await a.write(new Uint8Array([0, 0, 0, 3, 0x7b, 0x7b, 0x7b]));
  await clock.advance(5);
  assert.equal(scores.length, 1);
  assert.match(scores[0], /^frame: /);
  conn.close("done");
  far.close("done");
  await clock.advance(5);
});
