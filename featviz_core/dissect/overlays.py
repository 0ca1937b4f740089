"""Pictures drawn over the photo (uint8 RGB in, uint8 RGB out, `width` px wide): the grid of filter pictures,
a filter's heat map, the neuron groups in their colours. TensorFlow-free: the photo page and the sheet of
`featviz dissect` both draw with these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from featviz_core.dissect.grid import Grid
    from featviz_core.dissect.groups import Factorization

# One colour per neuron group (at most 8), distinct on a photo.
GROUP_COLOURS = ("#e6194b", "#3cb44b", "#0082c8", "#ffe119", "#911eb4", "#f58231", "#46f0f0", "#f032e6")
MOST_OPAQUE = 0.92  # the strongest cell's picture over the photo (a hint of the photo stays)
CONTRAST = 1.5  # a cell's opacity grows with its relative activation to this power: the strongest cells stand out
GRID_LINE = (255, 255, 255, 70)
HEAT_TINT = np.array([255.0, 140.0, 0.0])


def upsampled(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A (rows, cols) map scaled to 0..1 by its maximum and resized (bilinear) to size (width, height)."""
    peak = float(values.max())
    scaled = (np.clip(values / peak, 0, 1) if peak > 0 else np.zeros_like(values)).astype(np.float32)
    return np.asarray(Image.fromarray(scaled, mode="F").resize(size, Image.Resampling.BILINEAR))


def resized(pixels: np.ndarray, width: int | None = None, *, height: int | None = None) -> np.ndarray:
    """The image scaled to `width` px wide or to `height` px tall (give one), its aspect kept."""
    if (width is None) == (height is None):
        raise ValueError("give the width or the height, not both")
    if width is None:
        width = max(1, round(pixels.shape[1] * height / pixels.shape[0]))
    else:
        height = max(1, round(pixels.shape[0] * width / pixels.shape[1]))
    return np.asarray(Image.fromarray(pixels).resize((width, height), Image.Resampling.LANCZOS))


def hex_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' as three floats 0..255."""
    return np.array([int(colour[index:index + 2], 16) for index in (1, 3, 5)], dtype=np.float32)


def cell_strength(grid: "Grid") -> tuple[np.ndarray, np.ndarray]:
    """(each cell's strongest filter, its activation relative to the strongest cell's, 0..1), both (rows, cols)."""
    best, activation = grid.strongest()
    peak = float(activation.max())
    return best, np.clip(activation / peak, 0, 1) if peak > 0 else np.zeros_like(activation)


def grid_mosaic(photo: np.ndarray, grid: "Grid", pictures: Mapping[int, np.ndarray], width: int) -> np.ndarray:
    """The photo (`width` px wide) with the grid of cells: in each, the picture of its strongest filter blended
    over the photo, the more opaque the more the cell fires relative to the strongest cell (opacity
    MOST_OPAQUE * relative ** CONTRAST); thin lines between cells. The grid's edges are in the pixels of
    the photo as given, whatever size `photo` itself has."""
    base = resized(photo, width).astype(np.float32)
    scale = width / grid.col_edges[-1]
    canvas = base.copy()
    best, strength = cell_strength(grid)
    rows = [min(base.shape[0], round(edge * scale)) for edge in grid.row_edges]
    cols = [round(edge * scale) for edge in grid.col_edges]
    for row in range(grid.shape[0]):
        for col in range(grid.shape[1]):
            top, bottom, left, right = rows[row], rows[row + 1], cols[col], cols[col + 1]
            picture = pictures.get(int(best[row, col]))
            if picture is None or bottom <= top or right <= left:
                continue
            tile = Image.fromarray(picture).resize((right - left, bottom - top), Image.Resampling.BILINEAR)
            alpha = MOST_OPAQUE * float(strength[row, col]) ** CONTRAST
            canvas[top:bottom, left:right] = base[top:bottom, left:right] * (1 - alpha) + np.asarray(tile, np.float32) * alpha
    image = Image.fromarray(canvas.round().astype(np.uint8)).convert("RGBA")
    lines = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(lines)
    for y in rows[1:-1]:
        draw.line([(0, y), (image.width, y)], fill=GRID_LINE)
    for x in cols[1:-1]:
        draw.line([(x, 0), (x, image.height)], fill=GRID_LINE)
    return np.asarray(Image.alpha_composite(image, lines).convert("RGB"))


def heat_overlay(photo: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    """Where a filter fires (its map over the layer's positions, `values`), over the photo `width` px wide:
    bright and tinted where it fires, dark where it does not."""
    base = resized(photo, width).astype(np.float32)
    heat = upsampled(values, (base.shape[1], base.shape[0]))[..., None]
    lit = base * (0.12 + 0.88 * heat)
    return (lit * (1 - 0.4 * heat) + HEAT_TINT * 0.4 * heat).round().astype(np.uint8)


def _group_strengths(groups: "Factorization", size: tuple[int, int]) -> np.ndarray:
    """Each group's map resized to `size` (width, height), all on one scale (the strongest group's peak is 1):
    (groups, height, width)."""
    peaks = [float(group.map.max()) for group in groups.groups]
    top = max(max(peaks, default=0.0), 1e-12)
    return np.stack([upsampled(group.map, size) * (peak / top) for group, peak in zip(groups.groups, peaks)])


def group_overlay(photo: np.ndarray, groups: "Factorization", width: int,
                  colours: Sequence[str] = GROUP_COLOURS) -> np.ndarray:
    """The photo `width` px wide, each place coloured by the group that fires most there (colours[g]), as
    strongly as it fires (the dimmed photo shows through where no group does)."""
    base = resized(photo, width).astype(np.float32)
    strengths = _group_strengths(groups, (base.shape[1], base.shape[0]))
    strongest, alpha = strengths.argmax(axis=0), strengths.max(axis=0)[..., None] * 0.8
    palette = np.stack([hex_rgb(colours[index % len(colours)]) for index in range(len(groups.groups))])
    return (base * 0.55 * (1 - alpha) + palette[strongest] * alpha).round().astype(np.uint8)


def one_group_overlay(photo: np.ndarray, map2d: np.ndarray, colour: str, width: int) -> np.ndarray:
    """Where one group fires (its map, on its own scale), in its colour over the dimmed photo `width` px wide."""
    base = resized(photo, width).astype(np.float32)
    alpha = upsampled(map2d, (base.shape[1], base.shape[0]))[..., None] * 0.85
    return (base * 0.45 * (1 - alpha) + hex_rgb(colour) * alpha).round().astype(np.uint8)
