"""Dataset examples shared by every session: image sets by content, layer results by (model, layer,
preprocessing, image set key). Both are bounded; a layer's result is small (indices and boxes, no pixels).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable, Hashable, TypeVar

from cachetools import LRUCache

if TYPE_CHECKING:
    from featviz_core.examples import LayerExamples
    from featviz_core.examples.image_sets import ImageSet

MAX_IMAGE_SETS = 3
MAX_LAYER_RESULTS = 16

T = TypeVar("T")


class _Bounded:
    """A small LRU cache whose values are built once per key (one build at a time)."""

    def __init__(self, size: int) -> None:
        self._items: LRUCache[Hashable, object] = LRUCache(size)
        self._lock = threading.Lock()  # guards the cache (cachetools' are not thread-safe), held briefly
        self._building = threading.Lock()  # one build at a time

    def find(self, key: Hashable) -> object | None:
        """The value of `key` (now the most recently used), or None."""
        with self._lock:
            return self._items.get(key)

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value of `key`, built by `build()` when it is not kept."""
        found = self.find(key)
        if found is not None:
            return found  # type: ignore[return-value]
        with self._building:  # a second session asking for the same key waits, then finds it
            found = self.find(key)
            if found is not None:
                return found  # type: ignore[return-value]
            value = build()
            with self._lock:
                self._items[key] = value
            return value


class ExamplesShelf:
    """Image sets and layer results, each kept for the most recent few."""

    def __init__(self) -> None:
        self._sets = _Bounded(MAX_IMAGE_SETS)
        self._layers = _Bounded(MAX_LAYER_RESULTS)

    def image_set(self, key: Hashable, build: Callable[[], "ImageSet"]) -> "ImageSet":
        return self._sets.get(key, build)

    def cached_layer(self, key: Hashable) -> "LayerExamples | None":
        return self._layers.find(key)  # type: ignore[return-value]

    def layer(self, key: Hashable, build: Callable[[], "LayerExamples"]) -> "LayerExamples":
        return self._layers.get(key, build)
