#!/usr/bin/env bash
# Rebuilds lib/mining/kernel.wasm from asm/kernel.ts with npm's AssemblyScript compiler.
# Needs node/npx (or deno; ASC_RUNNER=deno forces it) and the npm registry (or a cache holding assemblyscript).
# The build is reproducible: the same compiler version gives the committed bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
ASC_VERSION="${ASC_VERSION:-0.28.20}"
ARGS=(asm/kernel.ts -O3 --runtime stub --noAssert --enable simd --use abort=
  -o lib/mining/kernel.wasm)
if [ "${ASC_RUNNER:-}" != deno ] && command -v npx >/dev/null 2>&1; then
  npx -y -p "assemblyscript@${ASC_VERSION}" asc "${ARGS[@]}"
else
  deno run -A --no-lock --no-config "npm:assemblyscript@${ASC_VERSION}/asc" "${ARGS[@]}"
fi
echo "built lib/mining/kernel.wasm ($(wc -c <lib/mining/kernel.wasm) bytes)"
