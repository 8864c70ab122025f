/**
 * `peerchain run`: starts a node from the parsed command line and wires what serves it (the explorer, the
 * local RPC, signals, the menu or the headless log) until it stops. `cli.ts` only parses and dispatches here;
 * a start the user can fix is a `RunRefused` (exit 1), with a one-line message saying what to do.
 * @module
 */
import type { Args } from "./commands.ts";
import { dataDirOf, fromInvocation } from "./locate.ts";
import { headlessLogger, log } from "./node_log.ts";
import { NETWORKS } from "../consensus/params.ts";
import { Node, type NodeOptions, NodeStartError } from "../node.ts";
import { startRpc } from "../rpc/server.ts";
import { DataDirLocked } from "../store/lock.ts";
import { StoreError } from "../store/store.ts";
import { WalletError } from "../wallet/errors.ts";
import type { Explorer } from "../explorer/server.ts";
import { isLoopback } from "../net/address.ts";
import { parseHostPort } from "../net/messages.ts";
import { background } from "../runtime/background.ts";

/**
 * The menu module, named through a variable so that it is not part of the module graph Deno resolves at
 * start-up: its npm prompt library is then fetched (on a first run) only by the menu, never by a headless
 * node or a subcommand, which keep working with a cold cache and no registry. scripts/compile.sh includes
 * it in the binary explicitly.
 */
const MENU_MODULE = "../ui/menu.ts";
type MenuModule = typeof import("../ui/menu.ts");

/**
 * The explorer's default port is the node's network port plus this: network ports count up from 8765
 * (regtest 18765), explorers from 9765 (regtest 19765), so up to a thousand nodes on one machine, each with
 * its own --listen port, never take each other's ports (the explorer of 127.0.0.1:18765 used to take 18766,
 * the port the README's second node listens on).
 */
export const EXPLORER_PORT_OFFSET = 1000;
/** A node whose data directory another node holds tries `<dir>-2`, `<dir>-3`, ... up to this instance. */
export const MAX_INSTANCES = 20;

/** A start the user can fix (a port in use, a data directory refused): exit 1 with this one-line message. */
export class RunRefused extends Error {
  /** The error's name, for logs. */
  override name = "RunRefused";
}

/** The first non-loopback IPv4 address: what LAN peers can dial when we listen on all interfaces. */
function lanAddress(): string | undefined {
  try {
    return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !isLoopback(i.address))
      ?.address;
  } catch {
    return undefined;
  }
}

function portFree(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Serves the explorer where `--explorer` says, or by default on 127.0.0.1 at the network port +
 * `EXPLORER_PORT_OFFSET` (a free port when that one is taken); none with `--no-explorer`. An explicit address
 * that is taken is refused.
 */
async function openExplorer(node: Node, args: Args, networkPort: number): Promise<Explorer | undefined> {
  if (args.explorer === null) return undefined;
  // Loaded only by `run`: subcommands start no faster or slower for it.
  const { startExplorer } = await import("../explorer/server.ts");
  const publicHost = lanAddress();
  if (args.explorer) {
    try {
      return await startExplorer(node, { ...args.explorer, publicHost });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      const at = `${args.explorer.hostname}:${args.explorer.port}`;
      throw new RunRefused(
        `cannot serve the explorer on ${at}: the port is in use (choose another with --explorer, or --no-explorer)`,
      );
    }
  }
  const port = networkPort + EXPLORER_PORT_OFFSET <= 65535 ? networkPort + EXPLORER_PORT_OFFSET : 0;
  try {
    return await startExplorer(node, { hostname: "127.0.0.1", port, publicHost });
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse) || port === 0) throw e;
    return await startExplorer(node, { hostname: "127.0.0.1", port: 0, publicHost });
  }
}

/** The node's options from the command line, for the data directory `dataDir`. */
function nodeOptions(args: Args, dataDir: string, bind: { hostname: string; port: number }): NodeOptions {
  return {
    network: args.network,
    dataDir,
    trackerPath: fromInvocation(args.tracker),
    bind,
    advertise: args.advertise,
    advertiseHost: bind.hostname === "0.0.0.0" ? lanAddress() ?? "127.0.0.1" : undefined,
    connect: args.connect.length ? args.connect : undefined,
    threads: args.threads,
    maxPeers: args.maxPeers,
    discover: args.discover,
    timings: { pingIntervalMs: args.pingIntervalMs, deadAfterMs: args.deadAfterMs },
  };
}

/**
 * Starts the node: the same flags give the same data directory (`--data-dir`, or the default one keyed by
 * the `--listen` port); only a node given neither takes the next free instance (`<dir>-2`, ...) when another
 * node holds it. Refusals the user can fix are `RunRefused`.
 */
