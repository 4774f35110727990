#!/usr/bin/env bash
# Install and start what the test suite needs beyond Python (idempotent):
#   - Debian's chromium, driven headless by the browser tests (Playwright);
#   - Debian's postgresql, so the database tests also run against PostgreSQL.
# Prints `export ICANVAS_TEST_POSTGRES_URL=...` when a PostgreSQL server is ready;
# test.sh evaluates that line. Anything that cannot be installed is reported, not fatal:
# the tests that need it then say so and are skipped.
set -uo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo -n"
log() { echo "services: $*" >&2; }

need=()
command -v chromium >/dev/null || need+=(chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} (Debian packages) ..."
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"; } >/dev/null 2>&1; then
    log "could not install ${need[*]}; the tests that need them will be skipped"
  fi
fi

# PostgreSQL: Debian's own cluster, started through its wrapper (runs as the postgres user).
if command -v pg_lsclusters >/dev/null; then
  read -r ver name _ < <(pg_lsclusters -h 2>/dev/null | head -n1) || true
  if [ -n "${ver:-}" ]; then
    $SUDO pg_ctlcluster "$ver" "$name" start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
    if pg_isready -q -h 127.0.0.1; then
      psql_as() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "psql -qAt -c \"$1\""; else $SUDO -u postgres psql -qAt -c "$1"; fi; }
      psql_as "SELECT 1 FROM pg_roles WHERE rolname='icanvas'" | grep -q 1 \
        || psql_as "CREATE ROLE icanvas LOGIN PASSWORD 'icanvas' CREATEDB" >/dev/null
      psql_as "SELECT 1 FROM pg_database WHERE datname='icanvas_test'" | grep -q 1 \
        || psql_as "CREATE DATABASE icanvas_test OWNER icanvas" >/dev/null
      echo "export ICANVAS_TEST_POSTGRES_URL=postgresql+psycopg://icanvas:icanvas@127.0.0.1:5432/icanvas_test"
    else
      log "PostgreSQL did not start; database tests run on SQLite only"
    fi
  fi
fi
