"""Scenario 2, live: the default view rendered live ("Render live" when the atlas has it), 8 quick views on
4 layers and 4 robust views on 4 other layers, each in a new session: each view's time, RSS and peak RSS,
and the RSS once idle after them (caches bounded?)."""

from __future__ import annotations

import argparse
import time

from harness import STATE_JS, ViewFailed, follow, live_done, new_page, precomputed, running_chromium

from .common import NOW, PAGE_TIMEOUT_MS, Server

QUICK_VIEWS = [(layer, index) for layer in ("block2_conv1", "block3_conv2", "block4_conv1", "block5_conv1")
               for index in (70, 71)]  # filters past 63: never in the shipped atlas (filters 0-63)
ROBUST_VIEWS = [("block2_conv2", 72), ("block3_conv3", 73), ("block4_conv3", 74), ("block5_conv2", 75)]


def live_view(browser, server: Server, query: str, label: str, timeout_s: float) -> float:
    """Open a view in a new session and wait for its live result (the scrubber), clicking Render live when the
    atlas shows the view first."""
    server.step(f"rendering {label}")
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    try:
        seconds, _ = open_live(page, server, query, timeout_s)  # (a view the atlas has is rendered live on a click)
    finally:
        context.close()
    print(f"  {label:<28} picture {seconds:6.1f} s; peak during the view {server.step_peak():>7}, RSS after "
          f"{server.rss():5.0f} MB, peak since start {server.peak_mb:5.0f} MB", flush=True)
    return seconds


def open_live(page, server: Server, query: str, timeout_s: float) -> tuple[float, float | None]:
    """Open a view; if the atlas shows it, click Render live. Seconds to the scrubber, and to the atlas picture."""
    began = time.perf_counter()
    page.goto(f"{server.url}/{query}")
    seconds, state = follow(page, server.check, lambda s: precomputed(s) or live_done(s), began, timeout_s)
    if not precomputed(state):
        return seconds, None
    print(f"  {query or 'default view'}: atlas picture at {seconds:.2f} s; clicking Render live", flush=True)
    page.get_by_role("button", name="Render live").click()
    live, _ = follow(page, server.check, live_done, began, timeout_s)
    return live, seconds


def default_live(browser, server: Server, args: argparse.Namespace) -> bool:
    """The default view rendered live; False when this server cannot render."""
    server.step("rendering the default view live")
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
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


def probe_vgg16(browser, server: Server, args: argparse.Namespace) -> None:
    """What the ImageNet VGG16 does on a server that cannot render the offline one (no internet here)."""
    server.step("trying model=vgg16")
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    try:
        began = time.perf_counter()
        page.goto(f"{server.url}/?model=vgg16&preset=quick")
        try:
            seconds, _ = follow(page, server.check, lambda s: s["idle"] and live_done(s), began, args.view_timeout)
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


def run(server: Server, args: argparse.Namespace) -> bool:
    """Scenario 2 on the shared server; False when it cannot render live (the later scenarios cannot run)."""
    print("\n== 2. live: default view live, 8 quick and 4 robust views, each in a new session ==",
          flush=True)
    with running_chromium() as browser:
        if not default_live(browser, server, args):
            NOW["live sequence peak RSS"] = f"{server.peak_mb:.0f} MB (cannot render live)"
            return False
        for layer, index in QUICK_VIEWS:
            live_view(browser, server, f"?preset=quick&layer={layer}&filter={index}", f"quick {layer} #{index}",
                      args.view_timeout)
        for layer, index in ROBUST_VIEWS:
            live_view(browser, server, f"?preset=robust&layer={layer}&filter={index}", f"robust {layer} #{index}",
                      args.view_timeout)
    time.sleep(3.0)
    print(f"  after the sequence (3 s idle): {server.memory()}")
    NOW["live sequence peak RSS"] = f"{server.peak_mb:.0f} MB"
    NOW["RSS after the live sequence"] = f"{server.rss():.0f} MB"
    return True
