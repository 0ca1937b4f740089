"""Start images: seeded classic noise, gray, gradient, and photos of any common kind decoded to RGB."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from featviz_core import imaging
from featviz_core.ascent import start_images
from featviz_core.rendering import render
from featviz_core.settings import RenderSettings
from featviz_core.ascent.start_images import BadImageError, decode_photo, make_start_image
from plain import PLAIN


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def random_rgb(height: int = 40, width: int = 60, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bilevel_png(width: int, height: int) -> bytes:
    """A valid, all-black 1-bit PNG: a few KB of file for any number of pixels (a decompression bomb)."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte + packed bits
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(row * height, 9)) + _png_chunk(b"IEND", b""))


# --- generated starts -------------------------------------------------------------------------

def test_noise_is_classic_range_and_seeded():
    first = make_start_image("noise", 50, seed=3)
    assert first.shape == (50, 50, 3)
    assert first.min() >= 118 and first.max() <= 138
    assert first.min() < 119 and first.max() > 137  # it uses the whole range
    assert abs(first.mean() - 128) < 0.5
    assert np.array_equal(first, make_start_image("noise", 50, seed=3))
    assert not np.allclose(first, make_start_image("noise", 50, seed=4))


def test_gray_is_uniform_128():
    image = make_start_image("gray", 20, seed=0)
    assert image.shape == (20, 20, 3)
    assert np.all(image == 128)


def test_gradient_is_smooth_and_monotone_along_its_axes():
    image = make_start_image("gradient", 32, seed=0)
    red, green, blue = image[..., 0], image[..., 1], image[..., 2]
    assert image.shape == (32, 32, 3)
    assert np.all(np.diff(red, axis=1) > 0) and np.allclose(np.diff(red, axis=0), 0)  # left to right
    assert np.all(np.diff(blue, axis=0) > 0) and np.allclose(np.diff(blue, axis=1), 0)  # top to bottom
    assert np.all(np.diff(green, axis=0) > 0) and np.all(np.diff(green, axis=1) > 0)
    steps = np.abs(np.diff(image, axis=0)).max(), np.abs(np.diff(image, axis=1)).max()
    assert max(steps) < 256 / 32 * 2  # smooth: no jumps
    assert image.min() >= 0 and image.max() <= 255
    assert np.array_equal(image, make_start_image("gradient", 32, seed=99))  # no randomness


def test_unknown_kind_and_missing_photo_are_errors():
    with pytest.raises(ValueError, match="start must be"):
        make_start_image("plasma", 16, seed=0)
    with pytest.raises(BadImageError, match="photo"):
        make_start_image("photo", 16, seed=0, photo_data=None)


# --- photos that decode ----------------------------------------------------------------------

def test_png_decodes_exactly_and_photo_is_cropped_and_resized():
    pixels = random_rgb()
    data = encode(Image.fromarray(pixels), "PNG")
    decoded = decode_photo(data)
    assert decoded.mode == "RGB"
    assert np.array_equal(np.asarray(decoded), pixels)
    start = make_start_image("photo", 24, seed=0, photo_data=data)
    assert start.shape == (24, 24, 3) and start.dtype == np.float64
    assert 0 <= start.min() and start.max() <= 255


