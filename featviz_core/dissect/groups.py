"""Neuron groups: a layer's activations on a photo factorized into a few groups of channels that fire
together, each with a map of where it fires (Olah et al., "The Building Blocks of Interpretability").

Non-negative matrix factorization with Lee and Seung's multiplicative updates, in a few lines of NumPy:
the activations (positions x channels, all >= 0 after a ReLU) ~ maps (positions x groups) @ weights
(groups x channels). NumPy rather than scikit-learn: these matrices are small (at most 32 x 32
positions, pooled, by 512 channels), a few hundred updates take well under a second, and the app stays
without scikit-learn and SciPy (about 100 MB more to install on Community Cloud).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_GROUPS, MAX_GROUPS = 3, 8
MAX_POSITIONS = 32  # per side: larger grids are average-pooled first (block4_conv3 on a 512 px photo: 64 -> 32)
ITERATIONS = 400
TINY = 1e-9


@dataclass(frozen=True)
class NeuronGroup:
    """One group: its weight per channel (the largest is 1) and its strength at every position."""

    weights: np.ndarray  # (channels,)
    map: np.ndarray  # (rows, cols)


@dataclass(frozen=True)
class Factorization:
    """The groups, strongest first, and how well they rebuild the activations (relative Frobenius error)."""

    groups: tuple[NeuronGroup, ...]
    error: float

    @property
    def channel_weights(self) -> tuple[np.ndarray, ...]:
        """Each group's weights, as `RenderSettings.channel_weights` takes them (one row a group)."""
        return tuple(group.weights for group in self.groups)


def factorize(matrix: np.ndarray, count: int, iterations: int = ITERATIONS, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """W (rows x count) and H (count x columns), both >= 0, with W @ H close to `matrix` (>= 0) in the
    Frobenius norm: multiplicative updates from a seeded random start."""
    matrix = np.maximum(np.asarray(matrix, np.float32), 0.0)
    scale = np.sqrt(max(matrix.mean(), TINY) / count)
    generator = np.random.default_rng(seed)
    left = (generator.uniform(0.5, 1.5, (matrix.shape[0], count)) * scale).astype(np.float32)
    right = (generator.uniform(0.5, 1.5, (count, matrix.shape[1])) * scale).astype(np.float32)
    for _ in range(iterations):
        right *= (left.T @ matrix) / (left.T @ left @ right + TINY)
        left *= (matrix @ right.T) / (left @ (right @ right.T) + TINY)
    return left, right


def relative_error(matrix: np.ndarray, left: np.ndarray, right: np.ndarray) -> float:
    """||matrix - left @ right|| / ||matrix|| (Frobenius); 0 for an all-zero matrix rebuilt exactly."""
    norm = np.linalg.norm(matrix)
    return float(np.linalg.norm(matrix - left @ right) / norm) if norm > 0 else float(np.linalg.norm(left @ right))


def _pooled(values: np.ndarray, most: int = MAX_POSITIONS) -> np.ndarray:
    """(rows, cols, channels) average-pooled by whole factors until each side is at most `most`."""
    rows, cols = values.shape[:2]
    by_row, by_col = -(-rows // most), -(-cols // most)
    if by_row == 1 and by_col == 1:
        return values
    rows, cols = rows // by_row * by_row, cols // by_col * by_col
    trimmed = values[:rows, :cols]
    return trimmed.reshape(rows // by_row, by_row, cols // by_col, by_col, -1).mean(axis=(1, 3))


def neuron_groups(values: np.ndarray, count: int = 6, seed: int = 0) -> Factorization:
    """`count` (3 to 8) groups of a layer's activations (rows, cols, channels) on a photo."""
    if not MIN_GROUPS <= count <= MAX_GROUPS:
        raise ValueError(f"groups must be between {MIN_GROUPS} and {MAX_GROUPS}; got {count}")
    values = _pooled(np.maximum(values, 0.0))
    rows, cols, channels = values.shape
    matrix = values.reshape(rows * cols, channels)
    maps, weights = factorize(matrix, count, seed=seed)
    error = relative_error(matrix, maps, weights)
    peaks = weights.max(axis=1, keepdims=True) + TINY  # each group's weights scaled to a largest of 1
    weights, maps = weights / peaks, maps * peaks.T
    order = np.argsort(-maps.sum(axis=0), kind="stable")
    groups = tuple(NeuronGroup(weights[index].astype(np.float32), maps[:, index].reshape(rows, cols).astype(np.float32))
                   for index in order)
    return Factorization(groups, error)
