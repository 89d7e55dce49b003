#!/usr/bin/env bash
# A platform engineer's workflow with the installed tool only: `cargo install --locked` into a
# temporary prefix, then, in an empty git repository with that binary and the system's tools
# on PATH (no Cargo, no source tree): init, edit apps.toml, make build, commit, make check,
# an overlay visible in make render, make apply-sql and make verify against the PostgreSQL
# named by PG* (run under scripts/with-pg.sh). Then two branches that add different apps are
# merged and rebuilt on a clone without secrets/: no password changes and check passes.
set -euo pipefail
# shellcheck source=scripts/test-lib.sh
. "$(dirname "$0")/test-lib.sh" workflow

prefix="$work/prefix"
cargo install --quiet --locked --path "$repo" --root "$prefix" --target-dir "$repo/target" 2>&1 | grep -v '^warning: be sure to add' || true
[ -x "$prefix/bin/postgrest-gen" ] || { echo "cargo install did not produce $prefix/bin/postgrest-gen" >&2; exit 1; }
export PATH="$prefix/bin:/usr/bin:/bin"
unset POSTGREST_GEN
refuse "PATH: no cargo" command -v cargo
is "PATH: postgrest-gen is the installed one" "$prefix/bin/postgrest-gen" "$(command -v postgrest-gen)"
has "version" "postgrest-gen $(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)" "$(postgrest-gen --version)"

git config --global user.email >/dev/null 2>&1 || export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
g() { git -c init.defaultBranch=main -c user.name=t -c user.email=t@example.org "$@"; }

# ---- zero to make verify
mkdir gitops && cd gitops
g init -q
check "init: scaffolds an empty repository" postgrest-gen init
for f in apps.toml Makefile .gitignore .gitattributes .github/workflows/postgrest-gen.yml overlays/README.md; do
  check "init: wrote $f" test -f "$f"
done
refuse "init: refuses to overwrite" postgrest-gen init
cat > apps.toml <<'TOML'
[defaults]
namespace = "apis"
db-host = "db.example.internal"

[apps.wf]
database = "wf_db"
smoke-view = "v"
TOML
check "make build" make -s build
check "build: out/bin holds the runners" test -f out/bin/apply-sql.sh -a -f out/bin/render.sh -a -f out/bin/apply-k8s.sh
check "build: one lock per app" test -f locks/wf.lock
check "build: plaintext only in secrets/" test -f secrets/wf-postgrest.secret.yaml
g add -A && g commit -qm "wf"
is "git: secrets/ is not committed" "" "$(g ls-files secrets)"
check "make check is clean after the commit" make -s check
mkdir -p overlays/wf
cat > overlays/wf/kustomization.yaml <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../out/apps/wf
commonAnnotations:
  team.example.org/owner: data-platform
YAML
refuse "overlay: make check sees that the overlay changes the plan" make -s check
check "overlay: make build" make -s build
check "overlay: make render" make -s render
has "overlay: its annotation reaches the rendered stream" "team.example.org/owner: data-platform" "$(cat out/.rendered.yaml)"
g add -A && g commit -qm "overlay"
# The database side (step 0 by hand here), then the SQL through the user's Makefile.
pw=$(sed -n 's/.*password: "\(.*\)"/\1/p' secrets/wf-postgrest.secret.yaml)
seed_db() {
  q "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null 2>&1
  q "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 NOLOGIN; END IF; END\$\$" >/dev/null
  q "CREATE DATABASE $2 OWNER $1" >/dev/null
  q "CREATE SCHEMA api_v1 AUTHORIZATION $1; SET ROLE $1; CREATE VIEW api_v1.v AS SELECT 1 AS x" "$2" >/dev/null
}
for r in wf_authenticator wf_web_anon; do q "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
seed_db wf wf_db
check "make apply-sql" make -s apply-sql
check "make verify" make -s verify
is "the authenticator logs in with the password from secrets/ and reads as the anonymous role" 1 \
  "$(PGPASSWORD=$pw psql -X -At -q -w -h "$PGHOST" -U wf_authenticator -d wf_db -c 'BEGIN; SET LOCAL ROLE wf_web_anon; SELECT x FROM api_v1.v; COMMIT')"
cd ..

# ---- two branches add different apps; merged and rebuilt on a clone without secrets/
cd gitops
g checkout -q -b add-alpha
printf '\n[apps.alpha]\ndatabase = "alpha_db"\n' >> apps.toml
make -s build >/dev/null && g add -A && g commit -qm alpha
g checkout -q main && g checkout -q -b add-beta
printf '\n[apps.beta]\ndatabase = "beta_db"\n' >> apps.toml
make -s build >/dev/null && g add -A && g commit -qm beta
g checkout -q main
alpha_lock=$(g show add-alpha:locks/alpha.lock)
beta_lock=$(g show add-beta:locks/beta.lock)
cd ..
g clone -q gitops reviewer && cd reviewer
g checkout -q add-alpha
refuse "merge: apps.toml and out/ conflict (they are resolved, not guessed)" g merge -q --no-edit origin/add-beta
is "merge: locks/ merged without conflicts (one file per app)" "" "$(g diff --name-only --diff-filter=U -- locks)"
# The reviewer resolves apps.toml by keeping both apps, takes either side of out/, rebuilds.
{ g show add-alpha:apps.toml; printf '\n[apps.beta]\ndatabase = "beta_db"\n'; } > apps.toml
g checkout -q --ours -- out && g add -A
rebuilt=$(make -s build 2>&1)
case "$rebuilt" in *"new password"*|*rotated*) bad "merge: rebuild issued a password: $rebuilt" ;; *) ok "merge: rebuild issued no password" ;; esac
check "merge: no secrets/ on the reviewer's clone" test ! -e secrets
is "merge: alpha's lock is unchanged" "$alpha_lock" "$(cat locks/alpha.lock)"
is "merge: beta's lock is unchanged" "$beta_lock" "$(cat locks/beta.lock)"
g add -A && g commit -qm "merge add-beta"
check "merge: make check passes" make -s check
# A resolution that lost a lock file: the verifier in the committed SQL is the record.
g rm -q locks/beta.lock && g commit -qm "lost a lock"
has "lost lock: rebuilt from the committed SQL" "lock recovered from the committed out/apps/beta" "$(make -s build 2>&1)"
is "lost lock: beta's lock is back, unchanged" "$beta_lock" "$(cat locks/beta.lock)"
check "lost lock: make check passes after the rebuild" make -s check
cd ..

finish "workflow"
