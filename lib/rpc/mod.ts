/**
 * The local JSON-RPC (`@peerchain/peerchain/rpc`): `callRpc` asks a running node the questions the
 * subcommands ask (`status`, `send`, `mine`, …), finding it through `rpc.json` in its data directory;
 * `startRpc` serves a `Node` on 127.0.0.1 behind a random cookie.
 *
 * @example Script a node
 * ```ts
 * import { Node } from "@peerchain/peerchain/node";
 * import { callRpc, startRpc } from "@peerchain/peerchain/rpc";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const node = await Node.start({
 *   network: "regtest",
 *   dataDir: `${dir}/data`,
 *   trackerPath: `${dir}/tracker.txt`,
 *   bind: { hostname: "127.0.0.1", port: 0 },
 *   threads: 1,
 * });
 * const rpc = await startRpc(node);
 * try {
 *   const mined = await callRpc(`${dir}/data`, "mine", [2]) as { hashes: string[] };
 *   assert.equal(mined.hashes.length, 2);
 *   const status = await callRpc(`${dir}/data`, "status") as { height: number };
 *   assert.equal(status.height, 2);
 * } finally {
 *   await rpc.close();
 *   await node.stop();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 * @module
 */

export { callRpc, NoNode, RpcError } from "./client.ts";
export { RPC_ERRORS, type RpcInfo, type RpcServer, startRpc } from "./server.ts";
