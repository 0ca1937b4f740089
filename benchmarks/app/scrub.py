"""Scenario 4, scrub: right after a small quick live render shows its scrubber, Home on the Iteration slider and
the milliseconds until the start image is loaded and shown (3 times); then, right after 3 more such renders,
a click on the loss curve (Plotly) at step 3 and the milliseconds until step 3's image is loaded and shown."""

from __future__ import annotations

import argparse
import time
from typing import Callable

from harness import LOSS_CHART, MAIN, SMALL, follow, hover_loss_curve, live_done, new_page, running_chromium

from .common import NOW, PAGE_TIMEOUT_MS, Server

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


def slide_home(page) -> tuple[str, float, str]:
    """Home on the Iteration slider: what it did, when (perf_counter), and the caption it leads to."""
    thumb = page.locator(MAIN).get_by_role("slider", name="Iteration")
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
    context, page = new_page(browser, timeout_ms=PAGE_TIMEOUT_MS)
    began = time.perf_counter()
    page.goto(f"{server.url}/?{SMALL}&filter={index}")
    seconds, state = follow(page, server.check, live_done, began, args.view_timeout)
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


def run(server: Server, args: argparse.Namespace) -> None:
    """Scenario 4 on the shared server."""
    print("\n== 4. scrub: the scrubber's new step as soon as a small live render shows it ==", flush=True)
    with running_chromium() as browser:
        slid = [scrub_once(browser, server, args, index, slide_home) for index in SCRUB_FILTERS]
        clicked = [scrub_once(browser, server, args, index, click_curve) for index in CLICK_FILTERS]
    for how, figures in (("slider", slid), ("curve click", clicked)):
        NOW[f"scrubber's new step right after a render: {how}"] = ", ".join(f"{v:.0f}" for v in figures) + " ms"
