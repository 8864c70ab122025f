/**
 * A `BoundedServer` in a process of its own, for tests that lower its descriptor limit (`prlimit`): serves
 * `GET /` with "ok" on 127.0.0.1, caps far above the limit, so that accepting itself fails. Prints its port.
 * Usage: deno run --allow-net=127.0.0.1 bounded_child.ts
 * @module
 */
import { BoundedServer } from "../../lib/http/bounded_server.ts";

const server = new BoundedServer({
  name: "child",
  hostname: "127.0.0.1",
  port: 0,
  maxConnections: 100_000,
  maxPerAddress: 100_000,
  headersTimeoutMs: 60_000,
  handler: () => new Response("ok\n"),
});
// Registered before the descriptors run out: Deno 2.9.6 panics when it first sets up signal handling then.
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
console.log(server.port);
