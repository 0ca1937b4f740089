"""What a layer sees in a photo: cells that tile it with the mean of the positions centred in them, each
cell's best filter, neuron groups that rebuild the activations, the weighted-channel objective that
renders a group, and `featviz dissect`'s sheet and JSON."""

from __future__ import annotations

import io
import json

import keras
import numpy as np
import pytest
from PIL import Image

from featviz_core.rendering import render
from featviz_core.ascent.start_images import photo_size
from featviz_core.dissect import dissect, dissection_json, factorize, neuron_groups, photo_activations, pool
from featviz_core.models import LoadedModel
from featviz_core.settings import RenderSettings, SettingsError
from plain import PLAIN

from test_cli import assert_usage_error, run_cli


def colour_model(kernel: int = 1, strides: int = 1) -> LoadedModel:
    """Three channels: the red, green and blue means of each window (a ReLU conv, 0..255 pixels in)."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(3, kernel, strides=strides, activation="relu", name="colours")
    model = keras.Model(inputs, conv(inputs))
    weights = np.zeros((kernel, kernel, 3, 3), np.float32)
    for channel in range(3):
        weights[:, :, channel, channel] = 1 / kernel ** 2
    conv.set_weights([weights, np.zeros(3, np.float32)])
    return LoadedModel("colours", "colour means (test)", model, lambda x: x)


def expected_means(values: np.ndarray, centres_y: np.ndarray, centres_x: np.ndarray, row_edges, col_edges) -> np.ndarray:
    """Each cell's mean over the positions whose centres fall in it, the slow and obvious way."""
    means = np.zeros((len(row_edges) - 1, len(col_edges) - 1, values.shape[-1]))
    for row in range(means.shape[0]):
        for col in range(means.shape[1]):
            inside = [values[i, j] for i, y in enumerate(centres_y) for j, x in enumerate(centres_x)
                      if row_edges[row] <= y < row_edges[row + 1] and col_edges[col] <= x < col_edges[col + 1]]
            assert inside, "every cell holds a position"
            means[row, col] = np.mean(inside, axis=0)
    return means


@pytest.mark.parametrize("kernel, strides, shape, given", [(1, 1, (40, 70), None), (4, 4, (48, 64), None),
                                                            (3, 2, (45, 61), (183, 122))])
def test_cells_tile_the_photo_and_hold_the_mean_of_the_positions_centred_in_them(kernel, strides, shape, given):
    pixels = np.random.default_rng(1).integers(0, 256, (*shape, 3), dtype=np.uint8)
    found = photo_activations(colour_model(kernel, strides), "colours", pixels, given)
    width, height = given or (shape[1], shape[0])
    rows, cols = found.values.shape[:2]
    if strides == 1 and kernel == 1:  # a position per pixel: its centre is the pixel's
        assert np.allclose(found.centres_y, np.arange(rows) + 0.5) and np.allclose(found.centres_x, np.arange(cols) + 0.5)
    grid = pool(found)
    assert grid.shape == (min(16, rows), min(16, cols))
    covered = np.zeros((height, width), int)
    for cell in grid.cells():
        x, y, w, h = cell.box
        covered[y:y + h, x:x + w] += 1
    assert (covered == 1).all()  # the cells tile the photo as given: no gap, no overlap
    expected = expected_means(found.values, found.centres_y, found.centres_x, grid.row_edges, grid.col_edges)
    assert np.allclose(grid.means, expected, rtol=1e-5, atol=1e-4)


def test_each_cells_top_filter_is_where_the_layer_fires_most():
    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[:, :32, 0] = 200  # left half red, right half blue, bottom right also a little green
    pixels[:, 32:, 2] = 150
    pixels[32:, 32:, 1] = 100
    found = dissect(colour_model(), "colours", pixels, top=3, groups=0)
    best, strength = found.grid.strongest()
    assert (best[:, :8] == 0).all() and (best[:, 8:] == 2).all()
    assert np.allclose(strength[:, :8], 200) and np.allclose(strength[:, 8:], 150)
    cell = found.grid.cells(3)[-1]  # bottom right: blue 150, then green 100, then red 0
    assert [item.filter for item in cell.top] == [2, 1, 0] and cell.top[1].activation == pytest.approx(100)
    assert [item.filter for item in found.top_filters] == [0, 2, 1]  # means 100, 75, 25


