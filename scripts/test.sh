#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's chromium and postgresql),
# start PostgreSQL, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
eval "$(bash scripts/services.sh)"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec .venv/bin/python -m pytest -q "$@"
