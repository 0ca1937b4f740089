"""Images in and out of the ascent: classic deprocessing, resizing, collages and GIFs."""

from __future__ import annotations

import io
import math
from typing import Sequence

import numpy as np
from PIL import Image

EPSILON = 1e-7
DISPLAY_STD = 0.25  # a shown picture's standard deviation, as a share of the 0..255 range
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G and B in the luminance
COLLAGE_MARGIN = 5


def deprocess(image: np.ndarray) -> np.ndarray:
    """Classic display mapping: centre on the mean, scale to DISPLAY_STD std, clip, to uint8 RGB."""
    x = np.asarray(image, dtype=np.float64)
    x = (x - x.mean()) / (x.std() + EPSILON) * DISPLAY_STD + 0.5
    return (np.clip(x, 0, 1) * 255).astype(np.uint8)


def as_levels(image: np.ndarray) -> np.ndarray:
    """Pixels that are already levels 0..255 (a bounded parameterization's), rounded to uint8 as they are."""
    return np.clip(np.rint(np.asarray(image, dtype=np.float64)), 0, 255).astype(np.uint8)


def restore_statistics(display: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Inverse of `deprocess` used between octaves: uint8 back to the working image's scale."""
    return (display.astype(np.float64) / 255 - 0.5) / DISPLAY_STD * std + mean


def resize(image: np.ndarray, size: int) -> np.ndarray:
    """Bicubic resize of a uint8 image (RGB, or any number of channels) to size x size."""
    if image.ndim == 3 and image.shape[-1] != 3:
        return np.stack([resize(image[..., channel], size) for channel in range(image.shape[-1])], axis=-1)
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def resize_working_image(image: np.ndarray, size: int, bounded: bool = False) -> np.ndarray:
    """The classic octave step: deprocess to uint8, resize, map back to the old mean and std. Bounded
    pixels (already 0..255) are resized as they are."""
    if bounded:
        return resize(as_levels(image), size).astype(np.float32)
    return restore_statistics(resize(deprocess(image), size), float(image.mean()), float(image.std()))


def collage(images: Sequence[np.ndarray], columns: int | None = None, margin: int = COLLAGE_MARGIN,
            background: int = 0) -> np.ndarray:
    """Tiles in a grid with `margin` px between them (classic: n x n, 5 px margins)."""
    if not images:
        raise ValueError("a collage needs at least one image")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    tile = max(max(img.shape[0], img.shape[1]) for img in images)
    height = rows * tile + (rows - 1) * margin
    width = columns * tile + (columns - 1) * margin
    sheet = np.full((height, width, 3), background, dtype=np.uint8)
    for index, img in enumerate(images):
        if img.shape[:2] != (tile, tile):
            img = resize(img, tile)
        top = (index // columns) * (tile + margin)
        left = (index % columns) * (tile + margin)
        sheet[top:top + tile, left:left + tile] = img
    return sheet


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 RGB image as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def gif_bytes(frames: Sequence[np.ndarray], size: int = 256, frame_ms: int = 80, hold_last_ms: int = 1200) -> bytes:
    """An animated, looping GIF of the frames, all resized to `size` px."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    pictures = [Image.fromarray(resize(frame, size)) for frame in frames]
    durations = [frame_ms] * (len(pictures) - 1) + [hold_last_ms]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=durations,
                     loop=0, optimize=False)
    return buffer.getvalue()


def match_channels(rgb: np.ndarray, channels: int) -> np.ndarray:
    """RGB pixels (..., 3) as a model with `channels` inputs takes them: 1 -> luminance (ITU-R 601),
    3 -> unchanged, 4 or more -> RGB then mid-gray (128) in the extra channels."""
    rgb = np.asarray(rgb)
    if channels == 3:
        return rgb
    if channels == 1:
        return (rgb[..., :3] @ np.array(LUMA))[..., None]
    if channels < 1:
        raise ValueError(f"channels must be 1 or more; got {channels}")
    extra = np.full(rgb.shape[:-1] + (channels - 3,), 128, dtype=rgb.dtype)
    return np.concatenate([rgb[..., :3], extra], axis=-1)


def display_rgb(image: np.ndarray) -> np.ndarray:
    """A model-channel image (H, W, C) as RGB to show: gray for 1 channel, the first three for 4 or more."""
    image = np.asarray(image)
    if image.ndim == 2 or image.shape[-1] == 1:
        return np.repeat(image.reshape(image.shape[:2] + (1,)), 3, axis=-1)
    return image[..., :3]
