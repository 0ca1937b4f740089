"""What a render gives back: the Result, its per-step Snapshots and the Progress events.

TensorFlow-free, so that the dashboard can show stored and precomputed pictures without loading it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .settings import RenderSettings


@dataclass(frozen=True)
class Snapshot:
    """The displayed image after `step` ascent steps (step 0 is the start image)."""

    step: int
    image: np.ndarray


@dataclass(frozen=True)
class Result:
    """One rendered filter: the picture and everything needed to explain how it got there."""

    settings: RenderSettings
    image: np.ndarray
    losses: np.ndarray
    octave_sizes: tuple[int, ...]
    octave_starts: tuple[int, ...]
    snapshots: tuple[Snapshot, ...]
    final_activation: float
    dead: bool
    cancelled: bool
    seconds: float
    device: str
    variants: tuple[np.ndarray, ...] = ()  # the filter's other pictures (settings.variants - 1 of them)
    model_view: np.ndarray | None = None  # every channel of the picture, for a model with more than three
    rescue_steps: int = 0  # steps spent making a filter that did not fire after the warm-up fire

    @property
    def measured_image(self) -> np.ndarray:
        """The picture as the model takes it (all its channels), for measuring; `image` shows three."""
        return self.image if self.model_view is None else self.model_view

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1]) if len(self.losses) else 0.0

    @property
    def steps_run(self) -> int:
        return len(self.losses)


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
    """The quality proxies of one result image (featviz_core.quality measures them)."""

    act: float
    robust: float
    hf: float
    dead: bool
