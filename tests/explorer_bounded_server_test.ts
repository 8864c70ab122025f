/**
 * The node's HTTP ports cannot be taken down or locked by their clients (`BoundedServer`, used by the explorer
 * and the RPC): slow headers, slow bodies and idle keep-alives are timed out; connections are capped in all
 * and per address, idle ones making room for new ones; failed accepts (EMFILE) are survived; and a real node
 * under `prlimit --nofile=1024` lives through 3,000 idle and slow-header connections on each port and still
 * answers an honest request.
 */
import assert from "node:assert/strict";
import { BoundedServer, type BoundedServerOptions } from "../lib/http/bounded_server.ts";
import type { RpcInfo } from "../lib/rpc/server.ts";
import { callRpc } from "../lib/rpc/client.ts";
import { freePort, readLines, spawnNode } from "./support/cluster.ts";
import { waitFor } from "./support/wait.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function serve(opts: Partial<BoundedServerOptions> = {}, log: string[] = []): BoundedServer {
  return new BoundedServer({
    name: "test",
    hostname: "127.0.0.1",
    port: 0,
    log: (l) => log.push(l),
    handler: async (req) =>
      new Response(`${req.method} ${new URL(req.url).pathname} ${(await req.text()).length}`),
    ...opts,
  });
}

/** Everything the server sends until it closes the connection (or `ms` pass: then "(open)" is appended). */
async function readToEnd(conn: Deno.Conn, ms = 5000): Promise<string> {
  let out = "";
  const buf = new Uint8Array(4096);
  const timer = setTimeout(() => {
    out += "(open)";
    conn.close();
  }, ms);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      out += dec.decode(buf.subarray(0, n));
    }
  } catch { /* closed by the timer, or reset */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  return out;
}

const connect = (port: number) => Deno.connect({ hostname: "127.0.0.1", port });

/** A new connection to `s`, once the server holds `open` connections (`name` says which, if it times out). */
async function connectHeld(s: BoundedServer, open: number, name: string): Promise<Deno.TcpConn> {
  const conn = await connect(s.port);
  await waitFor(() => s.stats().open === open, 5000, `${name} accepted`);
  return conn;
}

