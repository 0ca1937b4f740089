"""Scenario 6, photo: "What it sees in your photo" on a just-started server, then warm: the time from choosing
a photo to its grid on screen, then its six neuron groups' pictures (one batch in the default recipe), and the
server's peak memory."""

from __future__ import annotations

import argparse
import time

from harness import new_page, running_chromium, settle

from .common import MODEL, NOW, PAGE_TIMEOUT_MS, Server

GRID = "[data-testid='stMain'] .st-key-photo_grid .js-plotly-plot"
# The caption under the grid names the photo's size as given: it changes when the grid of a new photo is drawn.
SEES = "[data-testid='stMain'] :text('sees the {width}×{height} photo')"
PHOTOS = (("chelsea", 451, 300), ("astronaut", 512, 512), ("coffee", 600, 400))
GROUP_PICTURE = "[data-testid='stMain'] [data-testid='stImage']:has-text('its picture')"
GROUPS = 6  # the page's neuron groups at first


def choose(page, name: str, width: int, height: int) -> float:
    """Pick a sample photo; seconds until its grid is on screen."""
    began = time.perf_counter()
    page.locator(".st-key-photo_sample input").click()
    page.get_by_role("option", name=name, exact=True).click()
    page.locator(SEES.format(width=width, height=height)).wait_for()
    page.locator(GRID).last.wait_for()
    return time.perf_counter() - began


def render_group_pictures(page, server: Server, args: argparse.Namespace) -> tuple[float, str]:
    """Click "Render group pictures" on the photo page: seconds until all six are on screen, and the step's peak."""
    server.step("rendering the group pictures")
    began = time.perf_counter()
    page.get_by_role("button", name="Render group pictures").click()
    page.locator(GROUP_PICTURE).nth(GROUPS - 1).wait_for(timeout=args.view_timeout * 1000)
    seconds = time.perf_counter() - began
    print(f"  group pictures: {GROUPS} after {seconds:.1f} s; step peak {server.step_peak()}; {server.memory()}",
          flush=True)
    return seconds, server.step_peak()


def run(args: argparse.Namespace) -> None:
    """A just-started server: the page opens on its default photo; then new photos, a photo read before, and
    a new session on a photo read before, each timed to the grid on screen; the server's peak."""
    print("\n== 6. photo: What it sees in your photo, just-started server then warm ==", flush=True)
    times: dict[str, float] = {}
    with Server("photo", args) as server, running_chromium() as browser:
        context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
        server.step("opening the photo page")
        began = time.perf_counter()
        page.goto(f"{server.url}/photo?model={MODEL}")
        name, width, height = PHOTOS[0]
        page.locator(SEES.format(width=width, height=height)).wait_for(timeout=args.view_timeout * 1000)
        page.locator(GRID).last.wait_for()
        times["cold: page open to grid (TensorFlow, model, sample photos, dissection)"] = time.perf_counter() - began
        print(f"  cold: {name} grid after {times[next(iter(times))]:.1f} s; {server.memory()}", flush=True)
        settle(page)
        for name, width, height in PHOTOS[1:]:
            server.step(f"reading {name}")
            times[f"warm: a new photo ({name})"] = seconds = choose(page, name, width, height)
            print(f"  warm: {name} grid after {seconds:.2f} s; step peak {server.step_peak()}", flush=True)
            settle(page)
        name, width, height = PHOTOS[0]
        times[f"warm: a photo read before ({name})"] = seconds = choose(page, name, width, height)
        print(f"  warm: {name} again after {seconds:.2f} s", flush=True)
        context.close()
        context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
        began = time.perf_counter()
        page.goto(f"{server.url}/photo?model={MODEL}")
        page.locator(SEES.format(width=width, height=height)).wait_for()
        page.locator(GRID).last.wait_for()
        times["new session, photo read before: page open to grid"] = time.perf_counter() - began
        print(f"  new session: grid after {times['new session, photo read before: page open to grid']:.1f} s; "
              f"{server.memory()}", flush=True)
        groups_seconds, groups_peak = render_group_pictures(page, server, args)
        context.close()
        peak = server.peak_mb
    for label, seconds in times.items():
        print(f"  | {label} | {seconds:.2f} s |")
    NOW["photo page: choosing a photo to its grid (cold / new photo / read before)"] = (
        f"{times[next(iter(times))]:.1f} s / {min(v for k, v in times.items() if 'new photo' in k):.1f}-"
        f"{max(v for k, v in times.items() if 'new photo' in k):.1f} s / "
        f"{times['warm: a photo read before (chelsea)']:.1f} s")
    NOW["photo page: its 6 group pictures (one batch): seconds, step peak"] = f"{groups_seconds:.0f} s, {groups_peak}"
    NOW["photo page: server peak"] = f"{peak:.0f} MB"
