/**
 * The RPC client the subcommands use: finds the node through `rpc.json` in its data directory.
 * @module
 */
import type { RpcInfo } from "./server.ts";

/** No node answers for that data directory (exit code 3). */
export class NoNode extends Error {
  /** The error's name, for logs. */
  override name = "NoNode";
}

/** The node answered with a JSON-RPC error. */
export class RpcError extends Error {
  /** The error's name, for logs. */
  override name = "RpcError";
  /** An error with the node's JSON-RPC error `code` (see `RPC_ERRORS`). */
  constructor(
    /** The JSON-RPC error code. */
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Calls `method` on the node whose data directory is `dataDir`.
 * @example const status = await callRpc(dataDir, "status");
 */
export async function callRpc(dataDir: string, method: string, params: unknown[] = []): Promise<unknown> {
  let info: RpcInfo;
  try {
    info = JSON.parse(await Deno.readTextFile(`${dataDir}/rpc.json`));
  } catch {
    throw new NoNode(`no node is running for ${dataDir}: start one with \`peerchain run\``);
  }
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${info.port}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${info.cookie}`, "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
  } catch {
    throw new NoNode(`no node answers for ${dataDir} (stale rpc.json): start one with \`peerchain run\``);
  }
  if (res.status === 401) throw new RpcError(401, "the node refused the cookie in rpc.json");
  const body = await res.json();
  if (body.error) throw new RpcError(body.error.code, body.error.message);
  return body.result;
}
