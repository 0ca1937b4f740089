"""Debian's chromium under Playwright (no `playwright install`), and a page in a new session."""

from __future__ import annotations

import contextlib
import shutil
from typing import Any, Iterator

CHROMIUM = shutil.which("chromium")  # None where Debian's chromium is not installed
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 1000}


def launch(playwright: Any) -> Any:
    """Debian's chromium from a started Playwright (sync: the browser; async: something to await)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def running_chromium() -> Iterator[Any]:
    """A sync Playwright with Debian's chromium launched, closed again on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, *, timeout_ms: float = 120_000, viewport: dict[str, int] | None = None
             ) -> tuple[Any, Any]:
    """A new browser context (one Streamlit session once it opens the app) and its page: (context, page).
    Close the context when done."""
    context = browser.new_context(viewport=viewport or VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    return context, page
