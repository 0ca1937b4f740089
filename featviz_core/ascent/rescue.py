"""The dead-filter rescue: filters whose picture does not fire are climbed until it does.

A filter is "dead" when its picture, as shown, does not activate it. The rescue climbs such a filter's
strongest pre-activation, untransformed, with gradients redirected through ReLUs that would block them
(`lean_gradients`), until the picture fires; as a last resort it starts the picture again from the
photo patch where the filter fires most. What the photos say comes from the caller as `PhotoAnswers`
(`featviz_core.examples.photo_response.SamplePhotoAnswers` for the sample photos): the ascent itself
knows nothing of photos.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Protocol

import numpy as np

from featviz_core import imaging
from featviz_core.parts import PARAMETERIZATIONS
from featviz_core.results import fires_on_photos
from featviz_core.settings import Method

DEAD_LOSS = imaging.EPSILON
RESCUE_STEPS = 32  # most steps spent, each time, making a dead filter fire
RESCUED_LOSS = 1.0  # after the warm-up, a rescued filter fires clearly enough to survive the transforms

Norms = tuple[tuple[float, ...], tuple[float, ...]]


class PhotoAnswers(Protocol):
    """What photos say about one layer's filters; None where the photos cannot tell."""

    def peak(self, filter_index: int) -> float | None:
        """The filter's strongest response on the photos."""

    def tile(self, filter_index: int, size: int) -> np.ndarray | None:
        """A size x size float RGB image tiled with the patch where the filter fires most."""

    def norms(self) -> Norms | None:
        """Every filter's (mean, spread) on the photos (the rivals term's z-scores)."""


class NoPhotos:
    """No photos: a dead filter's note then says "not checked"; no rivals term, no rescue from a patch."""

    def peak(self, filter_index: int) -> None:
        return None

    def tile(self, filter_index: int, size: int) -> None:
        return None

    def norms(self) -> None:
        return None


class RunState(Protocol):
    """What the rescue reads and changes of a batched render (`loop._Run`): its images and their state."""

    step: Any  # the render's compiled step (`loop.AscentStep`)
    pixels: np.ndarray
    params: np.ndarray
    first: np.ndarray
    second: np.ndarray
    alive: np.ndarray
    filters: np.ndarray
    groups: np.ndarray
    rescue_steps: np.ndarray
    losses: list[list[float]]

    def shown_activations(self, indices: np.ndarray) -> np.ndarray:
        """The objective on these images' pictures as shown."""


def rescue_method(method: Method) -> Method:
    """The step that rescues a dead filter: its strongest pre-activation, with the network seeing the
    picture as it will be shown (contrast-normalized and clipped, unless the parameterization is bounded
    and its pixels are shown as they are) so that the shown picture fires, and no random transforms
    (they move the position that is closest to firing from step to step)."""
    shown = "none" if PARAMETERIZATIONS[method.parameterization].load().bounded else "shown"
    return replace(method, transforms=shown, climb_strongest=True)


class Rescue:
    """The rescue of one batched render: it reads and changes the run's images (`RunState`) in place. The run
    is handed to each call rather than kept, so that no reference cycle keeps a finished run (and its
    compiled step) alive until the garbage collector's next full pass."""

    def __init__(self, step: Callable[[], Any], photos: PhotoAnswers) -> None:
        self.step = step  # the rescue's compiled step, made on first use
        self.photos = photos

    def after_warmup(self, run: RunState, step_size: float) -> None:
        """The warm-up is over: climb every dead filter, then restart photo-firing ones still dead from their patch."""
        self.climb_dead(run, step_size, RESCUED_LOSS)
        self.from_photos(run, step_size, RESCUED_LOSS)

    def after_resize(self, run: RunState, step_size: float) -> None:
        """An octave enlarged the pictures: climb again the photo-firing filters the resize lost."""
        self.climb_dead(run, step_size, RESCUED_LOSS, only_photo_firing=True)

    def at_end(self, run: RunState, step_size: float) -> None:
        """The last octave is done: the transforms may have kept a filter from firing."""
        self.climb_dead(run, step_size, DEAD_LOSS)
        self.from_photos(run, step_size, DEAD_LOSS)

    def climb_dead(self, run: RunState, step_size: float, enough: float, only_photo_firing: bool = False) -> None:
        """Climb the strongest pre-activation of each filter whose picture (as shown) does not fire,
        untransformed, until the picture fires above `enough` (at most RESCUE_STEPS steps); the requested
        objective then goes on from there. Pictures that fire are left as they are. With
        `only_photo_firing`, only filters known to fire on the photos are rescued (again)."""
        dead = self._dead_pictures(run, only_photo_firing)
        if len(dead):
            self._climb(run, dead, step_size, enough)

    def from_photos(self, run: RunState, step_size: float, enough: float) -> None:
        """The last resort for filters that fire on the photos but whose picture the climb could not make
        fire: start the picture again from the photo patch where the filter fires most, tiled over the
        image, and climb from there."""
        seeded = []
        for index in self._dead_pictures(run, only_photo_firing=True):
            tile = self.photos.tile(int(run.filters[index]), run.pixels.shape[1])
            if tile is not None:
                run.pixels[index] = imaging.match_channels(tile, run.step.working_channels)
                seeded.append(index)
        if seeded:
            run.params[seeded] = run.step.parameterization.from_pixels(run.pixels[seeded]).numpy()
            self._climb(run, np.array(seeded), step_size, enough)

    def _dead_pictures(self, run: RunState, only_photo_firing: bool) -> np.ndarray:
        """The images still climbing whose picture, as shown, does not fire (with `only_photo_firing`, of
        filters known to fire on the photos)."""
        weak = np.array([index for index in np.flatnonzero(run.alive) if run.losses[index][-1] <= RESCUED_LOSS], int)
        dead = weak[run.shown_activations(weak) <= DEAD_LOSS]  # (a strong climber's picture fires: not measured)
        if only_photo_firing:  # (asked last: the first time for a layer, it scores the photos)
            dead = np.array([index for index in dead if fires_on_photos(self.photos.peak(int(run.filters[index])))], int)
        return dead

    def _climb(self, run: RunState, dead: np.ndarray, step_size: float, enough: float) -> None:
        """The rescue's steps on these images until each picture fires above `enough`."""
        step = self.step()
        params = run.params[dead]
        first, second = np.zeros_like(params), np.zeros_like(params)
        climbing = np.arange(len(dead))
        for count in range(1, RESCUE_STEPS + 1):
            new, first[climbing], second[climbing], pixels, _ = (value.numpy() for value in step.step(
                params[climbing], first[climbing], second[climbing], float(count), run.filters[dead[climbing]],
                run.groups[dead[climbing]], step_size, np.ones(len(climbing), bool), count))
            params[climbing] = new
            run.pixels[dead[climbing]] = pixels
            run.rescue_steps[dead[climbing]] += 1
            climbing = climbing[run.shown_activations(dead[climbing]) <= enough]
            if not len(climbing):
                break
        run.params[dead] = params
        run.first[dead], run.second[dead] = 0.0, 0.0
