"""Quality proxies for rendered visualisations: numbers for "does it look like something".

For a result image shown as RGB uint8 and fed to the model its own way (see GUIDE.md):

- act: mean activation of the target filter (mean over the spatial map of that channel).
- robust: mean activation over random views of the image (jitter +-8 px, scale 0.9-1.1,
  rotation +-5 deg) divided by act. Adversarial high-frequency noise scores low, real structure
  near 1. Views are drawn once per meter from a seeded numpy Generator, so scores are
  deterministic, and every image is judged on the same views (fed to the network a few at a time,
  to bound the memory). Each view is one affine resampling (bilinear) with REFLECT fill: pixels
  that come from outside the image are mirrored back in, so views have no black borders that
  would change the activation by themselves.
- hf: share of the grayscale image's spectral power above half the Nyquist frequency.

The feature model always computes in float32, whatever compute dtype the renderer uses, so the
numbers compare across devices and precisions.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import tensorflow as tf

from featviz_core.imaging import LUMA
from featviz_core.models import LoadedModel, feature_model, fixed_input_size
from featviz_core.models.preprocessing import measured_with, preprocess_for, to_model_channels
from featviz_core.results import Quality  # noqa: F401  (defined TensorFlow-free, measured here)

DEAD_ACTIVATION = 1e-7
MAX_JITTER_PX = 8
SCALE_RANGE = (0.9, 1.1)
MAX_ROTATION_DEGREES = 5.0
VIEWS_PER_CALL = 1  # views fed to the network at once: 1 keeps a 412 px measure near one forward pass
HALF_NYQUIST = 0.25  # cycles per pixel; Nyquist is 0.5


def view_transforms(views: int, seed: int, height: int, width: int) -> np.ndarray:
    """(views, 8) projective transforms for ImageProjectiveTransformV3, drawn from a seeded Generator.

    Each maps an output pixel back to the input: scale and rotate about the image centre, then
    shift by a whole number of pixels. Parameters depend only on (views, seed), not on the size.
    """
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-MAX_JITTER_PX, MAX_JITTER_PX + 1, size=(views, 2))
    scales = rng.uniform(*SCALE_RANGE, size=views)
    angles = np.deg2rad(rng.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES, size=views))
    cx, cy = (width - 1) / 2, (height - 1) / 2
    rows = []
    for (dy, dx), scale, angle in zip(shifts, scales, angles):
        cos, sin = math.cos(angle) / scale, math.sin(angle) / scale
        # input = M @ (output - centre - shift) + centre, M the inverse of scale * rotation
        ox, oy = cx + dx, cy + dy
        rows.append([cos, sin, cx - cos * ox - sin * oy, -sin, cos, cy + sin * ox - cos * oy, 0.0, 0.0])
    return np.asarray(rows, dtype=np.float32)


class QualityMeter:
    """Measures images for one model layer; builds its float32 feature model once.

    Images are as the ascent optimizes them (`preprocessing.working_channels`): RGB, which a gray model
    sees as its luminance, or all the channels of a model with 4 or more. `preprocessing` names how pixels are fed (see
    `featviz_core.models.preprocessing`; "raw" is judged the model's own way, as the ascent's measure)."""

    def __init__(self, loaded: LoadedModel, layer: str, views: int = 16, seed: int = 0,
                 views_per_call: int = VIEWS_PER_CALL, preprocessing: str = "model") -> None:
        if views < 1 or views_per_call < 1:
            raise ValueError(f"views and views_per_call must be at least 1; got {views} and {views_per_call}")
        self.layer = layer
        self.views = views
        self.seed = seed
        self.views_per_call = views_per_call
        self.features = feature_model(loaded.model, layer)
        self.channels = loaded.channels
        self.preprocess = preprocess_for(loaded, measured_with(preprocessing))
        self.input_size = fixed_input_size(loaded.model)
        self._activations = tf.function(self._activations_fn, input_signature=(
            tf.TensorSpec([None, None, None, None], tf.float32), tf.TensorSpec([None], tf.int32)))
        self._view_activations = tf.function(self._view_activations_fn, input_signature=(
            tf.TensorSpec([None, None, None, None], tf.float32), tf.TensorSpec([None, 8], tf.float32),
            tf.TensorSpec([], tf.int32)))

    def _activations_fn(self, pixels: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
        """Mean output of channel filters[i] for image i (RGB 0..255 floats)."""
        inputs = self.preprocess(to_model_channels(pixels, self.channels))
        if self.input_size is not None:
            inputs = tf.image.resize(inputs, self.input_size)
        outputs = tf.cast(self.features(inputs, training=False), tf.float32)
        if outputs.shape.rank == 4:
            outputs = tf.reduce_mean(outputs, axis=[1, 2])
        elif outputs.shape.rank != 2:
            raise ValueError(f"layer {self.layer} has output rank {outputs.shape.rank}; expected 2 or 4")
        return tf.gather(outputs, filters, axis=1, batch_dims=1)

    def _view_activations_fn(self, image: tf.Tensor, transforms: tf.Tensor, filter_index: tf.Tensor) -> tf.Tensor:
        """Activations of filter_index on each view of one image (batch of 1), in one batch."""
        count = tf.shape(transforms)[0]
        views = tf.raw_ops.ImageProjectiveTransformV3(
            images=tf.tile(image[:1], [count, 1, 1, 1]), transforms=transforms,
            output_shape=tf.shape(image)[1:3], fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")
        return self._activations_fn(views, tf.fill([count], filter_index))

    def activation(self, images: np.ndarray, filters: Sequence[int]) -> np.ndarray:
        """Per-image act for a batch of (N, H, W, C) images (C: working channels); filters[i] is image i's filter."""
        pixels = _as_batch(images)
        chosen = np.asarray(filters, dtype=np.int32).reshape(-1)
        if len(chosen) != len(pixels):
            raise ValueError(f"got {len(pixels)} images but {len(chosen)} filters")
        return self._activations(tf.constant(pixels), tf.constant(chosen)).numpy()

    def robustness(self, image: np.ndarray, filter_index: int, act: float) -> float:
        """Mean activation over the random views divided by act; 0.0 when act is dead."""
        if act <= DEAD_ACTIVATION:
            return 0.0
        pixels = _as_batch(image[None] if np.ndim(image) == 3 else image)[:1]
        transforms = view_transforms(self.views, self.seed, *pixels.shape[1:3])
        image, index = tf.constant(pixels), tf.constant(filter_index, tf.int32)
        chunks = [transforms[start:start + self.views_per_call] for start in range(0, self.views, self.views_per_call)]
        values = [self._view_activations(image, tf.constant(chunk), index).numpy() for chunk in chunks]
        return float(np.mean(np.concatenate(values))) / act

    def measure(self, image: np.ndarray, filter_index: int, ascent_dead: bool = False) -> Quality:
        """All proxies for one (H, W, C) image (a Result's `model_view`) and the filter it was rendered for.

        `ascent_dead`: the render itself found the filter dead (its output fell to zero, so the
        ascent stopped and the picture is little more than the start image). Such a picture counts
        as dead with robust 0 even when the model's own preprocessing reads a tiny positive act from
        it: the ratio of two near-zero numbers says nothing about structure.
        """
        act = float(self.activation(np.asarray(image)[None], [filter_index])[0])
        dead = ascent_dead or act <= DEAD_ACTIVATION
        return Quality(act=act, robust=0.0 if dead else self.robustness(image, filter_index, act),
                       hf=high_frequency_share(image), dead=dead)


