#!/usr/bin/env bash
# Tests the SQL runner behind `make apply-sql` / `make verify` (templates/bin/apply-sql.sh, written into out/bin/) against
# the PostgreSQL server named by PG* (run under scripts/with-pg.sh): concurrent sessions over
# several databases, database names and output paths that need quoting, every drifted app
# reported, and a failed app named while the others are still applied. Prints `N passed, N failed`.
set -euo pipefail
# shellcheck source=scripts/test-lib.sh
. "$(dirname "$0")/test-lib.sh" apply-sql
run() { "$repo/templates/bin/apply-sql.sh" "$out" "$@" 2>&1; }

# Six apps in five databases; four names need quoting in a conninfo or a psql argument, and
# the output path holds a space and a quote.
apps=(a1 a2 a3 a4 a5 a6)
dbs=("ap'q" 'ap\x' 'ap=1 x' 'ap"d' apshared apshared)
out="$work/o ut'x"
: > apps.toml
for i in "${!apps[@]}"; do
  app=${apps[i]}; db=${dbs[i]}
  for s in authenticator web_anon; do q "DROP ROLE IF EXISTS ${app}_$s" >/dev/null; done
  q "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$app') THEN CREATE ROLE $app NOLOGIN; END IF; END\$\$" >/dev/null
  if [ "$(q "SELECT count(*) FROM pg_database WHERE datname = '${db//\'/\'\'}'")" = 0 ]; then
    q "CREATE DATABASE $(q "SELECT quote_ident('${db//\'/\'\'}')")" >/dev/null
  fi
  q "CREATE SCHEMA api_$app AUTHORIZATION $app; CREATE SCHEMA IF NOT EXISTS marts;
     CREATE TABLE marts.t_$app AS SELECT 1 AS x; ALTER TABLE marts.t_$app OWNER TO $app;
     SET ROLE $app; CREATE VIEW api_$app.v AS SELECT 1 AS x" "$db" >/dev/null
  db_toml=${db//\\/\\\\}; db_toml=${db_toml//\"/\\\"}
  printf '[apps.%s]\ndatabase = "%s"\nschema = "api_%s"\n\n' "$app" "$db_toml" "$app" >> apps.toml
done
"$bin" -o "$out" build >/dev/null
# A tenant that owns a database can make every connection to it fail at start-up with a
# library that does not exist; the runner's sessions override that setting.
q "ALTER DATABASE \"ap\"\"d\" SET local_preload_libraries = 'postgrest_gen_missing'" >/dev/null

res=$(PGPORT=1 run apply) && rc=0 || rc=$?
is "unreachable server: exit 1" 1 "$rc"
has "unreachable server: named as such, not as each app's failure" "cannot connect to the server as the administrator" "$res"

res=$(APPLY_JOBS=3 run apply) && rc=0 || rc=$?
is "apply: exit 0 with 3 sessions over 5 databases" 0 "$rc"
has "apply: summary line" "apply: 6 apps in 5 databases ok (3 sessions)" "$res"
for i in "${!apps[@]}"; do is "apply: role pair of ${apps[i]} in ${dbs[i]}" 2 "$(roles "${apps[i]}")"; done
is "apply: anon reads the view in ap=1 x" 1 \
  "$(q "SET ROLE a3_web_anon; SELECT x FROM api_a3.v" 'ap=1 x' | tail -n 1)"
res=$(run verify) && rc=0 || rc=$?
is "verify: exit 0 when converged" 0 "$rc"
is "verify: one ok line per app" 6 "$(grep -c '^verify: a[1-6] ok$' <<< "$res")"
q "ALTER DATABASE \"ap\"\"d\" RESET local_preload_libraries" >/dev/null

# Drift in two databases: both reported, in plan order, by one run.
q "GRANT ALL ON marts.t_a2 TO a2_web_anon" 'ap\x' >/dev/null
q "GRANT ALL ON marts.t_a5 TO a5_web_anon" apshared >/dev/null
res=$(run verify) && rc=0 || rc=$?
is "verify: exit 1 on drift" 1 "$rc"
has "verify: every drifted app named" "verify: drift in a2 a5; run make apply" "$res"
has "verify: the difference is spelled out" "a5_web_anon holds INSERT on TABLE marts.t_a5" "$res"
res=$(APPLY_JOBS=1 run apply) && rc=0 || rc=$?
is "apply: one session converges both" 0 "$rc"
res=$(run verify) && rc=0 || rc=$?
is "verify: converged again" 0 "$rc"

# A failure is the failing app's alone (a tenant must not hold back the others). One session
# walks apshared (two apps) first, then the rest in plan order; a1 fails, and a2, after it,
# is still converged.
q "ALTER SCHEMA api_a1 RENAME TO api_moved" "ap'q" >/dev/null
q "GRANT ALL ON marts.t_a2 TO a2_web_anon" 'ap\x' >/dev/null
res=$(APPLY_JOBS=1 run apply) && rc=0 || rc=$?
is "failure: exit 1" 1 "$rc"
has "failure: the app and database are named" "apply: failed for app a1 (database ap'q)" "$res"
has "failure: the cause is shown" 'schema api_a1 does not exist' "$res"
has "failure: what ran is summed up" "apply: 5 apps applied, 1 failed (a1), 0 not run" "$res"
res=$(run verify) && rc=0 || rc=$?
has "failure: the apps after it were applied" "verify: drift in a1;" "$res"

# With concurrent sessions a failure stops no other session: a3's apply (its roles dropped,
# made to sleep here) is in flight when a1 fails, and completes. a1 fails only once a3 is
# inside its apply, so the order does not depend on timing.
q "DROP OWNED BY a3_authenticator, a3_web_anon; DROP ROLE a3_authenticator; DROP ROLE a3_web_anon" "ap=1 x" >/dev/null
sed -i '0,/^BEGIN;$/s//BEGIN; SELECT pg_sleep(3);/' "$out/apps/a3/sql/apply.sql"
wait_for_a3="DO \$w\$ BEGIN FOR i IN 1..400 LOOP EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()); PERFORM pg_sleep(0.05); END LOOP; END \$w\$;"
sed -i "0,/^BEGIN;\$/s//BEGIN; $wait_for_a3/" "$out/apps/a1/sql/apply.sql"
res=$(APPLY_JOBS=5 run apply) && rc=0 || rc=$?
is "failure, 5 sessions: exit 1" 1 "$rc"
has "failure, 5 sessions: the app is named" "apply: failed for app a1" "$res"
has "failure, 5 sessions: the others are applied" "apply: 5 apps applied, 1 failed (a1), 0 not run" "$res"
is "failure, 5 sessions: the app in flight completed" 2 "$(roles a3)"
"$bin" -o "$out" build >/dev/null
is "build restores the edited apply.sql files" 0 "$(cat "$out"/apps/a[13]/sql/apply.sql | grep -c pg_sleep)"
q "ALTER SCHEMA api_moved RENAME TO api_a1" "ap'q" >/dev/null
res=$(APPLY_JOBS=4 run apply) && rc=0 || rc=$?
is "fixed: apply exits 0" 0 "$rc"
is "fixed: a3's roles are back" 2 "$(roles a3)"
res=$(run verify) && rc=0 || rc=$?
is "fixed: verify exits 0" 0 "$rc"

# A database that refuses connections (its owner can arrange that) fails its own apps only.
q "ALTER DATABASE \"ap'q\" ALLOW_CONNECTIONS false" >/dev/null
res=$(APPLY_JOBS=1 run apply) && rc=0 || rc=$?
q "ALTER DATABASE \"ap'q\" ALLOW_CONNECTIONS true" >/dev/null
is "unreachable database: exit 1" 1 "$rc"
has "unreachable database: its app is named" "apply: failed for app a1 (database ap'q)" "$res"
has "unreachable database: the others are applied" "apply: 5 apps applied, 1 failed (a1), 0 not run" "$res"

# Purge, and an absent app whose database is gone: a6 is purged in apshared; a3's database is
# then gone (moved in apps.toml) although its roles were never purged (named, the others still run); gx never
# had a database nor roles (nothing to do).
cp apps.toml apps.full.toml
sed -e '/^\[apps.a6\]/a ensure = "absent"' -e '/^\[apps.a4\]/a ensure = "absent"' apps.full.toml > apps.toml
printf '[apps.gx]\ndatabase = "gx_never"\nensure = "absent"\n' >> apps.toml
"$bin" -o "$out" build >/dev/null
res=$(run purge) && rc=0 || rc=$?
is "purge: exit 0" 0 "$rc"
has "purge: an absent app without database or roles is fine" 'purge: gx: database "gx_never" does not exist and no role of the app is left' "$res"
has "purge: summary" "purge: 3 apps in 2 databases ok" "$res"
is "purge: a6's roles are dropped" 0 "$(roles a6)"
is "purge: a4's roles are dropped" 0 "$(roles a4)"
res=$(run verify) && rc=0 || rc=$?
is "purge: verify passes with a database that never existed" 0 "$rc"
sed -i '/^\[apps.a3\]/a ensure = "absent"' apps.toml
"$bin" -o "$out" build >/dev/null
sed -i 's/^database = "ap=1 x"$/database = "ap=1 x_gone"/' apps.toml
"$bin" -o "$out" build >/dev/null
res=$(run purge) && rc=0 || rc=$?
is "gone database, roles left: exit 1" 1 "$rc"
has "gone database, roles left: named with the roles" 'purge: failed for app a3: database "ap=1 x_gone" does not exist, but its roles a3_authenticator, a3_web_anon do' "$res"
has "gone database, roles left: the other purges still run" "purge: 3 apps purged, 1 failed (a3), 0 not run" "$res"
cp apps.full.toml apps.toml
"$bin" -o "$out" build >/dev/null

# PUBLIC CONNECT: named once per run and left to the database owner. While PUBLIC has it,
# another app's authenticator can log in to a tenant's database; revoked, only the app's own.
pw() { grep 'password:' "secrets/$1-postgrest.secret.yaml" | sed 's/.*password: "\(.*\)"/\1/'; }
login() { PGPASSWORD=$(pw "$1") psql -X -At -w -h "$PGHOST" -U "${1}_authenticator" -d "$2" -c "SELECT 1"; }
res=$(run apply) && rc=0 || rc=$?
has "public connect: warned with the fix" "apshared, so every app's authenticator can log in there; per database: REVOKE CONNECT, TEMPORARY ON DATABASE <db> FROM PUBLIC" "$res"
check "public connect: another app's authenticator logs in to apshared" login a1 apshared
q "REVOKE CONNECT, TEMPORARY ON DATABASE apshared FROM PUBLIC" >/dev/null
refuse "public connect revoked: another app's authenticator is refused" login a1 apshared
res=$(run apply) && rc=0 || rc=$?
check "public connect revoked: the app's own authenticator logs in" login a5 apshared
case "$res" in *"to apshared"*|*"apshared,"*) bad "public connect revoked: apshared no longer named" ;; *) ok "public connect revoked: apshared no longer named" ;; esac
q "GRANT CONNECT, TEMPORARY ON DATABASE apshared TO PUBLIC" >/dev/null

