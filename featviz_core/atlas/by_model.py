"""A model's atlases searched as one: e.g. the main atlas (64 filters a layer at 256 px) and the photo page's
(every filter of two layers at 144 px). A filter's picture comes from the atlas with the largest pictures
that holds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from featviz_core.atlas.format import Atlas, AtlasEntry
from featviz_core.settings import RenderSettings


@dataclass(frozen=True)
class ModelAtlases:
    """Every atlas of one model, the largest pictures first (then the most entries). The first is the main one:
    its layers, description and preset describe the model's atlas."""

    atlases: tuple[Atlas, ...]

    @property
    def main(self) -> Atlas:
        return self.atlases[0]

    def entry(self, layer: str, filter: int) -> AtlasEntry | None:
        """The filter's entry from the first atlas that holds it."""
        return next((entry for atlas in self.atlases if (entry := atlas.entry(layer, filter)) is not None), None)

    def match(self, settings: RenderSettings) -> AtlasEntry | None:
        """The entry rendered with exactly these settings, from the first atlas that has it."""
        return next((entry for atlas in self.atlases if (entry := atlas.match(settings)) is not None), None)

    def filters_of(self, layer: str) -> list[int]:
        """The filters of a layer that some atlas holds, sorted."""
        return sorted({index for atlas in self.atlases for index in atlas.filters_of(layer)})

    @property
    def count(self) -> int:
        """How many filters have a picture in some atlas."""
        return len({key for atlas in self.atlases for key in atlas.entries})


def atlases_by_model(atlases: Iterable[Atlas]) -> dict[str, ModelAtlases]:
    """The atlases grouped by model, each group the largest pictures first, then the most entries."""
    ordered = sorted(atlases, key=lambda atlas: (-atlas.image_size, -atlas.count))
    models = dict.fromkeys(atlas.model for atlas in ordered)
    return {model: ModelAtlases(tuple(atlas for atlas in ordered if atlas.model == model)) for model in models}
