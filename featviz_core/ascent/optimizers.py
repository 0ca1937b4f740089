"""Update rules for the ascent: the classic RMS-normalized step, Adam, damped Adam and Nadam.

Each takes (param, gradient, step size, first moment, second moment, step count) and returns the new
(param, first moment, second moment); the registry `parts.OPTIMIZERS` names them.
"""

from __future__ import annotations

import tensorflow as tf

EPSILON = 1e-7
ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
DAMPED_EPSILON = 0.3  # in units of the image's gradient RMS (gradients are normalized to RMS 1)


def per_image_rms(values: tf.Tensor) -> tf.Tensor:
    """Root mean square of each item of the batch, shaped to broadcast back."""
    axes = tf.range(1, tf.rank(values))
    return tf.sqrt(tf.reduce_mean(tf.square(values), axis=axes, keepdims=True))


Moments = tuple[tf.Tensor, tf.Tensor, tf.Tensor]


def rms_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
             count: tf.Tensor) -> Moments:
    """The classic step: the gradient divided by its RMS, times the step size (no moments)."""
    del count
    return param + step_size * grads / (per_image_rms(grads) + EPSILON), first, second


def _adam_moments(grads: tf.Tensor, first: tf.Tensor, second: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(gradient normalized per image, new first moment, new second moment)."""
    beta1, beta2 = ADAM_BETAS
    grads = grads / (per_image_rms(grads) + EPSILON)
    return grads, beta1 * first + (1 - beta1) * grads, beta2 * second + (1 - beta2) * tf.square(grads)


def _adam(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
          count: tf.Tensor, epsilon: float) -> Moments:
    beta1, beta2 = ADAM_BETAS
    _, first, second = _adam_moments(grads, first, second)
    first_hat = first / (1 - beta1 ** count)
    second_hat = second / (1 - beta2 ** count)
    return param + step_size * first_hat / (tf.sqrt(second_hat) + epsilon), first, second


def adam_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
              count: tf.Tensor) -> Moments:
    """One Adam ascent step on a gradient normalized per image."""
    return _adam(param, grads, step_size, first, second, count, ADAM_EPSILON)


def damped_adam_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
                     count: tf.Tensor) -> Moments:
    """Adam with an epsilon of DAMPED_EPSILON of the gradient's RMS: plain Adam moves every coefficient about
    one full step, even those whose gradient is tiny next to the rest (mostly high frequencies, which
    then fill the picture with speckle); here those move in proportion to their gradient."""
    return _adam(param, grads, step_size, first, second, count, DAMPED_EPSILON)


def nadam_step(param: tf.Tensor, grads: tf.Tensor, step_size: tf.Tensor, first: tf.Tensor, second: tf.Tensor,
               count: tf.Tensor) -> Moments:
    """One Nadam step (Dozat 2016): Adam whose momentum looks one step ahead."""
    beta1, beta2 = ADAM_BETAS
    grads, first, second = _adam_moments(grads, first, second)
    ahead = beta1 * first / (1 - beta1 ** (count + 1)) + (1 - beta1) * grads / (1 - beta1 ** count)
    second_hat = second / (1 - beta2 ** count)
    return param + step_size * ahead / (tf.sqrt(second_hat) + ADAM_EPSILON), first, second
