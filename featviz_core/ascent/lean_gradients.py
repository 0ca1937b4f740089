"""Memory-lean input gradients for the ascent step: 2-D convolutions and ReLUs.

The ascent needs the gradient with respect to the image only, never the weights'.

TensorFlow's CPU kernel for a convolution's input gradient (Conv2DBackpropInput) builds an im2col
buffer of height x width x (kernel area x input channels) floats: for VGG16's block1_conv2 on a
359 px image, 359^2 x 576 floats, about 300 MB for one op. For stride 1, no dilation and SAME
padding with an odd kernel, the same gradient is a forward convolution of the output gradient with
the kernel flipped in space and transposed in channels, which TensorFlow runs without that buffer
(and faster). The two agree to float rounding. Other convolutions keep TensorFlow's own gradient.
The kernel's gradient is not built at all.

TensorFlow's ReLU gradient reads the ReLU's float output, so every ReLU output of the network stays
in memory until the backward pass reaches it. The lean one keeps only where the output is positive,
one byte per value: TensorFlow computes that mask as soon as the output exists (it needs nothing
else), and the float output is freed once the next layer has read it. Same gradient, exactly; on
VGG16 at 412 px a render's peak is about 40 MB lower.

The redirected ReLU (Lucid's `redirected_relu_grad`) rescues filters that never fire: where a ReLU
passes no gradient at all for an image (every unit it would flow through is off), it lets the
gradient through the off units it would lift towards firing. An image whose gradient does get
through a ReLU somewhere gets the exact gradient there, so pictures of live filters do not change.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import tensorflow as tf

LEAN_CONV2D = "FeatvizLeanConv2D"
LEAN_RELU = "FeatvizLeanRelu"
REDIRECTED_RELU = "FeatvizRedirectedRelu"


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
def _lean_conv2d_gradient(op: tf.Operation, grad: tf.Tensor) -> tuple[tf.Tensor, None]:
    image, kernel = op.inputs
    if _is_flippable(op):
        flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
        image_grad = tf.nn.conv2d(grad, flipped, strides=1, padding="SAME")
    else:
        image_grad = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(image), filter=kernel, out_backprop=grad,
                                                    **_conv_attrs(op))
    return image_grad, None


@tf.RegisterGradient(LEAN_RELU)
def _lean_relu_gradient(op: tf.Operation, grad: tf.Tensor) -> tf.Tensor:
    positive = tf.math.greater(op.outputs[0], 0)
    return tf.where(positive, grad, tf.zeros([], grad.dtype))  # broadcast: no tensor of zeros


@tf.RegisterGradient(REDIRECTED_RELU)
def _redirected_relu_gradient(op: tf.Operation, grad: tf.Tensor) -> tf.Tensor:
    positive = tf.math.greater(op.outputs[0], 0)
    zero = tf.zeros([], grad.dtype)
    exact = tf.where(positive, grad, zero)
    per_image = [-1] + [1] * (grad.shape.rank - 1)
    blocked = tf.reshape(tf.reduce_all(tf.equal(exact, zero), axis=tf.range(1, tf.rank(grad))), per_image)
    lifting = tf.where(tf.logical_or(positive, tf.math.greater(grad, zero)), grad, zero)
    return tf.where(blocked, lifting, exact)


@contextlib.contextmanager
def lean_input_gradients(redirect_relu: bool = False) -> Iterator[None]:
    """While tracing a graph: `tf.gradients` of the Conv2D and Relu ops built here uses the lean gradients,
    and with `redirect_relu` the redirected ReLU gradient. (GradientTape ignores this override; use
    `tf.gradients` inside a `tf.function`.)"""
    relu = REDIRECTED_RELU if redirect_relu else LEAN_RELU
    with tf.compat.v1.get_default_graph().gradient_override_map({"Conv2D": LEAN_CONV2D, "Relu": relu}):
        yield
