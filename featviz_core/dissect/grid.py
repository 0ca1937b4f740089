"""What a layer sees in a photo: its activations at every position, pooled into a grid of cells that tile
the photo, each cell's strongest filters, and the photo's top filters overall.

The photo is fed at its own size (its long side scaled down to MAX_SIDE if larger; a model with a fixed
input size gets that size). Each layer position has a centre in the photo (its receptive field's, from
`examples.top_patches.receptive_field`); a cell's activation is the mean over the positions whose centres
fall in it. Boxes are in the pixels of the photo as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf
from PIL import Image

from featviz_core.examples.top_patches import receptive_field
from featviz_core.imaging import match_channels
from featviz_core.models import LoadedModel, feature_model

MAX_SIDE = 512  # the photo's long side as fed, at most
MAX_CELLS = 16  # cells per side, at most


@dataclass(frozen=True)
class Ranked:
    """One filter and its activation (a cell's mean, or the photo's)."""

    filter: int
    activation: float


@dataclass(frozen=True)
class Cell:
    """One cell of the grid: its place, its box [x, y, w, h] in the photo as given, its filters best first."""

    row: int
    col: int
    box: tuple[int, int, int, int]
    top: tuple[Ranked, ...]


@dataclass(frozen=True)
class PhotoActivations:
    """A layer's output on a photo, with where each position's centre lies in the photo as given."""

    layer: str
    given_size: tuple[int, int]  # (width, height) of the photo as given
    fed: np.ndarray  # the photo as fed (uint8 RGB, long side at most MAX_SIDE)
    values: np.ndarray  # (rows, cols, filters) float32: the layer's output
    centres_y: np.ndarray  # (rows,) each position row's centre, in the given photo's pixels (continuous)
    centres_x: np.ndarray  # (cols,)

    @property
    def filters(self) -> int:
        return int(self.values.shape[-1])

    def mean_per_filter(self) -> np.ndarray:
        """Each filter's mean activation over the whole photo."""
        return self.values.mean(axis=(0, 1))


@dataclass(frozen=True)
class Grid:
    """Cells tiling the photo: the edges of their rows and columns (given pixels) and each cell's mean
    activation of every filter."""

    row_edges: tuple[int, ...]
    col_edges: tuple[int, ...]
    means: np.ndarray  # (rows, cols, filters)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.row_edges) - 1, len(self.col_edges) - 1)

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        left, top = self.col_edges[col], self.row_edges[row]
        return (left, top, self.col_edges[col + 1] - left, self.row_edges[row + 1] - top)

    def cells(self, top: int = 5) -> list[Cell]:
        """Every cell, row by row, with its `top` filters best first."""
        found = []
        for row in range(self.shape[0]):
            for col in range(self.shape[1]):
                found.append(Cell(row, col, self.box(row, col), ranked(self.means[row, col], top)))
        return found

    def strongest(self) -> tuple[np.ndarray, np.ndarray]:
        """(each cell's best filter, its activation), both (rows, cols)."""
        best = self.means.argmax(axis=-1)
        return best, np.take_along_axis(self.means, best[..., None], axis=-1)[..., 0]


def ranked(values: np.ndarray, top: int) -> tuple[Ranked, ...]:
    """The `top` largest of one value per filter, best first (ties: the lower filter first)."""
    order = np.argsort(-values, kind="stable")[:top]
    return tuple(Ranked(int(index), float(values[index])) for index in order)


def fed_photo(pixels: np.ndarray, max_side: int = MAX_SIDE) -> np.ndarray:
    """The photo as the layer is fed it: its long side scaled down to `max_side` if larger."""
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS))


def photo_activations(loaded: LoadedModel, layer: str, pixels: np.ndarray, given_size: tuple[int, int] | None = None,
                      preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None) -> PhotoActivations:
    """The layer's output on the photo (uint8 RGB), fed through `preprocess` (default the model's own), and
    where its positions' centres lie in the photo as given (`given_size` (width, height), default the
    pixels' own size)."""
    fed = fed_photo(pixels)
    width, height = given_size or (pixels.shape[1], pixels.shape[0])
    shape = loaded.input_size or fed.shape[:2]
    network_input = fed if tuple(fed.shape[:2]) == tuple(shape) else np.asarray(
        Image.fromarray(fed).resize((shape[1], shape[0]), Image.Resampling.BILINEAR))
    batch = (preprocess or loaded.preprocess)(tf.constant(match_channels(network_input, loaded.channels)[None], tf.float32))
    network = feature_model(loaded.model, layer)
    output = tf.cast(network(batch, training=False), tf.float32).numpy()[0]
    if output.ndim != 3:
        raise ValueError(f"{layer} has no positions (its output is {output.shape}): choose a conv layer")
    field = receptive_field(loaded.model, layer, tuple(shape))
    rows, cols = output.shape[:2]
    centres = []
    for axis, (count, fed_extent, given_extent) in enumerate(((rows, shape[0], height), (cols, shape[1], width))):
        in_input = np.full(count, (fed_extent - 1) / 2) if field.whole else field.start[axis] + np.arange(count) * field.jump[axis]
        centres.append((in_input + 0.5) * given_extent / fed_extent)  # pixel k's centre is k + 0.5 in continuous units
    return PhotoActivations(layer, (width, height), fed, output, centres[0], centres[1])


def _edges(centres: np.ndarray, extent: int, most: int) -> tuple[int, ...]:
    """Edges of at most `most` equal bands over 0..extent such that every band holds a centre."""
    for count in range(min(most, len(centres)), 0, -1):
        edges = np.round(np.linspace(0, extent, count + 1)).astype(int)
        held = np.histogram(np.clip(centres, 0, extent - 1e-6), bins=edges)[0]
        if held.all():
            return tuple(int(edge) for edge in edges)
    return (0, extent)


def pool(activations: PhotoActivations, most: int = MAX_CELLS) -> Grid:
    """The cells: at most `most` per side (and not more than the layer has positions), each the mean of
    the positions whose centres fall in it."""
    width, height = activations.given_size
    row_edges = _edges(activations.centres_y, height, most)
    col_edges = _edges(activations.centres_x, width, most)
    row_of = np.searchsorted(row_edges, activations.centres_y, side="right") - 1
    col_of = np.searchsorted(col_edges, activations.centres_x, side="right") - 1
    row_of = np.clip(row_of, 0, len(row_edges) - 2)
    col_of = np.clip(col_of, 0, len(col_edges) - 2)
    means = np.zeros((len(row_edges) - 1, len(col_edges) - 1, activations.filters), np.float32)
    for row in range(means.shape[0]):
        for col in range(means.shape[1]):
            inside = activations.values[row_of == row][:, col_of == col]
            means[row, col] = inside.reshape(-1, activations.filters).mean(axis=0)
    return Grid(row_edges, col_edges, means)
