#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster of the given major version, with the
# standard PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) naming a superuser.
#   scripts/with-pg.sh 15 CMD...   Debian's server via pg_virtualenv
#   scripts/with-pg.sh 17 CMD...   the server set up in .tools/pg17 by scripts/setup-tools.sh
# Password authentication (scram-sha-256) is on for TCP, so logins really check verifiers.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1; shift
case "$version" in
  15)
    command -v pg_virtualenv >/dev/null || { echo "with-pg: pg_virtualenv missing; run scripts/setup-tools.sh" >&2; exit 1; }
    # -t and a random port: several runs (worktrees, parallel jobs) may hold a cluster at once.
    exec pg_virtualenv -t -c "-p $((20000 + RANDOM % 20000))" -v 15 "$@" ;;
  17)
    root="$PWD/.tools/pg17/native"
    [ -x "$root/bin/postgres" ] || { echo "with-pg: $root/bin/postgres missing; run scripts/setup-tools.sh" >&2; exit 1; }
    # PostgreSQL refuses to run as root; use an unprivileged account for the server only.
    run=()
    if [ "$(id -u)" = 0 ]; then
      id pgtest >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin pgtest
      run=(runuser -u pgtest --)
    fi
    dir=$(mktemp -d /tmp/pg17.XXXXXX)
    chmod 755 "$dir"
    [ "$(id -u)" = 0 ] && chown pgtest "$dir"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    echo "$password" > "$dir/pw"
    [ "$(id -u)" = 0 ] && chown pgtest "$dir/pw"
    port=$((20000 + RANDOM % 20000))
    export LD_LIBRARY_PATH="$root/lib"
    "${run[@]}" "$root/bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$dir/pw" -E UTF8 --locale=C >/dev/null
    "${run[@]}" "$root/bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    trap '"${run[@]}" "$root/bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
    unset LD_LIBRARY_PATH
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres PGPASSWORD=$password PGDATABASE=postgres
    echo "with-pg: PostgreSQL $(psql -Atc 'show server_version') on port $port"
    "$@" ;;
  *) echo "with-pg: version 15 or 17" >&2; exit 2 ;;
esac
