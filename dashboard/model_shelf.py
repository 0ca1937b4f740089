"""Models loaded on first use, shared by every session and the render worker, at most a few at a time.

Nothing here imports TensorFlow until a model is first asked for: browsing the atlas never does.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cachetools import LRUCache

from featviz_core.memory import page_out_library_code

if TYPE_CHECKING:
    from featviz_core.models import LoadedModel
    from featviz_core.ascent.quality import QualityMeter

MAX_MODELS = 2


class ModelShelf:
    """`get(name)` loads a model once and keeps the most recent MAX_MODELS.

    Each model has its own build lock: a session asking for a model being loaded waits for that load
    only, and the shelf itself is locked only briefly. A model that falls off the shelf takes its
    compiled steps with it (the core keeps them per model).
    """

    def __init__(self, size: int = MAX_MODELS) -> None:
        self._models: LRUCache[str, LoadedModel] = LRUCache(size)
        self._meters: dict[tuple[str, str, str], QualityMeter] = {}
        self._builds: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()  # guards the maps (cachetools' are not thread-safe), never held during a load

    def loaded(self, name: str) -> bool:
        """True when `name` is on the shelf (no wait to use it)."""
        with self._lock:
            return name in self._models

    def _on_shelf(self, name: str) -> "LoadedModel | None":
        with self._lock:
            return self._models.get(name)

    def get(self, name: str) -> "LoadedModel":
        """The loaded model; raises featviz_core's ModelLoadError with a one-line reason."""
        found = self._on_shelf(name)
        if found is not None:
            return found
        with self._lock:
            build = self._builds.setdefault(name, threading.Lock())
        with build:  # one load per model; other models and other callers go on meanwhile
            found = self._on_shelf(name)
            if found is not None:
                return found
            from featviz_core.models import load_model

            loaded = load_model(name)
            page_out_library_code()  # TensorFlow's start-up code, read in by the load, leaves memory
            with self._lock:
                self._models[name] = loaded  # the least recently used model goes when the shelf is full
                self._builds.pop(name, None)
                self._meters = {key: meter for key, meter in self._meters.items() if key[0] in self._models}
            return loaded

    def meter(self, name: str, layer: str, preprocessing: str = "model") -> "QualityMeter":
        """The quality meter of one layer of a model on the shelf, for one input preprocessing (built
        once, dropped with its model)."""
        loaded = self.get(name)
        key = (name, layer, preprocessing)
        with self._lock:
            if key not in self._meters:
                from featviz_core.ascent.quality import QualityMeter

                self._meters[key] = QualityMeter(loaded, layer, preprocessing=preprocessing)
            return self._meters[key]
