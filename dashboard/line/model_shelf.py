"""Models loaded on first use, shared by every session and the render worker, at most a few at a time.

Nothing here imports TensorFlow until a model is first asked for: browsing the atlas never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from featviz_core.bounded import Bounded
from featviz_core.memory import page_out_library_code

if TYPE_CHECKING:
    from featviz_core.models import LoadedModel
    from featviz_core.ascent.quality import QualityMeter

MAX_MODELS = 2
MAX_METERS = 32  # quality meters (one per model, layer and preprocessing), dropped with their model


class ModelShelf:
    """`get(name)` loads a model once and keeps the most recent MAX_MODELS.

    A session asking for a model being loaded waits for that load only (`Bounded` builds each key under
    its own lock, never under the shelf's). A model that falls off the shelf takes its compiled steps with it
    (the core keeps them per model) and its quality meters.
    """

    def __init__(self, size: int = MAX_MODELS) -> None:
        self._models = Bounded(size)
        self._meters = Bounded(MAX_METERS)

    def loaded(self, name: str) -> bool:
        """True when `name` is on the shelf (no wait to use it)."""
        return name in self._models

    def get(self, name: str) -> "LoadedModel":
        """The loaded model; raises featviz_core's ModelLoadError with a one-line reason."""
        loaded = self._models.get(name, lambda: self._load(name))
        on_shelf = set(self._models.keys())  # a model that fell off the shelf takes its meters (and their network copies)
        self._meters.drop(lambda key: key[0] in on_shelf)
        return loaded

    def _load(self, name: str) -> "LoadedModel":
        from featviz_core.models import load_model

        loaded = load_model(name)
        page_out_library_code()  # TensorFlow's start-up code, read in by the load, leaves memory
        self._meters.drop(lambda key: key[0] != name)  # a meter of this name belongs to a copy loaded before
        return loaded

    def meter(self, name: str, layer: str, preprocessing: str = "model") -> "QualityMeter":
        """The quality meter of one layer of a model on the shelf, for one input preprocessing (built
        once, outside the shelf's lock, dropped with its model)."""
        loaded = self.get(name)

        def build() -> "QualityMeter":
            from featviz_core.ascent.quality import QualityMeter

            return QualityMeter(loaded, layer, preprocessing=preprocessing)

        return self._meters.get((name, layer, preprocessing), build)
