#!/usr/bin/env bash
# Install iCanvas, then start its main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/icanvas demo "$@"
