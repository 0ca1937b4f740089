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

Parts 2-4b share one server (so the crowd and the scrub meet a warm server, as a meetup would). A watchdog
thread reads the server's peak RSS (VmHWM, which no spike escapes) every 0.2 s; past --limit-mb it stops
the server (as Community Cloud stops an app over its limit) and prints FAILED with the figure; the next
part gets a new server (as after a reboot) and the run exits 1. Each step's own peak comes from resetting
VmHWM (/proc/PID/clear_refs) when the step begins.

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
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import (CHROMIUM, CHROMIUM_ARGS, LOSS_CHART, SMALL, _free_port, _wait_healthy,  # noqa: E402
                          hover_loss_curve)

ATLAS = ROOT / "atlas" / "vgg16-offline"
LOGS = ROOT / "test-output"
VIEWPORT = {"width": 1440, "height": 1000}
POLL_S = 0.25
MODEL = "vgg16-offline"
DEFAULT_LAYER = "block5_conv3"

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
}
NOW: dict[str, str] = {}

# One look at the page per poll: what a user sees in the main area and the sidebar.
STATE_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const app = document.querySelector("[data-testid='stApp']");
  const side = document.querySelector("[data-testid='stSidebar']");
  const text = e => {  // what it says, without icon names (material icons are ligature text)
    const copy = e.cloneNode(true);
    copy.querySelectorAll("[data-testid*='Icon']").forEach(i => i.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  };
  const texts = (root, sel) => root ? [...root.querySelectorAll(sel)].map(text).filter(t => t) : [];
  const images = main ? [...main.querySelectorAll(  // st.image, and an atlas' instant picture (markdown)
    "[data-testid='stImage'] img, [data-testid='stMarkdown'] img")] : [];
  return {
    idle: !!app && app.getAttribute("data-test-script-state") === "notRunning",
    title: !!main && !!main.querySelector("h1"),
    controls: !!side && !!side.querySelector("[data-testid='stSelectbox']"),  // lazily loaded widgets drawn
    pictures: images.filter(i => i.complete && i.naturalWidth > 0).length,
    alerts: texts(main, "[data-testid='stAlertContainer']"),
    progress: texts(main, "[data-testid='stProgress']"),
    slider: texts(main, "[data-testid='stSlider']").some(t => t.includes("Iteration")),
    chart: !!main && !!main.querySelector("[data-testid='stPlotlyChart'] .main-svg"),  // a Plotly chart drawn
    metrics: texts(main, "[data-testid='stMetricLabel']"),
    errors: texts(main, "[data-testid='stException']"),
    sidebar: texts(side, "[data-testid='stAlertContainer']"),
  };
}"""
PLACE = re.compile(r"(\d+)(?:st|nd|rd|th) in line")


# --- the server and its watchdog ---------------------------------------------------------------------------

class WatchdogTripped(RuntimeError):
    """The server passed the memory limit (and was stopped, as Community Cloud would)."""


class ViewFailed(RuntimeError):
    """The page showed an error instead of a picture."""


def proc_mb(pid: int, key: str) -> float:
    """VmRSS or VmHWM of a process in MB (nan once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def tensorflow_loaded(pid: int) -> bool:
    """True when TensorFlow's shared libraries are mapped into the process (the cross-process truth)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "libtensorflow" in maps or "_pywrap_tensorflow" in maps


class Server:
    """`streamlit run dashboard/app.py` on a free port, optionally on fewer CPUs or another Python, watched."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        self.name, self.limit_mb = name, args.limit_mb
        self.python = args.python or sys.executable
        self.cpus = args.cpus
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = LOGS / f"bench-app-{name}.log"
        self.doing = "starting"
        self.peak_mb = 0.0  # since the server started
        self.step_peaks = True  # whether VmHWM can be reset per step (/proc/PID/clear_refs)
        self.tripped: str | None = None
        self._stop = threading.Event()

    def __enter__(self) -> "Server":
        LOGS.mkdir(exist_ok=True)
        env = {key: value for key, value in os.environ.items() if key != "FEATVIZ_MODEL"}
        env["TF_CPP_MIN_LOG_LEVEL"] = "2"
        pin = ["taskset", "-c", f"0-{self.cpus - 1}"] if self.cpus else []
        command = [*pin, self.python, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self._log = open(self.log_path, "w")
        self.began = time.perf_counter()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # taskset execs: the pid is the server's
        self.pid = self.process.pid
        self._watchdog = threading.Thread(target=self._watch, name=f"watchdog-{self.name}", daemon=True)
        self._watchdog.start()
        try:
            _wait_healthy(self.url, self.process)
            self.check()
        except BaseException:
            self.__exit__()
            raise
        print(f"  [{self.name} server: pid {self.pid}, {self.python}"
              + (f", taskset -c 0-{self.cpus - 1}" if self.cpus else "")
              + f"; answers after {time.perf_counter() - self.began:.1f} s at {self.rss():.0f} MB; "
              f"machine load average {os.getloadavg()[0]:.1f}; log {self.log_path.relative_to(ROOT)}]", flush=True)
        return self

    def _watch(self) -> None:
        """Every 0.2 s: the kernel's peak RSS since the last step began (VmHWM: it misses no spike)."""
        while not self._stop.wait(0.2):
            peak = proc_mb(self.pid, "VmHWM")
            if peak != peak:  # gone
                return
            self.peak_mb = max(self.peak_mb, peak)
            if peak > self.limit_mb:
                self.tripped = (f"server RSS {peak:.1f} MB (VmHWM) passed --limit-mb {self.limit_mb:.0f} while "
                                f"{self.doing}")
                print(f"\nFAILED: {self.tripped}; stopping the server as Community Cloud would.", flush=True)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                return

    def step(self, doing: str) -> None:
        """A new step begins: say what it is (for the watchdog) and restart the kernel's peak (VmHWM) from now."""
        self.doing = doing
        self.peak_mb = max(self.peak_mb, self.hwm())
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            self.step_peaks = False

    def step_peak(self) -> str:
        """The peak RSS since the step began."""
        peak = self.hwm()
        self.peak_mb = max(self.peak_mb, peak)
        return f"{peak:.0f} MB" if self.step_peaks else f"(since start) {peak:.0f} MB"

    def check(self) -> None:
        if self.tripped:
            raise WatchdogTripped(self.tripped)

    def rss(self) -> float:
        return proc_mb(self.pid, "VmRSS")

    def hwm(self) -> float:
        return proc_mb(self.pid, "VmHWM")

    def tensorflow(self) -> bool:
        return tensorflow_loaded(self.pid)

    def memory(self) -> str:
        if self.process.poll() is not None:
            return f"server stopped (exit {self.process.returncode}); peak {self.peak_mb:.0f} MB"
        self.peak_mb = max(self.peak_mb, self.hwm())
        return (f"RSS {self.rss():.0f} MB, peak since start {self.peak_mb:.0f} MB, "
                f"TensorFlow {'loaded' if self.tensorflow() else 'not loaded'}")

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


# --- what a session sees ------------------------------------------------------------------------------------

@dataclass
class Seen:
    """Everything one session showed while it waited for its picture."""

    first_picture_s: float | None = None
    started_s: float | None = None  # when its render began here (TensorFlow starting, or a first step)
    places: list[str] = field(default_factory=list)  # "3rd in line", "2nd in line", ... as the place changed
    first_place_text: str | None = None
    tensorflow_start: bool = False
    steps: list[str] = field(default_factory=list)  # "step k of n" in the order seen
    other: list[str] = field(default_factory=list)

    def note(self, state: dict, seconds: float) -> None:
        if state["pictures"] and self.first_picture_s is None:
            self.first_picture_s = seconds
        for text in state["alerts"]:
            line = " ".join(text.split())
            place = PLACE.search(line)
            if place:
                if not self.places or self.places[-1] != place.group():
                    self.places.append(place.group())
                self.first_place_text = self.first_place_text or line
            elif "Starting TensorFlow" in line:
                self.tensorflow_start = True
                self.started_s = self.started_s if self.started_s is not None else seconds
            elif "Precomputed" not in line and line not in self.other:
                self.other.append(line)
        for text in state["progress"]:
            step = re.search(r"step \d+ of \d+", text)
            if step and (not self.steps or self.steps[-1] != step.group()):
                self.steps.append(step.group())
                self.started_s = self.started_s if self.started_s is not None else seconds

    def summary(self) -> str:
        places = "none"
        if self.places:
            places = " -> ".join(place.split(" in line")[0] for place in self.places) + " in line"
        steps = f"{self.steps[0]} .. {self.steps[-1]} ({len(self.steps)} updates)" if self.steps else "none"
        return (f"place in line: {places}; TensorFlow start shown: {'yes' if self.tensorflow_start else 'no'}; "
                f"progress: {steps}")


def failure(state: dict) -> str | None:
    """The error a page shows instead of a picture, if any."""
    for text in state["errors"] + state["alerts"]:
        if "can't render live" in text or "Something went wrong" in text or text in state["errors"]:
            return text
    return None


def precomputed(state: dict) -> bool:
    return any("Precomputed" in text for text in state["alerts"]) and state["pictures"] > 0


def live_done(state: dict) -> bool:
    return state["slider"] and state["pictures"] > 0


def follow(page, server: Server, until: Callable[[dict], bool], began: float, timeout_s: float) -> tuple[float, dict]:
    """Poll the page until `until(state)`; seconds since `began` and the last state."""
    from playwright.sync_api import Error as PlaywrightError

    while True:
        server.check()
        seconds = time.perf_counter() - began
        try:
            state = page.evaluate(STATE_JS)
        except PlaywrightError:  # navigating: no page to look at yet
            state = None
        if state is not None:
            problem = failure(state)
            if problem:
                raise ViewFailed(problem)
            if until(state):
                return seconds, state
        if seconds > timeout_s:
            raise TimeoutError(f"no picture after {timeout_s:.0f} s"
                               + (f"; the page shows {state['alerts'] + state['progress']}" if state else ""))
        time.sleep(POLL_S)


def new_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    return context, page


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def warm_up(browser, url: str) -> None:
    """Open `url` in a throwaway context: the browser's own start-up (processes, a renderer for the
    server's origin) is then done, as in a visitor's running browser, while nothing of the app is
    cached (each context has its own cache) and no app session starts (`url` is not the app)."""
    context, page = new_page(browser)
    page.goto(url)
    context.close()


# --- the atlas ---------------------------------------------------------------------------------------------

def open_shipped_atlas():
    """The repository's atlas of the offline VGG16 (read without TensorFlow), or None."""
    from featviz_core.atlas import open_atlas

    try:
        return open_atlas(ATLAS)
    except Exception as error:  # noqa: BLE001 - a missing or half-written atlas is a finding, not a crash
        print(f"  (no usable atlas at {ATLAS.relative_to(ROOT)}: {error})")
        return None


def in_atlas(atlas, layer: str, index: int, preset_name: str) -> bool:
    from featviz_core.settings import preset

    return atlas is not None and atlas.match(preset(preset_name, model=MODEL, layer=layer, filter=index)) is not None


def atlas_views(atlas) -> tuple[str, list[tuple[str, str]], tuple[str, int] | None]:
    """The first view (query), a few more atlas views, and a gallery (layer, pictures expected)."""
    layers = [info.name for info in atlas.layers if atlas.filters_of(info.name)]
    if in_atlas(atlas, DEFAULT_LAYER, 0, atlas.preset):
        first = ""
    else:
        deepest = layers[-1]
        first = f"?layer={deepest}&filter={atlas.filters_of(deepest)[0]}"
    more: list[tuple[str, str]] = []
    for layer in reversed(layers):  # deep layers first: what a visitor opens from the default view
        for index in atlas.filters_of(layer)[:2]:
            query = f"?layer={layer}&filter={index}"
            if len(more) < 4 and query != first and not (first == "" and (layer, index) == (DEFAULT_LAYER, 0)):
                more.append((query, f"{layer} #{index}"))
    fullest = max(layers, key=lambda name: len([i for i in atlas.filters_of(name) if i < 16]))
    shown = len([index for index in atlas.filters_of(fullest) if index < 16])
    return first, more, (fullest, shown)


# Installed before the page loads: notes when the first main-area picture is drawn, in ms since the page's
# navigation began (the page's own clock, next to the poll's figure, which is up to POLL_S late).
PICTURE_DRAWN_JS = """() => {
  const seen = new WeakSet();
  new MutationObserver(() => {
    for (const img of document.querySelectorAll("[data-testid='stMain'] img")) {
      if (seen.has(img)) continue;
      seen.add(img);
      img.decode().then(() => requestAnimationFrame(() => { window.pictureDrawnMs ??= performance.now(); }),
                        () => {});
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def part_atlas(args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    print("\n== 1. atlas: a just-started server, the first picture, then browsing the atlas ==", flush=True)
    atlas = open_shipped_atlas()
    if atlas is None or atlas.count == 0:
        NOW["first picture (s from page open)"] = "no atlas"
        return
    total = sum(info.filters for info in atlas.layers)
    first, more, gallery = atlas_views(atlas)
    default_in = first == ""
    print(f"  atlas {ATLAS.relative_to(ROOT)}: {atlas.count} of {total} filters, preset {atlas.preset}; default view "
          f"({DEFAULT_LAYER} #0 {atlas.preset}) {'IS' if default_in else 'is NOT yet'} in it"
          + ("" if default_in else f", so the first view is the deepest atlas layer: {first}"))
    with Server("atlas", args) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        warm_up(browser, f"{server.url}/_stcore/health")  # a visitor's browser is already running
        context, page = new_page(browser)
        page.add_init_script(f"({PICTURE_DRAWN_JS})()")
        server.doing = "opening the first view"
        began = time.perf_counter()
        page.goto(f"{server.url}/{first}")
        frame, _ = follow(page, server, lambda s: s["title"], began, args.view_timeout)
        seconds, state = follow(page, server, lambda s: s["pictures"] > 0, began, args.view_timeout)
        rss, hwm, tf = server.rss(), server.hwm(), server.tensorflow()
        shown_precomputed = precomputed(state)
        controls, _ = follow(page, server, lambda s: s["controls"], began, args.view_timeout)
        chart, _ = follow(page, server, lambda s: s["chart"], began, args.view_timeout)
        idle, _ = follow(page, server, lambda s: s["idle"], began, args.view_timeout)
        drawn = page.evaluate("() => window.pictureDrawnMs ?? null")
        cannot = [text for text in state["sidebar"] + page.evaluate(STATE_JS)["sidebar"] if "cannot render" in text]
        print(f"  first picture {seconds:.2f} s after page.goto ({'default URL' if default_in else first}; "
              f"page title at {frame:.2f} s), precomputed: {'yes' if shown_precomputed else 'NO'}; "
              f"sidebar controls at {controls:.2f} s; loss chart (Plotly) drawn at {chart:.2f} s; "
              f"page idle at {idle:.2f} s")
        if drawn is not None:
            print(f"  (the picture was drawn {drawn / 1000:.2f} s after the navigation began, by the page's own clock)")
        print(f"  server then: RSS {rss:.0f} MB, VmHWM {hwm:.0f} MB, TensorFlow {'LOADED' if tf else 'not loaded'}")
        print("  sidebar: " + (" ".join(cannot[0].split()) if cannot else "no 'cannot render live' warning "
                               "(this server can render vgg16-offline live)"))
        context.close()
        drawn_note = "" if drawn is None else f" (drawn at {drawn / 1000:.2f})"
        NOW["first picture (s from page open)"] = (f"{seconds:.2f} s{drawn_note}"
                                                   + ("" if default_in else f" ({first[1:]})"))
        NOW["first picture precomputed / TensorFlow in server"] = (f"{'yes' if shown_precomputed else 'no'} / "
                                                                   f"{'yes' if tf else 'no'}")
        NOW["server RSS at first picture"] = f"{rss:.0f} MB (VmHWM {hwm:.0f})"

        for query, label in more:
            server.doing = f"opening {label}"
            context, page = new_page(browser)
            began = time.perf_counter()
            page.goto(f"{server.url}/{query}")
            seconds, state = follow(page, server, lambda s: s["pictures"] > 0, began, args.view_timeout)
            print(f"  {label:<18} new session: picture {seconds:.2f} s, precomputed: "
                  f"{'yes' if precomputed(state) else 'NO'}; {server.memory()}")
            context.close()
        layer, expected = gallery
        server.doing = f"opening the gallery of {layer}"
        context, page = new_page(browser)
        began = time.perf_counter()
        page.goto(f"{server.url}/gallery?layer={layer}")
        seconds, state = follow(page, server, lambda s: s["pictures"] >= expected and s["idle"], began,
                                args.view_timeout)
        print(f"  gallery {layer} (filters 0-15, {expected} in the atlas) new session: {state['pictures']} pictures "
              f"in {seconds:.2f} s; {server.memory()}")
        context.close()
        browser.close()
        time.sleep(1.0)
        print(f"  after browsing: {server.memory()}")
        NOW["server VmHWM after browsing the atlas"] = (f"{server.hwm():.0f} MB, TensorFlow "
                                                        f"{'loaded' if server.tensorflow() else 'not loaded'}")


# --- live renders ----------------------------------------------------------------------------------------

QUICK_VIEWS = [(layer, index) for layer in ("block2_conv1", "block3_conv2", "block4_conv1", "block5_conv1")
               for index in (70, 71)]  # filters past 63: never in the shipped atlas (filters 0-63)
ROBUST_VIEWS = [("block2_conv2", 72), ("block3_conv3", 73), ("block4_conv3", 74), ("block5_conv2", 75)]


def live_view(browser, server: Server, query: str, label: str, timeout_s: float) -> float:
    """Open a view in a new session and wait for its live result (the scrubber)."""
    server.step(f"rendering {label}")
    context, page = new_page(browser)
    try:
        began = time.perf_counter()
        page.goto(f"{server.url}/{query}")
        seconds, _ = follow(page, server, live_done, began, timeout_s)
    finally:
        context.close()
    print(f"  {label:<28} picture {seconds:6.1f} s; peak during the view {server.step_peak():>7}, RSS after "
          f"{server.rss():5.0f} MB, peak since start {server.peak_mb:5.0f} MB", flush=True)
    return seconds


def open_live(page, server: Server, query: str, timeout_s: float) -> tuple[float, float | None]:
    """Open a view; if the atlas shows it, click Render live. Seconds to the scrubber, and to the atlas picture."""
    began = time.perf_counter()
    page.goto(f"{server.url}/{query}")
    seconds, state = follow(page, server, lambda s: precomputed(s) or live_done(s), began, timeout_s)
    if not precomputed(state):
        return seconds, None
    print(f"  {query or 'default view'}: atlas picture at {seconds:.2f} s; clicking Render live", flush=True)
    page.get_by_role("button", name="Render live").click()
    live, _ = follow(page, server, live_done, began, timeout_s)
    return live, seconds


def default_live(browser, server: Server, args: argparse.Namespace) -> bool:
    """The default view rendered live; False when this server cannot render."""
    server.step("rendering the default view live")
    context, page = new_page(browser)
    try:
        seconds, atlas_seconds = open_live(page, server, "", args.view_timeout)
        how = (f"atlas picture at {atlas_seconds:.2f} s, then Render live" if atlas_seconds is not None
               else "not in the atlas: rendered live at once")
        print(f"  default view ({how}): scrubber {seconds:.1f} s after page open; peak during the view "
              f"{server.step_peak()}; {server.memory()}", flush=True)
        NOW["default view live: scrubber after page open"] = f"{seconds:.1f} s"
        return True
    except ViewFailed as error:
        print(f"  default view: cannot render live here: {error}")
        print(f"  server after the attempt: {server.memory()}")
        probe_vgg16(browser, server, args)
        return False
    finally:
        context.close()


def part_measure(server: Server, args: argparse.Namespace) -> None:
    """A visitor clicks Robust? under the default view's live picture (16 jittered views at 412 px)."""
    from playwright.sync_api import sync_playwright

    print("\n== 4b. measure: Robust? under the default view's live picture (new session) ==", flush=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context, page = new_page(browser)
        server.step("opening the default view for Robust?")
        seconds, _ = open_live(page, server, "", args.view_timeout)
        print(f"  default view live result at {seconds:.1f} s (from the store, or rendered again); RSS "
              f"{server.rss():.0f} MB", flush=True)
        server.step("measuring Robust? of the default view")
        clicked = time.perf_counter()
        page.get_by_role("button", name="Robust?").click()
        measured, _ = follow(page, server, lambda s: "Robust" in s["metrics"] and s["idle"], clicked,
                             args.view_timeout)
        peak = server.step_peak()
        print(f"  Robust? measured in {measured:.1f} s; peak during the measure {peak}; {server.memory()}", flush=True)
        context.close()
        browser.close()
    NOW["Robust? measure (412 px): server peak"] = f"{peak} ({measured:.0f} s)"


def probe_vgg16(browser, server: Server, args: argparse.Namespace) -> None:
    """What the ImageNet VGG16 does on a server that cannot render the offline one (no internet here)."""
    server.step("trying model=vgg16")
    context, page = new_page(browser)
    try:
        began = time.perf_counter()
        page.goto(f"{server.url}/?model=vgg16&preset=quick")
        try:
            seconds, _ = follow(page, server, lambda s: s["idle"] and live_done(s), began, args.view_timeout)
            outcome = "a live picture"
        except ViewFailed as error:
            seconds, outcome = time.perf_counter() - began, f"main area: {error}"
        state = page.evaluate(STATE_JS)
        print(f"  model=vgg16 (ImageNet weights need internet) after {seconds:.1f} s: {outcome}")
        for line in state["sidebar"]:
            print(f"    sidebar: {line}")
        print(f"  server after model=vgg16: {server.memory()}")
    finally:
        context.close()


def part_live(server: Server, args: argparse.Namespace) -> bool:
    from playwright.sync_api import sync_playwright

    print("\n== 2. live: default view live, 8 quick and 4 robust views, each in a new session ==",
          flush=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        if not default_live(browser, server, args):
            browser.close()
            NOW["live sequence peak RSS"] = f"{server.peak_mb:.0f} MB (cannot render live)"
            return False
        for layer, index in QUICK_VIEWS:
            live_view(browser, server, f"?preset=quick&layer={layer}&filter={index}", f"quick {layer} #{index}",
                      args.view_timeout)
        for layer, index in ROBUST_VIEWS:
            live_view(browser, server, f"?preset=robust&layer={layer}&filter={index}", f"robust {layer} #{index}",
                      args.view_timeout)
        browser.close()
    time.sleep(3.0)
    print(f"  after the sequence (3 s idle): {server.memory()}")
    NOW["live sequence peak RSS"] = f"{server.peak_mb:.0f} MB"
    NOW["RSS after the live sequence"] = f"{server.rss():.0f} MB"
    return True


# --- the crowd ---------------------------------------------------------------------------------------------

CROWD_FILTERS = (64, 65, 66, 67, 68)  # block4_conv2, default preset: past the atlas' filters 0-63


async def crowd_session(browser, server: Server, index: int, start: asyncio.Event, timeout_s: float) -> tuple:
    from playwright.async_api import Error as PlaywrightError

    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    seen = Seen()
    await start.wait()
    began = time.perf_counter()
    problem = None
    try:
        await page.goto(f"{server.url}/?layer=block4_conv2&filter={index}", wait_until="commit")
        while True:
            seconds = time.perf_counter() - began
            if server.tripped:
                problem = "the watchdog stopped the server"
                break
            try:
                state = await page.evaluate(STATE_JS)
            except PlaywrightError:
                state = None
            if state is not None:
                seen.note(state, seconds)
                problem = failure(state)
                if problem or live_done(state):
                    break
            if seconds > timeout_s:
                problem = f"no picture after {timeout_s:.0f} s"
                break
            await asyncio.sleep(0.5)
    finally:
        await context.close()
    return index, seconds, seen, problem


async def crowd_run(server: Server, timeout_s: float) -> list[tuple]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        start = asyncio.Event()
        sessions = [asyncio.create_task(crowd_session(browser, server, index, start, timeout_s))
                    for index in CROWD_FILTERS]
        await asyncio.sleep(1.0)  # every context is open: now they all ask at once
        start.set()
        results = await asyncio.gather(*sessions)
        await browser.close()
    return results


def part_crowd(server: Server, args: argparse.Namespace) -> None:
    print(f"\n== 3. crowd: five new sessions at once on block4_conv2 filters {CROWD_FILTERS} (default preset, "
          "not in the atlas) ==", flush=True)
    server.step("serving the crowd of five")
    results = sorted(asyncio.run(crowd_run(server, args.crowd_timeout)), key=lambda item: item[1])
    # One render slot: every session but the one whose render began first had to wait.
    began = [item[2].started_s if item[2].started_s is not None else float("inf") for item in results]
    first_served = began.index(min(began)) if min(began) < float("inf") else None
    waited = saw = 0
    for order, (index, seconds, seen, problem) in enumerate(results):
        preview = f" (first preview {seen.first_picture_s:.1f} s)" if seen.first_picture_s is not None else ""
        outcome = f"NO picture after {seconds:5.1f} s ({problem})" if problem else f"picture {seconds:5.1f} s"
        print(f"  filter {index}: {outcome}{preview}"
              + f"; first place text: {seen.first_place_text!r}")
        print(f"      {seen.summary()}" + (f"; other notes: {seen.other}" if seen.other else ""))
        if order != first_served:
            waited += 1
            saw += bool(seen.places)
    print(f"  sessions that had to wait: {waited}, of which saw their place in line: {saw}")
    NOW["crowd: sessions that waited and saw their place"] = f"{saw} of {waited}"
    row = "crowd of 5: pictures after (server peak)"
    pictures = [f"{item[1]:.0f}" for item in results if not item[3]]
    NOW[row] = f"{', '.join(pictures)} s" if pictures else "no picture"
    server.check()
    peak = server.step_peak()
    print(f"  peak during the crowd {peak}; {server.memory()}")
    NOW[row] = f"{NOW[row]} (peak {peak})"


# --- the scrubber right after a render ----------------------------------------------------------------------

IMAGE_JS = "document.querySelector(\"[data-testid='stMain'] [data-testid='stImage'] img\")"
FIRST_CHANGE_JS = """before => {
  const image = document.querySelector("[data-testid='stMain'] [data-testid='stImage']");
  const img = image && image.querySelector("img");
  return img && img.src !== before ? image.innerText || "(no caption)" : false;
}"""
SHOWN_JS = """caption => {
  const image = document.querySelector("[data-testid='stMain'] [data-testid='stImage']");
  const img = image && image.querySelector("img");
  return !!img && img.complete && img.naturalWidth > 0 && image.innerText.includes(caption);
}"""
SCRUB_FILTERS = (40, 41, 42)
CLICK_FILTERS = (43, 44, 45)
CLICKED_STEP = 3


def part_scrub(server: Server, args: argparse.Namespace) -> None:
    from playwright.sync_api import sync_playwright

    print("\n== 4. scrub: the scrubber's new step as soon as a small live render shows it ==", flush=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        slid = [scrub_once(browser, server, args, index, slide_home) for index in SCRUB_FILTERS]
        clicked = [scrub_once(browser, server, args, index, click_curve) for index in CLICK_FILTERS]
        browser.close()
    for how, figures in (("slider", slid), ("curve click", clicked)):
        NOW[f"scrubber's new step right after a render: {how}"] = ", ".join(f"{v:.0f}" for v in figures) + " ms"


def slide_home(page) -> tuple[str, float, str]:
    """Home on the Iteration slider: what it did, when (perf_counter), and the caption it leads to."""
    thumb = page.locator("[data-testid='stMain']").get_by_role("slider", name="Iteration")
    thumb.focus()
    pressed = time.perf_counter()
    thumb.press("Home")
    return "Home", pressed, "start image"


def click_curve(page) -> tuple[str, float, str]:
    """A click on the loss curve at CLICKED_STEP, once Plotly has drawn it (hovered first, as a pointer would)."""
    began = time.perf_counter()
    page.locator(f"{LOSS_CHART} .main-svg").first.wait_for(timeout=60_000)
    waited = time.perf_counter() - began
    point, _ = hover_loss_curve(page, CLICKED_STEP)
    pressed = time.perf_counter()
    page.mouse.click(point["x"], point["y"])
    return (f"click on step {CLICKED_STEP} (chart drawn {waited * 1000:.0f} ms after the picture)", pressed,
            f"step {CLICKED_STEP} of")


def scrub_once(browser, server: Server, args: argparse.Namespace, index: int,
               move: Callable[..., tuple[str, float, str]]) -> float:
    """A small live render of `index` in a new session, then `move` the scrubber at once: milliseconds until
    the new step's image is loaded and shown."""
    server.step(f"scrub test on filter {index}")
    context, page = new_page(browser)
    began = time.perf_counter()
    page.goto(f"{server.url}/?{SMALL}&filter={index}")
    seconds, state = follow(page, server, live_done, began, args.view_timeout)
    before = page.evaluate(f"{IMAGE_JS}.src")
    running = not state["idle"]
    how, pressed, caption = move(page)
    first_change = page.wait_for_function(FIRST_CHANGE_JS, arg=before, polling="raf", timeout=60_000)
    changed = (time.perf_counter() - pressed) * 1000
    first_caption = " ".join(str(first_change.json_value()).split())
    page.wait_for_function(SHOWN_JS, arg=caption, polling="raf", timeout=60_000)
    shown = (time.perf_counter() - pressed) * 1000
    print(f"  filter {index}: picture at {seconds:.1f} s (script {'still running' if running else 'idle'}); "
          f"{how} -> new step's image loaded and shown {shown:.0f} ms (its src and caption {first_caption!r} "
          f"switched at {changed:.0f} ms)", flush=True)
    context.close()
    return shown


# --- featviz atlas on the command line ---------------------------------------------------------------------

def timed_command(command: list[str]) -> tuple[float, float, int, str]:
    """Seconds, peak RSS (MB, sampled), exit code and the output's last lines of a command."""
    env = {key: value for key, value in os.environ.items() if key != "FEATVIZ_MODEL"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0.0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, proc_mb(process.pid, "VmHWM") if process.poll() is None else 0.0)
        time.sleep(0.1)
    seconds = time.perf_counter() - began
    reader.join(timeout=5)
    lines = "".join(output).replace("\r", "\n").splitlines()
    return seconds, peak, process.returncode, "\n".join(line for line in lines[-3:] if line.strip())


def part_cli(args: argparse.Namespace) -> None:
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


# --- the run ---------------------------------------------------------------------------------------------

PARTS = ("atlas", "live", "crowd", "scrub", "measure", "cli")


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
        "measure": "Robust? measure (412 px): server peak", "cli": "featviz atlas: filters per minute (quick)"}


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
        results.append(run_part("atlas", part_atlas, args)[0])
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
            part = {"live": part_live, "crowd": part_crowd, "scrub": part_scrub, "measure": part_measure}[name]
            ok, value = run_part(name, part, server, args)
            results.append(ok)
            if value is False:  # this server cannot render live: the other parts cannot run
                break
    finally:
        if server is not None:
            print(f"  live server at the end: {server.memory()}")
            server.__exit__()
    if "cli" in args.parts:
        results.append(run_part("cli", part_cli, args)[0])
    summary()
    failed = not all(results)
    print(f"\n{'FAILED' if failed else 'done'} in {(time.perf_counter() - began) / 60:.1f} min")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
