"""Seconds from a .keras upload to the sidebar listing the model's layers, in a real browser.

    python benchmarks/bench_upload.py

A just-started `streamlit run dashboard/app.py` (TensorFlow not loaded yet) gets, each in a new session:
a small 28x28 grayscale model (TensorFlow starts here), a VGG16-sized model (56 MB, random weights), and
the small model again (loaded already: shared by its content hash). Prints each time and the server's peak
memory (VmHWM). Needs Debian's chromium and Playwright, like the browser tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import test_browser as browser_helpers  # noqa: E402  (the browser tests' server and model helpers)

LAYER_LISTED = ("names => { const boxes = document.querySelectorAll(\"[data-testid='stSidebar'] "
                "[data-testid='stSelectbox'] input\"); return boxes.length > 1 && boxes[0].value === names[0] "
                "&& boxes[1].value.startsWith(names[1]); }")


def vgg16_sized(path: Path) -> Path:
    import keras

    keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3)).save(path)
    return path


def upload_seconds(browser, url: str, path: Path, layer: str) -> float:
    page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    page.set_default_timeout(300_000)
    page.goto(url)
    browser_helpers.settle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Your own model (.keras)").click()
    began = time.monotonic()
    sidebar.locator(".st-key-model_upload [data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.wait_for_function(LAYER_LISTED, arg=[f"{path.name} (yours)", layer], timeout=300_000)
    seconds = time.monotonic() - began
    page.context.close()
    return seconds


def main() -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    small = browser_helpers._grayscale_digits_model(folder / "digits.keras")
    large = vgg16_sized(folder / "vgg16_sized.keras")
    port = browser_helpers._free_port()
    env = {key: value for key, value in os.environ.items() if key != "FEATVIZ_MODEL"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
                               str(port), "--server.headless", "true", "--server.fileWatcherType", "none"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        browser_helpers._wait_healthy(url, server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=browser_helpers.CHROMIUM,
                                                 args=browser_helpers.CHROMIUM_ARGS)
            for label, path, layer in (("28x28 gray model, first upload (TensorFlow starts)", small, "digits_conv2"),
                                       ("VGG16-sized model", large, "block5_conv3"),
                                       ("28x28 gray model again, new session", small, "digits_conv2")):
                size = path.stat().st_size / 2**20
                print(f"{label} ({size:.2f} MB): layers listed after "
                      f"{upload_seconds(browser, url, path, layer):.1f} s", flush=True)
        status = Path(f"/proc/{server.pid}/status").read_text().splitlines()
        print(next(line for line in status if line.startswith("VmHWM")).replace("\t", " "))
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
