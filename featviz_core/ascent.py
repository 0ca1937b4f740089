"""Gradient ascent on the input image: the render loop that turns settings into a Result.

The algorithm follows Keras' classic `conv_filter_visualization.py`: the loss is the mean output of
one filter, each step adds the RMS-normalized gradient times the step size, and between octaves the
image is deprocessed, enlarged and mapped back. Several filters of one layer run as one batch.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from . import imaging
from .devices import device_name
from .models import LoadedModel, feature_model, load_model
from .precision import compute_dtype, with_compute_dtype
from .settings import RenderSettings
from .start_images import make_start_image

DEAD_LOSS = imaging.EPSILON


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


ProgressCallback = Callable[[Progress], "bool | None"]


class AscentStep:
    """A compiled ascent step for one layer of one model: images in, better images and losses out."""

    def __init__(self, loaded: LoadedModel, layer: str) -> None:
        self.dtype = compute_dtype()
        self.features = with_compute_dtype(feature_model(loaded.model, layer), self.dtype)
        self.preprocess = loaded.preprocess
        self.step = tf.function(
            self._step,
            input_signature=(
                tf.TensorSpec([None, None, None, 3], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([], tf.bool),
            ),
        )
        self.activation = tf.function(
            self._activation,
            input_signature=(tf.TensorSpec([None, None, None, 3], tf.float32), tf.TensorSpec([None], tf.int32)),
        )

    def _filter_means(self, images: tf.Tensor, filters: tf.Tensor, raw_input: tf.Tensor) -> tf.Tensor:
        inputs = tf.cond(raw_input, lambda: images, lambda: self.preprocess(images))
        outputs = self.features(inputs, training=False)
        chosen = tf.gather(outputs, filters, axis=3, batch_dims=1)  # (batch, h, w)
        return tf.reduce_mean(tf.cast(chosen, tf.float32), axis=[1, 2])

    def _step(self, images: tf.Tensor, filters: tf.Tensor, step_size: tf.Tensor,
              raw_input: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            tape.watch(images)
            losses = self._filter_means(images, filters, raw_input)
            total = tf.reduce_sum(losses)
        grads = tape.gradient(total, images)
        rms = tf.sqrt(tf.reduce_mean(tf.square(grads), axis=[1, 2, 3], keepdims=True))
        return images + step_size * grads / (rms + imaging.EPSILON), losses

    def _activation(self, images: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
        return self._filter_means(images, filters, tf.constant(False))

    def trace_count(self) -> int:
        """How many times the step has been traced (compiled) so far."""
        return self.step.experimental_get_tracing_count()


@functools.lru_cache(maxsize=4)
def cached_model(name: str) -> LoadedModel:
    """Load a model once per process (the dashboard uses Streamlit's cache instead)."""
    return load_model(name)


@functools.lru_cache(maxsize=16)
def ascent_step(loaded: LoadedModel, layer: str) -> AscentStep:
    """The compiled step for a model and layer, built once and reused."""
    return AscentStep(loaded, layer)


def render(settings: RenderSettings, model: LoadedModel | None = None,
           on_progress: ProgressCallback | None = None) -> Result:
    """Render one filter. `on_progress` is called after each step; returning False stops early."""
    return render_batch(settings, [settings.filter], model, on_progress)[0]


def render_batch(settings: RenderSettings, filters: Sequence[int], model: LoadedModel | None = None,
                 on_progress: ProgressCallback | None = None) -> list[Result]:
    """Render several filters of one layer in one batched pass (batch dimension = filters)."""
    loaded = model or cached_model(settings.model)
    per_filter = [settings.with_changes(filter=int(index)) for index in filters]
    for item in per_filter:
        item.check_layer(loaded.layers)
    if not per_filter:
        raise ValueError("filters must name at least one filter")
    return _Run(settings, per_filter, ascent_step(loaded, settings.layer), on_progress).execute()


class _Run:
    """The state of one batched render while it runs."""

    def __init__(self, settings: RenderSettings, per_filter: list[RenderSettings], step: AscentStep,
                 on_progress: ProgressCallback | None) -> None:
        self.settings = settings
        self.per_filter = per_filter
        self.step = step
        self.on_progress = on_progress
        count = len(per_filter)
        self.filters = tf.constant([s.filter for s in per_filter], tf.int32)
        self.losses: list[list[float]] = [[] for _ in range(count)]
        self.alive = np.ones(count, dtype=bool)
        self.steps_done = np.zeros(count, dtype=int)
        self.snapshots: list[list[Snapshot]] = [[] for _ in range(count)]
        start = make_start_image(settings.start, settings.octave_sizes[0], settings.seed, settings.start_photo)
        self.images = np.repeat(start[None], count, axis=0)
        self.octave_starts: list[int] = []
        self.cancelled = False

    def execute(self) -> list[Result]:
        began = time.perf_counter()
        settings = self.settings
        self._snapshot()
        step_size = tf.constant(settings.step_size, tf.float32)
        raw_input = tf.constant(settings.raw_input)
        done = 0
        for octave, size in enumerate(settings.octave_sizes):
            if octave:
                self._resize_all(size)
            self.octave_starts.append(done)
            for _ in range(settings.steps_per_octave):
                alive = np.flatnonzero(self.alive)
                new_images, losses = self.step.step(tf.constant(self.images[alive], tf.float32),
                                                    tf.gather(self.filters, alive), step_size, raw_input)
                self._record(alive, losses.numpy(), new_images.numpy())
                done += 1
                if done % settings.snapshot_stride == 0:
                    self._snapshot()
                if self._should_stop(done, octave, size):
                    break
            if self.cancelled or not self.alive.any():
                break
        self._snapshot()
        self._resize_all(settings.final_size)
        return self._results(time.perf_counter() - began)

    def _record(self, indices: np.ndarray, losses: np.ndarray, new_images: np.ndarray) -> None:
        """Store one step's losses and images for the filters that were still alive."""
        for index, loss, image in zip(indices, losses, new_images):
            self.losses[index].append(float(loss))
            if loss <= DEAD_LOSS:
                self.alive[index] = False  # the classic script drops such a filter here
            else:
                self.images[index] = image
                self.steps_done[index] += 1

    def _should_stop(self, done: int, octave: int, size: int) -> bool:
        if not self.alive.any():
            return True
        if self.on_progress is None:
            return False
        latest = np.array([values[-1] if values else 0.0 for values in self.losses])
        event = Progress(done, self.settings.total_steps, octave, size, latest, imaging.deprocess(self.images[0]))
        if self.on_progress(event) is False:
            self.cancelled = True
        return self.cancelled

    def _resize_all(self, size: int) -> None:
        self.images = np.stack([imaging.resize_working_image(image, size) for image in self.images])

    def _snapshot(self) -> None:
        """Keep the displayed image of every filter whose image changed since its last snapshot."""
        for index, image in enumerate(self.images):
            steps = int(self.steps_done[index])
            taken = self.snapshots[index]
            if not taken or taken[-1].step != steps:
                taken.append(Snapshot(steps, imaging.deprocess(image)))

    def _results(self, seconds: float) -> list[Result]:
        shown = np.stack([imaging.deprocess(image) for image in self.images])
        activations = self.step.activation(tf.constant(shown, tf.float32), self.filters).numpy()
        return [
            Result(
                settings=item,
                image=shown[index],
                losses=np.asarray(self.losses[index], dtype=np.float32),
                octave_sizes=self.settings.octave_sizes,
                octave_starts=tuple(self.octave_starts),
                snapshots=tuple(self.snapshots[index]),
                final_activation=float(activations[index]),
                dead=not self.alive[index],
                cancelled=self.cancelled,
                seconds=seconds,
                device=f"{device_name()}, {self.step.dtype}",
            )
            for index, item in enumerate(self.per_filter)
        ]
