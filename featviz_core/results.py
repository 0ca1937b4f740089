"""What a render gives back: the Result, its per-step Snapshots and the Progress events.

TensorFlow-free, so that the dashboard can show stored and precomputed pictures without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable

import numpy as np

from featviz_core.settings import RenderSettings


FIRES = 1e-7  # a strongest response on the sample photos above this: the filter fires on them


def fires_on_photos(photo_peak: float | None) -> bool:
    """Whether a filter's strongest response on the sample photos (None: not checked) shows it fires."""
    return photo_peak is not None and photo_peak > FIRES


def dead_note(photo_peak: float | None) -> str:
    """What a dead picture says about its filter, from its strongest response on the sample photos."""
    if photo_peak is None:
        return "not checked against the sample photos"
    if fires_on_photos(photo_peak):
        return f"fires on the sample photos (up to {photo_peak:.3g}): the ascent failed, the filter is alive"
    return "never fires on the sample photos either: a dead filter"


class LazyImage:
    """A dataclass field holding a picture (a uint8 array), which may be given as a function that makes it
    instead: the function is called on first access, once. An atlas picture is decoded only when something
    asks for its pixels."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}"

    def __get__(self, instance: object | None, owner: type | None = None) -> np.ndarray:
        if instance is None:
            raise AttributeError(self._slot)  # no default value: the field stays a required one
        value = instance.__dict__[self._slot]
        if callable(value):
            value = instance.__dict__[self._slot] = value()
        return value

    def __set__(self, instance: object, value: np.ndarray | Callable[[], np.ndarray]) -> None:
        instance.__dict__[self._slot] = value


@dataclass(frozen=True)
class Snapshot:
    """The displayed image after `step` ascent steps (step 0 is the start image)."""

    step: int
    image: np.ndarray = LazyImage()


@dataclass(frozen=True, kw_only=True)
class RenderRecord:
    """What one render of a filter measured, declared once: a Result and an atlas entry are both records."""

    losses: np.ndarray | tuple[float, ...]  # one per step (a Result's: a float32 array; an atlas entry's: a tuple)
    octave_sizes: tuple[int, ...]
    octave_starts: tuple[int, ...]
    final_activation: float
    dead: bool
    seconds: float
    device: str
    rescue_steps: int = 0  # steps spent making a filter that did not fire after the warm-up fire
    photo_peak: float | None = None  # a dead picture's filter: its strongest response on the sample photos

    def record(self) -> dict[str, Any]:
        """The RenderRecord fields by name (a subclass' own left out): to make one kind of record from another."""
        return {item.name: getattr(self, item.name) for item in fields(RenderRecord)}

    @property
    def dead_note(self) -> str:
        """For a dead picture, whether its filter fires on real photos ('' for a live picture)."""
        if not self.dead:
            return ""
        return dead_note(self.photo_peak)

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1]) if len(self.losses) else 0.0

    @property
    def steps_run(self) -> int:
        return len(self.losses)


@dataclass(frozen=True, kw_only=True)
class Result(RenderRecord):
    """One rendered filter: the picture and everything needed to explain how it got there."""

    settings: RenderSettings
    image: np.ndarray = LazyImage()  # (or a function that makes it: see LazyImage)
    snapshots: tuple[Snapshot, ...]
    cancelled: bool
    variants: tuple[np.ndarray, ...] = ()  # the filter's other pictures (settings.variants - 1 of them)
    model_view: np.ndarray | None = None  # every channel of the picture, for a model with more than three

    @property
    def measured_image(self) -> np.ndarray:
        """The picture as the model takes it (all its channels), for measuring; `image` shows three."""
        return self.image if self.model_view is None else self.model_view


@dataclass(frozen=True)
class Progress:
    """Sent to the progress callback after every step."""

    step: int
    total_steps: int
    octave: int
    size: int
    losses: np.ndarray
    preview: np.ndarray


@dataclass(frozen=True)
class Quality:
    """The quality proxies of one result image (featviz_core.ascent.quality measures them)."""

    act: float
    robust: float
    hf: float
    dead: bool
