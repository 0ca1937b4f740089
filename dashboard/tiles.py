"""Gallery tiles: order, dead-filter marking and the collage."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from featviz_core import imaging
from featviz_core.ascent import Result

ORDERS = ("final loss", "filter index")
DEAD_RED = np.array([200, 40, 40], dtype=np.uint8)


def ordered(results: Iterable[Result], order: str) -> list[Result]:
    """Highest final loss first (the classic collage), or by filter index."""
    if order == "final loss":
        return sorted(results, key=lambda result: (not result.dead, result.final_loss), reverse=True)
    return sorted(results, key=lambda result: result.settings.filter)


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
