"""The sheet of `featviz dissect`: the photo with its grid of filter pictures, the photo's top filters
(picture, heat map, best sample-photo patches) and the neuron groups (their colours over the photo, each
group's picture and strongest channels)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

from featviz_core.dissect.overlays import GROUP_COLOURS, grid_mosaic, group_overlay, heat_overlay, hex_rgb, resized
from featviz_core.dissect.pictures import FilterPicture
from featviz_core.dissect.report import Dissection

TILE = 112
GRID_WIDTH = 512  # px: the photo with its grid of pictures
GAP = 8
TEXT = 14
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


def _fit(image: np.ndarray, height: int) -> Image.Image:
    """An image scaled to `height` pixels tall, ready to paste."""
    return Image.fromarray(resized(image, height=height))


def _row(items: Sequence[tuple[Image.Image, str]]) -> Image.Image:
    """Images side by side, each with its caption under it."""
    width = sum(image.width for image, _ in items) + GAP * (len(items) - 1)
    height = max(image.height for image, _ in items) + TEXT + 2
    row = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(row)
    left = 0
    for image, caption in items:
        row.paste(image, (left, 0))
        draw.text((left, image.height + 1), caption, fill=INK)
        left += image.width + GAP
    return row


def _stack(parts: Sequence[Image.Image], title: str) -> Image.Image:
    """Parts one under the other, under a title line."""
    width = max([part.width for part in parts] + [len(title) * 7])
    height = TEXT + GAP + sum(part.height + GAP for part in parts)
    stacked = Image.new("RGB", (width, height), BACKGROUND)
    ImageDraw.Draw(stacked).text((0, 0), title, fill=INK)
    top = TEXT + GAP
    for part in parts:
        stacked.paste(part, (0, top))
        top += part.height + GAP
    return stacked


def dissection_sheet(found: Dissection, pictures: Mapping[int, FilterPicture],
                     patches: Mapping[int, Sequence[np.ndarray]],
                     group_pictures: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """The whole sheet (uint8 RGB). `pictures` holds a picture for every cell's best filter and every top
    filter; `patches` each top filter's best sample-photo patches; `group_pictures` one per group, if
    rendered."""
    rows, cols = found.grid.shape
    photo = found.activations.fed
    mosaic = grid_mosaic(photo, found.grid, {index: item.image for index, item in pictures.items()}, GRID_WIDTH)
    grid = _stack([Image.fromarray(mosaic)],
                  f"{found.model} {found.layer}: each of the {rows} x {cols} cells shows its strongest filter's "
                  f"picture, the stronger the more opaque")
    tops = []
    for item in found.top_filters:
        picture = pictures[item.filter]
        captions = [(_fit(picture.image, TILE), f"filter {item.filter}" + (" (patch)" if picture.source != "atlas" else "")),
                    (_fit(heat_overlay(photo, found.heat_map(item.filter), TILE * 2), TILE), f"mean {item.activation:.3g}")]
        captions += [(_fit(image, TILE), "sample photo") for image in patches.get(item.filter, ())]
        tops.append(_row(captions))
    parts = [grid, _stack(tops, "the photo's top filters: picture, where it fires, its best sample-photo patches")]
    if found.groups is not None:
        items = [(_fit(group_overlay(photo, found.groups, TILE * 4), TILE * 2),
                  f"{len(found.groups.groups)} groups (error {found.groups.error:.2f})")]
        for index, group in enumerate(found.groups.groups):
            colour = tuple(int(value) for value in hex_rgb(GROUP_COLOURS[index]))
            swatch = np.zeros((TILE, TILE, 3), np.uint8) + np.array(colour, np.uint8)
            image = group_pictures[index] if group_pictures is not None else swatch
            strongest = ", ".join(str(int(channel)) for channel in np.argsort(-group.weights)[:3])
            framed = _fit(image, TILE)
            ImageDraw.Draw(framed).rectangle((0, 0, framed.width - 1, framed.height - 1), outline=colour, width=4)
            items.append((framed, f"ch {strongest}"))
        parts.append(_stack([_row(items)], "neuron groups: where each fires, its picture, its strongest channels"))
    width = max(part.width for part in parts) + 2 * GAP
    height = sum(part.height for part in parts) + GAP * (len(parts) + 1)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    top = GAP
    for part in parts:
        sheet.paste(part, (GAP, top))
        top += part.height + GAP
    return np.asarray(sheet)
