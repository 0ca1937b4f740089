"""The network's own yardsticks of a picture's legibility (issue 26).

A picture of filter f of a layer is fed to the network; every filter's mean activation on it is
z-scored by that filter's mean and spread over crops of natural photos, so a large filter and a small
one are compared fairly. Then:

- specificity: the rank of f among the layer's filters by that z-score (0: f responds to its picture
  more, relative to its usual response, than any other filter of the layer does);
- distinctness: the mean cosine similarity between the z-score vectors of two pictures of one layer
  (0: pictures that excite unrelated sets of filters; 1: the same set);
- against photos: the picture's activation of f over that of f's best photo patch resized to the
  picture's size (1 or more: the picture excites f at least as much as the best patch does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from featviz_core.models import LoadedModel

BATCH = 4
TOP = 5


class LayerReader:
    """Every filter's mean activation, for several layers at once (one pass of the network)."""

    def __init__(self, loaded: LoadedModel, layers: Sequence[str]) -> None:
        self.layers = tuple(layers)
        outputs = [loaded.model.get_layer(name).output for name in self.layers]
        self.network = keras.Model(loaded.model.inputs, outputs)
        self.preprocess = loaded.preprocess

    def channel_means(self, images: np.ndarray, batch: int = BATCH) -> dict[str, np.ndarray]:
        """{layer: (N, filters)} mean activations of (N, H, W, 3) RGB 0..255 images (same size)."""
        parts: dict[str, list[np.ndarray]] = {name: [] for name in self.layers}
        for first in range(0, len(images), batch):
            pixels = tf.constant(np.asarray(images[first:first + batch], np.float32))
            outputs = self.network(self.preprocess(pixels), training=False)
            outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
            for name, output in zip(self.layers, outputs):
                parts[name].append(tf.reduce_mean(tf.cast(output, tf.float32), axis=[1, 2]).numpy())
        return {name: np.concatenate(values) for name, values in parts.items()}


@dataclass(frozen=True)
class Norms:
    """Each filter's mean and spread of its mean activation over natural photo crops."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, channel_means: np.ndarray) -> "Norms":
        """From (crops, filters) mean activations; a filter that never varies gets a spread of 1e-3."""
        return cls(channel_means.mean(axis=0), np.maximum(channel_means.std(axis=0), 1e-3))

    def zscores(self, channel_means: np.ndarray) -> np.ndarray:
        return (np.asarray(channel_means) - self.mean) / self.std


def own_ranks(zscores: np.ndarray, own: Sequence[int]) -> np.ndarray:
    """For picture i of filter own[i]: how many of the layer's filters have a higher z-score (0: first)."""
    zscores = np.asarray(zscores)
    mine = zscores[np.arange(len(zscores)), np.asarray(own)]
    return (zscores > mine[:, None]).sum(axis=1)


def specificity(ranks: Sequence[int], top: int = TOP) -> tuple[float, float]:
    """(share of pictures whose own filter ranks first, share in the top `top`)."""
    ranks = np.asarray(ranks)
    return float(np.mean(ranks == 0)), float(np.mean(ranks < top))


def distinctness(zscores: np.ndarray) -> float:
    """Mean cosine similarity between the z-score vectors of every two pictures (of one layer)."""
    vectors = np.asarray(zscores, np.float64)
    if len(vectors) < 2:
        raise ValueError("distinctness needs at least two pictures")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    pairs = len(unit) * (len(unit) - 1)
    return float((similarity.sum() - np.trace(similarity)) / pairs)
