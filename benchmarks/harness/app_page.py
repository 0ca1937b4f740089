"""The app's page in a browser: its selectors, a small fast view, and the gestures the tests and benchmarks
share (waiting for a run to end, the loss curve, the model uploader)."""

from __future__ import annotations

import time
from typing import Any

# A small, fast view: vgg16-offline, 12 steps at 55 -> 80 px, shown at 96 px.
SMALL = "model=vgg16-offline&layer=block5_conv3&preset=quick&final_size=96&octaves=3&steps_per_octave=4"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
MAIN = "[data-testid='stMain']"
# The loss curve (How it works' schedule is one too), not a live render's sketch of it (st-key-live_curve_<n>).
LOSS_CHART = f"{MAIN} [data-testid='stPlotlyChart']:not([class*='st-key-live_curve'] *)"
# Where a step of the first curve is drawn, in page pixels, from Plotly's own axes (gd is the plot's element).
STEP_POINT_JS = """(gd, step) => {
  const box = gd.getBoundingClientRect(), xaxis = gd._fullLayout.xaxis, yaxis = gd._fullLayout.yaxis;
  return {x: box.left + xaxis._offset + xaxis.l2p(step),
          y: box.top + yaxis._offset + yaxis.l2p(gd.data[0].y[step - 1])};
}"""


def settle(page: Any, pause: float = 0.5, timeout_ms: float = 180_000) -> None:
    """Wait until the script has finished its run."""
    time.sleep(pause)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def hover_loss_curve(page: Any, step: int) -> tuple[dict, str]:
    """Hover the loss curve's point at `step`: where it is (page pixels), and the hover text Plotly shows."""
    point = page.locator(f"{LOSS_CHART} .js-plotly-plot").evaluate(STEP_POINT_JS, step)
    page.mouse.move(point["x"], point["y"])
    hover = page.locator(f"{LOSS_CHART} .hoverlayer .hovertext")
    hover.wait_for()  # Plotly picked the point
    return point, hover.text_content()  # an SVG text: its lines run together


def click_loss_curve(page: Any, step: int) -> str:
    """Hover, then click, the loss curve's point at `step`; the hover text shown before the click."""
    point, text = hover_loss_curve(page, step)
    page.mouse.click(point["x"], point["y"])
    return text


def model_uploader(page: Any) -> Any:
    """Pick "Your own model (.keras)" in the sidebar: the upload's file input (for `set_input_files`)."""
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text("Your own model (.keras)").click()
    return sidebar.locator(".st-key-model_upload [data-testid='stFileUploaderDropzoneInput']")
