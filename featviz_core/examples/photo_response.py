"""Does a filter fire on real photos? Its strongest response on the sample photos (scikit-image's,
bundled, no download), so that a dead picture can say whether the filter is dead or the ascent failed,
and the patch that gave it, from which a picture the ascent could not make fire can start again."""

from __future__ import annotations

import threading
import weakref
from typing import Callable, TypeVar

import numpy as np

from featviz_core.bounded import Bounded
from featviz_core.examples.image_sets import sample_image_set
from featviz_core.examples.top_patches import LayerExamples, layer_examples, tiled_patch
from featviz_core.models import LoadedModel

T = TypeVar("T")

# Per model (held weakly: a model dropped elsewhere takes its figures with it), per layer: every filter's best.
_found: weakref.WeakKeyDictionary[LoadedModel, Bounded] = weakref.WeakKeyDictionary()
_lock = threading.Lock()  # guards the weak map only: each layer's pass runs under its own build lock
KEPT = 3  # examples kept per filter: the best gives the peak and the rescue's patch; all three show in a dissection
LAYERS_KEPT = 32  # layers' passes kept per model (VGG16 has 13 conv layers)


def best_on_photos(loaded: LoadedModel, layer: str) -> LayerExamples:
    """Every filter's KEPT best sample-photo examples, best first; one pass over the photos per layer and model, kept while
    the model lives. Passes of other layers and models run meanwhile."""
    with _lock:
        known = _found.setdefault(loaded, Bounded(LAYERS_KEPT))
    return known.get(layer, lambda: layer_examples(loaded, layer, sample_image_set(), top=KEPT))


def photo_peak(loaded: LoadedModel, layer: str, filter_index: int) -> float:
    """The filter's strongest response (over positions and photos) on the sample photos."""
    return float(best_on_photos(loaded, layer).of(filter_index)[0].activation)


def photo_tile(loaded: LoadedModel, layer: str, filter_index: int, size: int) -> np.ndarray:
    """A size x size float RGB (0..255) image tiled with the sample-photo patch where the filter fires
    most, each copy at the scale the network saw it, so that the filter fires all over the image."""
    best = best_on_photos(loaded, layer).of(filter_index)[0]
    return tiled_patch(sample_image_set(), best, loaded.input_size, size).astype(np.float32)


RIVAL_FLOOR = 0.05  # a filter's spread is at least this share of the layer's median spread (silent filters)


def photo_norms(loaded: LoadedModel, layer: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Every filter's (mean, spread) of its output over the sample photos, spreads floored at RIVAL_FLOOR of
    the layer's median: how far a picture lifts a filter above its usual response, filter by filter."""
    best = best_on_photos(loaded, layer)
    spread = np.asarray(best.channel_std)
    floor = RIVAL_FLOOR * float(np.median(spread)) + 1e-6
    return best.channel_mean, tuple(np.maximum(spread, floor).tolist())


class SamplePhotoAnswers:
    """What the sample photos say about one layer's filters (`ascent.rescue.PhotoAnswers`), each asked on
    first use; None for a model the photos cannot be fed to (its own layers raise on them)."""

    def __init__(self, loaded: LoadedModel, layer: str) -> None:
        self.loaded, self.layer = loaded, layer

    def peak(self, filter_index: int) -> float | None:
        return self._ask(photo_peak, filter_index)

    def tile(self, filter_index: int, size: int) -> np.ndarray | None:
        return self._ask(photo_tile, filter_index, size)

    def norms(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        return self._ask(photo_norms)

    def _ask(self, question: Callable[..., T], *arguments: object) -> T | None:
        try:
            return question(self.loaded, self.layer, *arguments)
        except Exception:  # noqa: BLE001 - whatever the model's own layers raise on the photos
            return None
