"""What the app shows, read in one look per poll, and waiting until it shows what a step waits for."""

from __future__ import annotations

import time
from typing import Any, Callable

POLL_S = 0.25

# One look at the page per poll: what a user sees in the main area and the sidebar.
STATE_JS = """() => {
  const main = document.querySelector("[data-testid='stMain']");
  const app = document.querySelector("[data-testid='stApp']");
  const side = document.querySelector("[data-testid='stSidebar']");
  const text = e => {  // what it says, without icon names (material icons are ligature text)
    const copy = e.cloneNode(true);
    copy.querySelectorAll("[data-testid*='Icon']").forEach(i => i.remove());
    return copy.textContent.replace(/\\s+/g, " ").trim();
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
    chart: !!main && !!main.querySelector(  // a Plotly chart drawn (not a live render's sketch of its curve)
      "[data-testid='stPlotlyChart']:not([class*='st-key-live_curve'] *) .main-svg"),
    metrics: texts(main, "[data-testid='stMetricLabel']"),
    errors: texts(main, "[data-testid='stException']"),
    sidebar: texts(side, "[data-testid='stAlertContainer']"),
  };
}"""


class ViewFailed(RuntimeError):
    """The page showed an error instead of a picture."""


def failure(state: dict) -> str | None:
    """The error a page shows instead of a picture, if any."""
    for text in state["errors"] + state["alerts"]:
        if "can't render live" in text or "Something went wrong" in text or text in state["errors"]:
            return text
    return None


def precomputed(state: dict) -> bool:
    """An atlas picture is shown."""
    return any("Precomputed" in text for text in state["alerts"]) and state["pictures"] > 0


def live_done(state: dict) -> bool:
    """A live render is done: its picture and its scrubber are shown."""
    return state["slider"] and state["pictures"] > 0


def follow(page: Any, check: Callable[[], None], until: Callable[[dict], bool], began: float, timeout_s: float,
           poll_s: float = POLL_S) -> tuple[float, dict]:
    """Poll the page (STATE_JS) until `until(state)`: seconds since `began` (perf_counter) and the last state.
    `check()` runs before each look (a watchdog's, to stop waiting on a stopped server); an error on the
    page raises ViewFailed, and `timeout_s` a TimeoutError."""
    from playwright.sync_api import Error as PlaywrightError

    while True:
        check()
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
        time.sleep(poll_s)