Deno.test("bounded: a request answered; slow headers, a slow body and an idle keep-alive are closed in time", async () => {
  const s = serve({ headersTimeoutMs: 300, bodyTimeoutMs: 300, idleTimeoutMs: 300 });
  try {
    const ok = await fetch(`http://127.0.0.1:${s.port}/x`, { method: "POST", body: "hello" });
    assert.equal(await ok.text(), "POST /x 5");

    // Slowloris: a header line every 100 ms never completes in time, however steadily it trickles.
    const slow = await connect(s.port);
    const trickle = (async () => {
      try {
        await slow.write(enc.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        for (let i = 0; i < 30; i++) {
          await new Promise((r) => setTimeout(r, 100));
          await slow.write(enc.encode(`X-${i}: y\r\n`));
        }
      } catch { /* closed by the server */ }
    })();
    const t0 = performance.now();
    assert.equal(await readToEnd(slow), "", "closed without an answer");
    assert.ok(performance.now() - t0 < 3000, "closed long before the trickle ended");
    await trickle;

    // A body that never arrives.
    const body = await connect(s.port);
    await body.write(
      enc.encode("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789"),
    );
    assert.equal(await readToEnd(body), "");

    // An idle keep-alive after one answer.
    const idle = await connect(s.port);
    await idle.write(enc.encode("GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    const answered = await readToEnd(idle);
    assert.match(answered, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nGET \/a 0$/);
    assert.ok(s.stats().timedOut >= 3, JSON.stringify(s.stats()));
  } finally {
    await s.close();
  }
});

Deno.test("bounded: oversized or malformed requests get a 4xx and a close", async () => {
  const s = serve({ maxHeaderBytes: 1024, maxBodyBytes: 100 });
  const ask = async (raw: string) => {
    const c = await connect(s.port);
    await c.write(enc.encode(raw)).catch(() => 0);
    return (await readToEnd(c)).split("\r\n")[0];
  };
  try {
    assert.equal(
      await ask(`GET / HTTP/1.1\r\nX: ${"a".repeat(2000)}\r\n\r\n`),
      "HTTP/1.1 431 Request Header Fields Too Large",
    );
    assert.equal(
      await ask("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"),
      "HTTP/1.1 413 Content Too Large",
    );
    assert.equal(
      await ask("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      "HTTP/1.1 501 Not Implemented",
    );
    assert.equal(await ask("HELLO\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    assert.equal(await ask("GET http://elsewhere/ HTTP/1.1\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    assert.equal(await ask("HEAD /h HTTP/1.1\r\nConnection: close\r\n\r\n"), "HTTP/1.1 200 OK");
  } finally {
    await s.close();
  }
});

Deno.test("bounded: at the caps the oldest idle connection makes room; busy ones are kept and the new one refused", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const s = serve({
    maxConnections: 3,
    maxPerAddress: 2,
    evictAfterMs: 0,
    handler: async (req) => {
      if (new URL(req.url).pathname === "/wait") await gate;
      return new Response("done");
    },
  });
  try {
    // Per address: two idle connections, then a third from the same address closes the oldest.
    const a = await connectHeld(s, 1, "a");
    const b = await connectHeld(s, 2, "b");
    const c = await connect(s.port);
    assert.equal(await readToEnd(a), "", "the oldest idle one was closed");
    await waitFor(() => s.stats().evicted === 1 && s.stats().open === 2, 5000, "c took a's place");
    // Busy connections are never closed for room: with both busy, a newcomer is refused.
    for (const conn of [b, c]) await conn.write(enc.encode("GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    await new Promise((r) => setTimeout(r, 200));
    const d = await connect(s.port);
    assert.equal(await readToEnd(d), "", "refused");
    assert.equal(s.stats().refused, 1);
    release();
    for (const conn of [b, c]) {
      const reader = new Uint8Array(1024);
      const n = await conn.read(reader);
      assert.match(dec.decode(reader.subarray(0, n ?? 0)), /done$/);
      conn.close();
    }
  } finally {
    release();
    await s.close();
  }
});

Deno.test("bounded: at the total cap the oldest idle connection makes room too", async () => {
  // One address here, so the total cap is set below the per-address one to be the one reached.
  const s = serve({ maxConnections: 2, maxPerAddress: 10, evictAfterMs: 0 });
  try {
    const a = await connectHeld(s, 1, "a");
    const b = await connectHeld(s, 2, "b");
    const c = await connect(s.port);
    assert.equal(await readToEnd(a), "", "the oldest idle one was closed");
    await c.write(enc.encode("GET /c HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    assert.match(await readToEnd(c), /GET \/c 0$/);
    b.close();
  } finally {
    await s.close();
  }
});

Deno.test("bounded: a connection idle for less than evictAfterMs is not closed for room: the newcomer is", async () => {
  const s = serve({ maxConnections: 10, maxPerAddress: 1, evictAfterMs: 400 });
  try {
    const a = await connectHeld(s, 1, "a");
    // A flood right after a arrived cannot churn it out.
    const b = await connect(s.port);
    assert.equal(await readToEnd(b), "", "b refused");
    assert.equal(s.stats().refused, 1);
    // Once a has been idle long enough, a newcomer takes its place.
    await new Promise((r) => setTimeout(r, 500));
    const c = await connect(s.port);
    assert.equal(await readToEnd(a), "", "a closed for c");
    await c.write(enc.encode("GET /c HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    assert.match(await readToEnd(c), /GET \/c 0$/);
  } finally {
    await s.close();
  }
});

Deno.test("bounded: accepting fails (EMFILE under prlimit): said once, idle sockets closed, an honest request answered, alive", async () => {
  const child = new Deno.Command("prlimit", {
    args: [
      "--nofile=64",
      Deno.execPath(),
      "run",
      "--allow-net=127.0.0.1",
      new URL("./support/bounded_child.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  const reads = Promise.all([readLines(child.stdout, out), readLines(child.stderr, err)]);
  let exited = false;
  const status = child.status.finally(() => exited = true);
  const held: Deno.Conn[] = [];
  try {
    await waitFor(() => out.length > 0 || exited, 30_000, "the child's port");
    assert.equal(exited, false, err.join("\n"));
    const port = Number(out[0]);
    for (let i = 0; i < 300; i++) held.push(await connect(port));
    await waitFor(() => err.some((l) => l.includes("cannot accept")) || exited, 10_000, "an accept failure");
    const honest = await connect(port);
    await honest.write(enc.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    // Well before the child's 60 s header timeout would free anything: idle sockets were closed for it.
    const answer = await readToEnd(honest, 10_000);
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nok\n$/, answer);
    assert.equal(exited, false, err.join("\n"));
    assert.equal(err.filter((l) => l.includes("cannot accept")).length, 1, err.join("\n"));
    assert.match(err.join("\n"), /Too many open files/);
  } finally {
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
    if (!exited) child.kill("SIGKILL");
    await status;
    await reads;
  }
});

/** Opens `n` connections to `port`: even ones idle, odd ones sending half a request's headers. */
async function flood(port: number, n: number, held: Deno.Conn[]): Promise<number> {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    try {
      const c = await connect(port);
      held.push(c);
      if (i % 2) c.write(enc.encode("GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")).catch(() => {});
    } catch {
      failed++;
    }
  }
  return failed;
}

Deno.test("bounded: a node under prlimit --nofile=1024 lives through 3,000 idle and slow-header connections on its explorer and RPC ports", async () => {
  const dir = await Deno.makeTempDir({ prefix: "peerchain-bounded-" });
  const log: string[] = [];
  const explorerPort = freePort();
  const node = spawnNode({
    prefix: ["prlimit", "--nofile=1024"],
    listen: `127.0.0.1:${freePort()}`,
    dataDir: dir,
    tracker: `${dir}/server_tracker.txt`,
    args: ["--explorer", `127.0.0.1:${explorerPort}`],
  }, log);
  let exited = false;
  node.exited.finally(() => exited = true);
  const held: Deno.Conn[] = [];
  try {
    await waitFor(
      async () => {
        if (exited) return true;
        try {
          await callRpc(dir, "status");
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      () => `the node's RPC\n${log.join("\n")}`,
    );
    const rpc: RpcInfo = JSON.parse(await Deno.readTextFile(`${dir}/rpc.json`));
    for (const port of [explorerPort, rpc.port]) await flood(port, 3000, held);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(exited, false, `the node died:\n${log.slice(-20).join("\n")}`);
    const res = await fetch(`http://127.0.0.1:${explorerPort}/api/status`, {
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(typeof (await res.json()).height, "number");
    assert.equal(typeof (await callRpc(dir, "status") as { height: number }).height, "number");
    assert.equal(exited, false, `the node died:\n${log.slice(-20).join("\n")}`);
  } finally {
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed by the node */ }
    }
    if (!exited) node.proc.kill("SIGKILL");
    await node.exited.catch(() => {});
    await node.read;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
