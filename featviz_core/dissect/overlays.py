"""Pictures drawn over the photo: the grid of filter pictures, a filter's heat map, the neuron groups'
colours. Each takes the photo as fed (uint8 RGB) and returns a uint8 RGB image of its size."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from PIL import Image

from featviz_core.dissect.report import Dissection, upsampled
from featviz_core.imaging import LUMA

# One colour per neuron group (at most 8), distinct on a photo.
GROUP_COLOURS = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25), (145, 30, 180), (245, 130, 48),
                 (70, 240, 240), (240, 50, 230))
FAINTEST = 0.15  # a cell whose best filter barely fires still shows a trace of its picture
HEAT = np.array((255, 235, 0), np.float32)  # yellow over the photo in gray: visible on any colour
LAID = 0.8  # how opaque the overlay is where it is strongest


def _fed_box(found: Dissection, row: int, col: int) -> tuple[int, int, int, int]:
    """A cell's (left, top, right, bottom) in the photo as fed."""
    width, height = found.activations.given_size
    fed_height, fed_width = found.activations.fed.shape[:2]
    x, y, w, h = found.grid.box(row, col)
    return (round(x * fed_width / width), round(y * fed_height / height),
            round((x + w) * fed_width / width), round((y + h) * fed_height / height))


def grid_mosaic(found: Dissection, pictures: Mapping[int, np.ndarray]) -> np.ndarray:
    """The photo with each cell covered by the picture of its strongest filter, the more opaque the
    stronger it fires (relative to the strongest cell); cells whose filter has no picture keep the photo."""
    canvas = Image.fromarray(found.activations.fed).convert("RGB")
    best, strength = found.grid.strongest()
    peak = float(strength.max())
    for row in range(best.shape[0]):
        for col in range(best.shape[1]):
            picture = pictures.get(int(best[row, col]))
            left, top, right, bottom = _fed_box(found, row, col)
            if picture is None or right <= left or bottom <= top:
                continue
            alpha = FAINTEST + (1 - FAINTEST) * (float(strength[row, col]) / peak if peak > 0 else 0.0)
            tile = Image.fromarray(picture).resize((right - left, bottom - top), Image.Resampling.BILINEAR)
            under = canvas.crop((left, top, right, bottom))
            canvas.paste(Image.blend(under, tile, alpha), (left, top))
    return np.asarray(canvas)


def _gray(photo: np.ndarray) -> np.ndarray:
    """The photo in dimmed gray (float, 3 channels): what an overlay is laid on."""
    return np.repeat((photo.astype(np.float32) @ np.array(LUMA, np.float32))[..., None], 3, axis=-1) * 0.8


def heat_overlay(found: Dissection, filter_index: int) -> np.ndarray:
    """The photo in gray with the filter's activation laid over it in yellow (its own maximum the brightest)."""
    photo = found.activations.fed
    height, width = photo.shape[:2]
    heat = upsampled(found.heat_map(filter_index), (width, height))[..., None] * LAID
    return np.clip(_gray(photo) * (1 - heat) + HEAT * heat, 0, 255).astype(np.uint8)


def group_overlay(found: Dissection) -> np.ndarray:
    """The photo in gray with each position coloured by its strongest neuron group, more opaque where it
    is stronger."""
    photo = found.activations.fed
    if found.groups is None:
        return photo
    height, width = photo.shape[:2]
    maps = np.stack([upsampled(group.map, (width, height)) * float(group.map.max())
                     for group in found.groups.groups], axis=-1)
    strongest = maps.argmax(axis=-1)
    strength = maps.max(axis=-1)
    strength = (strength / strength.max() if strength.max() > 0 else strength)[..., None] * LAID
    colours = np.array(GROUP_COLOURS, np.float32)[strongest]
    return np.clip(_gray(photo) * (1 - strength) + colours * strength, 0, 255).astype(np.uint8)
