"""The pictures the photo page composes over the photo (uint8 RGB arrays): the activation grid (each cell
shows the picture of the filter that fires most there, as opaque as it fires strongly), a filter's heat map,
and the neuron groups in their colours. TensorFlow-free: the core's `upsampled` is imported when used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from featviz_core.dissect import Factorization, FilterPicture, Grid

MOST_OPAQUE = 0.92  # the strongest cell's picture over the photo (a hint of the photo stays)
CONTRAST = 1.5  # a cell's opacity grows with its relative activation to this power: the strongest cells stand out
GRID_LINE = (255, 255, 255, 70)
HEAT_TINT = np.array([255.0, 140.0, 0.0])


def resized(pixels: np.ndarray, width: int) -> np.ndarray:
    """The image scaled to `width` px wide (its aspect kept)."""
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


def grid_image(photo: np.ndarray, grid: "Grid", pictures: Mapping[int, "FilterPicture"], width: int) -> np.ndarray:
    """The photo (`width` px wide) with the grid of cells: in each, the picture of its strongest filter blended
    over the photo, the more opaque the more the cell fires relative to the strongest cell (opacity
    MOST_OPAQUE * relative ** CONTRAST); thin lines between cells."""
    base = resized(photo, width).astype(np.float32)
    scale = width / photo.shape[1]
    canvas = base.copy()
    best, strength = cell_strength(grid)
    rows = [round(edge * scale) for edge in grid.row_edges]
    cols = [round(edge * scale) for edge in grid.col_edges]
    for row in range(grid.shape[0]):
        for col in range(grid.shape[1]):
            top, bottom, left, right = rows[row], rows[row + 1], cols[col], cols[col + 1]
            if bottom <= top or right <= left:
                continue
            picture = Image.fromarray(pictures[int(best[row, col])].image).resize((right - left, bottom - top),
                                                                                  Image.Resampling.BILINEAR)
            alpha = MOST_OPAQUE * float(strength[row, col]) ** CONTRAST
            canvas[top:bottom, left:right] = (base[top:bottom, left:right] * (1 - alpha)
                                              + np.asarray(picture, np.float32) * alpha)
    image = Image.fromarray(canvas.round().astype(np.uint8)).convert("RGBA")
    lines = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(lines)
    for y in rows[1:-1]:
        draw.line([(0, y), (image.width, y)], fill=GRID_LINE)
    for x in cols[1:-1]:
        draw.line([(x, 0), (x, image.height)], fill=GRID_LINE)
    return np.asarray(Image.alpha_composite(image, lines).convert("RGB"))


def heat_image(photo: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    """Where a filter fires (its map over the layer's positions, `values`), over the photo `width` px wide:
    bright and tinted where it fires, dark where it does not."""
    from featviz_core.dissect import upsampled

    base = resized(photo, width).astype(np.float32)
    heat = upsampled(values, (base.shape[1], base.shape[0]))[..., None]
    lit = base * (0.12 + 0.88 * heat)
    return (lit * (1 - 0.4 * heat) + HEAT_TINT * 0.4 * heat).round().astype(np.uint8)


def group_strengths(groups: "Factorization", size: tuple[int, int]) -> np.ndarray:
    """Each group's map resized to `size` (width, height), all on one scale (the strongest group's peak is 1):
    (groups, height, width)."""
    from featviz_core.dissect import upsampled

    peaks = [float(group.map.max()) for group in groups.groups]
    top = max(max(peaks, default=0.0), 1e-12)
    return np.stack([upsampled(group.map, size) * (peak / top) for group, peak in zip(groups.groups, peaks)])


def groups_image(photo: np.ndarray, groups: "Factorization", palette: Sequence[str], width: int) -> np.ndarray:
    """The photo `width` px wide, each place coloured by the group that fires most there (palette[g]), as
    strongly as it fires (the dimmed photo shows through where no group does)."""
    base = resized(photo, width).astype(np.float32)
    strengths = group_strengths(groups, (base.shape[1], base.shape[0]))
    strongest, alpha = strengths.argmax(axis=0), strengths.max(axis=0)[..., None] * 0.8
    colours = np.stack([hex_rgb(palette[index % len(palette)]) for index in range(len(groups.groups))])[strongest]
    return (base * 0.55 * (1 - alpha) + colours * alpha).round().astype(np.uint8)


def group_image(photo: np.ndarray, map2d: np.ndarray, colour: str, width: int) -> np.ndarray:
    """Where one group fires (its map, on its own scale), in its colour over the dimmed photo `width` px wide."""
    from featviz_core.dissect import upsampled

    base = resized(photo, width).astype(np.float32)
    alpha = upsampled(map2d, (base.shape[1], base.shape[0]))[..., None] * 0.85
    return (base * 0.45 * (1 - alpha) + hex_rgb(colour) * alpha).round().astype(np.uint8)


def side_by_side(images: Sequence[np.ndarray], size: int) -> np.ndarray:
    """Images resized to size x size, in a row."""
    return np.hstack([np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR))
                      for image in images])


def jpeg_bytes(image: np.ndarray, quality: int = 88) -> bytes:
    """A JPEG file of the image (a composed photo: far smaller than a PNG)."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
