#!/usr/bin/env bash
# Walks every row of the README's lifecycle table through the real make targets against the
# PostgreSQL server named by PG* (run under scripts/with-pg.sh), and renders the Kubernetes
# half exactly as `make apply-k8s` would apply it. Prints `N passed, N failed`.
#   ADMIN=superuser (default)  the make targets run as the superuser PG* names;
#   ADMIN=createrole           they run as `platform_admin`, a role with only CREATEROLE and
#                              CREATEDB, as on hosted PostgreSQL; it holds each owner's
#                              privileges (granted as a provider's console or bootstrap would).
# Seeding the tenants and playing drift use the superuser either way.
set -euo pipefail
# shellcheck source=scripts/test-lib.sh
. "$(dirname "$0")/test-lib.sh" "operator-${ADMIN:=superuser}"
case "$ADMIN" in superuser|createrole) ;; *) echo "test-operator: ADMIN is superuser or createrole, not $ADMIN" >&2; exit 2 ;; esac
pg16=$(q "SELECT current_setting('server_version_num')::int >= 160000")
admin_pw=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
if [ "$ADMIN" = createrole ]; then
  q "DROP ROLE IF EXISTS platform_admin; CREATE ROLE platform_admin LOGIN CREATEROLE CREATEDB PASSWORD '$admin_pw'" >/dev/null
  mk() { PGUSER=platform_admin PGPASSWORD=$admin_pw make -s -C "$repo" OUT="$work/out" CONFIG="$work/apps.toml" "$@"; }
  # What the administrator needs of an owner: to act as it (SET), not its privileges.
  adopt() { if [ "$pg16" = t ]; then q "GRANT $1 TO platform_admin WITH INHERIT FALSE, SET TRUE"; else q "GRANT $1 TO platform_admin"; fi; }
else
  mk() { make -s -C "$repo" OUT="$work/out" CONFIG="$work/apps.toml" "$@"; }
  adopt() { :; }
fi
login() { PGPASSWORD=$2 psql -X -At -w -h "$PGHOST" -U "${1}_authenticator" -d "$3" -c "SELECT 1"; }
password() { grep 'password:' "secrets/$1-postgrest.secret.yaml" | sed 's/.*password: "\(.*\)"/\1/'; }
rendered() { mk render >/dev/null && cat out/.rendered.yaml; }
seed() {
  q "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null
  q "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN CREATE ROLE $1 NOLOGIN; END IF; END\$\$" >/dev/null
  q "CREATE DATABASE $2 OWNER $1" >/dev/null
  adopt "$1" >/dev/null
  q "CREATE SCHEMA api_v1 AUTHORIZATION $1; CREATE SCHEMA marts AUTHORIZATION $1;
     SET ROLE $1; CREATE TABLE marts.t AS SELECT 1 AS x; CREATE VIEW api_v1.v AS SELECT x FROM marts.t" "$2" >/dev/null
}
for r in opa opb; do for s in authenticator web_anon; do q "DROP ROLE IF EXISTS ${r}_$s" >/dev/null; done; done

# configure + deploy: one app.
seed opa opa_db
printf '[apps.opa]\ndatabase = "opa_db"\n' > apps.toml
"$bin" build >/dev/null
check "configure: make apply-sql creates the role pair" mk apply-sql
check "configure: make verify passes" mk verify
check "deploy: the rendered stream holds the Deployment" grep -q "name: opa-postgrest" <(rendered)
is "deploy: exactly one Deployment" 1 "$(grep -c '^kind: Deployment' <(rendered))"

# add a second app whose database does not exist yet: nothing is applied.
printf '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n' > apps.toml
"$bin" build >/dev/null
q "DROP DATABASE IF EXISTS opb_db WITH (FORCE)" >/dev/null
out=$(mk apply-sql 2>&1 || true)
case "$out" in *"missing databases: opb_db"*) ok "second app: missing database named, nothing applied";; *) bad "missing database: $out";; esac
is "second app: no roles created before the database exists" 0 "$(roles opb)"
seed opb opb_db
check "second app: make apply-sql after creating the database" mk apply-sql
check "second app: make verify passes for both" mk verify
is "second app: two Deployments rendered" 2 "$(grep -c '^kind: Deployment' <(rendered))"

# add a view and reload: readable at once thanks to default privileges FOR ROLE owner.
q "SET ROLE opa; CREATE VIEW api_v1.later AS SELECT 2 AS y" opa_db >/dev/null
got=$(PGPASSWORD=$(password opa) psql -X -At -w -h "$PGHOST" -U opa_authenticator -d opa_db \
  -c "BEGIN; SET LOCAL ROLE opa_web_anon; SELECT y FROM api_v1.later; COMMIT" 2>&1 | grep -x 2 || true)
is "add a view: readable without re-applying" 2 "$got"
check "add a view: NOTIFY pgrst reload is accepted" q "NOTIFY pgrst, 'reload schema'" opa_db

# drift: verify fails, apply converges.
q "GRANT ALL ON marts.t TO opa_web_anon" opa_db >/dev/null
refuse "drift: make verify fails" mk verify
check "drift: make apply-sql converges" mk apply-sql
check "drift: make verify passes again" mk verify

