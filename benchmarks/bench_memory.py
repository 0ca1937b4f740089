"""Memory of live renders in one process: the model loaded, then each render's own peak.

Each row is a fresh Python process that loads the model and renders the given filters with the
default preset, one after the other. Before each render the peak (VmHWM) is reset through
/proc/self/clear_refs, so each figure is that render's own peak above the RSS it started from.
`--against REV` runs the same in a worktree of another git revision first, side by side.

    python benchmarks/bench_memory.py --against HEAD~1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys, time
from featviz_core import memory
getattr(memory, "tune_heap", lambda: None)()  # first, as the featviz command does (older revisions: on import or never)
from featviz_core import load_model, preset, render
from harness.procfs import peak_rss_mb, reset_peak, rss_mb
model_name, layer, filters = sys.argv[1], sys.argv[2], [int(f) for f in sys.argv[3].split(",")]
model = load_model(model_name)
rows = {"model_loaded_mb": rss_mb(), "renders": []}
for index in filters:
    reset_peak()  # VmHWM restarts from the current RSS
    start_mb, started = rss_mb(), time.perf_counter()
    result = render(preset("robust", model=model_name, layer=layer, filter=index), model)
    rows["renders"].append({"filter": index, "seconds": time.perf_counter() - started, "start_mb": start_mb,
                            "peak_mb": peak_rss_mb(), "final_loss": float(result.losses[-1])})
rows["process_peak_mb"] = max(row["peak_mb"] for row in rows["renders"])
print("RESULT " + json.dumps(rows))
"""


def measure(source: Path, model: str, layer: str, filters: str) -> dict:
    """Run the child against the featviz_core found in `source`; its figures (read with this tree's /proc readers,
    `benchmarks/harness/procfs.py`, which an older revision may not have)."""
    path = os.pathsep.join((str(source), str(ROOT / "benchmarks")))  # the measured featviz_core first
    env = {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", CHILD, model, layer, filters], env=env, capture_output=True,
                          text=True, check=True, cwd=source)
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def report(label: str, figures: dict) -> None:
    renders = figures["renders"]
    growth = ", ".join(f"+{row['peak_mb'] - row['start_mb']:.0f}" for row in renders)
    seconds = ", ".join(f"{row['seconds']:.1f}" for row in renders)
    losses = ", ".join(f"{row['final_loss']:.3f}" for row in renders)
    print(f"| {label} | {figures['model_loaded_mb']:.0f} MB | {growth} MB | {figures['process_peak_mb']:.0f} MB "
          f"| {seconds} s | {losses} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg16-offline")
    parser.add_argument("--layer", default="block5_conv3")
    parser.add_argument("--filters", default="0,1,2", help="comma-separated filter indices, rendered in order")
    parser.add_argument("--against", metavar="REV", help="also measure this git revision, first")
    args = parser.parse_args()
    print(f"{args.model} {args.layer}, filters {args.filters}, default preset, one process per row\n")
    print("| code | RSS with the model loaded | each render's peak above its start | process peak "
          "| seconds per render | final loss |")
    print("| --- | --- | --- | --- | --- | --- |")
    if args.against:
        with tempfile.TemporaryDirectory() as folder:
            tree = Path(folder) / "tree"
            subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.against], cwd=ROOT, check=True,
                           capture_output=True)
            try:
                report(args.against, measure(tree, args.model, args.layer, args.filters))
            finally:
                subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    report("this tree", measure(ROOT, args.model, args.layer, args.filters))


if __name__ == "__main__":
    main()
