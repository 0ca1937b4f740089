"""How alike are pictures grown from different start images? Pixel and spectrum correlations."""

from __future__ import annotations

from itertools import combinations
from typing import Mapping

import numpy as np

from featviz_core import imaging

COMPARE_SIZE = 128
LUMA = np.array([0.299, 0.587, 0.114])


def pixel_correlation(first: np.ndarray, second: np.ndarray, size: int = COMPARE_SIZE) -> float:
    """Pearson correlation of the RGB pixels after resizing both to `size` (1: the same picture)."""
    return _pearson(imaging.resize(first, size), imaging.resize(second, size))


def spectrum_correlation(first: np.ndarray, second: np.ndarray, size: int = COMPARE_SIZE) -> float:
    """Pearson correlation of the log power spectra: the same texture, wherever its patterns sit."""
    return _pearson(_log_spectrum(imaging.resize(first, size)), _log_spectrum(imaging.resize(second, size)))


def _log_spectrum(image: np.ndarray) -> np.ndarray:
    gray = image.astype(np.float64) @ LUMA
    power = np.abs(np.fft.fft2(gray - gray.mean())) ** 2
    return np.log1p(power)


def _pearson(first: np.ndarray, second: np.ndarray) -> float:
    a = first.astype(np.float64).ravel()
    b = second.astype(np.float64).ravel()
    if a.std() == 0 or b.std() == 0:
        return float("nan")  # a flat picture (a dead filter) correlates with nothing
    return float(np.corrcoef(a, b)[0, 1])


def pairwise(images: Mapping[str, np.ndarray]) -> list[dict[str, object]]:
    """One row per pair of pictures: their pixel and spectrum correlations."""
    return [
        {"pair": f"{first} vs {second}",
         "pixel correlation": round(pixel_correlation(images[first], images[second]), 3),
         "spectrum correlation": round(spectrum_correlation(images[first], images[second]), 3)}
        for first, second in combinations(images, 2)
    ]


def summary(pairs: list[dict[str, object]], activations: Mapping[str, float]) -> str:
    """The mean correlations of `pairwise` rows and the spread of the final activations, in one line."""
    pixel = _nan_mean([float(row["pixel correlation"]) for row in pairs])  # type: ignore[arg-type]
    texture = _nan_mean([float(row["spectrum correlation"]) for row in pairs])  # type: ignore[arg-type]
    values = np.array(list(activations.values()), dtype=np.float64)
    spread = float((values.max() - values.min()) / max(float(np.abs(values).max()), 1e-9))
    return verdict(pixel, texture, spread)


def _nan_mean(values: list[float]) -> float:
    kept = [value for value in values if not np.isnan(value)]
    return float(np.mean(kept)) if kept else float("nan")


def verdict(pixel: float, texture: float, spread: float) -> str:
    """One line on what the numbers mean for 'does the start image matter?'."""
    numbers = (f"Mean correlation **{pixel:.2f}** for pixels and **{texture:.2f}** for textures (power spectra); "
               f"final activations differ by **{spread:.0%}**. ")
    if np.isnan(texture):
        return numbers + "A flat (dead) picture can't be compared: try another filter."
    if texture >= 0.8 and spread <= 0.25:
        return numbers + ("Same texture, similar strength: the start image has become irrelevant; it only decides "
                          "where the patterns sit.")
    if texture >= 0.6:
        return numbers + "Mostly the same pattern; the start image still shows a little."
    return numbers + "The start image still matters here: try more steps, or another filter."
