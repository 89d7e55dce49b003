#!/usr/bin/env bash
# The SQL half of `make apply` / `make verify`, driven by out/sql-plan.tsv.
#   apply-sql.sh OUT apply   every database must exist (one query; all missing ones named,
#                            nothing applied otherwise); then apply.sql for present apps and
#                            purge.sql for absent ones, stopping at the first failure with
#                            the app named.
#   apply-sql.sh OUT verify  verify.sql for every app; reports all drifted apps, exit 1 if any.
# The admin connection comes from the standard PG* variables; PSQL overrides the client.
set -euo pipefail
out=${1:?usage: apply-sql.sh OUT apply|verify}
mode=${2:?usage: apply-sql.sh OUT apply|verify}
PSQL=${PSQL:-psql}
plan="$out/sql-plan.tsv"
[ -f "$plan" ] || { echo "apply-sql: $plan missing; run postgrest-gen build" >&2; exit 2; }

# A database name as a libpq conninfo value (quotes and backslashes escaped).
conninfo() { local v=${1//\\/\\\\}; printf "dbname='%s'" "${v//\'/\\\'}"; }

databases=$(grep -v '^#' "$plan" | cut -f3 | sort -u)
missing=$($PSQL -X -At -v ON_ERROR_STOP=1 -v dbs="$databases" -d postgres <<'SQL'
SELECT string_agg(format('%I', d), ', ' ORDER BY d)
  FROM unnest(string_to_array(:'dbs', E'\n')) AS d
 WHERE d <> '' AND NOT EXISTS (SELECT FROM pg_database WHERE datname = d);
SQL
)
if [ -n "$missing" ]; then
  echo "apply-sql: missing databases: $missing; create them (CREATE DATABASE ... OWNER <owner>) and re-run. Nothing was applied." >&2
  exit 1
fi

# apply: one psql session per database (a connection costs more than an app's apply), each
# app's file its own transaction; psql stops at the first error and names the file.
# verify: one session per app, so that every drifted app is reported.
declare -A files_of=()
order=()
while IFS=$'\t' read -r app ensure db; do
  case "$app" in ''|'#'*) continue ;; esac
  if [ "$mode" = apply ]; then
    file=$([ "$ensure" = present ] && echo apply.sql || echo purge.sql)
    [ -n "${files_of[$db]+x}" ] || order+=("$db")
    files_of[$db]+="$out/apps/$app/sql/$file"$'\n'
  elif [ "$mode" = verify ]; then
    order+=("$app"$'\t'"$db")
  else
    echo "apply-sql: unknown mode $mode" >&2; exit 2
  fi
done < "$plan"

failed=()
for entry in "${order[@]}"; do
  if [ "$mode" = apply ]; then
    db=$entry
    args=()
    while IFS= read -r f; do [ -n "$f" ] && args+=(-f "$f"); done <<< "${files_of[$db]}"
    if ! errors=$($PSQL -X -q -v ON_ERROR_STOP=1 -d "$(conninfo "$db")" "${args[@]}" 2>&1 >/dev/null); then
      printf '%s\n' "$errors" >&2
      app=$(printf '%s\n' "$errors" | sed -n 's|.*/apps/\([^/]*\)/sql/.*|\1|p' | head -n 1)
      echo "apply-sql: failed for app ${app:-?} (database $db); stopped, later apps not applied" >&2
      exit 1
    fi
    echo "apply: database $db ok ($(( ${#args[@]} / 2 )) apps)"
  else
    app=${entry%%$'\t'*}; db=${entry#*$'\t'}
    if $PSQL -X -q -v ON_ERROR_STOP=1 -d "$(conninfo "$db")" -f "$out/apps/$app/sql/verify.sql" >/dev/null; then
      echo "verify: $app ok"
    else
      failed+=("$app")
    fi
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "verify: drift in ${failed[*]}; run make apply" >&2
  exit 1
fi
