"""Update rules for the ascent: the classic RMS-normalized step, and Adam."""

from __future__ import annotations

import tensorflow as tf

EPSILON = 1e-7
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8


def per_image_rms(values: tf.Tensor) -> tf.Tensor:
    """Root mean square of each item of the batch, shaped to broadcast back."""
    axes = tf.range(1, tf.rank(values))
    return tf.sqrt(tf.reduce_mean(tf.square(values), axis=axes, keepdims=True))


def rms_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor) -> tf.Tensor:
    """The classic step: the gradient divided by its RMS, times the step size."""
    return param + step_size * grads / (per_image_rms(grads) + EPSILON)


def adam_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
              count: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """One Adam ascent step on a gradient normalized per image; returns param and both moments."""
    beta1, beta2 = ADAM_BETAS
    grads = grads / (per_image_rms(grads) + EPSILON)
    first = beta1 * first + (1 - beta1) * grads
    second = beta2 * second + (1 - beta2) * tf.square(grads)
    first_hat = first / (1 - beta1 ** count)
    second_hat = second / (1 - beta2 ** count)
    return param + step_size * first_hat / (tf.sqrt(second_hat) + ADAM_EPSILON), first, second
