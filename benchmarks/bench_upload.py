"""Seconds from a .keras upload to the sidebar listing the model's layers, in a real browser.

    python benchmarks/bench_upload.py

A just-started `streamlit run dashboard/app.py` (TensorFlow not loaded yet) gets, each in a new session:
a small 28x28 grayscale model (TensorFlow starts here), a VGG16-sized model (56 MB, random weights), and
the small model again (loaded already: shared by its content hash). Prints each time and the server's peak
memory (VmHWM). Needs Debian's chromium and Playwright, like the browser tests (benchmarks/harness/, shared
with them). The server's log: test-output/bench-upload.log.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from harness import (OUTPUT, StreamlitServer, grayscale_digits_model, model_uploader, new_page,  # noqa: E402
                     running_chromium, settle, vgg16_sized_model)

TIMEOUT_MS = 300_000
LAYER_LISTED = ("names => { const boxes = document.querySelectorAll(\"[data-testid='stSidebar'] "
                "[data-testid='stSelectbox'] input\"); return boxes.length > 1 && boxes[0].value === names[0] "
                "&& boxes[1].value.startsWith(names[1]); }")


def upload_seconds(browser, url: str, path: Path, layer: str) -> float:
    """Upload `path` in a new session: seconds until the sidebar shows the model and its `layer`."""
    context, page = new_page(browser, timeout_ms=TIMEOUT_MS)
    page.goto(url)
    settle(page)
    uploader = model_uploader(page)
    began = time.monotonic()
    uploader.set_input_files(str(path))
    page.wait_for_function(LAYER_LISTED, arg=[f"{path.name} (yours)", layer], timeout=TIMEOUT_MS)
    seconds = time.monotonic() - began
    context.close()
    return seconds


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                            epilog=__doc__.split("\n\n", 2)[2],
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    folder = Path(tempfile.mkdtemp())
    small = grayscale_digits_model(folder / "digits.keras")
    large = vgg16_sized_model(folder / "vgg16_sized.keras")
    with StreamlitServer(OUTPUT / "bench-upload.log") as server, running_chromium() as browser:
        for label, path, layer in (("28x28 gray model, first upload (TensorFlow starts)", small, "digits_conv2"),
                                   ("VGG16-sized model", large, "block5_conv3"),
                                   ("28x28 gray model again, new session", small, "digits_conv2")):
            size = path.stat().st_size / 2**20
            print(f"{label} ({size:.2f} MB): layers listed after "
                  f"{upload_seconds(browser, server.url, path, layer):.1f} s", flush=True)
        print(f"server peak RSS (VmHWM): {server.hwm():.0f} MB")


if __name__ == "__main__":
    main()
