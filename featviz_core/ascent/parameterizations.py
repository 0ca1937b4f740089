"""How the optimized variable becomes an image: raw pixels, a decorrelated Fourier spectrum (Lucid),
or only the phase of a spectrum whose magnitude is that of natural photos (MaCo, Fel et al. 2023).

Each parameterization maps its variable to pixel levels around 128 (`to_pixels`) and back
(`from_pixels`), so octaves work the same way for each: turn the variable into pixels, enlarge the
pixels, turn them back into a variable of the new size. Pixels and Fourier are exactly invertible;
MaCo keeps only the phase of what it is given (its magnitude is fixed). Images are RGB, or have
more channels for a model that takes more: the colour decorrelation applies to the first three, and
the others are scaled alike without mixing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf
from PIL import Image

# Square root of ImageNet's colour correlation (Lucid's `color_correlation_svd_sqrt`), so that
# independent optimization variables give naturally correlated RGB colours.
COLOR_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)
COLOR_SQRT /= np.max(np.linalg.norm(COLOR_SQRT, axis=0))
COLOR_SQRT_INV = np.linalg.inv(COLOR_SQRT).astype(np.float32)
PIXEL_SCALE = 64.0  # one unit of the decorrelated image is this many pixel levels
GRAY = 128.0


@dataclass(frozen=True)
class Parameterization:
    """A variable of shape (batch, height, width, channels): how it becomes pixels and back.

    A `bounded` one keeps every pixel inside 0..255 (a sigmoid), so its pixels are shown as they are
    and the network sees exactly the picture that is shown; the others are unbounded and shown
    contrast-normalized (`imaging.deprocess`)."""

    to_pixels: Callable[[tf.Tensor], tf.Tensor]
    from_pixels: Callable[[tf.Tensor], tf.Tensor]
    bounded: bool = False


def _identity(values: tf.Tensor) -> tf.Tensor:
    return tf.convert_to_tensor(values, tf.float32)


PIXELS = Parameterization(_identity, _identity)


# --- spectra ---------------------------------------------------------------------------------------

def _frequencies(height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """Frequency (cycles per pixel) of each coefficient of the (height, width // 2 + 1) rfft2 grid."""
    fy = tf.signal.fftshift(tf.range(height, dtype=tf.float32) - tf.cast(height // 2, tf.float32))
    fy = fy / tf.cast(height, tf.float32)
    fx = tf.range(width // 2 + 1, dtype=tf.float32) / tf.cast(width, tf.float32)
    return tf.sqrt(fy[:, None] ** 2 + fx[None, :] ** 2)


def _spectrum(decorrelated: tf.Tensor) -> tf.Tensor:
    """rfft2 of (b, h, w, c) images: (b, h, w // 2 + 1, c) complex."""
    return tf.transpose(tf.signal.rfft2d(tf.transpose(decorrelated, [0, 3, 1, 2])), [0, 2, 3, 1])


def _image(spectrum: tf.Tensor, height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """Inverse of `_spectrum` for images of (height, width)."""
    channels_first = tf.signal.irfft2d(tf.transpose(spectrum, [0, 3, 1, 2]), fft_length=[height, width])
    return tf.transpose(channels_first, [0, 2, 3, 1])


def _mix_colours(values: tf.Tensor, matrix: np.ndarray) -> tf.Tensor:
    """The first three channels mixed by `matrix`; any further channels as they are."""
    colours = tf.einsum("bhwc,dc->bhwd", values[..., :3], matrix)
    return tf.concat([colours, values[..., 3:]], axis=-1)


def _correlate(decorrelated: tf.Tensor) -> tf.Tensor:
    return _mix_colours(decorrelated, COLOR_SQRT) * PIXEL_SCALE + GRAY


def _decorrelate(pixels: tf.Tensor) -> tf.Tensor:
    return _mix_colours((tf.convert_to_tensor(pixels, tf.float32) - GRAY) / PIXEL_SCALE, COLOR_SQRT_INV)


def _squash(decorrelated: tf.Tensor) -> tf.Tensor:
    """Lucid's bounded colours: correlated, then a sigmoid onto 0..255 (slope PIXEL_SCALE at mid-gray)."""
    return 255.0 * tf.sigmoid(_mix_colours(decorrelated, COLOR_SQRT) * (4.0 * PIXEL_SCALE / 255.0))


def _unsquash(pixels: tf.Tensor) -> tf.Tensor:
    """Inverse of `_squash` (pixels at 0 or 255 are read as half a level inside the range)."""
    share = tf.clip_by_value(tf.convert_to_tensor(pixels, tf.float32) / 255.0, 0.5 / 255.0, 254.5 / 255.0)
    logit = tf.math.log(share / (1.0 - share)) * (255.0 / (4.0 * PIXEL_SCALE))
    return _mix_colours(logit, COLOR_SQRT_INV)


def _to_variable(parts: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """(b, h, w // 2 + 1, c) -> (b, h, w, c), zero-padded, so the variable carries the image width."""
    return tf.pad(parts, [[0, 0], [0, 0], [0, width - (width // 2 + 1)], [0, 0]])


# --- Fourier (Lucid) -------------------------------------------------------------------------------

SPECTRUM_DECAY = 1.0  # Lucid's 1/f; Horama uses 1.5 (smoother pictures)


def _fourier_scale(height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    """1/f**SPECTRUM_DECAY weights of the rfft2 grid (Lucid): low frequencies get larger steps."""
    floor = 1.0 / tf.cast(tf.maximum(height, width), tf.float32)
    scale = tf.maximum(_frequencies(height, width), floor) ** -SPECTRUM_DECAY
    return tf.cast(scale, tf.complex64)[None, :, :, None]


def _fourier_image(param: tf.Tensor) -> tf.Tensor:
    """The decorrelated image of a variable that stacks the spectrum's real and imaginary parts along
    the channels: (b, h, w, 2 x channels)."""
    height, width, channels = tf.shape(param)[1], tf.shape(param)[2], tf.shape(param)[3] // 2
    used = param[:, :, : width // 2 + 1, :]
    spectrum = tf.complex(used[..., :channels], used[..., channels:]) * _fourier_scale(height, width)
    return _image(spectrum, height, width)


def _fourier_variable(decorrelated: tf.Tensor) -> tf.Tensor:
    """Inverse of `_fourier_image`."""
    height, width = tf.shape(decorrelated)[1], tf.shape(decorrelated)[2]
    spectrum = _spectrum(decorrelated) / _fourier_scale(height, width)
    return _to_variable(tf.concat([tf.math.real(spectrum), tf.math.imag(spectrum)], axis=-1), width)


FOURIER = Parameterization(lambda param: _correlate(_fourier_image(param)),
                           lambda pixels: _fourier_variable(_decorrelate(pixels)))
BOUNDED_FOURIER = Parameterization(lambda param: _squash(_fourier_image(param)),
                                   lambda pixels: _fourier_variable(_unsquash(pixels)), bounded=True)


# --- MaCo: phase only, natural magnitude -----------------------------------------------------------

NATURAL_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")  # scikit-image's bundled colour photos
SPECTRUM_SIZE = 256
SPECTRUM_BINS = 128
MACO_CONTRAST = 0.8  # std of the decorrelated image (in PIXEL_SCALE units) that MaCo images get


@functools.lru_cache(maxsize=1)
def natural_magnitude_profile() -> np.ndarray:
    """Mean spectrum magnitude of natural photos per frequency bin and decorrelated channel,
    (SPECTRUM_BINS, 3), bin i covering frequencies [i, i + 1) * sqrt(0.5) / SPECTRUM_BINS.

    Computed once from the photos that ship inside scikit-image (no download)."""
    from skimage import data

    frequency = np.hypot(np.fft.fftfreq(SPECTRUM_SIZE)[:, None], np.fft.rfftfreq(SPECTRUM_SIZE)[None, :])
    bins = np.minimum((frequency / np.sqrt(0.5) * SPECTRUM_BINS).astype(int), SPECTRUM_BINS - 1).ravel()
    sums = np.zeros((SPECTRUM_BINS, 3))
    counts = np.zeros((SPECTRUM_BINS, 1))
    for name in NATURAL_PHOTOS:
        photo = Image.fromarray(getattr(data, name)()).convert("RGB")
        side = min(photo.size)
        square = photo.crop(((photo.width - side) // 2, (photo.height - side) // 2,
                             (photo.width + side) // 2, (photo.height + side) // 2))
        pixels = np.asarray(square.resize((SPECTRUM_SIZE, SPECTRUM_SIZE), Image.Resampling.LANCZOS), np.float64)
        decorrelated = ((pixels - GRAY) / PIXEL_SCALE) @ COLOR_SQRT_INV.T
        magnitude = np.abs(np.fft.rfft2(decorrelated, axes=(0, 1))).reshape(-1, 3)
        np.add.at(sums, bins, magnitude)
        np.add.at(counts, bins, 1)
    profile = sums / np.maximum(counts, 1)
    profile[0] = 0.0  # no constant term: the mean colour stays mid-gray
    return (profile / profile.max()).astype(np.float32)


def _frequency_bins(height: tf.Tensor, width: tf.Tensor) -> tf.Tensor:
    position = _frequencies(height, width) / np.sqrt(0.5) * SPECTRUM_BINS
    return tf.minimum(tf.cast(position, tf.int32), SPECTRUM_BINS - 1)


def _natural_magnitude(height: tf.Tensor, width: tf.Tensor, channels: tf.Tensor) -> tf.Tensor:
    """(1, h, w // 2 + 1, channels): the photos' three decorrelated channels, then their mean for any more."""
    profile = natural_magnitude_profile()
    extra = tf.repeat(tf.constant(profile.mean(axis=1, keepdims=True)), channels - 3, axis=1)
    return tf.gather(tf.concat([tf.constant(profile), extra], axis=1), _frequency_bins(height, width))[None]


def _maco_to_pixels(phase: tf.Tensor) -> tf.Tensor:
    height, width, channels = tf.shape(phase)[1], tf.shape(phase)[2], tf.shape(phase)[3]
    used = phase[:, :, : width // 2 + 1, :]
    magnitude = tf.cast(_natural_magnitude(height, width, channels), tf.complex64)
    image = _image(magnitude * tf.exp(tf.complex(tf.zeros_like(used), used)), height, width)
    image -= tf.reduce_mean(image, axis=[1, 2, 3], keepdims=True)
    image *= MACO_CONTRAST / (tf.math.reduce_std(image, axis=[1, 2, 3], keepdims=True) + 1e-6)
    return _correlate(image)


def _maco_from_pixels(pixels: tf.Tensor) -> tf.Tensor:
    width = tf.shape(pixels)[2]
    return _to_variable(tf.math.angle(_spectrum(_decorrelate(pixels))), width)


MACO = Parameterization(_maco_to_pixels, _maco_from_pixels)
