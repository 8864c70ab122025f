/**
 * The peerchain executable: `run` starts a node (the default), the other subcommands ask a running node
 * through its local RPC; `help`, `completions` and `--version` only print. Exit codes: 0 done, 1 refused,
 * 2 usage, 3 no node running.
 * @module
 */
import { type Args, parseArgs, UsageError } from "./lib/cli/args.ts";
import type { CommandName } from "./lib/cli/commands.ts";
import {
  bashCompletion,
  commandHelp,
  generalHelp,
  usageHint,
  VERSION,
  zshCompletion,
} from "./lib/cli/help.ts";
import { CLI_ERROR_NAMES, jsonError, printResult } from "./lib/cli/output.ts";
import { runWalletCommand } from "./lib/cli/wallet_commands.ts";
import { NETWORKS } from "./lib/consensus/params.ts";
import { dataDirOf, fromInvocation } from "./lib/cli/locate.ts";
import { Node, type NodeEvent, NodeStartError } from "./lib/node.ts";
import { callRpc, NoNode, RpcError } from "./lib/rpc/client.ts";
import { RPC_ERRORS, startRpc } from "./lib/rpc/server.ts";
import { RPC_ERROR_NAMES } from "./lib/rpc/methods.ts";
import { DataDirLocked } from "./lib/store/lock.ts";
import { syncLine } from "./lib/node/sync_progress.ts";
import { StoreError } from "./lib/store/store.ts";
import { WalletError } from "./lib/wallet/errors.ts";
import type { Explorer } from "./lib/explorer/server.ts";
import { parseHostPort } from "./lib/net/messages.ts";

/** True when the command line asks for JSON (also when it could not be parsed). */
const WANTS_JSON = Deno.args.includes("--json");

/**
 * Prints one line and exits with `code`: under `--json` one JSON object `{"error": {"code", "message"}}`
 * with the stable code name `name`; otherwise `peerchain: message` (a usage error: and the usage, unless a
 * suggestion says it all).
 */
function fail(message: string, code: number, command?: CommandName, hint = true, name?: string): never {
  if (WANTS_JSON) {
    console.error(jsonError(name ?? (code === 2 ? CLI_ERROR_NAMES.usage : "refused"), message));
    Deno.exit(code);
  }
  console.error(`peerchain: ${message}`);
  if (code === 2 && hint) console.error(usageHint(command));
  Deno.exit(code);
}

/**
 * The menu module, named through a variable so that it is not part of the module graph Deno resolves at
 * start-up: its npm prompt library is then fetched (on a first run) only by the menu, never by a headless
 * node or a subcommand, which keep working with a cold cache and no registry. scripts/compile.sh includes
 * it in the binary explicitly.
 */
const MENU_MODULE = "./lib/ui/menu.ts";
type MenuModule = typeof import("./lib/ui/menu.ts");

