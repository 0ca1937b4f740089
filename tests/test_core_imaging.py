"""Imaging: classic deprocess, octave resizing, collage geometry, GIF and PNG encoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from featviz_core import imaging


def smooth_image(size: int = 40, mean: float = 3.0, std: float = 0.7) -> np.ndarray:
    """A smooth float image whose values stay within 1.5 std, so deprocess does not clip."""
    y, x = np.mgrid[0:size, 0:size] / size * 2 * np.pi
    pattern = np.stack([np.sin(x), np.sin(y), np.sin(x + y)], axis=-1)
    pattern = (pattern - pattern.mean()) / pattern.std()
    return pattern * std + mean


def test_deprocess_maps_to_uint8_around_128():
    rng = np.random.default_rng(0)
    for scale, offset in [(1.0, 0.0), (1e-3, 5.0), (300.0, -40.0)]:
        shown = imaging.deprocess(rng.normal(offset, scale, (30, 30, 3)))
        assert shown.dtype == np.uint8 and shown.shape == (30, 30, 3)
        assert abs(shown.mean() - 128) < 4
        assert 0.2 * 255 < shown.std() < 0.3 * 255  # 0.25 std per unit, a little clipping at 2 std


def test_deprocess_of_a_constant_image_is_mid_gray():
    shown = imaging.deprocess(np.full((5, 5, 3), 42.0))
    assert np.all(shown == 127)


def test_restore_statistics_inverts_deprocess():
    image = smooth_image()
    back = imaging.restore_statistics(imaging.deprocess(image), float(image.mean()), float(image.std()))
    assert np.allclose(back, image, atol=4 * image.std() / 255 * 1.01)  # one uint8 level of error


def test_resize_working_image_keeps_size_mean_and_std():
    image = smooth_image(40, mean=3.0, std=0.7)
    for size in (48, 67, 32):
        resized = imaging.resize_working_image(image, size)
        assert resized.shape == (size, size, 3)
        assert resized.mean() == pytest.approx(image.mean(), abs=0.02 * image.std())
        assert resized.std() == pytest.approx(image.std(), rel=0.05)


def test_resize_is_bicubic_to_a_square():
    image = (np.random.default_rng(0).random((10, 10, 3)) * 255).astype(np.uint8)
    resized = imaging.resize(image, 25)
    assert resized.shape == (25, 25, 3) and resized.dtype == np.uint8


def test_collage_grid_geometry_with_5px_margins():
    tiles = [np.full((10, 10, 3), 10 * (index + 1), dtype=np.uint8) for index in range(5)]
    sheet = imaging.collage(tiles)
    # 5 tiles -> ceil(sqrt(5)) = 3 columns, 2 rows: 3*10 + 2*5 wide, 2*10 + 1*5 high
    assert imaging.COLLAGE_MARGIN == 5
    assert sheet.shape == (25, 40, 3) and sheet.dtype == np.uint8
    for index, tile in enumerate(tiles):
        top, left = (index // 3) * 15, (index % 3) * 15
        assert np.array_equal(sheet[top:top + 10, left:left + 10], tile)
    assert np.all(sheet[10:15] == 0)  # margin between the rows
    assert np.all(sheet[:, 10:15] == 0) and np.all(sheet[:, 25:30] == 0)  # margins between columns
    assert np.all(sheet[15:, 30:] == 0)  # the empty sixth cell


def test_collage_square_counts_and_options():
    tiles = [np.full((8, 8, 3), 200, dtype=np.uint8)] * 9
    assert imaging.collage(tiles).shape == (3 * 8 + 2 * 5, 3 * 8 + 2 * 5, 3)
    assert imaging.collage(tiles[:1]).shape == (8, 8, 3)
    wide = imaging.collage(tiles[:4], columns=4, margin=2, background=255)
    assert wide.shape == (8, 4 * 8 + 3 * 2, 3) and np.all(wide[:, 8:10] == 255)
    mixed = imaging.collage([np.zeros((6, 6, 3), np.uint8), np.zeros((12, 12, 3), np.uint8)])
    assert mixed.shape == (12, 2 * 12 + 5, 3)  # tiles are resized to the largest
    with pytest.raises(ValueError):
        imaging.collage([])


def test_gif_has_one_frame_per_image_and_loops():
    frames = [np.full((20, 20, 3), value, dtype=np.uint8) for value in (0, 60, 120, 180, 240)]
    data = imaging.gif_bytes(frames, size=32)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    assert gif.n_frames == 5
    assert gif.size == (32, 32)
    assert gif.info.get("loop") == 0
    with pytest.raises(ValueError):
        imaging.gif_bytes([])


def test_png_round_trip():
    image = (np.random.default_rng(3).random((17, 23, 3)) * 255).astype(np.uint8)
    data = imaging.png_bytes(image)
    assert data.startswith(b"\x89PNG")
    back = Image.open(io.BytesIO(data))
    assert back.format == "PNG" and back.mode == "RGB"
    assert np.array_equal(np.asarray(back), image)
