"""Shared helpers for the dashboard tests (AppTest on the tiny model, render counting, test images)."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the package `dashboard`, as app.py finds it (for a plain `pytest` too)
TIMEOUT = 120
_seeds = itertools.count(1000)


def fresh_seed() -> int:
    """A seed no other test used: its renders are not in the (process-wide) result cache yet."""
    return next(_seeds)


def app(monkeypatch: pytest.MonkeyPatch, model: str = "tiny", **query: object) -> AppTest:
    """An AppTest of the real app on `model`, with these URL query parameters, not run yet."""
    monkeypatch.setenv("FEATVIZ_MODEL", model)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({key: str(value) for key, value in query.items()})
    return at


def page_at(monkeypatch: pytest.MonkeyPatch, page: str, **query: object) -> AppTest:
    """The app on the tiny model, run once, then switched to `page` (e.g. "gallery") and run."""
    at = app(monkeypatch, **{"seed": fresh_seed(), **query}).run()
    return at.switch_page(f"app_pages/{page}.py").run()


@dataclass
class RenderCounter:
    """Counts ascent passes: calls to the core's render_batch (render goes through it too)."""

    calls: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)


def loss_charts(at: AppTest) -> list:
    """The loss curves: st.plotly_chart elements keyed loss_* or *_losses (AppTest knows them only as unknown
    elements of this type; the octave schedule on How it works is a Plotly chart too)."""
    return [chart for chart in at.get("plotly_chart") if "loss" in chart.proto.id.split("-")[-1]]


def figure(chart) -> dict:
    """A Plotly chart element's figure, as the browser gets it (data and layout)."""
    return json.loads(chart.proto.spec)


def click_step(at: AppTest, chart, step: int) -> AppTest:
    """Run `at` as after a click on `chart` at `step`: the browser sends the chart's selection (one point per
    curve at that step) with the other widgets' values. AppTest has no Plotly element to click, so the
    selection goes in as the widget state the browser would send."""
    points = [{"curve_number": number, "point_index": step - 1, "point_number": step - 1, "x": step, "y": 0.0}
              for number, trace in enumerate(figure(chart)["data"]) if trace.get("hoverinfo") != "skip"]
    return select_points(at, chart, points)


def select_points(at: AppTest, chart, points: list[dict]) -> AppTest:
    """Run `at` as after the browser selected these points of `chart` (a click on a point selects it), with the
    other widgets' values."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    selection = {"selection": {"points": points, "point_indices": [point["point_index"] for point in points],
                               "box": [], "lasso": []}}
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=chart.proto.id, string_value=json.dumps(selection)))
    return at._run(states)


@dataclass(frozen=True)
class InstantPicture:
    """What a markdown instant picture (views.instant_picture) holds."""

    alt: str
    svg: str  # the wrapper
    image: bytes  # the image file's bytes inside it


def instant_picture(markdown: str) -> InstantPicture | None:
    """The instant picture a markdown body shows, if it is one."""
    outer = re.fullmatch(r"!\[(.*)\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", markdown)
    if outer is None:
        return None
    svg = base64.b64decode(outer.group(2)).decode()
    inner = re.search(r'<image href="data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)"', svg)
    return InstantPicture(outer.group(1), svg, base64.b64decode(inner.group(1)) if inner else b"")


def query_param(at: AppTest, name: str) -> str:
    """The app's URL query parameter `name` after a run (AppTest before Streamlit 1.65 gives a list of values)."""
    value = at.query_params[name]
    return value[-1] if isinstance(value, list) else value


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [item.value for item in at.exception]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def photo_png(size: int = 64) -> bytes:
    """A small, valid RGB photo."""
    ramp = np.linspace(0, 255, size, dtype=np.uint8)
    red, green = np.meshgrid(ramp, ramp[::-1])
    return png(Image.fromarray(np.stack([red, green, np.full((size, size), 90, np.uint8)], axis=-1)))
