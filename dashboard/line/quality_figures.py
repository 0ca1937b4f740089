"""A picture's quality figures (act, robust, hf): from the atlas, measured before, or measured in the server's line."""

from __future__ import annotations

from streamlit.delta_generator import DeltaGenerator

from dashboard.line import server
from dashboard.line.render_queue import Job
from dashboard.line.renders import Shown, in_line, job_key
from featviz_core.results import Quality, Result
from featviz_core.settings import RenderSettings


def figures(shown: Shown) -> Quality | None:
    """The picture's quality figures when known: from the atlas, or measured before."""
    if shown.entry is not None:
        entry = shown.entry
        return Quality(entry.act, entry.robust, entry.hf, entry.dead)
    return server.figures().find(_figures_key(shown.result))  # type: ignore[return-value]


def _figures_key(result: Result) -> tuple[RenderSettings, int]:
    return result.settings, result.steps_run


def measure(shown: Shown, where: DeltaGenerator, label: str = "Measuring") -> Quality:
    """Measure the picture's quality figures in the server's line (16 jittered views), once per picture."""
    known = figures(shown)
    if known is not None:
        return known
    result, shelf, store = shown.result, server.shelf(), server.figures()

    def work(job: Job) -> Quality:
        measured = shelf.meter(result.settings.model, result.settings.layer, result.settings.preprocessing).measure(
            result.measured_image, result.settings.filter, result.dead)
        store.put(_figures_key(result), measured)
        return measured

    return in_line(job_key("measure", *_figures_key(result)), work, result.image.shape[0] ** 2 * 16 / 3, where,
                   label)
