"""The browser harness the benchmarks and the browser tests share: the real app under `streamlit run`,
watched, and driven by Debian's chromium through Playwright.

Modules, one job each:

- `procfs`: what /proc says of a process: its memory (RSS, the peak VmHWM and its reset) and whether TensorFlow
  is mapped into it.
- `server`: `streamlit run dashboard/app.py` on a free local port (`StreamlitServer`): environment, log file,
  waiting until it answers, stopping it.
- `watchdog`: `MemoryWatchdog`, a thread that stops a server past a memory limit, with per-step peaks.
- `browser`: Debian's chromium under Playwright (`launch`, `running_chromium`) and a new session's page.
- `app_page`: the app's page: selectors, the small test view, waiting for a run to end, the loss curve, the
  model uploader.
- `app_state`: one look at everything the page shows (`STATE_JS`) and polling it until a condition holds.
- `uploads`: files a visitor uploads: a small grayscale model, a VGG16-sized model, a zip of images.

The scripts in benchmarks/ import it as `harness` (their folder is on sys.path); the tests import it as
`benchmarks.harness` (`python -m pytest` from the repository root puts the root on sys.path). Its modules
import each other relatively, so both names work. Playwright and Keras are imported only when used.
"""

from __future__ import annotations

from .app_page import (IDLE, LOSS_CHART, MAIN, SMALL, click_loss_curve, hover_loss_curve, model_uploader,
                       settle)
from .app_state import POLL_S, STATE_JS, ViewFailed, failure, follow, live_done, precomputed
from .browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, launch, new_page, running_chromium
from .procfs import tensorflow_loaded
from .server import OUTPUT, ROOT, StreamlitServer, app_env, free_port, wait_healthy
from .uploads import grayscale_digits_model, image_zip, vgg16_sized_model
from .watchdog import MemoryWatchdog, WatchdogTripped

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "IDLE", "LOSS_CHART", "MAIN", "OUTPUT", "POLL_S", "ROOT", "SMALL", "STATE_JS",
    "VIEWPORT", "MemoryWatchdog", "StreamlitServer", "ViewFailed", "WatchdogTripped", "app_env",
    "click_loss_curve", "failure", "follow", "free_port", "grayscale_digits_model", "hover_loss_curve",
    "image_zip", "launch", "live_done", "model_uploader", "new_page", "precomputed",
    "running_chromium", "settle", "tensorflow_loaded", "vgg16_sized_model", "wait_healthy",
]
