#!/usr/bin/env bash
# Pins every k8s.io staging module that k8s.io/kubernetes requires as v0.0.0 to its published
# v0.<minor>.<patch> tag. The list comes from k8s.io/kubernetes' own go.mod so it never drifts.
set -euo pipefail
cd "$(dirname "$0")"
k8s_version=${1:?usage: gen-replaces.sh v1.34.x}
staging_version="v0.${k8s_version#v1.}"
modfile=$(go mod download -json "k8s.io/kubernetes@${k8s_version}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
args=()
while read -r module; do
  args+=("-replace=${module}=${module}@${staging_version}")
done < <(awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$modfile" | sort -u)
go mod edit -require="k8s.io/kubernetes@${k8s_version}" "${args[@]}"
echo "replaced ${#args[@]} staging modules with ${staging_version}"
