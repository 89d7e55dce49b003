#!/usr/bin/env bash
# The SQL half of `make apply` / `make verify`, driven by out/sql-plan.tsv.
#   apply-sql.sh OUT apply   every database must exist (one query; all missing ones named,
#                            nothing applied otherwise); then apply.sql for present apps and
#                            purge.sql for absent ones. An app that fails is named and the
#                            run goes on with the others (one tenant cannot hold back every
#                            other app); exit 1 if any failed.
#   apply-sql.sh OUT verify  verify.sql for every app; reports all drifted apps, exit 1 if any.
# The admin connection comes from the standard PG* variables; PSQL overrides the client and
# APPLY_JOBS (default 4) caps the concurrent sessions.
#
# Why sessions and not one psql per app: a connection costs about as much as an app's apply
# (30 ms each here), and Debian's psql, a Perl wrapper, adds 47 ms per start. So each of up to
# APPLY_JOBS psql processes (psql 13 or later) gets a share of the databases and walks them
# with \connect. Every apply.sql is its own transaction, so a session killed mid-way rolls back
# exactly the app it was in. apply.sql's advisory lock is per database: a database's apps are
# walked by one session, and sessions in different databases write different catalog rows
# (each app has its own roles), except when one app's roles hold privileges on another app's
# database (drift); then one of the two may fail with "tuple concurrently updated", is named,
# and a re-run converges.
set -euo pipefail
(( BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] >= 501 )) || { echo "apply-sql: needs bash 5.1 or later (wait -n -p), not $BASH_VERSION" >&2; exit 2; }
out=${1:?usage: apply-sql.sh OUT apply|verify}
mode=${2:?usage: apply-sql.sh OUT apply|verify}
case "$mode" in apply|verify) ;; *) echo "apply-sql: unknown mode $mode (apply or verify)" >&2; exit 2 ;; esac
PSQL=${PSQL:-psql}
# A database's owner can ALTER DATABASE ... SET parameters that act before a script could pin
# anything: a library that does not exist (every connection fails) or an idle-session timeout
# (the session ends between statements). Options from the client take precedence over
# database settings, so the sessions set those themselves.
export PGOPTIONS="-c local_preload_libraries= -c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0 ${PGOPTIONS:-}"
jobs=${APPLY_JOBS:-4}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "apply-sql: APPLY_JOBS must be a positive number, not '$jobs'" >&2; exit 2; }
psql_major=$($PSQL --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p' | head -n 1)
[ "${psql_major:-0}" -ge 13 ] || { echo "apply-sql: needs psql 13 or later (\\warn), but '$PSQL --version' says: $($PSQL --version)" >&2; exit 2; }
plan="$out/sql-plan.tsv"
[ -f "$plan" ] || { echo "apply-sql: $plan missing; run postgrest-gen build" >&2; exit 2; }
out=$(cd "$out" && pwd)

# psql meta-command arguments in single quotes: '' for a quote, \\ for a backslash.
pq() { local v=${1//\\/\\\\}; printf "'%s'" "${v//\'/\'\'}"; }
# \connect's argument: a libpq conninfo naming only the database (host, port and user are
# kept from the session), in double quotes because psql strips them from \connect arguments.
dbinfo() { local v=${1//\\/\\\\}; v="dbname='${v//\'/\\\'}'"; printf '"%s"' "${v//\"/\"\"}"; }

declare -A apps_of=() files_of=() db_of=()
order=()
while IFS=$'\t' read -r app ensure db; do
  case "$app" in ''|'#'*) continue ;; esac
  [ -n "${apps_of[$db]+x}" ] || order+=("$db")
  apps_of[$db]+="$app "
  file=verify.sql
  [ "$mode" = apply ] && file=$([ "$ensure" = present ] && echo apply.sql || echo purge.sql)
  files_of[$app]=$file; db_of[$app]=$db
done < "$plan"
[ ${#order[@]} -gt 0 ] || { echo "$mode: no apps in $plan"; exit 0; }

missing=$($PSQL -X -q -At -v ON_ERROR_STOP=1 -v dbs="$(printf '%s\n' "${order[@]}")" -d postgres <<'SQL'
SET search_path = pg_catalog, pg_temp;
SELECT string_agg(format('%I', d), ', ' ORDER BY d)
  FROM unnest(string_to_array(:'dbs', E'\n')) AS d
 WHERE d <> '' AND NOT EXISTS (SELECT FROM pg_database WHERE datname = d);
SQL
)
if [ -n "$missing" ]; then
  echo "$mode: missing databases: $missing; create them (CREATE DATABASE ... OWNER <owner>) and re-run. Nothing was run." >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/apply-sql.XXXXXX")
declare -A worker_of=()
cleanup() { for p in "${!worker_of[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$work"; }
trap cleanup EXIT

# Largest database first onto the least loaded session, so one big shared database does not
# leave the other sessions idle at the end. $work/W.list: the session's "database<TAB>app" lines.
n=$(( ${#order[@]} < jobs ? ${#order[@]} : jobs ))
load=()
for ((w = 0; w < n; w++)); do load[w]=0; : > "$work/$w.list"; done
while IFS=$'\t' read -r count db; do
  best=0
  for ((w = 1; w < n; w++)); do if [ "${load[w]}" -lt "${load[best]}" ]; then best=$w; fi; done
  load[best]=$(( load[best] + count ))
  for app in ${apps_of[$db]}; do printf '%s\t%s\n' "$db" "$app"; done >> "$work/$best.list"
done < <(for db in "${order[@]}"; do c=${apps_of[$db]//[^ ]/}; printf '%d\t%s\n' ${#c} "$db"; done | sort -t$'\t' -k1,1nr -s)

# The psql script for a session from line FROM of its list on: \connect at each new database,
# and markers around each app's file (app names are DNS labels, so they need no quoting). The
# markers go to stderr, which is unbuffered, so they survive a session that is killed.
script() {
  local prev="" db app
  tail -n "+$2" "$1" | while IFS=$'\t' read -r db app; do
    if [ "$db" != "$prev" ]; then printf '\\connect -reuse-previous=on %s\n' "$(pq "$(dbinfo "$db")")"; prev=$db; fi
    printf '\\warn @pgen start %s\n\\i %s\n\\warn @pgen done %s\n' "$app" "$(pq "$out/apps/$app/sql/${files_of[$app]}")" "$app"
  done
}
# One session. Every generated file stops psql at its first error (ON_ERROR_STOP), so a failed
# (apply) or drifted (verify) app ends the session and a new one carries on after it. Each app
# is one transaction, so the failed app left nothing behind.
worker() {
  local w=$1 from=1 last psql_pid skip_db db app
  trap 'kill "$psql_pid" 2>/dev/null; exit 143' TERM
  while :; do
    script "$work/$w.list" "$from" > "$work/$w.psql"
    [ -s "$work/$w.psql" ] || return 0
    $PSQL -X -q -v ON_ERROR_STOP=1 -d postgres -f "$work/$w.psql" > /dev/null 2>> "$work/$w.err" &
    psql_pid=$!
    if wait "$psql_pid"; then return 0; fi
    last=$(grep '^@pgen ' "$work/$w.err" | tail -n 1 || true)
    from=$(( $(grep -c '^@pgen start ' "$work/$w.err") + 1 ))
    case "$last" in
      "@pgen start "*) echo "@pgen failed ${last#@pgen start }" >> "$work/$w.err" ;;
      *) # Failed between apps: the \connect to the next database (its owner can refuse
         # connections). Every app of that database failed; go on with the next database.
         skip_db=$(tail -n "+$from" "$work/$w.list" | head -n 1 | cut -f1)
         while IFS=$'\t' read -r db app; do
           [ "$db" = "$skip_db" ] || break
           printf '@pgen start %s\n@pgen failed %s\n' "$app" "$app" >> "$work/$w.err"
           from=$((from + 1))
         done < <(tail -n "+$from" "$work/$w.list") ;;
    esac
  done
}

for ((w = 0; w < n; w++)); do worker "$w" & worker_of[$!]=$w; done

# Sessions run to the end of their share. One that fails outside any file (psql itself) stops,
# and the apps it had left are reported as not run.
broken=()
while [ ${#worker_of[@]} -gt 0 ]; do
  wait -n -p done_pid "${!worker_of[@]}" && rc=0 || rc=$?
  w=${worker_of[$done_pid]}; unset "worker_of[$done_pid]"
  if [ "$rc" != 0 ]; then broken+=("$w:$rc"); fi
done

cat "$work"/*.err | grep -v '^@pgen ' >&2 || true
declare -A state=()
for ((w = 0; w < n; w++)); do
  while read -r tag what app; do if [ "$tag" = @pgen ]; then state[$app]=$what; fi; done < "$work/$w.err"
done
ok=0; failed=(); not_run=()
for db in "${order[@]}"; do
  for app in ${apps_of[$db]}; do
    case "${state[$app]:-}" in
      done) ok=$((ok + 1)); if [ "$mode" = verify ]; then echo "verify: $app ok"; fi ;;
      failed) failed+=("$app")
              if [ "$mode" = apply ]; then echo "apply: failed for app $app (database ${db_of[$app]})" >&2; fi ;;
      *) not_run+=("$app") ;;
    esac
  done
done

for b in "${broken[@]}"; do
  echo "$mode: a session failed outside any app's file (psql exited ${b#*:}); see the error above" >&2
done
if [ "$mode" = apply ]; then
  if [ ${#failed[@]} -gt 0 ] || [ ${#not_run[@]} -gt 0 ]; then
    echo "apply: $ok apps applied, ${#failed[@]} failed${failed[*]:+ (${failed[*]})}, ${#not_run[@]} not run${not_run[*]:+ (${not_run[*]})}; each app is all or nothing, so fix and re-run" >&2
    exit 1
  fi
  echo "apply: $ok apps in ${#order[@]} databases ok ($n sessions)"
elif [ ${#failed[@]} -gt 0 ] || [ ${#not_run[@]} -gt 0 ]; then
  [ ${#failed[@]} -eq 0 ] || echo "verify: drift in ${failed[*]}; run make apply" >&2
  [ ${#not_run[@]} -eq 0 ] || echo "verify: not run for ${not_run[*]}" >&2
  exit 1
fi
