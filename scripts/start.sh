#!/usr/bin/env bash
# Install iCanvas, then start its main job: the drawing studio on http://127.0.0.1:8000
# (bundled models; SQLite database and pictures in ~/.local/share/icanvas, or ICANVAS_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/icanvas serve "$@"
