"""What each objective term computes; the registry `parts.TERMS` names them, `objective_text` reads them.

A target reads the layer's outputs and each image's filter, a penalty
reads the pixels (0..255), a group term compares the variants of one filter. Every function returns
one value per image; `objective_scores` adds them up with the objective's weights.
"""

from __future__ import annotations

import tensorflow as tf

from featviz_core.objective_text import Objective
from featviz_core.parts import TERMS


def _spatial_mean(values: tf.Tensor) -> tf.Tensor:
    """Mean over all axes but the batch (a Dense layer's output has none: returned as is)."""
    axes = tf.range(1, tf.rank(values))
    return tf.reduce_mean(values, axis=axes)


# logit (in parts.TERMS) is the channel objective read on the classifier's logits layer.
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


def total_variation(pixels: tf.Tensor) -> tf.Tensor:
    """Mean absolute difference between neighbouring pixels, in 0..1 units, per image."""
    dy = tf.reduce_mean(tf.abs(pixels[:, 1:] - pixels[:, :-1]), axis=[1, 2, 3])
    dx = tf.reduce_mean(tf.abs(pixels[:, :, 1:] - pixels[:, :, :-1]), axis=[1, 2, 3])
    return (dy + dx) / 255.0


def blur_distance(pixels: tf.Tensor) -> tf.Tensor:
    """Mean absolute difference between the image and its 3x3 box blur, in 0..1 units, per image."""
    blurred = tf.nn.avg_pool2d(tf.pad(pixels, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC"), 3, 1, "VALID")
    return tf.reduce_mean(tf.abs(pixels - blurred), axis=[1, 2, 3]) / 255.0


def diversity(outputs: tf.Tensor, groups: tf.Tensor) -> tf.Tensor:
    """Lucid's diversity: minus the mean cosine similarity of each image's Gram matrix to those of
    the other variants of its filter (images with the same group); 0 for an image alone."""
    batch = tf.shape(outputs)[0]
    flat = tf.reshape(outputs, [batch, -1, tf.shape(outputs)[-1]])
    gram = tf.math.l2_normalize(tf.reshape(tf.matmul(flat, flat, transpose_a=True), [batch, -1]), axis=1)
    similarity = tf.matmul(gram, gram, transpose_b=True)
    others = tf.cast(tf.equal(groups[:, None], groups[None, :]), tf.float32) - tf.eye(batch)
    return -tf.reduce_sum(similarity * others, axis=1) / tf.maximum(tf.reduce_sum(others, axis=1), 1.0)


@tf.autograph.experimental.do_not_convert
def _implementation(name: str):
    """The function of a term (resolved while tracing, in plain Python)."""
    return TERMS[name].load()


def target_values(objective: Objective, outputs: tf.Tensor, filters: tf.Tensor) -> tf.Tensor:
    """The weighted sum of the objective's targets, per image (what a render reports as its loss)."""
    return tf.add_n([term.weight * _implementation(term.name)(outputs, filters) for term in objective.of_role("target")])


def objective_scores(objective: Objective, outputs: tf.Tensor, pixels: tf.Tensor, filters: tf.Tensor,
                     groups: tf.Tensor) -> tf.Tensor:
    """What the ascent climbs, per image: the targets plus the weighted penalties and group terms,
    those scaled by the targets' (constant) size so a weight means the same at every layer."""
    targets = target_values(objective, outputs, filters)
    extras = [term.weight * _implementation(term.name)(pixels) for term in objective.of_role("penalty")]
    extras += [term.weight * _implementation(term.name)(outputs, groups) for term in objective.of_role("group")]
    if not extras:
        return targets
    return targets + tf.stop_gradient(tf.abs(targets)) * tf.add_n(extras)


def rival_excess(outputs: tf.Tensor, filters: tf.Tensor, mean: tf.Tensor, spread: tf.Tensor) -> tf.Tensor:
    """How far the layer's other filters are lifted above their usual response, per image: the mean over
    them of max(0, z), z being a filter's mean output z-scored by its (mean, spread) on photos, in units
    of the image's own filter's spread (so it weighs against that filter's output like for like)."""
    means = outputs if outputs.shape.rank == 2 else tf.reduce_mean(outputs, axis=[1, 2])
    excess = tf.nn.relu((means - mean) / spread)
    others = 1.0 - tf.one_hot(filters, tf.shape(means)[-1])
    share = tf.reduce_sum(excess * others, axis=-1) / tf.reduce_sum(others, axis=-1)
    return share * tf.gather(spread, filters)