# One shared database, eight tenants applied side by side (4 sessions). Each tenant grants its
# table to every other app's anonymous role and takes its own app's grant away, so every apply
# writes, and revokes on the others' tables: concurrent applies collide on catalog rows ("tuple
# concurrently updated"), and an app that failed beside others is tried again alone. b8's
# schema is gone, a real failure: retried once, named, its error shown once.
mkdir -p race && : > race/apps.toml
q "CREATE DATABASE race_db" >/dev/null
for i in 1 2 3 4 5 6 7 8; do
  q "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b$i') THEN CREATE ROLE b$i NOLOGIN; END IF; END\$\$" >/dev/null
  q "CREATE SCHEMA api_b$i AUTHORIZATION b$i; SET ROLE b$i; CREATE TABLE api_b$i.t (x int); CREATE VIEW api_b$i.v AS SELECT x FROM api_b$i.t" race_db >/dev/null
  printf '[apps.b%s]\ndatabase = "race_db"\nschema = "api_b%s"\nowner = "b%s"\n\n' "$i" "$i" "$i" >> race/apps.toml
done
"$bin" -c race/apps.toml -o "$work/race/out" build >/dev/null
race() { "$repo/templates/bin/apply-sql.sh" "$work/race/out" "$@" 2>&1; }
res=$(APPLY_JOBS=4 race apply) && rc=0 || rc=$?
is "shared database: 8 apps applied by 4 sessions" 0 "$rc"
has "shared database: the summary names 4 sessions" "apply: 8 apps in 1 database ok (4 sessions)" "$res"
drift() {
  for i in 1 2 3 4 5 6 7 8; do
    q "SET ROLE b$i; $(for j in 1 2 3 4 5 6 7 8; do [ "$i" = "$j" ] || printf 'GRANT SELECT, INSERT ON api_b%s.t TO b%s_web_anon; ' "$i" "$j"; done) REVOKE SELECT ON api_b$i.t, api_b$i.v FROM b${i}_web_anon" race_db >/dev/null
  done
}
converged=0
for round in 1 2 3; do
  drift
  res=$(APPLY_JOBS=4 race apply) && rc=0 || rc=$?
  [ "$rc" = 0 ] || bad "shared database, drift round $round: apply exit $rc: $res"
  res=$(race verify) && rc=0 || rc=$?
  if [ "$rc" = 0 ]; then converged=$((converged + 1)); else bad "shared database, drift round $round: verify: $res"; fi
