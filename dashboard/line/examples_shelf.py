"""Dataset examples shared by every session: image sets by content, layer results by (model, layer,
preprocessing, image set key). Both are bounded; a layer's result is small (indices and boxes, no pixels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Hashable

from featviz_core.bounded import Bounded

if TYPE_CHECKING:
    from featviz_core.examples import LayerExamples
    from featviz_core.examples.image_sets import ImageSet

MAX_IMAGE_SETS = 3
MAX_LAYER_RESULTS = 16


class ExamplesShelf:
    """Image sets and layer results, each kept for the most recent few."""

    def __init__(self) -> None:
        self._sets = Bounded(MAX_IMAGE_SETS)
        self._layers = Bounded(MAX_LAYER_RESULTS)

    def image_set(self, key: Hashable, build: Callable[[], "ImageSet"]) -> "ImageSet":
        return self._sets.get(key, build)

    def cached_layer(self, key: Hashable) -> "LayerExamples | None":
        return self._layers.find(key)  # type: ignore[return-value]

    def layer(self, key: Hashable, build: Callable[[], "LayerExamples"]) -> "LayerExamples":
        return self._layers.get(key, build)
