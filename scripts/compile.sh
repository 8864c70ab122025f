#!/usr/bin/env bash
# Builds one self-contained binary per target into dist/. `deno compile` downloads Deno's runtime
# ("denort") for each target; that host is out of reach on our build machines, so run this where it is not.
# Permissions are baked in: the node needs the network, read/write of its data directory and tracker
# file (chosen at run time, so not narrowed further), the terminal's environment, and the interface list
# to advertise its LAN address. Never -A. The mining worker and its wasm kernel are loaded at run time
# from import.meta.url, so they are included explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
PERMS=(--allow-read --allow-write --allow-net
  --allow-env=TERM,HOME,XDG_DATA_HOME,APPDATA,NO_COLOR,COLUMNS,LINES
  --allow-sys=networkInterfaces)
INCLUDES=(--include lib/mining/worker.ts --include lib/mining/kernel.wasm)
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)
mkdir -p dist
for t in "${TARGETS[@]}"; do
  deno compile "${PERMS[@]}" "${INCLUDES[@]}" --target "$t" --output "dist/peerchain-$t" cli.ts
done
ls -l dist
