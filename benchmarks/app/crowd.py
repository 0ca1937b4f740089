"""Scenario 3, crowd: five sessions opened at once on five block4_conv2 filters missing from the atlas: time to
each picture, and every wait message each one saw (place in line, TensorFlow start, progress)."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass, field

from harness import STATE_JS, VIEWPORT, failure, launch, live_done

from .common import NOW, Server

CROWD_FILTERS = (64, 65, 66, 67, 68)  # block4_conv2, default preset: past the atlas' filters 0-63
PLACE = re.compile(r"(\d+)(?:st|nd|rd|th) in line")


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
        browser = await launch(playwright)
        start = asyncio.Event()
        sessions = [asyncio.create_task(crowd_session(browser, server, index, start, timeout_s))
                    for index in CROWD_FILTERS]
        await asyncio.sleep(1.0)  # every context is open: now they all ask at once
        start.set()
        results = await asyncio.gather(*sessions)
        await browser.close()
    return results


def run(server: Server, args: argparse.Namespace) -> None:
    """Scenario 3 on the shared server."""
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
