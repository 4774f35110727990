#!/usr/bin/env bash
# Install iCanvas into ./.venv (idempotent: does nothing when already up to date).
# Works on a fresh Debian machine with Python 3.11; installs python3-venv if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo

if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then
  echo "Installing python3-venv (Debian package)..."
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3-venv python3-pip >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.icanvas-install-stamp
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "Installing Python packages into .venv ..."
  # torch first and pinned, so no other package can pull in a different (CUDA) build. Without an
  # NVIDIA GPU, PyTorch's own CPU-only index is used when it can be reached (a few hundred MB
  # instead of several GB of CUDA libraries); otherwise the default index (or a local wheel).
  .venv/bin/python -m pip install -q --upgrade pip
  torch_index=()
  if ! command -v nvidia-smi >/dev/null 2>&1 && [ ! -e /proc/driver/nvidia/version ] \
     && .venv/bin/python -c "import urllib.request; urllib.request.urlopen('https://download.pytorch.org/whl/cpu/torch/', timeout=5)" >/dev/null 2>&1; then
    torch_index=(--index-url https://download.pytorch.org/whl/cpu)
  fi
  .venv/bin/python -m pip install -q "torch==2.13.0" "${torch_index[@]}" || .venv/bin/python -m pip install -q "torch==2.13.0"
  # dev: the test tools; diffusion: the optional Stable Diffusion backend, which the tests cover too;
  # patchmatch: the optional textured background fill, tested too
  .venv/bin/python -m pip install -q -e ".[dev,diffusion,patchmatch]"
  echo "$want" > "$stamp"
fi
# the person selector's two small model files, taken out of the mediapipe wheel (idempotent)
bash scripts/fetch_portrait_models.sh
