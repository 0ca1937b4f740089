"""Input preprocessings: how pixels (floats 0..255, in the model's channels) become the network's input.

Each is a name in `parts.PREPROCESSINGS`. "model" is the loaded model's own convention (caffe for
VGG16, each Keras application's own, 0..255 for your .keras files): `preprocess_for` picks it from the
LoadedModel. The others suit a model trained elsewhere:

- raw: 0..255 as they are (what the classic Keras script fed VGG16)
- unit: x / 255, in 0..1
- symmetric: x / 127.5 - 1, in -1..1
- caffe: Keras' VGG16 `preprocess_input` for 3 channels (RGB to BGR, ImageNet mean subtracted); other
  channel counts get 114.8 (the mean of the three channel means) subtracted from every channel
- torch: (x / 255 - mean) / std with ImageNet's mean and std per RGB channel; a single channel (and
  any channel past the third) uses mean 0.449 and std 0.226 (the three channels' averages)

The ascent optimizes an RGB image for 1- and 3-channel models and an image with all the model's
channels for 4 or more (`working_channels`); `to_model_channels` turns it into the model's channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import keras
import numpy as np
import tensorflow as tf

from featviz_core.imaging import LUMA
from featviz_core.parts import PREPROCESSINGS

if TYPE_CHECKING:
    from featviz_core.models.loading import LoadedModel

Preprocess = Callable[[tf.Tensor], tf.Tensor]

CAFFE_GRAY_MEAN = 114.8  # (103.939 + 116.779 + 123.68) / 3
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)
TORCH_GRAY = (0.449, 0.226)  # mean and std for one channel


def working_channels(channels: int) -> int:
    """Channels of the image the ascent optimizes for a model with `channels` inputs: RGB for 1- and
    3-channel models (a gray model sees its luminance), every channel of a model with 4 or more."""
    if channels < 1:
        raise ValueError(f"channels must be 1 or more; got {channels}")
    return max(channels, 3)


def to_model_channels(pixels: tf.Tensor, channels: int) -> tf.Tensor:
    """A batch of working images (N, H, W, working_channels(channels)) as the model takes them:
    1 -> luminance (ITU-R 601) of the RGB image, otherwise unchanged. The channel count is made static."""
    pixels = tf.ensure_shape(pixels, [None, None, None, working_channels(channels)])
    if channels == 1:
        return tf.reduce_sum(pixels * tf.constant(LUMA, pixels.dtype), axis=-1, keepdims=True)
    return pixels


def _channels(x: tf.Tensor) -> int:
    channels = x.shape[-1]
    if channels is None:
        raise ValueError("the input's channel count must be known")
    return int(channels)


def model(x: tf.Tensor) -> tf.Tensor:
    """Placeholder of the registry entry "model": the model's own preprocessing lives on the
    LoadedModel; use `preprocess_for(loaded, "model")`."""
    raise TypeError("the 'model' preprocessing belongs to a loaded model: use preprocess_for(loaded, 'model')")


def raw(x: tf.Tensor) -> tf.Tensor:
    return x


def unit(x: tf.Tensor) -> tf.Tensor:
    return x / 255.0


def symmetric(x: tf.Tensor) -> tf.Tensor:
    return x / 127.5 - 1.0


def caffe(x: tf.Tensor) -> tf.Tensor:
    if _channels(x) == 3:
        return keras.applications.vgg16.preprocess_input(x)
    return x - CAFFE_GRAY_MEAN


def _per_channel(values: tuple[float, ...], fill: float, channels: int) -> np.ndarray:
    if channels == 1:
        return np.array([fill], np.float32)
    return np.array(values + (fill,) * (channels - 3), np.float32)


def torch(x: tf.Tensor) -> tf.Tensor:
    channels = _channels(x)
    mean = _per_channel(TORCH_MEAN, TORCH_GRAY[0], channels)
    std = _per_channel(TORCH_STD, TORCH_GRAY[1], channels)
    return (x / 255.0 - tf.constant(mean, x.dtype)) / tf.constant(std, x.dtype)


def preprocess_for(loaded: "LoadedModel", preprocessing: str) -> Preprocess:
    """The function that maps model-channel pixels (0..255) to this model's input for a preprocessing name."""
    if preprocessing not in PREPROCESSINGS:
        raise ValueError(f"preprocessing must be one of {', '.join(PREPROCESSINGS)}; got {preprocessing!r}")
    if preprocessing == "model":
        return loaded.preprocess
    return PREPROCESSINGS[preprocessing].load()


def measured_with(preprocessing: str) -> str:
    """How results are judged (final activation, quality): the way they were fed, except that "raw"
    (the classic script's quirk of feeding VGG16 unprocessed pixels) is judged the model's own way,
    so that methods compare on equal terms."""
    return "model" if preprocessing == "raw" else preprocessing
