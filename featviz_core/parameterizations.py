"""How the optimized variable becomes an image: raw pixels, or a decorrelated Fourier spectrum.

Both are linear and exactly invertible, so octaves work the same way for each: turn the variable
into pixels, enlarge the pixels, turn them back into a variable of the new size.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


# Square root of ImageNet's colour correlation (Lucid's `color_correlation_svd_sqrt`), so that
# independent optimization variables give naturally correlated RGB colours.
COLOR_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)
COLOR_SQRT /= np.max(np.linalg.norm(COLOR_SQRT, axis=0))
COLOR_SQRT_INV = np.linalg.inv(COLOR_SQRT).astype(np.float32)
PIXEL_SCALE = 64.0  # one unit of the decorrelated image is this many pixel levels
GRAY = 128.0


def _frequency_scale(height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """1/f weights of the rfft2 grid (Lucid): low frequencies get larger steps."""
    fy = tf.signal.fftshift(tf.range(height, dtype=tf.float32) - tf.cast(height // 2, tf.float32))
    fy = fy / tf.cast(height, tf.float32)
    fx = tf.range(width // 2 + 1, dtype=tf.float32) / tf.cast(width, tf.float32)
    frequency = tf.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)
    floor = 1.0 / tf.cast(tf.maximum(height, width), tf.float32)
    return 1.0 / tf.maximum(frequency, floor)


def variable_rank(kind: str) -> int:
    """Rank of the optimized variable: (b, h, w, 3) pixels or (b, h, 2, w, 3) spectra."""
    return 4 if kind == "pixels" else 5


def to_pixels(param: tf.Tensor, kind: str) -> tf.Tensor:
    """The image (batch, h, w, 3), RGB pixel levels around 128, that `param` stands for."""
    if kind == "pixels":
        return param
    height = tf.shape(param)[1]
    width = tf.shape(param)[3]  # fourier params carry the image width in their last axis
    spectrum = tf.complex(param[:, :, 0, : width // 2 + 1, :], param[:, :, 1, : width // 2 + 1, :])
    scale = tf.cast(_frequency_scale(height, width), tf.complex64)[None, :, :, None]
    channels_first = tf.transpose(spectrum * scale, [0, 3, 1, 2])
    decorrelated = tf.signal.irfft2d(channels_first, fft_length=[height, width])
    image = tf.transpose(decorrelated, [0, 2, 3, 1])
    pixels = tf.einsum("bhwc,dc->bhwd", image, COLOR_SQRT) * PIXEL_SCALE + GRAY
    return tf.ensure_shape(pixels, [None, None, None, 3])


def from_pixels(pixels: tf.Tensor, kind: str) -> tf.Tensor:
    """The variable that gives `pixels` back through `to_pixels`."""
    pixels = tf.convert_to_tensor(pixels, tf.float32)
    if kind == "pixels":
        return pixels
    height, width = tf.shape(pixels)[1], tf.shape(pixels)[2]
    decorrelated = tf.einsum("bhwc,dc->bhwd", (pixels - GRAY) / PIXEL_SCALE, COLOR_SQRT_INV)
    spectrum = tf.signal.rfft2d(tf.transpose(decorrelated, [0, 3, 1, 2]))
    spectrum = tf.transpose(spectrum, [0, 2, 3, 1]) / tf.cast(_frequency_scale(height, width), tf.complex64)[None, :, :, None]
    parts = tf.stack([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=2)  # (b, h, 2, w//2+1, 3)
    padding = width - (width // 2 + 1)
    return tf.pad(parts, [[0, 0], [0, 0], [0, 0], [0, padding], [0, 0]])  # last-but-one axis = width
