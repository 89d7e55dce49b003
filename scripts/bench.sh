#!/usr/bin/env bash
# Scale benchmark (`make bench`): build, no-op rebuild, check and chunked rendering at 100,
# 1,000 and 5,000 apps, then the role SQL for 100 and 1,000 apps (SQL_SIZES) on throwaway
# PostgreSQL 15 and 17.
# Prints a Markdown table; BENCHMARKS.md records a run. Wall times are from /usr/bin/time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/target/release/postgrest-gen"
[ -x "$bin" ] || cargo build --release --locked --manifest-path "$repo/Cargo.toml" -q
sizes=${SIZES-100 1000 5000} # SIZES= (empty) runs only the SQL part
work=$(mktemp -d /tmp/bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

gen() { # N apps, each in its own database
  echo '[defaults]'; echo 'public-domain = "example.no"'
  for i in $(seq -f '%05g' "$1"); do printf '\n[apps.app-%s]\ndatabase = "db_%s"\n' "$i" "$i"; done
}
# The disk's own speed, as a control for the first build: a bare Python loop creating the
# same folders and files (11 per app). On this machine's virtual disk, file creation varies
# by a factor of three from one minute to the next (worst right after large deletions).
bare() { # N DIR
  python3 - "$1" "$2" <<'PY'
import os, sys, time
n, root = int(sys.argv[1]), sys.argv[2]
start = time.monotonic()
for i in range(n):
    app = f"{root}/apps/a{i}"
    os.makedirs(f"{app}/sql")
    for j in range(11):
        with open(f"{app}/sql/f{j}" if j < 4 else f"{app}/f{j}", "w") as f:
            f.write("x" * 2000)
print(f"{time.monotonic() - start:.2f}")
PY
}
measure() { # prints "seconds peak-MiB" of a command (its stdout to $work/last.out)
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" > "$work/last.out"
  awk '{ printf "%.2f %.0f", $1, $2 / 1024 }' "$work/time"
}

echo "| apps | bare file creation (control) | first build (new passwords) | no-op build | files rewritten | check | render (chunks, 2 jobs) | objects |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for n in $sizes; do
  d="$work/n$n"; mkdir -p "$d"; gen "$n" > "$d/apps.toml"; cd "$d"
  t0=$(bare "$n" "$work/bare$n")
  read -r t1 m1 <<< "$(measure "$bin" build)"
  read -r t2 m2 <<< "$(measure "$bin" build)"
  written=$(grep -o '[0-9]* written' "$work/last.out" | cut -d' ' -f1)
  read -r t3 m3 <<< "$(measure "$bin" check)"
  read -r t4 _ <<< "$(measure "$repo/templates/bin/render.sh" out)"
  objects=$(grep -c '^kind:' "$work/last.out")
  echo "| $n | ${t0} s | ${t1} s, ${m1} MiB | ${t2} s, ${m2} MiB | $written | ${t3} s, ${m3} MiB | ${t4} s | $objects |"
done

# The role SQL on PostgreSQL 15 and 17 at each of SQL_SIZES apps (default 100 and 1,000), all in
# one shared database and each in its own: first apply, re-apply, whether the re-apply wrote any
# catalog row, and verify, each through `make apply-sql` / `make verify` (default jobs), with the
# cost per app and the load average before the run (2 cores shared with others: figures move
# with it). PG_VERSIONS and LAYOUTS (shared, separate) narrow the run; ANALYZE=1 analyzes the
# catalogs after the setup and after the first apply.
sqlbench() { # LAYOUT(shared|separate) LABEL POSTGRES-MAJOR APPS
  local d="$work/sql-$1-$3-$4"; mkdir -p "$d"; cd "$d"
  for i in $(seq -f '%05g' "$4"); do
    db=$([ "$1" = shared ] && echo bench_db || echo "bench_$i")
    printf '[apps.s-%s]\ndatabase = "%s"\nschema = "api_%s"\nowner = "owner_%s"\n\n' "$i" "$db" "$i" "$i"
  done > apps.toml
  "$bin" build > /dev/null
  cat > run.sh <<'SH'
set -euo pipefail
# Every database, owner role, schema, table and view in one psql session (\connect per database).
cut -f3 out/sql-plan.tsv | grep -v '^#' | sort -u | sed 's/.*/CREATE DATABASE &;/' > setup.sql
prev=""
while IFS=$'\t' read -r app _ db _secret; do
  case "$app" in '#'*) continue ;; esac
  i=${app#s-}
  [ "$db" = "$prev" ] || { echo "\\connect $db"; prev=$db; }
  echo "CREATE ROLE owner_$i NOLOGIN; CREATE SCHEMA api_$i AUTHORIZATION owner_$i;
        SET ROLE owner_$i; CREATE TABLE api_$i.t (x int); CREATE VIEW api_$i.v AS SELECT x FROM api_$i.t; RESET ROLE;"
done < out/sql-plan.tsv >> setup.sql
psql -X -q -v ON_ERROR_STOP=1 -d postgres -f setup.sql > /dev/null
# ANALYZE=1: catalog statistics brought up to date after the setup and after the first apply,
# as autovacuum does on a cluster that has been running (a fresh cluster's catalogs are not
# analyzed yet, and the scripts' generic plans are made from those statistics).
analyze() { if [ -n "${ANALYZE:-}" ]; then for db in postgres $(cut -f3 out/sql-plan.tsv | grep -v '^#' | sort -u); do psql -X -q -d "$db" -c ANALYZE; done; fi; }
analyze
# Row versions of every catalog row an apply could write. The scripts' session-private
# functions live in temporary schemas (pg_temp_N), which a first use creates: not counted.
versions() { for db in $(cut -f3 out/sql-plan.tsv | grep -v '^#' | sort -u); do echo "\\connect $db
  SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
  SELECT xmin::text || oid FROM pg_authid UNION ALL SELECT xmin::text || roleid || member FROM pg_auth_members
  UNION ALL SELECT xmin::text || setrole FROM pg_db_role_setting UNION ALL SELECT xmin::text || oid FROM pg_database
  UNION ALL SELECT xmin::text || oid FROM pg_namespace WHERE nspname !~ '^pg_(toast_)?temp_'
  UNION ALL SELECT xmin::text || oid FROM pg_class WHERE relpersistence <> 't'
  UNION ALL SELECT xmin::text || oid FROM pg_default_acl) s(x);"; done | psql -X -q -At -d postgres; }
load() { cut -d' ' -f1 /proc/loadavg; }
timed() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'; }
# The floor under any run: as many sessions as the runner opens (APPLY_JOBS, default 4), each
# walking its share of the databases with \connect and running SELECT 1 there. One database
# per app means a backend and a password (SCRAM) login per app, whatever the scripts do.
floor() {
  local j=${APPLY_JOBS:-4} i
  cut -f3 out/sql-plan.tsv | grep -v '^#' | sort -u > dbs.txt
  for ((i = 0; i < j; i++)); do
    awk -v j="$j" -v i="$i" 'NR % j == i { print "\\connect " $1; print "SELECT 1;" }' dbs.txt > "floor$i.sql"
  done
  for ((i = 0; i < j; i++)); do psql -X -q -At -d postgres -f "floor$i.sql" > /dev/null & done
  wait
}
connect=$(timed floor)
l1=$(load); first=$(timed make -s -C "$REPO" apply-sql OUT="$PWD/out")
analyze
before=$(versions)
l2=$(load); again=$(timed make -s -C "$REPO" apply-sql OUT="$PWD/out")
[ "$(versions)" = "$before" ] && changes=0 || changes="some"
l3=$(load); verify=$(timed make -s -C "$REPO" verify OUT="$PWD/out")
n=$(grep -vc '^#' out/sql-plan.tsv)
per() { awk -v t="$1" -v n="$n" 'BEGIN { printf "%.1f", 1000 * t / n }'; }
printf '| %s | %s | %s | %.2f s | %.2f s | %s | %.2f s | %s / %s / %s ms | %.2f s | %s / %s / %s |\n' "$n" "$NAME" \
  "$(psql -X -At -c 'show server_version' postgres | cut -d' ' -f1)" "$first" "$again" "$changes" "$verify" \
  "$(per "$first")" "$(per "$again")" "$(per "$verify")" "$connect" "$l1" "$l2" "$l3"
SH
  NAME=$2 REPO="$repo" "$repo/scripts/with-pg.sh" "$3" bash -c "cd \"$d\" && bash run.sh" 2>/dev/null | grep '^|'
}
printf '\n| apps | layout | PostgreSQL | first apply | re-apply | catalog rows written by the re-apply | verify | per app (first / re-apply / verify) | connections alone (floor) | load average before each |\n| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for n in ${SQL_SIZES-100 1000}; do
  for v in ${PG_VERSIONS-15 17}; do
    for layout in ${LAYOUTS-shared separate}; do
      sqlbench "$layout" "$([ "$layout" = shared ] && echo "one shared database" || echo "one database per app")" "$v" "$n"
    done
  done
done
