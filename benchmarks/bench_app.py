"""The dashboard as a meetup crowd meets it, on a Community-Cloud-sized budget, next to the old figures.

    python benchmarks/bench_app.py                        # every part, plain run (about 15 min on 2 busy cores)
    python benchmarks/bench_app.py --cloud                # one CPU (taskset), watchdog at 1200 MB, parts 1-4 and 4b
    python benchmarks/bench_app.py --parts atlas,scrub    # some parts only
    python benchmarks/bench_app.py --python /tmp/cloudvenv/bin/python --parts atlas   # the server on another install

Each part starts `streamlit run dashboard/app.py` (repository root, FEATVIZ_MODEL unset) on a free port
and drives Debian's chromium with Playwright, one browser context (= one Streamlit session) per view:

1. atlas  A just-started server, the first picture of the first view (the default URL when the atlas has
          the default view, else the deepest atlas layer's first filter), then more atlas views and a
          gallery page in new sessions: times, whether each was precomputed, the server's RSS and VmHWM,
          and whether TensorFlow got into the server (libtensorflow in /proc/PID/maps).
2. live   A new server: the default view rendered live ("Render live" when the atlas has it), 8 quick views
          on 4 layers and 4 robust views on 4 other layers: each view's time, RSS and peak RSS, and the RSS
          once idle after them (caches bounded?).
3. crowd  Five sessions opened at once on five block4_conv2 filters missing from the atlas: time to each
          picture, and every wait message each one saw (place in line, TensorFlow start, progress).
4. scrub  Right after a small quick live render shows its scrubber: Home on the Iteration slider, and the
          milliseconds until the start image is loaded and shown (3 times); then, right after 3 more such
          renders, a click on the loss curve (Plotly) at step 3, and the milliseconds until step 3's image is
          loaded and shown.
4b. measure  A new session on the default view's live picture clicks "Robust?" (16 jittered views at 412 px):
          run last on that server, since it is the step most likely to pass the limit.
5. cli    `featviz atlas` on 2 layers x 8 filters (quick, batched) in a temp folder: filters per minute,
          then the same command again on the finished atlas (resume: nothing to do, no TensorFlow).
6. photo  A new server: "What it sees in your photo" opened on its default photo (block4_conv3): seconds to the
          grid; then two new sample photos, a photo read before, and a new session: each timed to the grid
          on screen; the server's peak.

Parts 2-4b share one server (so the crowd and the scrub meet a warm server, as a meetup would). A watchdog
thread reads the server's peak RSS (VmHWM, which no spike escapes) every 0.2 s; past --limit-mb it stops
the server (as Community Cloud stops an app over its limit) and prints FAILED with the figure; the next
part gets a new server (as after a reboot) and the run exits 1. Each step's own peak comes from resetting
VmHWM (/proc/PID/clear_refs) when the step begins.

Each part is a module of benchmarks/app/ (atlas.py, live.py, crowd.py, scrub.py, measure.py, cli.py, photo.py); the
server, its watchdog and the browser come from benchmarks/harness/, which tests/test_browser.py uses too.

Before (measured 2026-11-30, 2 cores, full `tensorflow` wheel, no atlas, quality measured after every
render), from the design guide's "The dashboard as a crowd meets it":

    | figure                                | before                                       |
    | ------------------------------------- | -------------------------------------------- |
    | first visitor: seconds to the picture | 23 s (live render)                           |
    | first visitor: scrubber usable        | 34-42 s (waited for the quality measure)     |
    | server memory after the first picture | 2.7 GB                                       |
    | + 8 quick and 4 robust views: peak    | 3.2 GB                                       |
    | five sessions at once: pictures after | 21, 38, 58, 77, 94 s, no place in line shown |
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this tree's featviz_core (reading the atlas), not another checkout's install

from app import atlas, cli, crowd, live, measure, photo, scrub  # noqa: E402  (the scenarios, one module each)
from app.common import NOW, Server  # noqa: E402
from harness import CHROMIUM, WatchdogTripped  # noqa: E402

# (figure, before, target) in the order of the final table; "now" is filled in by the parts.
BEFORE = {
    "first picture (s from page open)": ("23 s (live)", "<= 3 s"),
    "first picture precomputed / TensorFlow in server": ("no / yes", "yes / no"),
    "server RSS at first picture": ("2.7 GB", "< 350 MB"),
    "server VmHWM after browsing the atlas": ("-", "< 350 MB"),
    "default view live: scrubber after page open": ("34-42 s", "-"),
    "live sequence peak RSS": ("3.2 GB", "<= 1200 MB"),
    "RSS after the live sequence": ("-", "bounded"),
    "crowd of 5: pictures after (server peak)": ("21, 38, 58, 77, 94 s", "peak <= 1200 MB"),
    "crowd: sessions that waited and saw their place": ("0 (none shown)", "all"),
    "scrubber's new step right after a render: slider": ("waited for the measure", "<= 1000 ms"),
    "scrubber's new step right after a render: curve click": ("-", "<= 1000 ms"),
    "Robust? measure (412 px): server peak": ("2.6 GB (in one process)", "<= 1200 MB"),
    "featviz atlas: filters per minute (quick)": ("-", "-"),
    "featviz atlas: rerun on a finished atlas": ("-", "< 2 s"),
    "photo page: choosing a photo to its grid (cold / new photo / read before)": ("-", "-"),
    "photo page: its 6 group pictures (one batch): seconds, step peak": ("-", "peak <= 1200 MB"),
    "photo page: server peak": ("-", "<= 1200 MB"),
}

PARTS = ("atlas", "live", "crowd", "scrub", "measure", "cli", "photo")


def code_version() -> str:
    """The commit measured, and any uncommitted change in the app's code (others may be editing it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    changed = git("status", "--short", "--", "dashboard", "featviz_core").splitlines()
    return (git("log", "-1", "--format=%h %s")[:100]
            + (f"; uncommitted: {', '.join(line.split(maxsplit=1)[1] for line in changed)}" if changed else "; clean"))


