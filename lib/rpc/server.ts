/**
 * The local JSON-RPC 2.0 server: HTTP on 127.0.0.1 only, a random cookie required on every call, port and
 * cookie written to `rpc.json` (mode 0600) in the data directory for the subcommands to find.
 * @module
 */
import { writeFileAtomic } from "../runtime/atomic_file.ts";
import type { Node } from "../node.ts";
import { answerRpc, RPC_ERRORS } from "./methods.ts";
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

/** JSON-RPC error codes: the standard ones and this node's application codes (see methods.ts). */
export { RPC_ERRORS } from "./methods.ts";

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
      let body: unknown;
      try {
        body = await req.json();
      } catch {
        return Response.json(err(null, RPC_ERRORS.parse, "the body is not JSON"));
      }
      const answer = await answerRpc(node, body, opts.onStop);
      return answer === undefined ? new Response(null, { status: 204 }) : Response.json(answer);
    },
  });
  const info: RpcInfo = { port: server.port, cookie, pid: Deno.pid };
  const path = `${node.dataDir}/rpc.json`;
  // Not flushed to disk: after a power cut it names a process that is gone, which clients already handle.
  await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(info) + "\n"), 0o600, {
    durable: false,
  });
  return {
    info,
    async close() {
      await server.close();
      await Deno.remove(path).catch(() => {});
    },
  };
}

function err(id: unknown, code: number, message: string) {
  return { jsonrpc: "2.0", id, error: { code, message } };
}
