import assert from "node:assert/strict";
import {
  connect,
  ConnectError,
  Connection,
  type ConnectionOptions,
  MISBEHAVIOUR,
} from "../lib/net/connection.ts";
import { encodeFrame, FrameDecoder } from "../lib/net/frame.ts";
import { type Clock, systemClock, tcpStream } from "../lib/net/transport.ts";
import type { Message } from "../lib/net/messages.ts";
import { concat } from "./support/hostile.ts";
import { waitFor } from "./support/wait.ts";

/** Waits in one process: polled every 5 ms, the deadline as given (nothing here waits on another process). */
const IN_PROCESS = { everyMs: 5, atLeastMs: 0 };

const HOST = "127.0.0.1";
const H = (i: number) => i.toString(16).padStart(64, "0");

/** Resolves with `p`, or rejects after `ms` so a hung close fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, rej) =>
    t = setTimeout(() => rej(new Error(`${what}: over ${ms} ms`)), ms)
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/**
 * A clock the test moves by hand, for `ConnectionOptions.clock`: the ping deadline then follows the test's
 * steps, not the machine's speed, so a busy machine can neither fire it early nor make it late. Its timers are
 * real, so the connection still ticks; a test waits for a tick's visible effect (a ping sent, a close) after
 * each step.
 */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return { ...systemClock, now: () => t, advance: (ms) => void (t += ms) };
}

/** Counts the frames arriving on a raw socket (the pings a `Connection` sends it), until EOF. */
function countFrames(conn: Deno.Conn): { count(): number; done: Promise<void> } {
  const d = new FrameDecoder(), buf = new Uint8Array(65536);
  let n = 0;
  const done = (async () => {
    try {
      for (let r = await conn.read(buf); r !== null; r = await conn.read(buf)) {
        n += [...d.decode(buf.subarray(0, r))].length;
      }
    } catch { /* reset: the end all the same */ }
  })();
  return { count: () => n, done };
}

/** A listener plus a raw accepted socket for whichever side the test wants to script by hand. */
async function rawPair(): Promise<
  { listener: Deno.TcpListener; client: Deno.TcpConn; server: Deno.TcpConn }
> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: HOST, port: listener.addr.port }),
    listener.accept(),
  ]);
  return { listener, client, server };
}

function closeQuietly(c: { close(): void }): void {
  try {
    c.close();
  } catch { /* already closed */ }
}

/** Two Connections over a real loopback socket. */
async function connPair(a: ConnectionOptions, b: ConnectionOptions) {
  const { listener, client, server } = await rawPair();
  listener.close();
  return { a: new Connection(tcpStream(client), a), b: new Connection(tcpStream(server), b) };
}

/** Reads frames from a raw socket until EOF; returns them with the time EOF came. */
async function readAll(conn: Deno.Conn): Promise<unknown[]> {
  const d = new FrameDecoder(), out: unknown[] = [], buf = new Uint8Array(65536);
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      out.push(...d.decode(buf.subarray(0, n)));
    }
  } catch { /* reset counts as the end too */ }
  return out;
}

Deno.test("1,000 back-to-back messages each way arrive complete and in order", async () => {
  const gotA: Message[] = [], gotB: Message[] = [];
  const { a, b } = await connPair({ onMessage: (m) => void gotA.push(m) }, {
    // An async handler exercises the awaited-delivery path.
    onMessage: async (m) => {
      gotB.push(m);
      if (gotB.length % 100 === 0) await new Promise((r) => setTimeout(r, 1));
    },
  });
  try {
    const big = "ab".repeat(5000);
    for (let i = 0; i < 1000; i++) {
      assert.equal(a.send({ type: "inv", kind: "tx", ids: [H(i)] }), true);
      assert.equal(
        b.send(i % 2 ? { type: "tx", data: big } : { type: "inv", kind: "block", ids: [H(i)] }),
        true,
      );
    }
    await waitFor(() => gotA.length === 1000 && gotB.length === 1000, 10_000, "1000 messages", IN_PROCESS);
    gotB.forEach((m, i) => assert.deepEqual(m, { type: "inv", kind: "tx", ids: [H(i)] }));
    gotA.forEach((m, i) =>
      assert.deepEqual(m, i % 2 ? { type: "tx", data: big } : { type: "inv", kind: "block", ids: [H(i)] })
    );
    assert.equal(a.isClosed || b.isClosed, false);
  } finally {
    await Promise.all([a.close("done"), b.close("done")]);
  }
});

Deno.test("close is idempotent, keeps the first reason, and the peer sees eof", async () => {
  const { a, b } = await connPair({}, {});
  try {
    const first = a.close("bye");
    assert.equal(await a.close("again"), "bye");
    assert.equal(await first, "bye");
    assert.equal(a.send({ type: "ping", nonce: 1 }), false);
    assert.equal(await within(b.closed, 10_000, "peer close"), "eof");
  } finally {
    await Promise.all([a.close("x"), b.close("x")]);
  }
});

