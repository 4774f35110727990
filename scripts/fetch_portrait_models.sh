#!/usr/bin/env bash
# Put the person-selection models (three small .tflite files, 1.2 MB, Apache-2.0, from Google's MediaPipe
# 0.10.21 wheel) where icanvas.portrait finds them. Idempotent: does nothing when they are there.
#
#   bash scripts/fetch_portrait_models.sh [DEST]
#
# DEST defaults to the installed package's folder (icanvas/portrait/models, git-ignored).
# mediapipe itself is never installed (it wants opencv-contrib-python, which clashes with our
# headless OpenCV): its wheel is downloaded once, the three files are taken out and checked
# against the digests below, and the wheel is deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${ICANVAS_PYTHON:-.venv/bin/python}
# icanvas/portrait/models of the installed package, found without importing icanvas
DEST=${1:-$("$PY" -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('icanvas').origin).parent / 'portrait' / 'models')")}
WHEEL_VERSION=0.10.21
# member of the wheel -> sha256 of the file we keep
declare -A FILES=(
  [mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite]=9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c
  [mediapipe/modules/face_detection/face_detection_short_range.tflite]=bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8
  [mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite]=2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1
)

have_all() {
  for member in "${!FILES[@]}"; do
    f="$DEST/$(basename "$member")"
    [ -f "$f" ] && [ "$(sha256sum "$f" | cut -c1-64)" = "${FILES[$member]}" ] || return 1
  done
}
if have_all; then
  exit 0
fi

echo "Fetching the person-selection models (mediapipe==$WHEEL_VERSION wheel, ~36 MB, files only) into $DEST ..."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# any platform's wheel holds the same model files; pin one so this works on every machine
"$PY" -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
  --python-version 3.11 "mediapipe==$WHEEL_VERSION" -d "$tmp"
mkdir -p "$DEST"
"$PY" - "$tmp" "$DEST" "${!FILES[@]}" <<'EOF'
import hashlib, pathlib, sys, zipfile
tmp, dest, members = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3:]
wheel = next(tmp.glob("mediapipe-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for member in members:
        part = dest / (pathlib.Path(member).name + ".part")
        part.write_bytes(z.read(member))
        part.replace(dest / pathlib.Path(member).name)
    licence = next(n for n in z.namelist() if n.endswith(".dist-info/LICENSE"))
    (dest / "LICENSE.mediapipe").write_bytes(z.read(licence))
(dest / "README.md").write_text(
    "Taken from the mediapipe wheel by scripts/fetch_portrait_models.sh (Apache-2.0, see LICENSE.mediapipe).\n"
    "selfie_segmentation.tflite: MediaPipe Selfie Segmentation (person vs background, 256x256).\n"
    "face_detection_short_range.tflite: MediaPipe BlazeFace short-range face detector (128x128).\n"
    "face_detection_full_range_sparse.tflite: MediaPipe BlazeFace full-range face detector (192x192).\n"
)
EOF
if ! have_all; then
  echo "The extracted model files do not match the expected sha256 digests; deleted them." >&2
  for member in "${!FILES[@]}"; do rm -f "$DEST/$(basename "$member")"; done
  exit 1
fi
echo "Person-selection models ready in $DEST"
