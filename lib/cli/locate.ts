/**
 * Where a command's files are: relative paths against the folder the user typed the command in (also under
 * `deno task --config CLONE/deno.json`, which runs in the clone's folder and says where it was started in
 * `INIT_CWD`), and which data directory a node uses: the same flags always give the same one.
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";
import { NETWORKS } from "../consensus/params.ts";
import { defaultDataDir } from "./data_dir.ts";
import type { Args } from "./commands.ts";

/** The clone's folder (where deno.json and cli.ts are), when running from source. */
const SOURCE_DIR = import.meta.dirname?.replace(/[\\/]lib[\\/]cli$/, "");

/**
 * The folder the command was typed in. `deno task` runs in the clone's folder, even with `--config` from
 * another folder, and says where it was started in `INIT_CWD`: that is used when the working directory is
 * the clone's (npm and npx set `INIT_CWD` too, and a child started elsewhere inherits it, so it is ignored
 * anywhere else).
 */
export function invocationDir(): string {
  const cwd = Deno.cwd();
  if (SOURCE_DIR === undefined || cwd !== SOURCE_DIR) return cwd;
  try {
    return Deno.env.get("INIT_CWD") || cwd;
  } catch {
    return cwd; // not granted INIT_CWD
  }
}

/** `path` resolved against the folder the command was typed in (absolute paths unchanged). */
export function fromInvocation(path: string): string {
  if (/^([a-zA-Z]:)?[\\/]/.test(path)) return path;
  const base = invocationDir();
  return base === Deno.cwd() ? path : `${base}/${path}`;
}

/**
 * The data directory for `network` of a node started with `--listen` on `port` (undefined without it): the
 * default directory, or `<default>-<port>` when the port is neither 0 nor the network's default one, so two nodes on
 * one machine told to listen on two ports always get the same two directories and wallets.
 * @example nodeDataDir("/d/regtest", "regtest", 18766) // "/d/regtest-18766"
 */
export function nodeDataDir(base: string, network: NetworkName, port: number | undefined): string {
  return !port || port === NETWORKS[network].defaultPort ? base : `${base}-${port}`;
}

/** The data directory `args` name: `--data-dir`, else the default one of its network and `--listen` port. */
export function dataDirOf(args: Args): string {
  if (args.dataDir !== undefined) return fromInvocation(args.dataDir);
  return nodeDataDir(defaultDataDir(args.network), args.network, args.listen?.port);
}
