/**
 * The local JSON-RPC 2.0 server: HTTP on 127.0.0.1 only, a random cookie required on every call, port and
 * cookie written to `rpc.json` (mode 0600) in the data directory for the subcommands to find.
 * @module
 */
import { writeFileAtomic } from "../atomic_file.ts";
import type { Node } from "../node.ts";
import { METHODS, RpcBadParams, RpcRefused } from "./methods.ts";
import { BoundedServer } from "../http/bounded_server.ts";

/** Connections to the RPC port at most (each subcommand opens one). */
const RPC_MAX_CONNECTIONS = 64;

/** Where a node's RPC listens, as written to `rpc.json`. */
export interface RpcInfo {
  /** TCP port on 127.0.0.1. */
  port: number;
  /** The bearer token a client must send. */
  cookie: string;
  /** The node's process id. */
  pid: number;
}

/** JSON-RPC error codes used here. */
export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  notFound: -32601,
  badParams: -32602,
  refused: 1,
  internal: -32603,
} as const;

/** A running RPC server. */
export interface RpcServer {
  /** Where it listens, as written to `rpc.json`. */
  info: RpcInfo;
  /** Stops serving and removes `rpc.json`. */
  close(): Promise<void>;
}

/**
 * Serves `node`'s methods; `onStop` is called by the `stop` method after it answers.
 * @example const rpc = await startRpc(node, { port: 0, onStop: () => shutdown() });
 */
export async function startRpc(
  node: Node,
  opts: { port?: number; onStop?: () => void } = {},
): Promise<RpcServer> {
  const cookie = crypto.getRandomValues(new Uint8Array(32)).toHex();
  const expected = `Bearer ${cookie}`;
  // Bounded like the explorer's: the port is on loopback only, but any local process can dial it.
  const server = new BoundedServer({
    name: "rpc",
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    maxConnections: RPC_MAX_CONNECTIONS,
    maxPerAddress: RPC_MAX_CONNECTIONS,
    handler: async (req) => {
      if (req.headers.get("authorization") !== expected) {
        return new Response("wrong or missing cookie: read rpc.json in the node's data directory\n", {
          status: 401,
        });
      }
      if (req.method !== "POST") return new Response("POST a JSON-RPC 2.0 request\n", { status: 405 });
      let body: { id?: unknown; method?: unknown; params?: unknown };
      try {
        body = await req.json();
      } catch {
        return reply(null, undefined, { code: RPC_ERRORS.parse, message: "the body is not JSON" });
      }
      const id = body?.id ?? null;
      if (typeof body?.method !== "string") {
        return reply(id, undefined, { code: RPC_ERRORS.invalidRequest, message: "no method" });
      }
      if (body.method === "stop") {
        queueMicrotask(() => setTimeout(() => opts.onStop?.(), 20));
        return reply(id, { stopping: true });
      }
      const method = Object.hasOwn(METHODS, body.method) ? METHODS[body.method] : undefined;
      if (!method) {
        return reply(id, undefined, { code: RPC_ERRORS.notFound, message: `unknown method ${body.method}` });
      }
      try {
        return reply(id, await method(node, Array.isArray(body.params) ? body.params : []));
      } catch (e) {
        if (e instanceof RpcRefused) {
          return reply(id, undefined, { code: RPC_ERRORS.refused, message: e.message });
        }
        if (e instanceof RpcBadParams) {
          return reply(id, undefined, { code: RPC_ERRORS.badParams, message: e.message });
        }
        return reply(id, undefined, {
          code: RPC_ERRORS.internal,
          message: e instanceof Error ? e.message : String(e),
        });
      }
    },
  });
  const info: RpcInfo = { port: server.port, cookie, pid: Deno.pid };
  const path = `${node.dataDir}/rpc.json`;
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(info) + "\n"), 0o600);
  return {
    info,
    async close() {
      await server.close();
      await Deno.remove(path).catch(() => {});
    },
  };
}

function reply(id: unknown, result: unknown, error?: { code: number; message: string }): Response {
  return Response.json(error ? { jsonrpc: "2.0", id, error } : { jsonrpc: "2.0", id, result });
}
