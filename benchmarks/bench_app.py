"""The dashboard as a user meets it: start-up, first page, a cache hit, and the server's peak memory.

    python benchmarks/bench_app.py

Starts `streamlit run dashboard/app.py` on a free port, drives Debian's chromium with Playwright,
and prints: seconds until the server answers, until the first page's frame shows, until its first
picture is rendered (vgg16-offline, small quick settings), until the same view opens from the
cache in a new session, and the server's peak RSS after every page has rendered something.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_browser import CHROMIUM, CHROMIUM_ARGS, IDLE, MAIN, SMALL, _free_port, _wait_healthy  # noqa: E402

PAGES = {"compare": "Render", "methods": "Render", "gallery": "in batches"}  # page: its render button's label


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed_view(browser, url: str) -> tuple[float, float]:
    """Seconds until the page's title shows, and until its picture is there, in a new session."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(300_000)
    began = time.perf_counter()
    page.goto(url)
    page.locator(f"{MAIN} h1").first.wait_for()
    frame = time.perf_counter() - began
    page.locator(f"{MAIN} [data-testid='stImage']").first.wait_for()
    page.wait_for_selector(IDLE)
    picture = time.perf_counter() - began
    context.close()
    return frame, picture


def main() -> None:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if key != "FEATVIZ_MODEL"}
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(url, process)
        print(f"server answers after {time.perf_counter() - began:.1f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            frame, picture = timed_view(browser, f"{url}/?{SMALL}")
            print(f"first page (cold: TensorFlow import, model load, trace, render): frame {frame:.1f} s, "
                  f"picture {picture:.1f} s")
            frame, picture = timed_view(browser, f"{url}/?{SMALL}")
            print(f"same view in a new session (cache hit): frame {frame:.1f} s, picture {picture:.1f} s")
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(300_000)
            for name, button in PAGES.items():
                page.goto(f"{url}/{name}?{SMALL}")
                page.get_by_role("button", name=button).first.click()
                time.sleep(2)
                page.wait_for_selector(IDLE)
                print(f"  {name}: rendered, server peak RSS so far {peak_rss_mb(process.pid):.0f} MB")
            page.goto(f"{url}/how-it-works?{SMALL}")
            page.wait_for_selector(IDLE)
            browser.close()
        print(f"server peak RSS after Explore, Compare, Methods, Gallery, How it works: {peak_rss_mb(process.pid):.0f} MB")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