# a failing apply stops and names the app.
q "ALTER SCHEMA api_v1 RENAME TO api_moved" opb_db >/dev/null
out=$(mk apply-sql 2>&1 || true)
case "$out" in *"failed for app opb"*'schema api_v1 does not exist'*|*'schema api_v1 does not exist'*"failed for app opb"*) ok "failure: apply-sql stops and names the app";; *) bad "failure not named: $out";; esac
q "ALTER SCHEMA api_moved RENAME TO api_v1" opb_db >/dev/null

if [ "$ADMIN" = createrole ]; then
  # A right the administrator lacks stops the run before any change, naming the GRANT.
  q "REVOKE opb FROM platform_admin" >/dev/null
  q "ALTER ROLE opb_authenticator CONNECTION LIMIT 7" >/dev/null
  out=$(mk apply-sql 2>&1 || true)
  if [ "$pg16" = t ]; then want="GRANT opb TO platform_admin WITH INHERIT FALSE, SET TRUE;"; else want="GRANT opb TO platform_admin;"; fi
  has "missing right: apply names the GRANT" "$want" "$out"
  has "missing right: nothing was changed" "nothing was changed" "$out"
  is "missing right: the drifted limit is untouched" 7 "$(q "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'opb_authenticator'")"
  adopt opb >/dev/null
  if [ "$pg16" = t ]; then
    # PostgreSQL 16+: ADMIN OPTION on a role the administrator did not create.
    q "CREATE ROLE opb_web_user NOLOGIN" >/dev/null
    printf '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n[apps.opb.jwt]\nsecret = "generate"\n[apps.opb.jwt.roles.web_user]\nprivileges = ["select"]\n' > apps.toml
    "$bin" build >/dev/null
    out=$(mk apply-sql 2>&1 || true)
    has "missing ADMIN: apply names the GRANT" "GRANT opb_web_user TO platform_admin WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;" "$out"
    q "GRANT opb_web_user TO platform_admin WITH ADMIN TRUE, INHERIT FALSE, SET FALSE" >/dev/null
    check "missing ADMIN: apply converges once granted" mk apply-sql
    check "missing ADMIN: verify passes" mk verify
    printf '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n' > apps.toml
    "$bin" build >/dev/null
    check "retire a JWT role the administrator was granted ADMIN on" mk apply-sql
    is "retired role dropped" 0 "$(q "SELECT count(*) FROM pg_roles WHERE rolname = 'opb_web_user'")"
  fi
  check "missing right: apply converges once granted" mk apply-sql
  check "missing right: verify passes" mk verify
  out=$(mk verify 2>&1)
  has "verify without superuser: one line says the passwords were not compared" "password was not compared for 2 apps" "$out"
  is "verify without superuser: no NOTICE per app" 0 "$(grep -c NOTICE <<< "$out" || true)"
  # Attributes only a superuser may change stop the run instead of being left.
  q "ALTER ROLE opb_web_anon BYPASSRLS" >/dev/null
  out=$(mk apply-sql 2>&1 || true)
  has "superuser attribute: apply names the ALTER a superuser must run" "ALTER ROLE opb_web_anon NOSUPERUSER NOREPLICATION NOBYPASSRLS;" "$out"
  q "ALTER ROLE opb_web_anon NOBYPASSRLS" >/dev/null
  check "superuser attribute: apply converges once fixed" mk apply-sql
fi

# undeploy: workloads go, roles and secret stay.
printf '[apps.opa]\ndatabase = "opa_db"\ndeployed = false\n\n[apps.opb]\ndatabase = "opb_db"\n' > apps.toml
"$bin" build >/dev/null
refuse "undeploy: no Deployment rendered for opa" grep -q "name: opa-postgrest" <(rendered)
check "undeploy: apply-sql keeps the roles" mk apply-sql
is "undeploy: roles stay" 2 "$(roles opa)"
check "undeploy: secret stays in secrets/" test -f secrets/opa-postgrest.secret.yaml

# rotate: new password works, old refused.
old=$(password opb)
"$bin" rotate opb >/dev/null
new=$(password opb)
check "rotate: make apply-sql" mk apply-sql
refuse "rotate: old password refused" login opb "$old" opb_db
check "rotate: new password accepted" login opb "$new" opb_db
check "rotate: pods roll (generation 2 in the pod template)" grep -q 'credential-generation: "2"' out/apps/opb/deployment.yaml

# purge: roles dropped, owner objects kept, verify checks absence.
printf '[apps.opa]\ndatabase = "opa_db"\nensure = "absent"\n\n[apps.opb]\ndatabase = "opb_db"\n' > apps.toml
"$bin" build >/dev/null
check "purge: make apply-sql (present apps only)" mk apply-sql
is "purge: apply-sql did not drop the pair (the cluster step comes first)" 2 "$(roles opa)"
check "purge: make purge-sql runs purge.sql" mk purge-sql
is "purge: role pair dropped" 0 "$(roles opa)"
is "purge: owner's views intact" 1 "$(q 'SELECT count(*) FROM api_v1.v' opa_db)"
check "purge: make verify passes (absence verified)" mk verify
check "purge: purging again is idempotent" mk purge-sql
refuse "purge: nothing of opa rendered" grep -q "opa-postgrest" <(rendered)

finish "operator lifecycle (ADMIN=$ADMIN)"
