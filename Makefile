# postgrest-gen: targets for people and CI alike. `make help` lists them.
# The admin connection for apply/verify comes from the standard PG* variables (PGHOST, PGUSER,
# PGPASSWORD, ...); PSQL and KUBECTL may be overridden, e.g. `make apply KUBECTL="kubectl --context prod"`;
# APPLY_JOBS caps the concurrent psql sessions of apply-sql/verify.

CARGO   ?= cargo
PSQL    ?= psql
KUBECTL ?= kubectl
APPLY_JOBS ?= 4
CONFIG  ?= apps.toml
OUT     ?= out
BIN     := target/release/postgrest-gen
TEST_PG := --features integration --test sql_pg --test hostile_pg -- --test-threads=1

.PHONY: help example build check validate test test-unit test-pg lint setup bench \
        apply apply-sql apply-k8s apply-secrets diff verify smoke render

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN): Cargo.toml Cargo.lock $(shell find src templates -type f)
	$(CARGO) build --release --locked

example: $(BIN) ## build the tool and run it on the example apps.toml
	$(BIN) -c $(CONFIG) -o $(OUT) build

build: $(BIN) ## render out/ from apps.toml (writes only what changed)
	$(BIN) -c $(CONFIG) -o $(OUT) build

check: $(BIN) ## exit 1 with a diff when out/ is not what build would write
	$(BIN) -c $(CONFIG) -o $(OUT) check

validate: $(BIN) ## validate apps.toml only
	$(BIN) -c $(CONFIG) validate

setup: ## install test tools: PostgreSQL 15 and 17, kubectl, checkov, validators, kubesealpy
	scripts/setup-tools.sh

lint: ## formatting, clippy and shellcheck of scripts/, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --features integration -- -D warnings
	shellcheck -x scripts/*.sh

test-unit: ## hermetic tests: unit, snapshots, CLI
	$(CARGO) test --locked

test-pg: $(BIN) ## role SQL on real PostgreSQL 15 (pg_virtualenv) and 17
	scripts/with-pg.sh 15 $(CARGO) test --locked $(TEST_PG)
	scripts/with-pg.sh 17 $(CARGO) test --locked $(TEST_PG)
	scripts/with-pg.sh 15 scripts/test-operator.sh
	scripts/with-pg.sh 17 scripts/test-operator.sh
	scripts/with-pg.sh 15 scripts/test-apply-sql.sh
	scripts/with-pg.sh 17 scripts/test-apply-sql.sh

test: setup lint test-unit check test-pg ## everything, as CI runs it
	$(CARGO) test --locked --features integration --test manifests --test sealing
	scripts/test-smoke.sh

bench: $(BIN) ## scale benchmark; writes BENCHMARKS.md figures to stdout
	scripts/bench.sh

# ---- operating a platform (run in the GitOps repository that commits out/) ----

apply: apply-sql apply-k8s ## SQL for every app (databases checked first), then the cluster

apply-sql: ## precheck every database, then apply.sql / purge.sql per app; a failed app is named, the others still run
	PSQL="$(PSQL)" APPLY_JOBS="$(APPLY_JOBS)" scripts/apply-sql.sh $(OUT) apply

verify: ## every app's verify.sql; non-zero on drift
	PSQL="$(PSQL)" APPLY_JOBS="$(APPLY_JOBS)" scripts/apply-sql.sh $(OUT) verify

render: ## render every instance's objects the way apply-k8s applies them
	KUBECTL="$(KUBECTL)" scripts/render.sh $(OUT) > $(OUT)/.rendered.yaml

apply-k8s: render ## apply rendered objects, pruning only what postgrest-gen made and no longer emits
	$(KUBECTL) apply -f $(OUT)/.rendered.yaml --prune \
	  -l app.kubernetes.io/managed-by=postgrest-gen \
	  --prune-allowlist=apps/v1/Deployment --prune-allowlist=core/v1/Service \
	  --prune-allowlist=policy/v1/PodDisruptionBudget --prune-allowlist=networking.k8s.io/v1/NetworkPolicy \
	  --prune-allowlist=traefik.io/v1alpha1/IngressRoute --prune-allowlist=bitnami.com/v1alpha1/SealedSecret

diff: render ## kubectl diff against the cluster
	$(KUBECTL) diff -f $(OUT)/.rendered.yaml || [ $$? -eq 1 ]

apply-secrets: ## apply the plaintext Secrets in secrets/ (when not sealing)
	@ls secrets/*.secret.yaml >/dev/null 2>&1 || { echo "no secrets/*.secret.yaml: nothing to apply"; exit 1; }
	$(KUBECTL) apply -f secrets/

smoke: ## smoke checks of one app: make smoke APP=atlas [BASE_URL=https://...]
	@[ -n "$(APP)" ] || { echo "usage: make smoke APP=<app> [BASE_URL=<url>]"; exit 2; }
	sh $(OUT)/apps/$(APP)/smoke.sh $(BASE_URL)
