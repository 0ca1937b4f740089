"""Start images for the ascent: classic noise, uniform gray, a smooth gradient, or a photo."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from featviz_core.parts import START_IMAGES

MAX_PHOTO_BYTES = 20 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # rejected before decoding; Pillow's own bomb guard stays on too
PHOTO_MAX_SIDE = 1024
EXIF_ORIENTATION = 0x0112  # values 5 to 8 turn the image a quarter


class BadImageError(ValueError):
    """An uploaded or given image cannot be used; the message says why."""


# Every start image takes (size, seed, photo_data): the registry parts.START_IMAGES calls them alike.

def noise(size: int, seed: int, photo_data: bytes | None = None) -> np.ndarray:
    """The classic start: uniform noise in 118..138 around mid-gray."""
    return (np.random.default_rng(seed).random((size, size, 3)) - 0.5) * 20 + 128


def gray(size: int, seed: int, photo_data: bytes | None = None) -> np.ndarray:
    """A uniform mid-gray image."""
    return np.full((size, size, 3), 128.0)


def gradient(size: int, seed: int, photo_data: bytes | None = None) -> np.ndarray:
    """A smooth diagonal colour gradient (red left to right, blue top to bottom)."""
    ramp = np.linspace(64.0, 192.0, size)
    red = np.broadcast_to(ramp[None, :], (size, size))
    blue = np.broadcast_to(ramp[:, None], (size, size))
    green = (red + blue) / 2
    return np.stack([red, green, blue], axis=-1)


def decode_photo(data: bytes) -> Image.Image:
    """Decode any image Pillow reads into RGB: EXIF rotation applied, odd modes converted, size capped."""
    if not data:
        raise BadImageError("The image file is empty.")
    if len(data) > MAX_PHOTO_BYTES:
        raise BadImageError(f"The image file is {len(data) / 2**20:.1f} MB; the limit is {MAX_PHOTO_BYTES // 2**20} MB.")
    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PHOTO_PIXELS:  # checked before decoding, far below Pillow's own bomb limit
            raise BadImageError(
                f"The image is {width}x{height} pixels; at most {MAX_PHOTO_PIXELS // 1_000_000} megapixels are accepted."
            )
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _to_rgb(image)
    except BadImageError:
        raise
    except Image.DecompressionBombError as error:
        raise BadImageError(f"The image is too large to decode safely ({error}).") from error
    except UnidentifiedImageError as error:
        raise BadImageError("This file is not an image Pillow can read (try PNG, JPEG, WebP, GIF, BMP or TIFF).") from error
    except (OSError, ValueError, SyntaxError) as error:
        raise BadImageError(f"The image file is damaged or truncated ({error}).") from error
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def photo_size(data: bytes) -> tuple[int, int]:
    """(width, height) of an image file as given, upright (EXIF rotation applied), read from its header."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            turned = image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise BadImageError(f"This file is not an image Pillow can read ({error}).") from error
    return (height, width) if turned else (width, height)


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB from any mode: alpha composited on gray, 16-bit and float scaled to 8-bit."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        image = Image.fromarray(scaled.astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def photo(size: int, seed: int, photo_data: bytes | None = None) -> np.ndarray:
    """A photo, centre-cropped to a square and resized to `size`."""
    if photo_data is None:
        raise BadImageError("A photo start needs an image file.")
    image = ImageOps.fit(decode_photo(photo_data), (size, size), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float64)


def make_start_image(kind: str, size: int, seed: int, photo_data: bytes | None = None) -> np.ndarray:
    """The start image of `kind` (a name in `parts.START_IMAGES`) as float RGB pixels (0..255),
    shape (size, size, 3)."""
    if kind not in START_IMAGES:
        raise ValueError(f"start must be one of {', '.join(START_IMAGES)}; got {kind!r}")
    return START_IMAGES[kind].load()(size, seed, photo_data)
