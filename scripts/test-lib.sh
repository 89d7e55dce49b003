# Sourced by the shell suites that run against PostgreSQL (test-operator.sh, test-apply-sql.sh):
# the built binary, a throwaway work folder (the current directory), pass/fail bookkeeping and
# psql helpers. `. test-lib.sh NAME`; end with `finish NAME`.
# shellcheck shell=bash disable=SC2034  # bin and repo are for the sourcing script
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$repo/target/release/postgrest-gen"
[ -x "$bin" ] || cargo build --release --locked --manifest-path "$repo/Cargo.toml" -q
work=$(mktemp -d "/tmp/${1:?test-lib.sh NAME}.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit
passed=0; failed=0
ok()     { passed=$((passed + 1)); echo "ok   $*"; }
bad()    { failed=$((failed + 1)); echo "FAIL $*"; }
check()  { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
refuse() { local what=$1; shift; if "$@" >/dev/null 2>&1; then bad "$what"; else ok "$what"; fi; }
is()     { if [ "$3" = "$2" ]; then ok "$1"; else bad "$1 (got '$3', want '$2')"; fi; }
has()    { case "$3" in *"$2"*) ok "$1" ;; *) bad "$1: no '$2' in: $3" ;; esac; }
# SQL as the admin in database $2 (default postgres). PGDATABASE is taken as a plain name,
# never as a conninfo, so odd database names need no quoting here.
q() { PGDATABASE=${2:-postgres} psql -X -At -v ON_ERROR_STOP=1 -c "$1"; }
roles() { q "SELECT count(*) FROM pg_roles WHERE rolname IN ('${1}_authenticator', '${1}_web_anon')"; }
finish() { echo "$1: $passed passed, $failed failed"; [ "$failed" = 0 ]; }