/** The first non-loopback IPv4 address: what LAN peers can dial when we listen on all interfaces. */
function lanAddress(): string | undefined {
  try {
    return Deno.networkInterfaces().find((i) => i.family === "IPv4" && !i.address.startsWith("127."))
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

function describe(e: NodeEvent): string {
  switch (e.type) {
    case "role":
      return e.role === "superpeer" ? `promoted to SuperPeer (${e.reason})` : `became a Peer (${e.reason})`;
    case "superpeer-linked":
    case "superpeer-lost":
      return `${e.type} ${e.peer.listen} ${e.primary ? "primary" : "backup"}`;
    case "peer-joined":
    case "peer-left":
    case "mesh-linked":
    case "mesh-lost":
      return `${e.type} ${e.peer.listen}`;
    case "misbehaviour":
      return `misbehaviour from ${e.host} (+${e.score}): ${e.reason}`;
    case "block":
      return `block ${e.height} ${e.hash} (${e.source})`;
    case "side":
      return `side block ${e.height} ${e.hash} (${e.source}): on a branch with less work`;
    case "reorg":
      return `reorg: ${e.disconnected} blocks out, ${e.connected} in`;
    case "tx":
      return `tx ${e.txid} (${e.source})`;
    case "mined":
      return `mined ${e.hash}`;
    case "discovery":
      return e.found.length
        ? `discovery: ${e.found.length} SuperPeer(s) answered in ${e.ms} ms: ${e.found.join(", ")}`
        : `discovery: no SuperPeer answered on this LAN (${e.ms} ms)`;
    case "clock":
      return e.warning
        ? `warning: ${e.warning}`
        : "clock: this computer's clock agrees with its peers' again";
  }
}

/** How often a headless node logs its sync progress. */
const SYNC_LOG_MS = 2_000;
/**
 * The explorer's default port is the node's network port plus this: network ports count up from 8765
 * (regtest 18765), explorers from 9765 (regtest 19765), so up to a thousand nodes on one machine, each with
 * its own --listen port, never take each other's ports (the explorer of 127.0.0.1:18765 used to take 18766,
 * the port the README's second node listens on).
 */
export const EXPLORER_PORT_OFFSET = 1000;
/**
 * Serves the explorer where `--explorer` says, or by default on 127.0.0.1 at the network port +
 * `EXPLORER_PORT_OFFSET` (a free port when that one is taken); none with `--no-explorer`. An explicit address
 * that is taken is refused.
 */
async function openExplorer(node: Node, args: Args, networkPort: number): Promise<Explorer | undefined> {
  if (args.explorer === null) return undefined;
  // Loaded only by `run`: subcommands start no faster or slower for it.
  const { startExplorer } = await import("./lib/explorer/server.ts");
  const publicHost = lanAddress();
  if (args.explorer) {
    try {
      return await startExplorer(node, { ...args.explorer, publicHost });
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      const at = `${args.explorer.hostname}:${args.explorer.port}`;
      throw new ExplorerPortTaken(
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

class ExplorerPortTaken extends Error {}

async function run(args: Args): Promise<void> {
  // Only the menu loads the prompt library (headless nodes and subcommands never do). It is loaded first,
  // before anything is printed: on a first run that is when it is fetched, with a progress line of its own.
  const menu = args.headless ? undefined : (import(MENU_MODULE) as Promise<MenuModule>).then(async (m) => {
    await m.preloadPrompts();
    return m;
  });
  await menu;
  const params = NETWORKS[args.network];
  // The same flags give the same data directory: --data-dir, or the default one keyed by the --listen port.
  // Only a node given neither takes the next free instance (`<dir>-2`, ...) when another node holds it.
  const explicitDir = args.dataDir !== undefined || !!args.listen?.port;
  const baseDir = dataDirOf(args);
  const trackerPath = fromInvocation(args.tracker);
  const bindHost = args.listen?.hostname ?? "0.0.0.0";
  let port = args.listen?.port ?? params.defaultPort;
  // Several nodes started from one folder must just work: the next one takes a free port.
  if (!args.listen && !portFree(bindHost, port)) port = 0;
  const log = (line: string) => console.error(`${new Date().toISOString()} ${line}`);
  let node: Node | undefined;
  // While an initial sync runs, a progress line every few seconds stands in for a line per block.
  let syncing = false;
  let lastProgress = -Infinity;
  const headlessLine = (e: NodeEvent) => {
    if (e.type !== "block" || e.source !== "network") return log(describe(e));
    const progress = node?.syncProgress();
    if (!progress) {
      if (syncing) log(`synced: height ${e.height}`);
      syncing = false;
      return log(describe(e));
    }
    syncing = true;
    if (performance.now() - lastProgress < SYNC_LOG_MS) return;
    lastProgress = performance.now();
    log(syncLine(progress));
  };
  for (let instance = 1; !node; instance++) {
    const dataDir = instance === 1 ? baseDir : `${baseDir}-${instance}`;
    try {
      node = await Node.start({
        network: args.network,
        dataDir,
        trackerPath,
        bind: { hostname: bindHost, port },
        advertise: args.advertise,
        advertiseHost: bindHost === "0.0.0.0" ? lanAddress() ?? "127.0.0.1" : undefined,
        connect: args.connect.length ? args.connect : undefined,
        threads: args.threads,
        maxPeers: args.maxPeers,
        discover: args.discover,
        timings: {
          ...(args.pingIntervalMs ? { pingIntervalMs: args.pingIntervalMs } : {}),
          ...(args.deadAfterMs ? { deadAfterMs: args.deadAfterMs } : {}),
        },
        // Headless: one line per event from the very start (the first join or promotion included). In menu
        // mode events go to the menu's news area instead: lines on stderr would corrupt the prompt.
        onEvent: args.headless ? (e) => headlessLine(e) : undefined,
      });
    } catch (e) {
      if (e instanceof DataDirLocked && !explicitDir && instance < 20) continue;
      if (
        e instanceof DataDirLocked || e instanceof StoreError || e instanceof WalletError ||
        e instanceof NodeStartError
      ) {
        fail(e.message, 1);
      }
      if (e instanceof Deno.errors.AddrInUse) {
        fail(`cannot listen on ${bindHost}:${port}: the port is in use (choose another with --listen)`, 1);
      }
      throw e;
    }
  }
  let stopping = false;
  const shutdown = async () => {
    if (stopping) Deno.exit(130); // a second Ctrl-C exits at once
    stopping = true;
    log("stopping");
    await explorer?.close();
    await rpc.close();
    await node!.stop();
    Deno.exit(0);
  };
  // The explorer before the RPC: a refused --explorer stops the node before anything answers for it.
  let explorer: Explorer | undefined;
  try {
    explorer = await openExplorer(node, args, port || parseHostPort(node.net.listen).port);
  } catch (e) {
    await node.stop();
    if (e instanceof ExplorerPortTaken) fail(e.message, 1);
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
      node.net.hub?.listen ?? "none"
    }, height ${node.chain.height}, address ${node.wallet.address}`,
  );
  if (args.mine) node.miner.start();
  if (!args.headless) {
    const { runMenu } = await menu!;
    await runMenu(node);
    if (!stopping) await shutdown(); // a signal or RPC `stop` may have started it while the menu was open
  }
}

async function subcommand(args: Args): Promise<void> {
  const dataDir = dataDirOf(args);
  try {
    if (await runWalletCommand(args, dataDir)) return;
    // `mining start` is the RPC's `mining.start`; every other command is the method of its name.
    const [method, params] = args.command === "mining"
      ? [`mining.${args.positional[0]}`, []]
      : [args.command, args.positional];
    const result = await callRpc(dataDir, method, params);
    printResult(args.command, result, args.json);
  } catch (e) {
    if (e instanceof NoNode) fail(e.message, 3, undefined, true, CLI_ERROR_NAMES.noNode);
    if (e instanceof WalletError) fail(e.message, 1);
    if (e instanceof RpcError) {
      const name = e.code === 401 ? CLI_ERROR_NAMES.badCookie : RPC_ERROR_NAMES[e.code] ?? "refused";
      fail(e.message, e.code === RPC_ERRORS.badParams ? 2 : 1, args.command, true, name);
    }
    throw e;
  }
}

if (import.meta.main) {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    if (e instanceof UsageError) fail(e.message, 2, e.command, !e.suggested);
    throw e;
  }
  switch (args.command) {
    case "help":
      console.log(args.positional[0] ? commandHelp(args.positional[0] as CommandName) : generalHelp());
      break;
    case "version":
      console.log(`peerchain ${VERSION}`);
      break;
    case "completions":
      console.log(args.positional[0] === "zsh" ? zshCompletion() : bashCompletion());
      break;
    case "run":
      await run(args);
      break;
    default:
      await subcommand(args);
  }
}
