"""A photo dissected by one layer: the grid of cells with their top filters, the photo's top filters, the
neuron groups, and the JSON that `featviz dissect --json` writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from featviz_core.dissect.grid import Grid, PhotoActivations, Ranked, photo_activations, pool, ranked
from featviz_core.dissect.groups import Factorization, neuron_groups
from featviz_core.models import LoadedModel


@dataclass(frozen=True)
class Dissection:
    """What one layer of a model sees in a photo."""

    model: str
    layer: str
    activations: PhotoActivations
    grid: Grid
    top_filters: tuple[Ranked, ...]  # by mean activation over the whole photo, best first
    groups: Factorization | None
    top: int

    def heat_map(self, filter_index: int) -> np.ndarray:
        """Where the filter fires: its activation at every position (rows, cols), in its own units."""
        return self.activations.values[..., filter_index]


def dissect(loaded: LoadedModel, layer: str, pixels: np.ndarray, given_size: tuple[int, int] | None = None,
            top: int = 5, groups: int = 6, preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None) -> Dissection:
    """Dissect the photo (uint8 RGB) with `layer`: `top` filters per cell and for the photo, `groups`
    neuron groups (0: none). Boxes are in the pixels of the photo as given (`given_size`, (w, h)); the
    photo goes through `preprocess` (default the model's own)."""
    if top < 1:
        raise ValueError(f"top must be at least 1; got {top}")
    activations = photo_activations(loaded, layer, pixels, given_size, preprocess)
    factorization = neuron_groups(activations.values, groups) if groups else None
    return Dissection(loaded.name, layer, activations, pool(activations),
                      ranked(activations.mean_per_filter(), top), factorization, top)


def _rounded(value: float) -> float:
    return float(f"{float(value):.5g}")


def dissection_json(found: Dissection) -> dict[str, Any]:
    """The JSON of `featviz dissect --json`: cells (row, col, box [x, y, w, h] in the photo as given, top
    filters best first), the photo's top filters, and the groups (weights per channel, map per position)."""
    width, height = found.activations.given_size
    return {
        "model": found.model,
        "layer": found.layer,
        "photo": {"width": width, "height": height},
        "grid": {"rows": found.grid.shape[0], "cols": found.grid.shape[1]},
        "cells": [{"row": cell.row, "col": cell.col, "box": list(cell.box),
                   "top": [{"filter": item.filter, "activation": _rounded(item.activation)} for item in cell.top]}
                  for cell in found.grid.cells(found.top)],
        "top_filters": [{"filter": item.filter, "activation": _rounded(item.activation)} for item in found.top_filters],
        "groups": [] if found.groups is None else [
            {"weights": [_rounded(value) for value in group.weights],
             "map": [[_rounded(value) for value in row] for row in group.map]}
            for group in found.groups.groups],
        "groups_error": None if found.groups is None else _rounded(found.groups.error),
    }
