# postgrest-gen: targets for people and CI alike. `make help` lists them.
# The admin connection for apply/verify comes from the standard PG* variables (PGHOST, PGUSER,
# PGPASSWORD, ...); PSQL and KUBECTL may be overridden, e.g. `make apply KUBECTL="kubectl --context prod"`;
# APPLY_JOBS caps the concurrent psql sessions of apply-sql/verify.

CARGO   ?= cargo
BIN     := target/release/postgrest-gen
POSTGREST_GEN := $(BIN)
TEST_PG := --features integration --test sql_pg --test hostile_pg --test bootstrap_pg -- --test-threads=1

.DEFAULT_GOAL := help
.PHONY: example install test test-unit test-pg lint setup bench

$(BIN): Cargo.toml Cargo.lock $(shell find src templates -type f)
	$(CARGO) build --release --locked

example: $(BIN) ## build the tool and run it on the example apps.toml
	$(BIN) -c apps.toml build

install: ## install the binary: cargo install --locked (PREFIX=~/.cargo by default)
	$(CARGO) install --locked --path . $(if $(PREFIX),--root $(PREFIX))

setup: ## install test tools: PostgreSQL 15 and 17, kubectl, checkov, validators, kubesealpy
	scripts/setup-tools.sh

lint: ## formatting, clippy and shellcheck of scripts/, warnings are errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --features integration -- -D warnings
	shellcheck -x scripts/*.sh templates/bin/*.sh out/bin/apply-k8s.sh

test-unit: ## hermetic tests: unit, snapshots, CLI
	$(CARGO) test --locked

test-pg: $(BIN) ## role SQL, the operator lifecycle and the installed tool's workflow on real PostgreSQL 15 (pg_virtualenv) and 17
	scripts/with-pg.sh 15 $(CARGO) test --locked $(TEST_PG)
	scripts/with-pg.sh 17 $(CARGO) test --locked $(TEST_PG)
	scripts/with-pg.sh 15 scripts/test-operator.sh
	scripts/with-pg.sh 17 scripts/test-operator.sh
	ADMIN=createrole scripts/with-pg.sh 15 scripts/test-operator.sh
	ADMIN=createrole scripts/with-pg.sh 17 scripts/test-operator.sh
	scripts/with-pg.sh 15 scripts/test-apply-sql.sh
	scripts/with-pg.sh 17 scripts/test-apply-sql.sh
	scripts/with-pg.sh 15 scripts/test-workflow.sh
	scripts/with-pg.sh 17 scripts/test-workflow.sh

test: setup lint test-unit check test-pg ## everything, as CI runs it
	$(CARGO) test --locked --features integration --test manifests --test sealing
	scripts/test-smoke.sh
	scripts/test-apply-k8s.sh

bench: $(BIN) ## scale benchmark; writes BENCHMARKS.md figures to stdout
	scripts/bench.sh

# ---- operating a platform: the very Makefile `postgrest-gen init` writes into a GitOps
# repository, here driving the example apps.toml with the binary built from this tree.
build check validate: $(BIN)
include templates/init/Makefile