def test_the_factorization_rebuilds_low_rank_activations():
    generator = np.random.default_rng(3)
    maps, weights = generator.uniform(0, 1, (400, 4)), generator.uniform(0, 1, (4, 60))
    matrix = maps @ weights
    left, right = factorize(matrix, 4)
    assert (left >= 0).all() and (right >= 0).all()
    assert np.linalg.norm(matrix - left @ right) / np.linalg.norm(matrix) < 0.02
    values = (generator.uniform(0, 1, (20, 20, 3)) @ generator.uniform(0, 1, (3, 32))).astype(np.float32)
    groups = neuron_groups(values, 3)
    assert groups.error < 0.02 and len(groups.groups) == 3
    for group in groups.groups:
        assert group.weights.shape == (32,) and group.weights.max() == pytest.approx(1.0, abs=1e-5)
        assert group.map.shape == (20, 20) and (group.map >= 0).all()
    with pytest.raises(ValueError, match="between 3 and 8"):
        neuron_groups(values, 2)


def test_the_groups_of_a_two_colour_photo_are_its_two_colours():
    pixels = np.zeros((48, 48, 3), np.uint8)
    pixels[:24, :, 0] = 220  # top red, bottom green
    pixels[24:, :, 1] = 220
    found = dissect(colour_model(), "colours", pixels, groups=3)
    strongest = [int(np.argmax(group.weights)) for group in found.groups.groups[:2]]
    assert sorted(strongest) == [0, 1] and found.groups.error < 0.05
    red = found.groups.groups[strongest.index(0)]
    half = red.map.shape[0] // 2
    assert red.map[:half].mean() > 10 * max(red.map[half:].mean(), 1e-6)  # the red group lives at the top


def colour_settings(**changes) -> RenderSettings:
    values = dict(PLAIN, model="colours", layer="colours", final_size=40, octaves=2, steps_per_octave=6, seed=0,
                  step_size=4.0)
    return RenderSettings(**{**values, **changes})


def test_the_weighted_channel_objective_climbs_its_mix_of_channels():
    loaded = colour_model()
    reddish = render(colour_settings(channel_weights=((1.0, 0.0, 0.0), (0.0, 0.2, 1.0)), filter=0), loaded)
    bluish = render(colour_settings(channel_weights=((1.0, 0.0, 0.0), (0.0, 0.2, 1.0)), filter=1), loaded)
    red, blue = (picture.image.reshape(-1, 3).mean(axis=0) for picture in (reddish, bluish))
    assert red[0] > red[2] + 20 and blue[2] > blue[0] + 20
    alone = render(colour_settings(filter=0), loaded)  # a one-hot row climbs exactly what channel 0 does
    assert np.allclose(reddish.losses, alone.losses, rtol=1e-4)
    with pytest.raises(SettingsError, match="channels"):
        colour_settings(channel_weights=((1.0, 0.0),)).check_layer(loaded.layers)
    with pytest.raises(SettingsError, match="row"):
        colour_settings(channel_weights=((1.0, 0.0, 0.0),), filter=1).check_layer(loaded.layers)
    with pytest.raises(SettingsError, match="not 0"):
        colour_settings(channel_weights=((0.0, 0.0, 0.0),))


def test_the_json_lists_cells_top_filters_and_groups():
    pixels = np.random.default_rng(2).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    data = dissection_json(dissect(colour_model(), "colours", pixels, (100, 60), top=2, groups=3))
    assert data["photo"] == {"width": 100, "height": 60} and len(data["cells"]) == 16 * 16
    first = data["cells"][0]
    assert set(first) == {"row", "col", "box", "top"} and first["box"][:2] == [0, 0]
    assert len(first["top"]) == 2 and first["top"][0]["activation"] >= first["top"][1]["activation"]
    assert len(data["top_filters"]) == 2 and len(data["groups"]) == 3
    assert len(data["groups"][0]["weights"]) == 3 and len(data["groups"][0]["map"]) == 30
    json.dumps(data)


def test_a_photos_size_as_given_is_upright():
    image = Image.new("RGB", (40, 30))
    exif = image.getexif()
    exif[0x0112] = 6  # rotated a quarter turn
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    assert photo_size(buffer.getvalue()) == (30, 40)


def test_featviz_dissect_writes_the_sheet_and_json(capsys, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (90, 120, 3), dtype=np.uint8)).save(photo)
    sheet, data = tmp_path / "sheet.png", tmp_path / "out.json"
    code, out, err = run_cli(capsys, "dissect", "tiny", "block2_conv1", str(photo), "-o", str(sheet), "--json", str(data),
                             "--top", "3", "--groups", "4")
    assert code == 0, err
    assert "cells of block2_conv1" in out and Image.open(sheet).size[0] > 200
    found = json.loads(data.read_text())
    assert found["photo"] == {"width": 120, "height": 90} and len(found["groups"]) == 4
    assert all(len(cell["top"]) == 3 for cell in found["cells"])


