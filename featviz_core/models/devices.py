"""Which device TensorFlow computes on, in words for the UI."""

from __future__ import annotations

import functools
import os

import tensorflow as tf


@functools.lru_cache(maxsize=1)
def device_name() -> str:
    """'GPU: <name>' when TensorFlow sees a GPU (it then uses it), else 'CPU (<n> cores)'."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU ({os.cpu_count()} cores)"
