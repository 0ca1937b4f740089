"""A memory-lean input gradient for 2-D convolutions, for the ascent step.

TensorFlow's CPU kernel for a convolution's input gradient (Conv2DBackpropInput) builds an im2col
buffer of height x width x (kernel area x input channels) floats: for VGG16's block1_conv2 on a
359 px image, 359^2 x 576 floats, about 300 MB for one op. For stride 1, no dilation and SAME
padding with an odd kernel, the same gradient is a forward convolution of the output gradient with
the kernel flipped in space and transposed in channels, which TensorFlow runs without that buffer
(and faster). The two agree to float rounding. Other convolutions keep TensorFlow's own gradient.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import tensorflow as tf

LEAN_CONV2D = "FeatvizLeanConv2D"


def _is_flippable(op: tf.Operation) -> bool:
    """Stride 1, no dilation, SAME padding, NHWC and odd kernel sizes: the transposed conv is a conv."""
    kernel = op.inputs[1].shape
    return (list(op.get_attr("strides")) == [1, 1, 1, 1] and list(op.get_attr("dilations")) == [1, 1, 1, 1]
            and op.get_attr("padding") == b"SAME" and op.get_attr("data_format") == b"NHWC"
            and kernel.rank == 4 and kernel[0] is not None and kernel[1] is not None
            and kernel[0] % 2 == 1 and kernel[1] % 2 == 1)


def _conv_attrs(op: tf.Operation) -> dict[str, object]:
    return {name: op.get_attr(name) for name in ("strides", "padding", "explicit_paddings", "data_format", "dilations")}


@tf.RegisterGradient(LEAN_CONV2D)
def _lean_conv2d_gradient(op: tf.Operation, grad: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    image, kernel = op.inputs
    if _is_flippable(op):
        flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
        image_grad = tf.nn.conv2d(grad, flipped, strides=1, padding="SAME")
    else:
        image_grad = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(image), filter=kernel, out_backprop=grad,
                                                    **_conv_attrs(op))
    kernel_grad = tf.raw_ops.Conv2DBackpropFilter(input=image, filter_sizes=tf.shape(kernel), out_backprop=grad,
                                                  **_conv_attrs(op))
    return image_grad, kernel_grad


@contextlib.contextmanager
def lean_conv_gradients() -> Iterator[None]:
    """While tracing a graph: `tf.gradients` of the Conv2D ops built here uses the lean gradient.
    (GradientTape ignores this override; use `tf.gradients` inside a `tf.function`.)"""
    with tf.compat.v1.get_default_graph().gradient_override_map({"Conv2D": LEAN_CONV2D}):
        yield