Deno.test("close with flush delivers a queued reject before the socket closes", async () => {
  const { listener, client, server } = await rawPair();
  listener.close();
  const conn = new Connection(tcpStream(server));
  try {
    conn.send({ type: "reject", code: "network", reason: "wrong genesis" });
    conn.close("rejected", { flush: true });
    const frames = await within(readAll(client), 10_000, "read until eof");
    assert.deepEqual(frames, [{ type: "reject", code: "network", reason: "wrong genesis" }]);
    assert.equal(await conn.closed, "rejected");
  } finally {
    await conn.close("x");
    closeQuietly(client);
  }
});

Deno.test("a peer that sends garbage is closed with a misbehaviour score", async () => {
  const cases: [Uint8Array, RegExp, number][] = [
    [
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      /^frame: frame length \d+ exceeds/,
      MISBEHAVIOUR.frame,
    ],
    [Uint8Array.of(0, 0, 0, 3, 0xff, 0xfe, 0xfd), /^frame: frame is not valid UTF-8/, MISBEHAVIOUR.frame],
    [
      encodeFrame({ type: "inv", kind: "tx", ids: ["nothex"] }),
      /^message: inv\.ids\[0\]/,
      MISBEHAVIOUR.message,
    ],
    [encodeFrame({ type: "version" }), /^message: unknown message type/, MISBEHAVIOUR.message],
  ];
  for (const [bytes, reason, score] of cases) {
    const { listener, client, server } = await rawPair();
    listener.close();
    const reports: [number, string][] = [];
    const delivered: Message[] = [];
    const conn = new Connection(tcpStream(server), {
      onMisbehaviour: (s, r) => void reports.push([s, r]),
      onMessage: (m) => void delivered.push(m),
    });
    try {
      // A valid message first: it is delivered, then the garbage closes the link.
      await client.write(concat(encodeFrame({ type: "redirect", to: ["127.0.0.1:1"] }), bytes));
      const why = await within(conn.closed, 10_000, "close on garbage");
      assert.match(why, reason);
      assert.equal(reports.length, 1);
      assert.equal(reports[0][0], score);
      assert.equal(reports[0][1], why);
      assert.deepEqual(delivered, [{ type: "redirect", to: ["127.0.0.1:1"] }]);
    } finally {
      await conn.close("x");
      closeQuietly(client);
    }
  }
});

/**
 * Runs `fn` on a connection (pings every 100 ms, dead after 300 ms of silence, on `clock`) to a peer that
 * accepts and reads (so the pings can be counted) but never writes; closes both afterwards, also on failure.
 */
async function withSilentPeer(
  clock: ReturnType<typeof manualClock>,
  fn: (conn: Connection, pings: ReturnType<typeof countFrames>) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  let conn: Connection | undefined, peer: Deno.Conn | undefined;
  try {
    [conn, peer] = await Promise.all([
      connect(HOST, listener.addr.port, { timeoutMs: 10_000, pingIntervalMs: 100, deadAfterMs: 300, clock }),
      listener.accept(),
    ]);
    await fn(conn, countFrames(peer));
  } finally {
    await conn?.close("x");
    if (peer) closeQuietly(peer);
    listener.close();
  }
}

Deno.test("a silent peer is detected by the ping deadline: not at 300 ms of silence, at 301", async () => {
  const clock = manualClock();
  await withSilentPeer(clock, async (conn, pings) => {
    clock.advance(100);
    await waitFor(() => pings.count() === 1, 10_000, "the first ping", IN_PROCESS);
    clock.advance(200); // exactly the deadline: still alive
    await waitFor(() => pings.count() === 2, 10_000, "the second ping", IN_PROCESS);
    assert.equal(conn.isClosed, false);
    clock.advance(1);
    assert.equal(await within(conn.closed, 10_000, "ping deadline"), "timeout");
    assert.equal(pings.count(), 2);
  });
});

Deno.test("a stall of this process is not the peer's silence: after it the deadline counts from the stall's end", async () => {
  const clock = manualClock();
  await withSilentPeer(clock, async (conn, pings) => {
    clock.advance(1_000); // one tick 1,000 ms late: the event loop was blocked
    await waitFor(() => pings.count() === 1, 10_000, "a ping after the stall", IN_PROCESS);
    assert.equal(conn.isClosed, false, "not closed for the time this process was stalled");
    clock.advance(150); // awake: the peer was last heard of a ping interval before the stall's end
    await waitFor(() => pings.count() === 2, 10_000, "the next ping", IN_PROCESS);
    assert.equal(conn.isClosed, false);
    clock.advance(51); // 301 ms of silence in time this process was awake
    assert.equal(await within(conn.closed, 10_000, "ping deadline"), "timeout");
  });
});

