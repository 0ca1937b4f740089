"""Scenario 5, cli: `featviz atlas` on 2 layers x 8 filters (quick, batched) in a temp folder: filters per
minute, then the same command again on the finished atlas (resume: nothing to do, no TensorFlow)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from harness.procfs import peak_rss_mb
from harness import ROOT, app_env

from .common import MODEL, NOW


def timed_command(command: list[str]) -> tuple[float, float, int, str]:
    """Seconds, peak RSS (MB, sampled), exit code and the output's last lines of a command."""
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=app_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    peak = 0.0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, (peak_rss_mb(process.pid) or 0.0) if process.poll() is None else 0.0)
        time.sleep(0.1)
    seconds = time.perf_counter() - began
    reader.join(timeout=5)
    lines = "".join(output).replace("\r", "\n").splitlines()
    return seconds, peak, process.returncode, "\n".join(line for line in lines[-3:] if line.strip())


def run(args: argparse.Namespace) -> None:
    """Scenario 5 (no server)."""
    print("\n== 5. cli: featviz atlas, 2 layers x 8 filters, quick preset (batched), then the same again ==",
          flush=True)
    pin = ["taskset", "-c", f"0-{args.cpus - 1}"] if args.cpus else []
    with tempfile.TemporaryDirectory(prefix="bench-atlas-") as folder:
        command = [*pin, args.python or sys.executable, "-m", "featviz_core.cli", "atlas", MODEL, "-o",
                   str(Path(folder) / "atlas"), "--layers", "block1_conv2,block3_conv1", "--filters", "0-7",
                   "--preset", "quick"]
        print("  $ " + " ".join(command[command.index("-m") - 1:]).replace(sys.executable, "python"))
        seconds, peak, code, tail = timed_command(command)
        print(f"  build: {seconds:.1f} s (TensorFlow start included), exit {code}, peak RSS {peak:.0f} MB, "
              f"{16 / seconds * 60:.1f} filters per minute\n    " + tail.replace("\n", "\n    "))
        again, peak_again, code_again, tail_again = timed_command(command)
        print(f"  rerun on the finished atlas: {again:.2f} s, exit {code_again}, peak RSS {peak_again:.0f} MB\n    "
              + tail_again.replace("\n", "\n    "))
    NOW["featviz atlas: filters per minute (quick)"] = (f"{16 / seconds * 60:.1f} (16 in {seconds:.0f} s)"
                                                        if code == 0 else f"failed (exit {code})")
    NOW["featviz atlas: rerun on a finished atlas"] = f"{again:.2f} s ({peak_again:.0f} MB)"
