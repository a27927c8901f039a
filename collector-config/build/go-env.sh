# Sourced by the build scripts of the Go binaries the tests run (the Collector,
# Prometheus): finds Go, or stops naming what is missing, and keeps Go from
# stamping VCS data (the build runs inside this git work tree; stamping fails
# on CI clones and adds nothing to the binary).
#   source go-env.sh <what> <minimum Go version>
if [[ -x /usr/local/go/bin/go ]] && ! command -v go >/dev/null 2>&1; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "$1: Go is not installed (need Go >= $2 and the Go module proxy); cannot build it" >&2
  exit 1
fi
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"
