#!/usr/bin/env bash
# Builds Prometheus (Apache-2.0) from its Go module, for the tests that run the
# dashboards' and alert rules' PromQL on a real server, into .cache/prometheus/
# (outside git). The API needs no web UI assets, so a plain `go install` of
# cmd/prometheus is enough. Idempotent: when the binary exists and was built
# from the same module version and Go version, it only prints the binary's path.
#
#   npm run prometheus:build            build if needed, print the path
#   CVD_PROMETHEUS_FORCE=1 npm run ...  rebuild anyway
set -euo pipefail

# v0.316.0 is Prometheus 3.x; its go.mod has no replace directives, so
# `go install module@version` builds it as released (needs Go >= 1.26.7).
PROMETHEUS_MODULE_VERSION=v0.316.0
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/collector-config/build/go-env.sh" "prometheus:build" 1.26.7

CACHE="$ROOT/.cache/prometheus"
BIN="$CACHE/prometheus"
STAMP="$BIN.stamp"

stamp="$( { echo "prometheus=$PROMETHEUS_MODULE_VERSION"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -d' ' -f1)"
if [[ -z "${CVD_PROMETHEUS_FORCE:-}" && -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$stamp" ]]; then
  echo "prometheus:build: up to date: $BIN"
  exit 0
fi

echo "prometheus:build: building $PROMETHEUS_MODULE_VERSION (first build takes several minutes on 2 cores)"
start=$(date +%s)
mkdir -p "$CACHE/bin"
rm -f "$STAMP"
GOBIN="$CACHE/bin" go install "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_MODULE_VERSION"
cp "$CACHE/bin/prometheus" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
echo "$stamp" > "$STAMP"
echo "prometheus:build: built in $(( $(date +%s) - start )) s: $BIN"
"$BIN" --version