@pytest.mark.parametrize("content, fragment", [(b"", "empty"), (b"not an image at all", "not an image")])
def test_featviz_dissect_refuses_a_bad_photo_in_one_line(capsys, tmp_path, content, fragment):
    photo = tmp_path / "bad.png"
    photo.write_bytes(content)
    code, _, err = run_cli(capsys, "dissect", "tiny", "block2_conv1", str(photo), "-o", str(tmp_path / "s.png"))
    assert_usage_error(code, err, fragment)


def test_featviz_dissect_refuses_bad_groups_and_layers(capsys, tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (32, 32)).save(photo)
    code, _, err = run_cli(capsys, "dissect", "tiny", "block2_conv1", str(photo), "-o", str(tmp_path / "s.png"), "--groups", "9")
    assert_usage_error(code, err, "--groups")
    code, _, err = run_cli(capsys, "dissect", "tiny", "nope", str(photo), "-o", str(tmp_path / "s.png"))
    assert_usage_error(code, err, "no conv layer")


# --- overlays ---------------------------------------------------------------------------------------

def _grid(means: np.ndarray, height: int = 40, width: int = 60):
    from featviz_core.dissect import Grid

    rows, cols = means.shape[:2]
    return Grid(tuple(np.linspace(0, height, rows + 1).astype(int)), tuple(np.linspace(0, width, cols + 1).astype(int)),
                means.astype(np.float32))


def test_the_grid_picture_shows_each_cells_strongest_filter_as_opaque_as_it_fires():
    from featviz_core.dissect import grid_mosaic

    means = np.zeros((2, 3, 2))
    means[0, 0, 1], means[1, 2, 0] = 4.0, 2.0  # the strongest cell, and one half as strong; the rest silent
    white, black = (np.full((8, 8, 3), value, np.uint8) for value in (255, 0))
    photo = np.full((40, 60, 3), 128, np.uint8)
    image = grid_mosaic(photo, _grid(means), {0: white, 1: black}, 60).astype(int)
    assert image.shape == (40, 60, 3)
    assert image[10, 10, 0] < 20  # black, nearly opaque
    assert 128 < image[30, 50, 0] < 255 - 60  # white, fainter
    assert image[10, 30, 0] == 128  # silent: the photo as it is


def test_the_groups_picture_colours_each_place_by_its_strongest_group():
    from featviz_core.dissect import GROUP_COLOURS, Factorization, NeuronGroup, group_overlay
    from featviz_core.dissect.overlays import hex_rgb

    left, right = np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32)
    left[:, :2], right[:, 2:] = 1.0, 1.0
    groups = Factorization((NeuronGroup(np.ones(3, np.float32), left), NeuronGroup(np.ones(3, np.float32), right)), 0.1)
    image = group_overlay(np.zeros((40, 40, 3), np.uint8), groups, 40).astype(float)
    assert np.allclose(image[20, 2], hex_rgb(GROUP_COLOURS[0]) * 0.8, atol=2)
    assert np.allclose(image[20, 37], hex_rgb(GROUP_COLOURS[1]) * 0.8, atol=2)
    assert len(set(GROUP_COLOURS)) == 8  # one colour for each of up to 8 groups


def test_featviz_dissect_reads_a_photo_with_your_own_keras_file(capsys, tmp_path):
    """Any model: a .keras file with a fixed 28x28 gray input reads a colour photo, resized to its input."""
    from user_models import gray28

    model = tmp_path / "digits.keras"
    gray28().save(model)
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(5).integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(photo)
    data = tmp_path / "out.json"
    code, out, err = run_cli(capsys, "dissect", str(model), "conv2", str(photo), "-o", str(tmp_path / "s.png"),
                             "--json", str(data), "--groups", "3", "--no-group-pictures")
    assert code == 0, err
    found = json.loads(data.read_text())
    assert found["photo"] == {"width": 80, "height": 60} and found["grid"] == {"rows": 14, "cols": 14}
    covered = np.zeros((60, 80), int)
    for cell in found["cells"]:
        x, y, w, h = cell["box"]
        covered[y:y + h, x:x + w] += 1
    assert (covered == 1).all() and len(found["groups"]) == 3


def test_resized_keeps_the_aspect_to_a_width_or_a_height():
    from featviz_core.dissect.overlays import resized

    image = np.zeros((30, 60, 3), np.uint8)
    assert resized(image, 120).shape == (60, 120, 3)
    assert resized(image, height=15).shape == (15, 30, 3)
    with pytest.raises(ValueError, match="not both"):
        resized(image, 120, height=15)