def summary() -> None:
    print("\n== summary ==")
    rows = [("figure", "before", "now", "target")] + [
        (name, before, NOW.get(name, "not run"), target) for name, (before, target) in BEFORE.items()]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for number, row in enumerate(rows):
        print("| " + " | ".join(text.ljust(width) for text, width in zip(row, widths)) + " |")
        if number == 0:
            print("| " + " | ".join("-" * width for width in widths) + " |")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}")
    parser.add_argument("--cpus", type=int, help="run the server (and the cli part) on this many CPUs (taskset)")
    parser.add_argument("--limit-mb", type=float, default=1200, help="fail the run when the server passes this RSS")
    parser.add_argument("--cloud", action="store_true",
                        help="Community Cloud's share: --cpus 1 --limit-mb 1200 --parts atlas,live,crowd,scrub,measure")
    parser.add_argument("--python", help="the server's interpreter (e.g. a fresh venv from requirements.txt)")
    parser.add_argument("--view-timeout", type=float, default=600, help="seconds one view may take")
    parser.add_argument("--crowd-timeout", type=float, default=900, help="seconds the crowd may take")
    args = parser.parse_args(argv)
    if args.cloud:
        args.cpus, args.limit_mb = args.cpus or 1, min(args.limit_mb, 1200)
        if "--parts" not in (argv if argv is not None else sys.argv):
            args.parts = "atlas,live,crowd,scrub,measure"
    args.parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; use some of {', '.join(PARTS)}")
    if CHROMIUM is None:
        parser.error("Debian's chromium is not installed (apt-get install chromium)")
    if args.cpus and shutil.which("taskset") is None:
        parser.error("--cpus needs taskset (util-linux)")
    return args


# The summary row a part fills in, so that a failed part shows there as FAILED.
ROWS = {"atlas": "first picture (s from page open)", "live": "live sequence peak RSS",
        "crowd": "crowd of 5: pictures after (server peak)",
        "scrub": "scrubber's new step right after a render: slider",
        "measure": "Robust? measure (412 px): server peak", "cli": "featviz atlas: filters per minute (quick)",
        "photo": "photo page: choosing a photo to its grid (cold / new photo / read before)"}


def run_part(name: str, part: Callable[..., object], *arguments: object) -> tuple[bool, object]:
    """Run one part; a failure is printed and put in its summary row. (ok, what the part returned)."""
    try:
        return True, part(*arguments)
    except WatchdogTripped as error:
        stopped = "FAILED: " + str(error).split(" while ")[0].replace("server RSS ", "")
        NOW[ROWS[name]] = f"{NOW[ROWS[name]]}; {stopped}" if ROWS[name] in NOW else stopped
        print(f"FAILED ({name}): {error}", flush=True)
    except Exception as error:  # noqa: BLE001 - one part's failure is a finding; the other parts still run
        NOW[ROWS[name]] = f"FAILED: {error.__class__.__name__}"
        print(f"FAILED ({name}): {error.__class__.__name__}: {error}", flush=True)
    return False, None


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    print(f"bench_app: parts {', '.join(args.parts)}; server on "
          f"{f'{args.cpus} CPU (taskset)' if args.cpus else f'all {os.cpu_count()} CPUs'}, watchdog at "
          f"{args.limit_mb:.0f} MB; server Python {args.python or sys.executable}", flush=True)
    print(f"code: {code_version()}")
    print(__doc__[__doc__.index("Before ("):].rstrip())
    began = time.perf_counter()
    results = []
    if "atlas" in args.parts:
        results.append(run_part("atlas", atlas.run, args)[0])
    live_parts = [part for part in ("live", "crowd", "scrub", "measure") if part in args.parts]
    server: Server | None = None
    started = 0
    try:
        for name in live_parts:  # one server for these parts; a new one after the watchdog stopped it
            if server is None or server.tripped:
                if server is not None:
                    server.__exit__()
                    print("  [a new server for the next part, as after a reboot on Community Cloud]")
                started += 1
                server = Server("live" if started == 1 else f"live-{started}", args).__enter__()
            part = {"live": live.run, "crowd": crowd.run, "scrub": scrub.run, "measure": measure.run}[name]
            ok, value = run_part(name, part, server, args)
            results.append(ok)
            if value is False:  # this server cannot render live: the other parts cannot run
                break
    finally:
        if server is not None:
            print(f"  live server at the end: {server.memory()}")
            server.__exit__()
    if "cli" in args.parts:
        results.append(run_part("cli", cli.run, args)[0])
    if "photo" in args.parts:
        results.append(run_part("photo", photo.run, args)[0])
    summary()
    failed = not all(results)
    print(f"\n{'FAILED' if failed else 'done'} in {(time.perf_counter() - began) / 60:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
