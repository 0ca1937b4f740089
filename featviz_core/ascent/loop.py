"""Gradient ascent on the input image: the render loop that turns settings into a Result.

By default it follows Keras' classic `conv_filter_visualization.py`: the loss is the mean output of
one filter, each step adds the RMS-normalized gradient times the step size, and between octaves the
image is deprocessed, enlarged and mapped back. The settings name the parts that replace the classic
ones (objective terms, parameterization, transforms, optimizer: see `featviz_core.parts`), and the
warm-up. Several filters of one layer, and several variants of each, run as one batch.
"""

from __future__ import annotations

import functools
import threading
import time
import weakref
from dataclasses import replace
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from featviz_core import imaging
from featviz_core.bounded import Bounded
from featviz_core.ascent import objectives
from featviz_core.models.devices import device_name
from featviz_core.ascent.lean_gradients import lean_input_gradients
from featviz_core.memory import release_freed_memory
from featviz_core.models import LoadedModel, fixed_input_size, load_model, pre_activation_model
from featviz_core.parts import OPTIMIZERS, PARAMETERIZATIONS, TRANSFORMS
from featviz_core.models.preprocessing import measured_with, preprocess_for, to_model_channels, working_channels
from featviz_core.models.precision import model_compute_dtype
from featviz_core.ascent.rescue import DEAD_LOSS, NoPhotos, PhotoAnswers, Rescue, rescue_method
from featviz_core.results import Progress, Result, Snapshot
from featviz_core.settings import PLATEAU_STEPS, Method, RenderSettings
from featviz_core.ascent.start_images import make_start_image



ProgressCallback = Callable[[Progress], "bool | None"]