/** Advances `clock` by `ms` `steps` times, each time waiting until `a` receives the pong to its new ping. */
async function pingRounds(a: Connection, clock: ReturnType<typeof manualClock>, ms: number, steps: number) {
  for (let i = 0; i < steps; i++) {
    const before = a.received;
    clock.advance(ms);
    await waitFor(() => a.received > before || a.isClosed, 10_000, `pong ${i + 1}`, IN_PROCESS);
    assert.equal(a.isClosed, false, `closed in round ${i + 1}`);
  }
}

Deno.test("a live peer answers pings, so a short deadline does not fire", async () => {
  const clock = manualClock();
  const { a, b } = await connPair({ pingIntervalMs: 50, deadAfterMs: 200, clock }, {});
  try {
    // 500 ms of the connection's time, over twice the deadline, each ping answered.
    await pingRounds(a, clock, 50, 10);
    assert.equal(a.isClosed, false);
    assert.equal(typeof a.rttMs, "number");
    assert.ok(b.received >= 10, `peer saw ${b.received} pings`);
  } finally {
    await Promise.all([a.close("done"), b.close("done")]);
  }
});

Deno.test("time spent in our own slow handler is not counted as the peer's silence", async () => {
  const clock = manualClock();
  let release!: () => void;
  const handler = new Promise<void>((r) => release = r);
  const { a, b } = await connPair({
    pingIntervalMs: 50,
    deadAfterMs: 150,
    clock,
    onMessage: () => handler,
  }, {});
  try {
    b.send({ type: "inv", kind: "tx", ids: [] });
    await waitFor(() => a.received === 1, 10_000, "the message to reach the handler", IN_PROCESS);
    // The handler holds the read loop for 1,000 ms of the connection's time, far past the deadline.
    const pings = b.received;
    clock.advance(1_000);
    await waitFor(() => b.received > pings, 10_000, "a ping sent while the handler runs", IN_PROCESS);
    assert.equal(a.isClosed, false);
    release();
    // The deadline counts from the handler's end: 100 ms later, still alive.
    await waitFor(() => a.received > 1, 10_000, "the read loop to go on after the handler", IN_PROCESS);
    const later = b.received;
    clock.advance(100);
    await waitFor(() => b.received > later, 10_000, "a ping after the handler", IN_PROCESS);
    assert.equal(a.isClosed, false);
  } finally {
    release();
    await Promise.all([a.close("done"), b.close("done")]);
  }
});

Deno.test("the rate limit closes a flooder after exactly its burst", async () => {
  const reports: number[] = [];
  const { a, b } = await connPair({}, {
    rateBurst: 50,
    ratePerSecond: 20,
    clock: { ...systemClock, now: () => 0 }, // no time passes, so no tokens come back: exactly the burst
    onMisbehaviour: (s) => void reports.push(s),
  });
  try {
    for (let i = 0; i < 200; i++) a.send({ type: "ping", nonce: i });
    assert.equal(await within(b.closed, 10_000, "rate close"), "rate");
    assert.deepEqual(reports, [MISBEHAVIOUR.rate]);
    assert.equal(b.received, 50);
  } finally {
    await Promise.all([a.close("x"), b.close("x")]);
  }
});

Deno.test("a peer that stops reading is closed as slow once the queue bound is passed", async () => {
  const { listener, client, server } = await rawPair();
  listener.close();
  const conn = new Connection(tcpStream(server), { maxQueuedBytes: 256 * 1024 });
  try {
    const data = "00".repeat(50_000);
    for (let i = 0; i < 2000 && conn.send({ type: "tx", data }); i++) await conn.flush(5);
    assert.equal(await within(conn.closed, 10_000, "slow close"), "slow");
  } finally {
    await conn.close("x");
    closeQuietly(client);
  }
});

Deno.test("connect to a closed port fails with ConnectError", async () => {
  const l = Deno.listen({ hostname: HOST, port: 0 });
  const port = l.addr.port;
  l.close();
  await assert.rejects(connect(HOST, port, { timeoutMs: 1000 }), (e) => {
    assert.ok(e instanceof ConnectError);
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    return true;
  });
});