def test_jpeg_exif_orientation_is_applied():
    pixels = np.zeros((40, 60, 3), dtype=np.uint8)
    pixels[:, :30] = (255, 0, 0)  # left half red
    pixels[:, 30:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    data = encode(Image.fromarray(pixels), "JPEG", quality=95, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).size == (60, 40)  # as stored
    decoded = np.asarray(decode_photo(data)).astype(int)
    assert decoded.shape == (60, 40, 3)  # as displayed: portrait
    top, bottom = decoded[:25].mean(axis=(0, 1)), decoded[35:].mean(axis=(0, 1))
    assert top[0] > 200 and top[2] < 50  # the left (red) edge is now on top
    assert bottom[2] > 200 and bottom[0] < 50


def test_rgba_is_composited_on_gray():
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red
    rgba[:, 4:] = (0, 255, 0, 0)  # fully transparent green
    decoded = np.asarray(decode_photo(encode(Image.fromarray(rgba, "RGBA"), "PNG")))
    assert decoded.shape == (8, 8, 3)
    assert np.all(decoded[:, :4] == (255, 0, 0))
    assert np.all(decoded[:, 4:] == (128, 128, 128))


def test_palette_with_transparency_is_composited_on_gray():
    image = Image.new("P", (8, 8))
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    indices = np.zeros((8, 8), dtype=np.uint8)
    indices[:, 4:] = 1
    image.putdata(indices.ravel().tolist())
    data = encode(image, "PNG", transparency=0)  # palette index 0 (red) is transparent
    assert Image.open(io.BytesIO(data)).mode == "P"
    decoded = np.asarray(decode_photo(data))
    assert decoded.shape == (8, 8, 3)
    assert np.all(decoded[:, :4] == (128, 128, 128))
    assert np.all(decoded[:, 4:] == (0, 255, 0))


def test_grayscale_becomes_rgb_with_equal_channels():
    gray = random_rgb()[..., 0]
    decoded = np.asarray(decode_photo(encode(Image.fromarray(gray, "L"), "PNG")))
    assert decoded.shape == (40, 60, 3)
    for channel in range(3):
        assert np.array_equal(decoded[..., channel], gray)


def test_cmyk_jpeg_becomes_rgb():
    pixels = np.zeros((32, 32, 3), dtype=np.uint8)
    pixels[...] = (200, 40, 40)
    data = encode(Image.fromarray(pixels).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    decoded = np.asarray(decode_photo(data)).astype(int)
    assert decoded.shape == (32, 32, 3)
    assert np.abs(decoded.mean(axis=(0, 1)) - (200, 40, 40)).max() < 12


def test_16_bit_grayscale_png_is_scaled_to_8_bit():
    ramp = np.tile(np.linspace(0, 65535, 50).astype(np.uint16), (20, 1))
    data = encode(Image.fromarray(ramp), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really a 16-bit image
    decoded = np.asarray(decode_photo(data)).astype(int)
    assert decoded.shape == (20, 50, 3)
    row = decoded[0, :, 0]
    assert row[0] == 0 and row[-1] == 255
    assert np.all(np.diff(row) >= 0) and len(np.unique(row)) > 40  # not clipped to a few levels


def test_large_photo_is_capped_in_size():
    data = encode(Image.new("RGB", (1500, 300), (10, 20, 30)), "PNG")
    decoded = decode_photo(data)
    assert max(decoded.size) == start_images.PHOTO_MAX_SIDE
    assert decoded.size[1] == round(300 * start_images.PHOTO_MAX_SIDE / 1500)


# --- photos that are refused -----------------------------------------------------------------

def test_empty_file():
    with pytest.raises(BadImageError, match="empty"):
        decode_photo(b"")


def test_random_bytes_are_not_an_image():
    junk = np.random.default_rng(1).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    with pytest.raises(BadImageError, match="not an image"):
        decode_photo(junk)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file(fmt):
    data = encode(Image.fromarray(random_rgb()), fmt)
    with pytest.raises(BadImageError, match="damaged or truncated"):
        decode_photo(data[: len(data) // 2])


def test_too_many_pixels_by_the_configured_limit(monkeypatch):
    data = encode(Image.fromarray(random_rgb(10, 10)), "PNG")
    assert decode_photo(data).size == (10, 10)
    monkeypatch.setattr(start_images, "MAX_PHOTO_PIXELS", 50)
    with pytest.raises(BadImageError, match=r"10x10 pixels.*megapixels"):
        decode_photo(data)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = bilevel_png(8000, 8000)  # 64 megapixels in a few KB, over our 40 MP limit
    assert len(bomb) < 20_000
    with pytest.raises(BadImageError, match=r"8000x8000 pixels; at most 40 megapixels"):
        decode_photo(bomb)


def test_pillow_bomb_guard_stays_on():
    bomb = bilevel_png(20000, 20000)  # 400 MP: Pillow's own guard fires first
    with pytest.raises(BadImageError, match="too large to decode safely"):
        decode_photo(bomb)


def test_too_many_bytes(monkeypatch):
    data = encode(Image.fromarray(random_rgb()), "PNG")
    monkeypatch.setattr(start_images, "MAX_PHOTO_BYTES", len(data) - 1)
    with pytest.raises(BadImageError, match="limit"):
        decode_photo(data)
    monkeypatch.setattr(start_images, "MAX_PHOTO_BYTES", len(data))
    assert decode_photo(data).size == (60, 40)


def test_bad_image_error_is_a_value_error():
    assert issubclass(BadImageError, ValueError)  # the CLI and the dashboard catch ValueError


# --- a photo start in a real render ---------------------------------------------------------

def test_photo_start_in_a_render_on_tiny(tiny_model):
    pixels = np.zeros((48, 64, 3), dtype=np.uint8)
    pixels[:, :32] = (220, 60, 30)
    pixels[:, 32:] = (30, 90, 220)
    data = encode(Image.fromarray(pixels), "PNG")
    settings = RenderSettings(**PLAIN | dict(model="tiny", layer="block2_conv1", filter=5, start="photo",
                                             start_photo=data, steps_per_octave=2, octaves=2, final_size=40))
    result = render(settings, tiny_model)
    expected_start = imaging.deprocess(make_start_image("photo", settings.octave_sizes[0], 0, data))
    assert np.array_equal(result.snapshots[0].image, expected_start)
    assert result.image.shape == (40, 40, 3) and result.image.dtype == np.uint8
    assert result.steps_run == 4 and not result.dead
    noise_start = render(settings.with_changes(start="noise", start_photo=None), tiny_model).snapshots[0].image
    assert not np.array_equal(noise_start, expected_start)
