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


def summary(pairs: list[dict[str, object]], activations: Mapping[str, float],
            images: Mapping[str, np.ndarray]) -> str:
    """The mean correlations of `pairwise` rows, the spread of the final activations and the largest
    difference of mean colour between two pictures, in words."""
    pixel = _nan_mean([float(row["pixel correlation"]) for row in pairs])  # type: ignore[arg-type]
    texture = _nan_mean([float(row["spectrum correlation"]) for row in pairs])  # type: ignore[arg-type]
    values = np.array(list(activations.values()), dtype=np.float64)
    spread = float((values.max() - values.min()) / max(float(np.abs(values).max()), 1e-9))
    return verdict(pixel, texture, spread, colour_cast(images))


def colour_cast(images: Mapping[str, np.ndarray]) -> float:
    """The largest distance between two pictures' mean colours, in RGB levels (0..441)."""
    means = [image[..., :3].reshape(-1, 3).astype(np.float64).mean(axis=0) for image in images.values()]
    return max((float(np.linalg.norm(a - b)) for a, b in combinations(means, 2)), default=0.0)


def _nan_mean(values: list[float]) -> float:
    kept = [value for value in values if not np.isnan(value)]
    return float(np.mean(kept)) if kept else float("nan")


CAST_LEVELS = 24.0  # mean colours further apart than this: one start image still tints its picture


def verdict(pixel: float, texture: float, spread: float, cast: float = 0.0) -> str:
    """What the numbers answer to the article's question: does the start image matter?"""
    numbers = (f"Mean correlation **{pixel:.2f}** for pixels and **{texture:.2f}** for textures (power spectra); "
               f"final activations differ by **{spread:.0%}**; mean colours by up to **{cast:.0f}** levels. ")
    if np.isnan(texture):
        return numbers + "A flat (dead) picture can't be compared: try another filter."
    tinted = (" One start image still tints its picture (mean colours far apart): its colour survived the ascent."
              if cast > CAST_LEVELS else "")
    if texture >= 0.8 and spread <= 0.25:
        return numbers + ("**Does the start image matter? Hardly**: the same texture at a similar strength from every "
                          "start; the start image only decides where the patterns sit. The filter, not the start, "
                          "makes the picture." + tinted)
    if texture >= 0.6:
        return numbers + ("**Does the start image matter? A little**: mostly the same pattern, but the start still "
                          "shows." + tinted)
    return numbers + ("**Does the start image matter? Here, yes**: the pictures differ; this filter responds to more "
                      "than one pattern, or the ascent has not settled (try more steps)." + tinted)
