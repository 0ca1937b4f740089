"""Does a filter fire on real photos? Its strongest response on the sample photos (scikit-image's,
bundled, no download), so that a dead picture can say whether the filter is dead or the ascent failed."""

from __future__ import annotations

import functools

from .examples import layer_examples
from .image_sets import sample_image_set
from .models import LoadedModel

FIRES = 1e-7  # a strongest response above this: the filter fires on the photos


@functools.lru_cache(maxsize=8)
def _layer_peaks(loaded: LoadedModel, layer: str) -> tuple[float, ...]:
    """Every filter's strongest response (over positions and photos) in one pass over the sample photos."""
    found = layer_examples(loaded, layer, sample_image_set(), top=1)
    return tuple(found.of(index)[0].activation for index in range(found.filters))


def photo_peak(loaded: LoadedModel, layer: str, filter_index: int) -> float:
    """The filter's strongest response on the sample photos (computed once per layer and process)."""
    return _layer_peaks(loaded, layer)[filter_index]
