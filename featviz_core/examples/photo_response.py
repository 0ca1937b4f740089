"""Does a filter fire on real photos? Its strongest response on the sample photos (scikit-image's,
bundled, no download), so that a dead picture can say whether the filter is dead or the ascent failed."""

from __future__ import annotations

import threading
import weakref

from featviz_core.examples.top_patches import layer_examples
from featviz_core.examples.image_sets import sample_image_set
from featviz_core.models import LoadedModel

# Per model (held weakly: a model dropped elsewhere takes its figures with it), per layer: every filter's peak.
_peaks: weakref.WeakKeyDictionary[LoadedModel, dict[str, tuple[float, ...]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def photo_peak(loaded: LoadedModel, layer: str, filter_index: int) -> float:
    """The filter's strongest response (over positions and photos) on the sample photos; one pass over the
    photos per layer and model, kept while the model lives."""
    with _lock:
        known = _peaks.setdefault(loaded, {})
        if layer not in known:
            found = layer_examples(loaded, layer, sample_image_set(), top=1)
            known[layer] = tuple(found.of(index)[0].activation for index in range(found.filters))
        return known[layer][filter_index]
