"""A picture for every filter a dissection shows: the atlas' (any atlas of the model that holds the
filter, the largest pictures first), else the filter's best patch on the sample photos, with a note."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from featviz_core.atlas import ModelAtlases, atlases_by_model, find_atlases
from featviz_core.models import LoadedModel


@dataclass(frozen=True)
class FilterPicture:
    """A filter's picture (uint8 RGB) and where it came from ("atlas", or "photo patch" as a stand-in)."""

    image: np.ndarray
    source: str

    @property
    def note(self) -> str:
        return "" if self.source == "atlas" else "no picture yet: its best patch on the sample photos"


def model_atlases(model: str, folders: Iterable[Path]) -> ModelAtlases:
    """The atlases of `model` in the folders (none: an empty set), the largest pictures first."""
    found, _ = find_atlases(folders)
    return atlases_by_model(found).get(model, ModelAtlases(()))


def filter_picture(loaded: LoadedModel, atlases: ModelAtlases, layer: str, filter_index: int,
                   size: int = 128) -> FilterPicture:
    """The filter's picture from the first atlas that holds it, else its best sample-photo patch."""
    from featviz_core.examples import patch
    from featviz_core.examples.image_sets import sample_image_set
    from featviz_core.examples.photo_response import best_on_photos
    from featviz_core.imaging import resize

    entry = atlases.entry(layer, filter_index)
    if entry is not None:
        return FilterPicture(resize(entry.image(), size), "atlas")
    example = best_on_photos(loaded, layer).of(filter_index)[0]
    return FilterPicture(patch(sample_image_set(), example, size), "photo patch")
