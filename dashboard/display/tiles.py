"""Gallery tiles: order, dead-filter marking and the collage."""

from __future__ import annotations

from typing import Iterable, TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from featviz_core import imaging
from featviz_core.results import Result, fires_on_photos

ORDERS = ("final loss", "filter index")
T = TypeVar("T")
DEAD_GRAY = (58, 58, 62)
DEAD_TEXT = (225, 225, 225)


def ordered(items: Iterable[T], order: str) -> list[T]:
    """Highest final loss first (the classic collage), or by filter index: Results, or anything with a .result."""
    def result(item: T) -> Result:
        return getattr(item, "result", item)

    if order == "final loss":
        return sorted(items, key=lambda item: (not result(item).dead, result(item).final_loss), reverse=True)
    return sorted(items, key=lambda item: result(item).settings.filter)


def tile_image(result: Result) -> np.ndarray:
    """The picture; a dead filter's is a plain tile that says so (its picture shows nothing)."""
    if not result.dead:
        return result.image
    return dead_tile(result.image.shape[0], result.photo_peak)


def dead_tile(size: int, photo_peak: float | None) -> np.ndarray:
    """A plain dark tile: 'dead', and whether the filter fires on the sample photos."""
    tile = Image.new("RGB", (size, size), DEAD_GRAY)
    draw = ImageDraw.Draw(tile)
    font = ImageFont.load_default(size=max(10, size // 8))
    lines = ["dead"] + (["fires on photos"] if fires_on_photos(photo_peak) else
                        ["silent on photos"] if photo_peak is not None else [])
    for row, text in enumerate(lines):
        draw.text((size // 2, size // 2 + (row - (len(lines) - 1) / 2) * size // 6), text, fill=DEAD_TEXT,
                  font=font, anchor="mm")
    return np.asarray(tile)


def caption(result: Result) -> str:
    state = f"dead: {result.dead_note}" if result.dead else f"loss {result.final_loss:.3g}"
    return f"#{result.settings.filter} · {state}"


def collage_png(results: list[Result]) -> bytes:
    """The tiles in their shown order as one PNG with 5 px margins."""
    return imaging.png_bytes(imaging.collage([tile_image(result) for result in results]))