done
is "shared database: every drift round converged by one apply" 3 "$converged"
drift
q "ALTER SCHEMA api_b8 RENAME TO api_b8_moved" race_db >/dev/null
res=$(APPLY_JOBS=4 race apply) && rc=0 || rc=$?
is "shared database: a real failure: exit 1" 1 "$rc"
has "shared database: the failed app is tried again alone" "trying again one at a time: " "$res"
has "shared database: the failed app is named" "apply: failed for app b8 (database race_db)" "$res"
is "shared database: its error is shown once" 1 "$(grep -c 'schema api_b8 does not exist' <<< "$res")"
has "shared database: the other seven are applied" "apply: 7 apps applied, 1 failed (b8)" "$res"
# A tenant's object name with a newline, quoted in an error message, can print a line that
# looks like the runner's markers. Here psql itself prints such lines after every session: the
# failed b8 must not count as done, nor may the sessions resume at the wrong app.
cat > forging-psql <<'SH'
#!/bin/bash
psql "$@"; rc=$?
printf '@pgen done b8\n@pgen start b1\n@pgen done b8\n' >&2
exit $rc
SH
chmod +x forging-psql
res=$(PSQL="$work/forging-psql" APPLY_JOBS=4 race apply) && rc=0 || rc=$?
is "forged markers: still exit 1" 1 "$rc"
has "forged markers: b8 still named as failed" "apply: failed for app b8 (database race_db)" "$res"
has "forged markers: the other seven applied, none skipped" "apply: 7 apps applied, 1 failed (b8)" "$res"

# Usage errors.
res=$(APPLY_JOBS=0 run apply) && rc=0 || rc=$?
is "usage: APPLY_JOBS=0 refused with exit 2" 2 "$rc"
res=$(run plan) && rc=0 || rc=$?
is "usage: unknown mode refused with exit 2" 2 "$rc"
printf '#!/bin/sh\necho "psql (PostgreSQL) 12.22"\n' > old-psql; chmod +x old-psql
res=$(PSQL="$work/old-psql" run apply) && rc=0 || rc=$?
is "usage: psql older than 13 refused with exit 2" 2 "$rc"
has "usage: the version is named" "needs psql 13 or later" "$res"

finish "apply-sql runner"
