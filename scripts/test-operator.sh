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
  q "CREATE SCHEMA api_v1 AUTHORIZATION $1" "$2" >/dev/null
  objects "$1" "$2"
}
# The owner's own objects, made as the owner (a login with its password, when bootstrap made it).
objects() {
  local sql="CREATE SCHEMA marts; CREATE TABLE marts.t AS SELECT 1 AS x; CREATE VIEW api_v1.v AS SELECT x FROM marts.t"
  if [ "$ADMIN" = createrole ]; then
    PGPASSWORD=$(owner_password "$1") psql -X -q -w -v ON_ERROR_STOP=1 -h "$PGHOST" -U "$1" -d "$2" -c "$sql" >/dev/null
  else
    q "SET ROLE $1; $sql" "$2" >/dev/null
  fi
}
owner_password() { grep 'PGPASSWORD:' "secrets/$1-db-owner.secret.yaml" | sed 's/.*PGPASSWORD: "\(.*\)"/\1/'; }
# apps.toml: as the superuser the DBA made each owner and database (step 0 by hand); as the
# CREATEROLE administrator bootstrap makes them.
toml() {
  { if [ "$ADMIN" = createrole ]; then printf '[defaults]\nbootstrap = true\n\n'; fi
    printf '%b' "$1"; } > apps.toml
}
for r in opa opb; do for s in authenticator web_anon; do q "DROP ROLE IF EXISTS ${r}_$s" >/dev/null; done; done

# configure + deploy: one app.
toml '[apps.opa]\ndatabase = "opa_db"\n'
"$bin" build >/dev/null
if [ "$ADMIN" = createrole ]; then
  # Step 0 from nothing: make apply-sql bootstraps the owner, the database and the schema.
  check "bootstrap: make apply-sql creates owner, database, schema and the role pair" mk apply-sql
  is "bootstrap: the database belongs to the owner" opa "$(q "SELECT datdba::regrole FROM pg_database WHERE datname = 'opa_db'")"
  check "bootstrap: the owner logs in with the password from secrets/ and creates its objects" objects opa opa_db
  check "bootstrap: a second make apply-sql" mk apply-sql
else
  seed opa opa_db
  check "configure: make apply-sql creates the role pair" mk apply-sql
fi
got=$(PGPASSWORD=$(password opa) psql -X -At -w -h "$PGHOST" -U opa_authenticator -d opa_db \
  -c "BEGIN; SET LOCAL ROLE opa_web_anon; SELECT x FROM api_v1.v; COMMIT" 2>&1 | grep -x 1 || true)
is "configure: a PostgREST-style request reads the owner's view" 1 "$got"
check "configure: make verify passes" mk verify
check "deploy: the rendered stream holds the Deployment" grep -q "name: opa-postgrest" <(rendered)
is "deploy: exactly one Deployment" 1 "$(grep -c '^kind: Deployment' <(rendered))"

# add a second app whose database does not exist yet: nothing is applied (with bootstrap,
# the database is made first).
toml '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n'
"$bin" build >/dev/null
if [ "$ADMIN" = createrole ]; then
  check "second app: make apply-sql bootstraps its database" mk apply-sql
  objects opb opb_db
else
  q "DROP DATABASE IF EXISTS opb_db WITH (FORCE)" >/dev/null
  out=$(mk apply-sql 2>&1 || true)
  case "$out" in *"missing databases: opb_db"*) ok "second app: missing database named, nothing applied";; *) bad "missing database: $out";; esac
  is "second app: no roles created before the database exists" 0 "$(roles opb)"
  seed opb opb_db
  check "second app: make apply-sql after creating the database" mk apply-sql
fi
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
# (The schema handed to another role: bootstrap, when on, leaves it alone; apply refuses.)
q "CREATE ROLE intruder NOLOGIN; ALTER SCHEMA api_v1 OWNER TO intruder" opb_db >/dev/null
out=$(mk apply-sql 2>&1 || true)
case "$out" in *"failed for app opb"*'schema api_v1 belongs to intruder'*|*'schema api_v1 belongs to intruder'*"failed for app opb"*) ok "failure: apply-sql stops and names the app";; *) bad "failure not named: $out";; esac
q "ALTER SCHEMA api_v1 OWNER TO opb; DROP ROLE intruder" opb_db >/dev/null

if [ "$ADMIN" = createrole ]; then
  # An owner bootstrap made: the administrator that lost SET on it gets it back from bootstrap
  # (it holds ADMIN on the role it created). Without bootstrap the preflight names the GRANT
  # and changes nothing (tests/sql_pg.rs: createrole_administrator_lacking_a_right_...).
  # (As the administrator: on 16+ bootstrap recorded the grant as the administrator's own.)
  PGUSER=platform_admin PGPASSWORD=$admin_pw psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "REVOKE opb FROM platform_admin" >/dev/null
  q "ALTER ROLE opb_authenticator CONNECTION LIMIT 7" >/dev/null
  check "lost right: make apply-sql (bootstrap grants the owner back)" mk apply-sql
  is "lost right: the administrator may act as the owner again" t "$(q "SELECT pg_has_role('platform_admin', 'opb', '$( [ "$pg16" = t ] && echo SET || echo MEMBER )')")"
  is "lost right: the drifted limit is converged" 33 "$(q "SELECT rolconnlimit FROM pg_roles WHERE rolname = 'opb_authenticator'")"
  if [ "$pg16" = t ]; then
    # PostgreSQL 16+: ADMIN OPTION on a role the administrator did not create.
    q "CREATE ROLE opb_web_user NOLOGIN" >/dev/null
    toml '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n[apps.opb.jwt]\nsecret = "generate"\n[apps.opb.jwt.roles.web_user]\nprivileges = ["select"]\n'
    "$bin" build >/dev/null
    out=$(mk apply-sql 2>&1 || true)
    has "missing ADMIN: apply names the GRANT" "GRANT opb_web_user TO platform_admin WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;" "$out"
    q "GRANT opb_web_user TO platform_admin WITH ADMIN TRUE, INHERIT FALSE, SET FALSE" >/dev/null
    check "missing ADMIN: apply converges once granted" mk apply-sql
    check "missing ADMIN: verify passes" mk verify
    toml '[apps.opa]\ndatabase = "opa_db"\n\n[apps.opb]\ndatabase = "opb_db"\n'
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
toml '[apps.opa]\ndatabase = "opa_db"\ndeployed = false\n\n[apps.opb]\ndatabase = "opb_db"\n'
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
toml '[apps.opa]\ndatabase = "opa_db"\nensure = "absent"\n\n[apps.opb]\ndatabase = "opb_db"\n'
"$bin" build >/dev/null
check "purge: make apply-sql (present apps only)" mk apply-sql
is "purge: apply-sql did not drop the pair (the cluster step comes first)" 2 "$(roles opa)"
check "purge: make purge-sql runs purge.sql" mk purge-sql
is "purge: role pair dropped" 0 "$(roles opa)"
is "purge: owner's views intact" 1 "$(q 'SELECT count(*) FROM api_v1.v' opa_db)"
if [ "$ADMIN" = createrole ]; then
  is "purge: bootstrap's owner role and database remain" "opa opa_db" \
    "$(q "SELECT r.rolname || ' ' || d.datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = 'opa_db'")"
fi
check "purge: make verify passes (absence verified)" mk verify
check "purge: purging again is idempotent" mk purge-sql
refuse "purge: nothing of opa rendered" grep -q "opa-postgrest" <(rendered)

finish "operator lifecycle (ADMIN=$ADMIN)"
