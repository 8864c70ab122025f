#!/usr/bin/env bash
# Builds one self-contained binary per target into dist/, and dist/SHA256SUMS over them. `deno compile`
# downloads Deno's runtime ("denort") for each target; that host is out of reach on our build machines, so
# this runs where it is not (the release workflow). tests/release_test.ts runs it here with a stand-in `deno`.
#
# Permissions are baked in and are exactly the `start` task's: the node needs the network, read/write of its
# data directory and tracker file (chosen at run time, so not narrowed further), the terminal's environment,
# and the interface list to advertise its LAN address. Never -A.
#
# Included explicitly: what the code loads at run time by a path the compiler cannot see — the mining worker
# and the signature-check worker (new Worker(new URL(...))), its wasm kernel, and the menu (imported through a variable so that headless
# nodes and subcommands never fetch its npm prompt library), and the explorer's assets (stylesheet, script,
# uPlot), which the explorer reads at start from import.meta.url, and the wallet's npm libraries (lib/wallet/libs.ts,
# loaded when seed words are made or checked, or secrets sealed or opened).
set -euo pipefail
cd "$(dirname "$0")/.."
PERMS=(--allow-read --allow-write --allow-net
  --allow-env=TERM,HOME,XDG_DATA_HOME,APPDATA,NO_COLOR,COLUMNS,LINES,INIT_CWD
  --allow-sys=networkInterfaces)
INCLUDES=(--include lib/mining/worker.ts --include lib/crypto/verify_worker.ts --include lib/mining/kernel.wasm --include lib/ui/menu.ts
  --include lib/explorer/assets --include lib/wallet/libs.ts)
TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc)
rm -rf dist
mkdir -p dist
# The runtime's lockfile: deno.lock without the tests' npm packages (deno compile embeds every package of the
# lockfile it is given; with deno.lock that was puppeteer-core, chromium-bidi, devtools-protocol, fast-check
# and yaml, about 28 MB of the 30 MB embedded). Outside dist/, so SHA256SUMS and the release never see it.
LOCK="$(mktemp)"
trap 'rm -f "$LOCK" "$LOCK.out"' EXIT
deno run --allow-read=deno.lock --allow-write="$LOCK" scripts/runtime_lock.ts "$LOCK"
for t in "${TARGETS[@]}"; do
  # deno compile lists what it embeds; its totals are printed, per target, as "embedded: ...".
  if ! NO_COLOR=1 deno compile --lock="$LOCK" --frozen "${PERMS[@]}" "${INCLUDES[@]}" --target "$t" \
    --output "dist/peerchain-$t" cli.ts >"$LOCK.out" 2>&1; then
    cat "$LOCK.out" >&2
    exit 1
  fi
  echo "embedded in peerchain-$t: $(grep -E '^(Files|Metadata|Remote modules):' "$LOCK.out" | paste -sd, - | sed 's/,/, /g')"
  rm -f "$LOCK.out"
done
# Checksums of exactly the binaries built (Windows' gets ".exe" from deno compile), by file name, in the
# format `sha256sum -c` and `shasum -a 256 -c` read.
cd dist
if command -v sha256sum >/dev/null 2>&1; then sum=(sha256sum); else sum=(shasum -a 256); fi
"${sum[@]}" peerchain-* >SHA256SUMS
ls -l
