#!/usr/bin/env bash
# Builds cvd-activity's OpenTelemetry Collector (contrib v0.161.0 components
# listed in manifest.yaml) with the Collector builder, into .cache/otelcol/
# (outside git). Idempotent: when the binary exists and was built from the same
# manifest, builder version and Go version, it only prints the binary's path.
#
#   npm run collector:build            build if needed, print the path
#   CVD_OTELCOL_FORCE=1 npm run ...    rebuild anyway
set -euo pipefail

BUILDER_VERSION=v0.161.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MANIFEST="$ROOT/collector-config/build/manifest.yaml"
CACHE="$ROOT/.cache/otelcol"
BIN="$CACHE/otelcol-cvd"
STAMP="$CACHE/otelcol-cvd.stamp"

source "$ROOT/collector-config/build/go-env.sh" "collector:build" 1.26

# The stamp names everything the binary depends on; any change rebuilds.
stamp="$( { cat "$MANIFEST"; echo "builder=$BUILDER_VERSION"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -d' ' -f1)"
if [[ -z "${CVD_OTELCOL_FORCE:-}" && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$stamp" ]]; then
  echo "collector:build: up to date: $BIN"
  exit 0
fi

mkdir -p "$CACHE/bin"
builder="$CACHE/bin/builder"
have="$("$builder" version 2>&1 || true)"  # not piped: grep -q would SIGPIPE it
if [[ "$have" != *"$BUILDER_VERSION"* ]]; then
  echo "collector:build: installing the Collector builder $BUILDER_VERSION"
  GOBIN="$CACHE/bin" go install "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION"
fi

echo "collector:build: building (first build takes several minutes on 2 cores)"
start=$(date +%s)
cd "$ROOT"  # output_path in the manifest is relative to the repository root
rm -f "$STAMP"
"$builder" --config "$MANIFEST"
cp "$CACHE/build/otelcol-cvd" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
echo "$stamp" > "$STAMP"
echo "collector:build: built in $(( $(date +%s) - start )) s: $BIN"
"$BIN" --version
