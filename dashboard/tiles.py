"""Gallery tiles: order, dead-filter marking and the collage."""

from __future__ import annotations

from typing import Iterable, TypeVar

import numpy as np

from featviz_core import imaging
from featviz_core.results import Result

ORDERS = ("final loss", "filter index")
T = TypeVar("T")
DEAD_RED = np.array([200, 40, 40], dtype=np.uint8)


def ordered(items: Iterable[T], order: str) -> list[T]:
    """Highest final loss first (the classic collage), or by filter index: Results, or anything with a .result."""
    def result(item: T) -> Result:
        return getattr(item, "result", item)

    if order == "final loss":
        return sorted(items, key=lambda item: (not result(item).dead, result(item).final_loss), reverse=True)
    return sorted(items, key=lambda item: result(item).settings.filter)


def tile_image(result: Result) -> np.ndarray:
    """The picture; a dead filter's is dimmed to gray inside a red frame, so it is marked, not hidden."""
    if not result.dead:
        return result.image
    gray = (result.image.astype(np.float64).mean(axis=2, keepdims=True) * 0.45).astype(np.uint8)
    marked = np.repeat(gray, 3, axis=2)
    border = max(2, marked.shape[0] // 24)
    marked[:border], marked[-border:], marked[:, :border], marked[:, -border:] = (DEAD_RED,) * 4
    return marked


def caption(result: Result) -> str:
    state = "dead" if result.dead else f"loss {result.final_loss:.3g}"
    return f"#{result.settings.filter} · {state}"


def collage_png(results: list[Result]) -> bytes:
    """The tiles in their shown order as one PNG with 5 px margins."""
    return imaging.png_bytes(imaging.collage([tile_image(result) for result in results]))
