"""What the ascent maximizes, given the chosen layer's output for a batch of images.

Each objective returns one value per image; the ascent climbs their sum.
"""

from __future__ import annotations

import tensorflow as tf

from .settings import OBJECTIVES

DIVERSITY_WEIGHT = 0.5


def _spatial_mean(values: tf.Tensor) -> tf.Tensor:
    """Mean over all axes but the batch (a Dense layer's output has none: returned as is)."""
    axes = tf.range(1, tf.rank(values))
    return tf.reduce_mean(values, axis=axes)


def channel(outputs: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """The classic objective: mean output of each image's filter over the whole image."""
    return _spatial_mean(tf.gather(outputs, filters, axis=-1, batch_dims=1))


def neuron(outputs: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """The filter's output at the centre position only."""
    chosen = tf.gather(outputs, filters, axis=-1, batch_dims=1)
    if outputs.shape.rank == 2:
        return chosen
    return chosen[:, tf.shape(chosen)[1] // 2, tf.shape(chosen)[2] // 2]


def deepdream(outputs: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """DeepDream: the mean squared activation of the whole layer (the filter index is unused)."""
    del filters
    return _spatial_mean(tf.square(outputs))


def diversity_penalty(outputs: tf.Tensor) -> tf.Tensor:
    """Mean cosine similarity of each image's Gram matrix to the others' (Lucid's diversity term)."""
    batch = tf.shape(outputs)[0]
    flat = tf.reshape(outputs, [batch, -1, tf.shape(outputs)[-1]])
    gram = tf.reshape(tf.matmul(flat, flat, transpose_a=True), [batch, -1])
    gram = tf.math.l2_normalize(gram, axis=1)
    similarity = tf.matmul(gram, gram, transpose_b=True)
    others = tf.reduce_sum(similarity, axis=1) - tf.linalg.diag_part(similarity)
    return others / tf.maximum(tf.cast(batch - 1, tf.float32), 1.0)


def objective_values(kind: str, outputs: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """Per-image objective of `kind` (logit is the channel objective on a classifier's logits layer)."""
    if kind in ("channel", "logit"):
        return channel(outputs, filters)
    if kind == "neuron":
        return neuron(outputs, filters)
    if kind == "deepdream":
        return deepdream(outputs, filters)
    if kind == "diversity":
        # The penalty is scaled by the (constant) activation so its weight means the same at any layer.
        values = channel(outputs, filters)
        return values - DIVERSITY_WEIGHT * diversity_penalty(outputs) * tf.stop_gradient(tf.abs(values))
    raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {kind!r}")


def total_variation(pixels: tf.Tensor) -> tf.Tensor:
    """Mean absolute difference between neighbouring pixels, per image (a high-frequency penalty)."""
    dy = tf.reduce_mean(tf.abs(pixels[:, 1:] - pixels[:, :-1]), axis=[1, 2, 3])
    dx = tf.reduce_mean(tf.abs(pixels[:, :, 1:] - pixels[:, :, :-1]), axis=[1, 2, 3])
    return dy + dx