async function startNode(args: Args, onEvent: NodeOptions["onEvent"]): Promise<{ node: Node; port: number }> {
  const explicitDir = args.dataDir !== undefined || !!args.listen?.port;
  const baseDir = dataDirOf(args);
  const hostname = args.listen?.hostname ?? "0.0.0.0";
  let port = args.listen?.port ?? NETWORKS[args.network].defaultPort;
  // Several nodes started from one folder must just work: the next one takes a free port.
  if (!args.listen && !portFree(hostname, port)) port = 0;
  for (let instance = 1;; instance++) {
    const dataDir = instance === 1 ? baseDir : `${baseDir}-${instance}`;
    try {
      return { node: await Node.start({ ...nodeOptions(args, dataDir, { hostname, port }), onEvent }), port };
    } catch (e) {
      if (e instanceof DataDirLocked && !explicitDir && instance < MAX_INSTANCES) continue;
      if (
        e instanceof DataDirLocked || e instanceof StoreError || e instanceof WalletError ||
        e instanceof NodeStartError
      ) {
        throw new RunRefused(e.message);
      }
      if (e instanceof Deno.errors.AddrInUse) {
        throw new RunRefused(
          `cannot listen on ${hostname}:${port}: the port is in use (choose another with --listen)`,
        );
      }
      throw e;
    }
  }
}

/**
 * Runs a node until it stops (Ctrl-C, SIGTERM, the RPC's `stop`, or the menu's quit): the explorer, then the
 * local RPC, then the menu or, headless, a log line per event.
 */
export async function runNode(args: Args): Promise<void> {
  // Only the menu loads the prompt library (headless nodes and subcommands never do). It is loaded first,
  // before anything is printed: on a first run that is when it is fetched, with a progress line of its own.
  const menu = args.headless ? undefined : (import(MENU_MODULE) as Promise<MenuModule>).then(async (m) => {
    await m.preloadPrompts();
    return m;
  });
  await menu;
  // Catch-up work (the wallet's rescan, the UTXO set's load) waits until the RPC answers: with a slice of it at
  // each await of the start, the start took as long again.
  const release = background.hold();
  let served: Served;
  try {
    served = await serve(args, release);
  } finally {
    release();
  }
  if (args.mine) served.node.miner.start();
  if (!args.headless) {
    const { runMenu } = await menu!;
    await runMenu(served.node);
    if (!served.stopping()) await served.shutdown(); // a signal or RPC `stop` may have started it meanwhile
  }
}

/** A node that serves: its stop, and whether that began. */
interface Served {
  node: Node;
  shutdown: () => Promise<void>;
  stopping: () => boolean;
}

/**
 * Starts the node, its explorer and its RPC, and logs where they listen. `release` lets background work run
 * (a node stopping waits for its rescan's next turn).
 */
async function serve(args: Args, release: () => void): Promise<Served> {
  const started: { node?: Node } = {};
  // Headless: one line per event from the very start (the first join or promotion included). In menu mode
  // events go to the menu's news area instead: lines on stderr would corrupt the prompt.
  const onEvent = args.headless ? headlessLogger(() => started.node?.syncProgress()) : undefined;
  const { node, port } = await startNode(args, onEvent);
  started.node = node;
  let stopping = false;
  const shutdown = async () => {
    if (stopping) Deno.exit(130); // a second Ctrl-C exits at once
    stopping = true;
    log("stopping");
    await explorer?.close();
    await rpc.close();
    await node.stop();
    Deno.exit(0);
  };
  // The explorer before the RPC: a refused --explorer stops the node before anything answers for it.
  let explorer: Explorer | undefined;
  try {
    explorer = await openExplorer(node, args, port || parseHostPort(node.net.listen).port);
  } catch (e) {
    release();
    await node.stop();
    throw e;
  }
  node.explorerUrl = explorer?.url ?? null;
  const rpc = await startRpc(node, { port: args.rpcPort, onStop: shutdown });
  Deno.addSignalListener("SIGINT", shutdown);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", shutdown);
  log(
    `node ${node.net.nodeId} on ${args.network}: listening on ${node.net.listen}, data ${node.dataDir}, rpc 127.0.0.1:${rpc.info.port}, explorer ${
      explorer?.url ?? "off"
    }`,
  );
  for (const w of node.trackerWarnings) log(`warning: tracker ${w} (line kept, not used)`);
  log(
    `role ${node.net.role}, primary ${
      node.net.primary?.listen ?? "none"
    }, height ${node.chain.height}, address ${node.wallet.address}`,
  );
  return { node, shutdown, stopping: () => stopping };
}
