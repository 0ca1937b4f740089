"""Transformation robustness (Lucid): random pad, jitter, scale and rotation of what the network sees.

Each call draws new random values from a stateless seed, so a run is reproducible. Sizes are
fractions of the image so that small and large octaves are treated alike.
"""

from __future__ import annotations

import math

import tensorflow as tf

from featviz_core.imaging import DISPLAY_STD, EPSILON

PAD_FRACTION = 12 / 224
JITTER_FRACTION = 8 / 224
SCALE_RANGE = (0.9, 1.1)
MAX_ROTATION_DEGREES = 10.0


def _uniform(seed: tf.Tensor, index: int, low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform([], seed=tf.stack([seed, tf.constant(index, tf.int32)]), minval=low, maxval=high)


def jitter(images: tf.Tensor, max_shift: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Shift the images by up to `max_shift` px in each direction (wrapping around)."""
    limit = tf.cast(max_shift, tf.float32) + 1.0
    dy = tf.cast(tf.floor(_uniform(seed, 1, -limit + 1, limit)), tf.int32)
    dx = tf.cast(tf.floor(_uniform(seed, 2, -limit + 1, limit)), tf.int32)
    return tf.roll(images, shift=[dy, dx], axis=[1, 2])


def random_scale(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Resize by a random factor in SCALE_RANGE."""
    factor = _uniform(seed, 3, *SCALE_RANGE)
    size = tf.cast(tf.round(tf.cast(tf.shape(images)[1:3], tf.float32) * factor), tf.int32)
    return tf.image.resize(images, size, method="bilinear")


def rotate(images: tf.Tensor, degrees: tf.Tensor) -> tf.Tensor:
    """Rotate about the centre by `degrees`, filling with reflected pixels."""
    angle = degrees * math.pi / 180.0
    height = tf.cast(tf.shape(images)[1], tf.float32)
    width = tf.cast(tf.shape(images)[2], tf.float32)
    cos, sin = tf.cos(angle), tf.sin(angle)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    transform = tf.stack([cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy, 0.0, 0.0])
    batch = tf.shape(images)[0]
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tf.tile(transform[None], [batch, 1]), output_shape=tf.shape(images)[1:3],
        fill_value=0.0, interpolation="BILINEAR", fill_mode="REFLECT")


def robustness_transforms(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Lucid's standard chain: pad, jitter, scale, rotate, jitter again."""
    shift = _jitter_shift(images)
    images = random_scale(pad_and_jitter(images, seed), seed)
    images = rotate(images, _uniform(seed, 4, -MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES))
    return jitter(images, tf.maximum(shift // 2, 1), seed + 7919)


def unchanged(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """No transform: the network sees the image as it is."""
    del seed
    return images


def as_shown(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """The pictures as they will be shown (`imaging.deprocess` before its rounding): each centred on
    its mean, scaled to a quarter of its standard deviation, clipped to 0..255."""
    del seed
    mean, variance = tf.nn.moments(images, axes=[1, 2, 3], keepdims=True)
    shown = (images - mean) / (tf.sqrt(variance) + EPSILON) * DISPLAY_STD + 0.5
    return tf.clip_by_value(shown, 0.0, 1.0) * 255.0


def pad_and_jitter(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """The cheap part of the chain: reflect-pad, then shift at random."""
    size = tf.cast(tf.shape(images)[1], tf.float32)
    pad = tf.cast(tf.round(size * PAD_FRACTION), tf.int32)
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    return jitter(padded, _jitter_shift(images), seed)


def _jitter_shift(images: tf.Tensor) -> tf.Tensor:
    """The largest random shift for images of this size (at least 1 px)."""
    return tf.maximum(tf.cast(tf.round(tf.cast(tf.shape(images)[1], tf.float32) * JITTER_FRACTION), tf.int32), 1)