def _as_batch(images: np.ndarray) -> np.ndarray:
    pixels = np.asarray(images, dtype=np.float32)
    if pixels.ndim != 4 or pixels.shape[-1] < 3:
        raise ValueError(f"images must have shape (N, H, W, 3 or more); got {pixels.shape}")
    return pixels


def high_frequency_share(image: np.ndarray) -> float:
    """Share of spectral power above half Nyquist (radius > 0.25 cycles/px) of the grayscale image.

    Takes (H, W, 3) RGB (or more channels: the first three are what is shown) or (H, W) gray. The DC
    term is left out; no window is applied, so a
    constant or smooth image scores near 0 and white noise about 1 - pi/16 = 0.80.
    A constant image (no power at all) scores 0.0.
    """
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.ndim == 3 and pixels.shape[-1] >= 3:
        pixels = pixels[..., :3] @ np.array(LUMA)
    elif pixels.ndim != 2:
        raise ValueError(f"image must have shape (H, W, 3 or more) or (H, W); got {pixels.shape}")
    power = np.abs(np.fft.fft2(pixels)) ** 2
    power[0, 0] = 0.0
    total = power.sum()
    if total <= 0.0:
        return 0.0
    fy = np.fft.fftfreq(pixels.shape[0])[:, None]
    fx = np.fft.fftfreq(pixels.shape[1])[None, :]
    return float(power[np.hypot(fy, fx) > HALF_NYQUIST].sum() / total)