/** Starts a child Deno process running a real Connection to `port` that answers pings. */
function spawnPeer(port: number): Deno.ChildProcess {
  const mod = new URL("../lib/net/connection.ts", import.meta.url).href;
  const code = `const { connect } = await import(${JSON.stringify(mod)});
    const c = await connect("127.0.0.1", ${port}, { timeoutMs: 2000 });
    c.send({ type: "redirect", to: ["127.0.0.1:1"] });
    await c.closed;`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/**
 * Runs `fn` on a connection made with `opts` to a real peer process, once its first message has come; kills
 * the process afterwards (waking it first, should `fn` have stopped it) and closes all, also when `fn` fails.
 */
async function withSpawnedPeer(
  opts: ConnectionOptions,
  fn: (conn: Connection, child: Deno.ChildProcess) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const child = spawnPeer(listener.addr.port);
  let conn: Connection | undefined;
  try {
    const got: Message[] = [];
    conn = new Connection(tcpStream(await listener.accept()), {
      ...opts,
      onMessage: (m) => void got.push(m),
    });
    await waitFor(() => got.length > 0, 10_000, "child hello", IN_PROCESS);
    await fn(conn, child);
  } finally {
    try {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
    } catch { /* already dead */ }
    await child.status;
    await conn?.close("x");
    listener.close();
  }
}

Deno.test("writing to a killed peer closes cleanly", async () => {
  await withSpawnedPeer({}, async (conn, child) => {
    child.kill("SIGKILL");
    await child.status;
    const data = "00".repeat(100_000);
    for (let i = 0; i < 100 && conn.send({ type: "block", data }); i++) await conn.flush(20);
    const why = await within(conn.closed, 10_000, "close after kill");
    assert.match(why, /^(eof|reset|broken-pipe)$/);
  });
});

Deno.test("a SIGSTOPped peer is detected by the ping deadline", async () => {
  const clock = manualClock();
  await withSpawnedPeer({ pingIntervalMs: 50, deadAfterMs: 300, clock }, async (conn, child) => {
    // Alive first: 500 ms of the connection's time, each ping answered, and the deadline never fires.
    await pingRounds(conn, clock, 50, 10);
    child.kill("SIGSTOP");
    // Frozen: its socket stays open and silent. The same steps now end in a timeout, and not before the
    // deadline has passed since the last pong (over 300 ms: the 7th step).
    let steps = 0;
    while (!conn.isClosed && steps < 500) {
      clock.advance(50);
      steps++;
      await new Promise((r) => setTimeout(r, 60)); // about one tick of the connection's timer
    }
    assert.equal(await within(conn.closed, 10_000, "deadline"), "timeout");
    assert.ok(steps >= 7, `closed after ${steps} steps of 50 ms`);
  });
});

Deno.test("a peer trickling a partial frame is not alive, and a throwing callback still closes", async () => {
  const { listener, client, server } = await rawPair();
  listener.close();
  const clock = manualClock();
  const conn = new Connection(tcpStream(server), {
    pingIntervalMs: 50,
    deadAfterMs: 300,
    clock,
    onMisbehaviour: () => {
      throw new Error("callback bug");
    },
  });
  try {
    const frame = encodeFrame({ type: "tx", data: "00".repeat(100) });
    const pings = countFrames(client);
    // One byte per 50 ms of the connection's time; each step waits for the ping of its tick.
    let sent = 0;
    for (; sent < frame.length && !conn.isClosed; sent++) {
      await client.write(frame.subarray(sent, sent + 1));
      clock.advance(50);
      await waitFor(
        () => pings.count() > sent || conn.isClosed,
        10_000,
        `the tick after byte ${sent + 1}`,
        IN_PROCESS,
      );
    }
    assert.equal(await within(conn.closed, 10_000, "trickle deadline"), "timeout");
    // 300 ms of bytes are no frame: closed at the 7th byte (350 ms), far from the frame's end.
    assert.equal(sent, 7, `closed after ${sent} of ${frame.length} bytes`);
  } finally {
    await conn.close("x");
    closeQuietly(client);
  }
  const pair = await rawPair();
  pair.listener.close();
  const bad = new Connection(tcpStream(pair.server), {
    onMisbehaviour: () => {
      throw new Error("callback bug");
    },
  });
  try {
    await pair.client.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    assert.match(await within(bad.closed, 10_000, "close despite callback"), /^frame: /);
  } finally {
    await bad.close("x");
    closeQuietly(pair.client);
  }
});

Deno.test("a handler that closes its own link and awaits the close does not deadlock it", async () => {
  let conn: Connection | undefined;
  const { a, b } = await connPair({}, {
    onMessage: async (_m, c) => {
      conn = c;
      await c.close("answered and closed", { flush: true }); // as a redirecting node does
    },
  });
  try {
    a.send({ type: "getaddr" });
    await waitFor(() => conn !== undefined, 10_000, "the message", IN_PROCESS);
    assert.equal(await within(conn!.closed, 10_000, "the handler's own close"), "answered and closed");
    assert.equal(await within(a.closed, 10_000, "the far end's close"), "eof");
  } finally {
    await Promise.all([a.close("test over"), b.close("test over")]);
  }
});
