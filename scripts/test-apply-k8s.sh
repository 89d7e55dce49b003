#!/usr/bin/env bash
# The cluster runner (out/bin/apply-k8s.sh) with a recording stand-in for kubectl: apply prunes
# only the generated kinds by the managed-by label, deletes the Secret of every purged app, and
# with no instance left deletes the generated kinds by label in the platform's namespace only.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/target/release/postgrest-gen"
work=$(mktemp -d /tmp/apply-k8s.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
passed=0; failed=0
ok()  { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
has() { if grep -qF -- "$2" calls; then ok "$1"; else bad "$1: no '$2' in: $(cat calls)"; fi; }
hasnt() { if grep -qF -- "$2" calls; then bad "$1: '$2' in: $(cat calls)"; else ok "$1"; fi; }
cat > kubectl <<'SH'
#!/bin/sh
# Records each call, one per line; `kustomize` really renders (render.sh needs it).
# MISSING_API names an API group path the stand-in cluster does not serve.
if [ "$1" = kustomize ]; then exec /usr/bin/env kubectl "$@"; fi
echo "$*" >> "$(dirname "$0")/calls"
if [ "$1 $2" = "get --raw" ] && [ -n "${MISSING_API:-}" ] && [ "$3" = "$MISSING_API" ]; then exit 1; fi
SH
chmod +x kubectl
run() { : > calls; make -s -f "$repo/templates/init/Makefile" POSTGREST_GEN="$bin" KUBECTL="$work/kubectl" "$@" >/dev/null; }

printf '[defaults]\nnamespace = "apis"\n\n[apps.live]\ndatabase = "d"\n\n[apps.gone]\ndatabase = "d2"\nensure = "absent"\n' > apps.toml
run build
run apply-k8s
has "apply: kubectl apply of the rendered stream" "apply -f out/.rendered.yaml --prune -l app.kubernetes.io/managed-by=postgrest-gen"
for k in apps/v1/Deployment core/v1/Service policy/v1/PodDisruptionBudget networking.k8s.io/v1/NetworkPolicy traefik.io/v1alpha1/IngressRoute bitnami.com/v1alpha1/SealedSecret autoscaling/v2/HorizontalPodAutoscaler monitoring.coreos.com/v1/ServiceMonitor; do
  has "apply: prune allowlist has $k" "--prune-allowlist=$k"
done
has "purge: the absent app's Secrets (its own and the owner's) are deleted" "delete secret --namespace apis gone-postgrest gone-db-owner --ignore-not-found"
hasnt "purge: the present app's Secret stays" "live-postgrest --ignore-not-found"
if grep -q 'name: live-postgrest' out/.rendered.yaml; then ok "render: the live app is in the stream"; else bad "render: live app missing"; fi
: > calls
msg=$(MISSING_API=/apis/monitoring.coreos.com/v1 KUBECTL="$work/kubectl" bash out/bin/apply-k8s.sh out apply)
hasnt "no Prometheus Operator: ServiceMonitor is not in the allowlist" "--prune-allowlist=monitoring.coreos.com/v1/ServiceMonitor"
has "no Prometheus Operator: the rest still is" "--prune-allowlist=apps/v1/Deployment"
case "$msg" in *"does not serve monitoring.coreos.com/v1/ServiceMonitor; it is not pruned"*) ok "no Prometheus Operator: said so";; *) bad "no message: $msg";; esac

printf '[defaults]\nnamespace = "apis"\n' > apps.toml
run build
run apply-k8s
has "zero apps: the generated kinds are deleted by label in the namespace" "delete --namespace apis -l app.kubernetes.io/managed-by=postgrest-gen deployment.apps,service,poddisruptionbudget.policy,networkpolicy.networking.k8s.io,ingressroute.traefik.io,sealedsecret.bitnami.com,horizontalpodautoscaler.autoscaling,servicemonitor.monitoring.coreos.com --ignore-not-found"
hasnt "zero apps: nothing is applied" "apply -f"

run diff
has "diff: kubectl diff of the stream" "diff -f out/.rendered.yaml"
echo "apply-k8s runner: $passed passed, $failed failed"
[ "$failed" = 0 ]