class AscentStep:
    """A compiled ascent step for one layer of one model and one method.

    It maps the optimized variable to pixels (parameterization), optionally transforms them
    (robustness), runs the network up to the layer, scores the objective and takes one step.
    While an image is "warm" the objective reads the layer's pre-activation, so a filter whose
    ReLU output is zero everywhere ("dead") still gets a gradient (tf-keras-vis' ReplaceToLinear).
    `warm` is per image: the warm-up steps, and afterwards any filter that is still dead.

    The optimized image has `preprocessing.working_channels` channels: RGB for 1- and 3-channel models
    (a 1-channel model sees its luminance, made right before the preprocessing), and every channel of
    a model with 4 or more, all of them optimized; pictures show the first three.
    """

    def __init__(self, loaded: LoadedModel, layer: str, method: Method) -> None:
        self.method = method
        self.parameterization = PARAMETERIZATIONS[method.parameterization].load()
        self.transform = TRANSFORMS[method.transforms].load()
        self.optimize = OPTIMIZERS[method.optimizer].load()
        network, activation = pre_activation_model(loaded.model, layer)
        # The logit objective reads class scores before a built-in softmax, never the probabilities.
        self.activation_fn = tf.identity if method.objective.reads_logits else activation
        self.features = network  # it computes in the model's precision (`precision.use_compute_dtype`)
        self.dtype = model_compute_dtype(network)
        self.channels = loaded.channels
        self.working_channels = working_channels(loaded.channels)
        self.preprocess = preprocess_for(loaded, method.preprocessing)
        self.measure_preprocess = preprocess_for(loaded, measured_with(method.preprocessing))
        self.input_size = fixed_input_size(loaded.model)
        # With channel weights the layer is read as their weighted sums (channels x rows), row i as filter i.
        self.mix = tf.constant(np.array(method.channel_weights, np.float32).T) if method.channel_weights else None
        self.rival_norms = tuple(tf.constant(np.array(values, np.float32)) for values in method.rival_norms)
        image_spec = tf.TensorSpec([None] * 4, tf.float32)
        self.step = tf.function(self._step, input_signature=(
            image_spec, image_spec, image_spec, tf.TensorSpec([], tf.float32),  # param, optimizer moments, count
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),  # filter and group of each image
            tf.TensorSpec([], tf.float32), tf.TensorSpec([None], tf.bool), tf.TensorSpec([], tf.int32),  # step, warm, seed
        ))
        self.measure = tf.function(self._measure, input_signature=(
            tf.TensorSpec([None, None, None, self.working_channels], tf.float32), tf.TensorSpec([None], tf.int32)))

    def _network_view(self, pixels: tf.Tensor, preprocess: Callable[[tf.Tensor], tf.Tensor]) -> tf.Tensor:
        """Working pixels (0..255) as the network takes them: its channels, preprocessed, at its input size."""
        inputs = preprocess(to_model_channels(pixels, self.channels))
        if self.input_size is not None:
            inputs = tf.image.resize(inputs, self.input_size)
        return inputs

    def _layer_outputs(self, pixels: tf.Tensor, warm: tf.Tensor,
                       preprocess: Callable[[tf.Tensor], tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        """(what the objective reads, the layer's real output) for a batch of pixel images."""
        pre = tf.cast(self.features(self._network_view(pixels, preprocess), training=False), tf.float32)
        post = self.activation_fn(pre)
        if self.mix is not None:  # the weighted sums of the real outputs; while warm, of the pre-activations
            pre, post = tf.tensordot(pre, self.mix, 1), tf.tensordot(post, self.mix, 1)
        per_image = tf.reshape(warm, [-1] + [1] * (pre.shape.rank - 1))
        warm_view = _strongest(pre) if self.method.climb_strongest else pre
        return tf.where(per_image, warm_view, post), post

    def _step(self, param, first, second, count, filters, groups, step_size, warm, seed):
        objective = self.method.objective
        with lean_input_gradients(redirect_relu=self.method.redirect_relu):
            pixels = self.parameterization.to_pixels(param)
            outputs, real_outputs = self._layer_outputs(self.transform(pixels, seed), warm, self.preprocess)
            total = tf.reduce_sum(objectives.objective_scores(objective, outputs, pixels, filters, groups))
            if self.rival_norms:
                total -= self.method.rivals * tf.reduce_sum(objectives.rival_excess(outputs, filters, *self.rival_norms))
            grads = tf.gradients(total, param)[0]
        param, first, second = self.optimize(param, grads, step_size, first, second, count)
        reported = objectives.target_values(objective, real_outputs, filters)
        return param, first, second, self.parameterization.to_pixels(param), reported

    def _measure(self, images: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
        """The objective on displayed images, with no transforms, fed as `preprocessing.measured_with` says."""
        _, outputs = self._layer_outputs(images, tf.zeros_like(filters, tf.bool), self.measure_preprocess)
        return objectives.target_values(self.method.objective, outputs, filters)

    def trace_count(self) -> int:
        """How many times the step has been traced (compiled) so far."""
        return self.step.experimental_get_tracing_count()


def _strongest(pre: tf.Tensor) -> tf.Tensor:
    """Each channel's strongest pre-activation (a soft maximum over positions) at every position: a
    filter that is off everywhere starts firing soonest where it is closest to firing."""
    if pre.shape.rank != 4:
        return pre
    return tf.broadcast_to(tf.reduce_logsumexp(pre, axis=[1, 2], keepdims=True), tf.shape(pre))


@functools.lru_cache(maxsize=4)
def cached_model(name: str) -> LoadedModel:
    """Load a model once per process (the dashboard keeps its models on a shelf of its own)."""
    return load_model(name)


STEPS_PER_MODEL = 4  # compiled steps kept per model, least recently used dropped first
_steps: weakref.WeakKeyDictionary[LoadedModel, Bounded] = weakref.WeakKeyDictionary()
_steps_lock = threading.Lock()  # guards the weak map of per-model caches


def ascent_step(loaded: LoadedModel, layer: str, method: Method = Method()) -> AscentStep:
    """The compiled step for a model, layer and method, built once and reused. Each model keeps its
    few most recent steps, and they go (with their copies of the network) when the model goes."""
    with _steps_lock:
        steps = _steps.setdefault(loaded, Bounded(STEPS_PER_MODEL))
    return steps.get((layer, method), lambda: AscentStep(loaded, layer, method))


BATCH_PIXEL_BUDGET = 150_000  # about 400 MB of activations and gradients for VGG16 (measured on CPU)
MAX_BATCH = 16


def batch_limit(settings: RenderSettings) -> int:
    """How many filters to render together so one pass stays within the memory budget."""
    largest = max(settings.octave_sizes) ** 2 * (1.0 if settings.transforms == "none" else 1.5)  # pad and zoom
    return max(1, min(MAX_BATCH, int(BATCH_PIXEL_BUDGET // largest)) // settings.variants)


def render(settings: RenderSettings, model: LoadedModel | None = None,
           on_progress: ProgressCallback | None = None, photos: PhotoAnswers | None = None) -> Result:
    """Render one filter. `on_progress` is called after each step; returning False stops early."""
    return render_batch(settings, [settings.filter], model, on_progress, photos)[0]


def render_batch(settings: RenderSettings, filters: Sequence[int], model: LoadedModel | None = None,
                 on_progress: ProgressCallback | None = None, photos: PhotoAnswers | None = None) -> list[Result]:
    """Render several filters of one layer in one batched pass (batch dimension = filters x variants).

    `photos` tells the rescue and the rivals term what photos say about the layer's filters (none: no
    rivals term, no rescue from a photo patch, and a dead filter's note says "not checked");
    `featviz_core.rendering` passes the sample photos' answers."""
    loaded = model or cached_model(settings.model)
    per_filter = [settings.with_changes(filter=int(index)) for index in filters]
    for item in per_filter:
        item.check_layer(loaded.layers)
    if not per_filter:
        raise ValueError("filters must name at least one filter")
    photos = photos or NoPhotos()
    method = settings.method
    norms = photos.norms() if settings.rivals else None
    if norms:
        method = replace(method, rival_norms=norms)
    rescue_step = functools.partial(ascent_step, loaded, settings.layer, rescue_method(settings.method))
    results = _Run(settings, per_filter, ascent_step(loaded, settings.layer, method), on_progress,
                   rescue_step, photos).execute()
    release_freed_memory()  # give the big octaves' freed activations back to the OS between renders
    return [replace(result, photo_peak=photos.peak(result.settings.filter)) if result.dead else result
            for result in results]


class _Run:
    """The state of one batched render while it runs."""

    def __init__(self, settings: RenderSettings, per_filter: list[RenderSettings], step: AscentStep,
                 on_progress: ProgressCallback | None, rescue_step: Callable[[], AscentStep],
                 photos: PhotoAnswers) -> None:
        self.settings = settings
        self.rescue = Rescue(rescue_step, photos)
        self.per_filter = per_filter
        self.step = step
        self.on_progress = on_progress
        variants = settings.variants
        count = len(per_filter) * variants  # image i shows filter i // variants, its variant i % variants
        self.filters = np.repeat([s.filter for s in per_filter], variants).astype(np.int32)
        self.groups = np.repeat(np.arange(len(per_filter)), variants).astype(np.int32)
        self.losses: list[list[float]] = [[] for _ in range(count)]
        self.alive = np.ones(count, dtype=bool)
        self.steps_done = np.zeros(count, dtype=int)
        self.rescue_steps = np.zeros(count, dtype=int)
        self.snapshots: list[list[Snapshot]] = [[] for _ in range(count)]
        seeds = settings.seed + np.tile(np.arange(variants), len(per_filter))  # each variant its own start
        self._set_pixels(np.stack([
            imaging.match_channels(make_start_image(settings.start, settings.octave_sizes[0], int(seed),
                                                    settings.start_photo), step.working_channels)
            for seed in seeds
        ]))
        self.octave_starts: list[int] = []
        self.cancelled = False

    def _set_pixels(self, pixels: np.ndarray) -> None:
        """Start an octave from these images: new variables, fresh optimizer moments."""
        self.pixels = pixels.astype(np.float32)
        self.params = self.step.parameterization.from_pixels(self.pixels).numpy()
        self.first = np.zeros_like(self.params)
        self.second = np.zeros_like(self.params)
        self.octave_step = 0

    def execute(self) -> list[Result]:
        began = time.perf_counter()
        settings = self.settings
        self._snapshot()
        done = 0
        for octave, (size, steps) in enumerate(zip(settings.octave_sizes, settings.octave_steps)):
            if octave:
                self._set_pixels(self._resized(size))
                if done >= settings.warmup_steps and settings.rescues_dead_filters:  # did the resize lose it?
                    self.rescue.after_resize(self, settings.octave_step_size(octave))
            self.octave_starts.append(done)
            for _ in range(steps):
                self._take_step(warming_up=done < settings.warmup_steps, seed=settings.seed * 7919 + done,
                                step_size=settings.octave_step_size(octave))
                done += 1
                if done == settings.warmup_steps and settings.rescues_dead_filters:
                    self.rescue.after_warmup(self, settings.octave_step_size(octave))
                if done % settings.snapshot_stride == 0:
                    self._snapshot()
                if self._should_stop(done, octave, size) or self._plateaued(done - self.octave_starts[-1]):
                    break
            if self.cancelled or not self.alive.any():
                break
        if settings.rescues_dead_filters and not self.cancelled:
            self.rescue.at_end(self, settings.octave_step_size(octave))
        self._snapshot()
        final = self.pixels if self.pixels.shape[1] == settings.final_size else self._resized(settings.final_size)
        return self._results(final, time.perf_counter() - began)

    def _take_step(self, warming_up: bool, seed: int, step_size: float) -> None:
        """One ascent step for the filters still alive."""
        alive = np.flatnonzero(self.alive)
        self.octave_step += 1
        still_dead = np.array([bool(self.losses[i]) and self.losses[i][-1] <= DEAD_LOSS for i in alive], dtype=bool)
        warm = np.full(len(alive), warming_up) | (still_dead & self.settings.rescues_dead_filters)
        params, first, second, pixels, losses = self.step.step(
            self.params[alive], self.first[alive], self.second[alive], float(self.octave_step),
            self.filters[alive], self.groups[alive], step_size, warm, seed % 2**31)
        params, first, second, pixels = params.numpy(), first.numpy(), second.numpy(), pixels.numpy()
        for position, (index, loss) in enumerate(zip(alive, losses.numpy())):
            self.losses[index].append(float(loss))
            self.params[index], self.first[index], self.second[index] = params[position], first[position], second[position]
            self.pixels[index] = pixels[position]
            self.steps_done[index] += 1
            if self.settings.drops_dead_filters and loss <= DEAD_LOSS:
                self.alive[index] = False  # its gradient is zero from now on: no more steps

    def shown_activations(self, indices: np.ndarray) -> np.ndarray:
        """The objective on these images' pictures as shown (deprocessed, untransformed)."""
        if not len(indices):
            return np.zeros(0)
        viewed = np.stack([self._model_view(self.pixels[index]) for index in indices])
        return self.step.measure(tf.constant(viewed, tf.float32), self.filters[indices]).numpy()

    def _plateaued(self, octave_steps: int) -> bool:
        """With `plateau_gain`: whether every picture still climbing gained less than that share of its
        loss over the last PLATEAU_STEPS steps of this octave (the octave can end early)."""
        gain = self.settings.plateau_gain
        if not gain or octave_steps <= PLATEAU_STEPS:
            return False
        for index in np.flatnonzero(self.alive):
            before, now = self.losses[index][-1 - PLATEAU_STEPS], self.losses[index][-1]
            if now - before >= gain * max(abs(before), DEAD_LOSS):
                return False
        return True

    def _should_stop(self, done: int, octave: int, size: int) -> bool:
        """Report the step; stop when the callback says so or every filter is dead."""
        if self.on_progress is not None:
            latest = np.array([values[-1] if values else 0.0 for values in self.losses])
            event = Progress(done, self.settings.total_steps, octave, size, latest, self._shown(self.pixels[0]))
            if self.on_progress(event) is False:
                self.cancelled = True
        return self.cancelled or not self.alive.any()

    def _model_view(self, image: np.ndarray) -> np.ndarray:
        """A working image as uint8 levels (deprocessed, unless the parameterization is bounded): for a
        1-channel model the gray luminance it saw (as RGB), else every working channel."""
        if self.step.channels == 1:
            image = imaging.display_rgb(imaging.match_channels(image, 1))
        return imaging.as_levels(image) if self.step.parameterization.bounded else imaging.deprocess(image)

    def _shown(self, image: np.ndarray) -> np.ndarray:
        """A working image as shown (uint8 RGB): its first three channels."""
        return imaging.display_rgb(self._model_view(image))

    def _resized(self, size: int) -> np.ndarray:
        bounded = self.step.parameterization.bounded
        return np.stack([imaging.resize_working_image(image, size, bounded) for image in self.pixels])

    def _snapshot(self) -> None:
        """Keep the displayed image of every filter whose image changed since its last snapshot
        (of its first variant: the others are kept as finished pictures only)."""
        for index in range(0, len(self.pixels), self.settings.variants):
            image, steps = self.pixels[index], int(self.steps_done[index])
            taken = self.snapshots[index]
            if not taken or taken[-1].step != steps:
                taken.append(Snapshot(steps, self._shown(image)))

    def _is_dead(self, index: int, final_activation: float) -> bool:
        """Dropped by the classic rule, or (other rules) the finished picture does not activate the filter."""
        if self.settings.drops_dead_filters or self.settings.objective.reads_logits:
            return not self.alive[index]
        return final_activation <= DEAD_LOSS

    def _results(self, final_pixels: np.ndarray, seconds: float) -> list[Result]:
        viewed = np.stack([self._model_view(image) for image in final_pixels])
        shown = viewed[..., :3]
        activations = self.step.measure(tf.constant(viewed, tf.float32), self.filters).numpy()
        extra_channels = viewed.shape[-1] > 3
        variants = self.settings.variants
        return [
            Result(
                settings=item,
                image=shown[index],
                losses=np.asarray(self.losses[index], dtype=np.float32),
                octave_sizes=self.settings.octave_sizes,
                octave_starts=tuple(self.octave_starts),
                snapshots=tuple(self.snapshots[index]),
                final_activation=float(activations[index]),
                dead=self._is_dead(index, float(activations[index])),
                rescue_steps=int(self.rescue_steps[index]),
                cancelled=self.cancelled,
                seconds=seconds,
                device=f"{device_name()}, {self.step.dtype}",
                variants=tuple(shown[index + 1:index + variants]),
                model_view=viewed[index] if extra_channels else None,
            )
            for index, item in zip(range(0, len(shown), variants), self.per_filter)
        ]
