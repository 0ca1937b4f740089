"""Scenario 4b, measure: a new session on the default view's live picture clicks "Robust?" (16 jittered views
at 412 px). Run last on its server, since it is the step most likely to pass the memory limit."""

from __future__ import annotations

import argparse
import time

from harness import follow, new_page, running_chromium

from .common import NOW, PAGE_TIMEOUT_MS, Server
from .live import open_live


def run(server: Server, args: argparse.Namespace) -> None:
    """A visitor clicks Robust? under the default view's live picture (16 jittered views at 412 px)."""
    print("\n== 4b. measure: Robust? under the default view's live picture (new session) ==", flush=True)
    with running_chromium() as browser:
        context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
        server.step("opening the default view for Robust?")
        seconds, _ = open_live(page, server, "", args.view_timeout)
        print(f"  default view live result at {seconds:.1f} s (from the store, or rendered again); RSS "
              f"{server.rss():.0f} MB", flush=True)
        server.step("measuring Robust? of the default view")
        clicked = time.perf_counter()
        page.get_by_role("button", name="Robust?").click()
        measured, _ = follow(page, server.check, lambda s: "Robust" in s["metrics"] and s["idle"], clicked,
                             args.view_timeout)
        peak = server.step_peak()
        print(f"  Robust? measured in {measured:.1f} s; peak during the measure {peak}; {server.memory()}", flush=True)
        context.close()
    NOW["Robust? measure (412 px): server peak"] = f"{peak} ({measured:.0f} s)"
