#!/usr/bin/env bash
# Builds the test control plane into a cache outside the repo, keyed by go.sum and the tool's own
# sources, and prints the binary's path. A cached build is reused; a missing one is built (the
# cold build takes several minutes: it compiles kube-apiserver, the controller manager and the
# scheduler from the Go module proxy).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
key=$(cat "$here/go.sum" "$here/go.mod" "$here"/*.go | sha256sum | cut -c1-16)
cache_root="${SERVERLESS_ROLLOUTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/serverless-rollouts}"
dir="$cache_root/testcluster-$key"
binary="$dir/testcluster"
if [ -x "$binary" ]; then
  echo "$binary"
  exit 0
fi
command -v go >/dev/null || { echo "testcluster: Go is needed to build the test control plane (https://go.dev/dl)" >&2; exit 1; }
mkdir -p "$dir"
echo "testcluster: building the Kubernetes control plane into $dir (first run only; several minutes)..." >&2
start=$(date +%s)
(cd "$here" && go build -trimpath -ldflags='-s -w' -o "$binary.tmp" .)
mv "$binary.tmp" "$binary"
echo "testcluster: built in $(( $(date +%s) - start ))s" >&2
echo "$binary"
