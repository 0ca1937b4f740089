"""Rendering with what the sample photos say: the ascent (`featviz_core.ascent`) given the photos'
answers about the layer's filters (`examples.photo_response.SamplePhotoAnswers`), which the dead-filter
rescue and the rivals term use. Every caller that renders for a person renders through here."""

from __future__ import annotations

from typing import Sequence

from featviz_core.ascent import loop
from featviz_core.examples.photo_response import SamplePhotoAnswers
from featviz_core.models import LoadedModel
from featviz_core.results import Result
from featviz_core.settings import RenderSettings


def render(settings: RenderSettings, model: LoadedModel | None = None,
           on_progress: loop.ProgressCallback | None = None) -> Result:
    """Render one filter. `on_progress` is called after each step; returning False stops early."""
    return render_batch(settings, [settings.filter], model, on_progress)[0]


def render_batch(settings: RenderSettings, filters: Sequence[int], model: LoadedModel | None = None,
                 on_progress: loop.ProgressCallback | None = None) -> list[Result]:
    """Render several filters of one layer in one batched pass, with the sample photos' answers (not for
    channel mixes: the photos are scored per channel)."""
    loaded = model or loop.cached_model(settings.model)
    photos = None if settings.channel_weights else SamplePhotoAnswers(loaded, settings.layer)
    return loop.render_batch(settings, filters, loaded, on_progress, photos)
