#!/usr/bin/env bash
# Builds a real Prometheus server and promtool (for the provider tests and local mode) from the Go
# module proxy into a cache outside the repo, keyed by this script (which pins the version), and
# prints the directory holding both binaries. A cached build is reused. Service discovery is left
# out (remove_all_sd): the tests and local mode scrape static loopback targets only, and the SD
# plugins are most of the compile time. `--cached` only prints a cached build's directory (exit 1
# when there is none): lib/local/prometheus.ts then falls back to a `prometheus` on PATH.
set -euo pipefail
version=v0.316.0 # Prometheus 3.x (the Go module's v0.3xx tags follow the 3.x releases)
here="$(cd "$(dirname "$0")" && pwd)"
key=$(sha256sum "$here/build.sh" | cut -c1-16)
cache_root="${SERVERLESS_ROLLOUTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-rollouts}"
dir="$cache_root/prometheus-$key"
if [ -x "$dir/prometheus" ] && [ -x "$dir/promtool" ]; then
  echo "$dir"
  exit 0
fi
[ "${1:-}" = "--cached" ] && exit 1
command -v go >/dev/null || { echo "prometheus: Go is needed to build Prometheus (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$dir"
echo "prometheus: building Prometheus $version into $dir (first run only; several minutes)..." >&2
start=$(date +%s)
tmp="$dir/.build"
rm -rf "$tmp"
# go install outside any module, so the pinned version's own go.mod decides every dependency.
(cd "$dir" && GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -trimpath -ldflags='-s -w' -tags remove_all_sd \
  "github.com/prometheus/prometheus/cmd/prometheus@$version" \
  "github.com/prometheus/prometheus/cmd/promtool@$version")
mv "$tmp/prometheus" "$tmp/promtool" "$dir/"
rmdir "$tmp"
echo "prometheus: built in $(( $(date +%s) - start ))s" >&2
echo "$dir"
