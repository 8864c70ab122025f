#!/usr/bin/env bash
# Runs a built binary as a user would, before release.yml uploads anything: --version, then two regtest nodes
# on 127.0.0.1 in a temporary folder (the second finds the first through the tracker file the first wrote),
# eleven blocks mined, 1.5 coins paid from the first to the second, a block, and the second's balance read.
# Usage: scripts/smoke_binary.sh BINARY [PORT_A PORT_B] (default 28765 28766). tests/release_test.ts runs it
# against cli.ts.
set -euo pipefail
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
PORT_A="${2:-28765}"
PORT_B="${3:-28766}"
"$BIN" --version
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
node() { "$BIN" "$@" --network regtest; }
# Waits up to 30 s for `$@` to succeed.
until_ok() {
  local end=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "smoke: timed out waiting for: $*" >&2
  for f in "$work"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
  return 1
}
start() { # NAME PORT
  "$BIN" run --network regtest --headless --no-explorer --threads 1 --listen "127.0.0.1:$2" --data-dir "$work/$1" \
    >"$work/$1.log" 2>&1 &
  pids+=($!)
  until_ok node status --data-dir "$work/$1"
}
start a "$PORT_A"
start b "$PORT_B"
until_ok grep -q "role peer" "$work/b.log"
node mine 11 --data-dir "$work/a" >/dev/null
to="$(node address --data-dir "$work/b")"
node send "$to" 1.5 --data-dir "$work/a"
node mine 1 --data-dir "$work/a" >/dev/null
spendable() { node balance --json --data-dir "$work/b" | grep -q '"spendable":"1.5"'; }
until_ok spendable
node stop --data-dir "$work/a" >/dev/null
node stop --data-dir "$work/b" >/dev/null
echo "smoke: two regtest nodes, 1.5 coins paid and confirmed"
