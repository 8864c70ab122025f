/**
 * A `Node` in this process, as the tests and benchmarks that drive one directly start it: regtest, listening
 * on 127.0.0.1 (any free port), one mining thread, its files in a folder of the caller's.
 * @module
 */
import { Node, type NodeOptions } from "../../lib/node.ts";
import { withTempDir } from "./temp_dir.ts";

/** Starts a node with its data in `dir/data` and its tracker file `dir/tracker.txt`, unless `opts` say otherwise. */
export function startLocalNode(dir: string, opts: Partial<NodeOptions> = {}): Promise<Node> {
  return Node.start({
    network: "regtest",
    dataDir: `${dir}/data`,
    trackerPath: `${dir}/tracker.txt`,
    bind: { hostname: "127.0.0.1", port: 0 },
    threads: 1,
    ...opts,
  });
}

/** Runs `fn` with a node in a fresh temporary folder; stops it and removes the folder after, also on failure. */
export async function withLocalNode(fn: (node: Node, dir: string) => Promise<void>): Promise<void> {
  await withTempDir(async (dir) => {
    const node = await startLocalNode(dir);
    try {
      await fn(node, dir);
    } finally {
      await node.stop();
    }
  }, "peerchain-node-");
}
