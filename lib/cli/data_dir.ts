/**
 * Where a node keeps its files by default: per user and per network, like bitcoind.
 * @module
 */
import type { NetworkName } from "../consensus/params.ts";

/**
 * The default data directory for `network`: `$XDG_DATA_HOME/peerchain/<network>` (or
 * `~/.local/share/...`) on Linux, `~/Library/Application Support/peerchain/<network>` on macOS,
 * `%APPDATA%\peerchain\<network>` on Windows.
 * @example defaultDataDir("main") // "/home/ana/.local/share/peerchain/main"
 */
export function defaultDataDir(network: NetworkName): string {
  const env = (k: string) => Deno.env.get(k);
  if (Deno.build.os === "windows") return `${env("APPDATA") ?? "."}\\peerchain\\${network}`;
  const home = env("HOME") ?? ".";
  if (Deno.build.os === "darwin") return `${home}/Library/Application Support/peerchain/${network}`;
  return `${env("XDG_DATA_HOME") || `${home}/.local/share`}/peerchain/${network}`;
}
