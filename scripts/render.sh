#!/usr/bin/env bash
# Renders every instance's objects as one stream, the way `make apply-k8s` applies them:
# each chunk kustomization (50 apps) is built by its own `kubectl kustomize`, two at a time,
# because one kustomization over hundreds of overlays grows super-linearly.
set -euo pipefail
out=${1:?usage: render.sh OUT}
KUBECTL=${KUBECTL:-kubectl}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -d "$out/chunks" ] || exit 0
chunks=$(find "$out/chunks" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
# shellcheck disable=SC2016 # expanded by the inner sh
printf '%s\n' "$chunks" | xargs -P "$jobs" -I{} sh -c '$0 kustomize "$1/chunks/$2" > "$3/$2.yaml"' "$KUBECTL" "$out" {} "$tmp"
for f in "$tmp"/*.yaml; do
  [ -e "$f" ] || continue
  printf -- '---\n'
  cat "$f"
done
