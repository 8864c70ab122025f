#!/usr/bin/env bash
# Refreshes the explorer's copy of uPlot (lib/explorer/assets/vendor/) from the npm registry with npm's own
# client. The explorer serves these files itself, so a browser on a LAN without internet loads nothing from
# elsewhere, and `deno compile` embeds them (scripts/compile.sh includes lib/explorer/assets). The tarball
# must match the pinned integrity: a changed upload is refused, not served.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.6.32
INTEGRITY=sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "uplot@${VERSION}" --silent >/dev/null)
got="sha512-$(openssl dgst -sha512 -binary "$tmp/uplot-${VERSION}.tgz" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "uplot-${VERSION}.tgz has integrity $got, expected $INTEGRITY" >&2
  exit 1
fi
tar -xzf "$tmp/uplot-${VERSION}.tgz" -C "$tmp"
out=lib/explorer/assets/vendor
mkdir -p "$out"
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" "$out/"
cp "$tmp/package/LICENSE" "$out/uPlot.LICENSE"
echo "vendored uPlot ${VERSION} into $out"
