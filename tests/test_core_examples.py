"""Dataset examples: image sets (samples, folders, zips), the layer's top patches, receptive-field boxes, the CLI."""

from __future__ import annotations

import io
import json
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image

from featviz_core.examples import image_sets
from featviz_core.cli import main
from featviz_core.examples import (Example, ReceptiveField, examples_json, examples_sheet, layer_examples, patch,
                                   receptive_field)
from featviz_core.examples.image_sets import (ImageSet, ImageSetError, NamedImage, image_set_from_files, image_set_from_folder,
                                     image_set_from_zip,
                                     sample_image_set)
from featviz_core.models import LoadedModel, feature_model

SIZE = 224  # the working size: square images of this size are scored as they are


def grating(angle_degrees: float, size: int = SIZE, period: float = 12.0) -> np.ndarray:
    """A sinusoidal grating whose stripes run at `angle_degrees` from vertical (0 = vertical stripes)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    theta = np.deg2rad(angle_degrees)
    phase = (x * np.cos(theta) + y * np.sin(theta)) * 2 * np.pi / period
    gray = 128 + 100 * np.sin(phase)
    return np.repeat(gray[..., None], 3, axis=-1).astype(np.uint8)


def flat(colour: tuple[int, int, int], shape: tuple[int, int] = (SIZE, SIZE)) -> np.ndarray:
    return np.broadcast_to(np.array(colour, dtype=np.uint8), shape + (3,)).copy()


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def make_set(named: dict[str, np.ndarray]) -> ImageSet:
    return ImageSet("synthetic", "id-" + "-".join(named), tuple(NamedImage(k, v) for k, v in named.items()))


GRATINGS = {"flat_red.png": flat((200, 30, 30)), "h_grating.png": grating(90), "d45.png": grating(45),
            "v_grating.png": grating(0), "d30.png": grating(30), "flat_gray.png": flat((128, 128, 128)),
            "d60.png": grating(60), "flat_blue.png": flat((20, 40, 220))}


@pytest.fixture(scope="module")
def edge_model() -> LoadedModel:
    """One 3x3 conv (valid padding, ReLU): filter 0 finds vertical edges, filter 1 horizontal ones."""
    sobel_x = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32) / 3
    kernel = np.zeros((3, 3, 3, 2), dtype=np.float32)
    for channel in range(3):
        kernel[:, :, channel, 0] = sobel_x
        kernel[:, :, channel, 1] = sobel_x.T
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2D(2, 3, activation="relu", use_bias=False, name="edges")(inputs)
    model = keras.Model(inputs, outputs, name="edges")
    model.get_layer("edges").set_weights([kernel])
    return LoadedModel("edges", "two edge detectors", model, lambda x: x)


def positive_model(padding: str, strides: int = 1, pool=keras.layers.MaxPooling2D) -> keras.Model:
    """conv 3x3, conv 3x3, pool 2, conv 3x3 (stride `strides`), all-positive kernels, no activation."""
    ones = keras.initializers.Constant(1.0)
    inputs = keras.Input((None, None, 1))
    x = keras.layers.Conv2D(1, 3, padding=padding, kernel_initializer=ones, use_bias=False, name="c1")(inputs)
    x = keras.layers.Conv2D(1, 3, padding=padding, kernel_initializer=ones, use_bias=False, name="c2")(x)
    x = pool(2, padding=padding, name="pool")(x)
    x = keras.layers.Conv2D(1, 3, strides=strides, padding=padding, kernel_initializer=ones, use_bias=False,
                            name="c3")(x)
    return keras.Model(inputs, x)


# --- image sets --------------------------------------------------------------------------------------

def test_the_sample_set_loads_offline_with_at_least_eight_photos():
    samples = sample_image_set()
    assert len(samples.images) >= 8
    assert samples.skipped == ()
    assert all(image.name.endswith(".png") for image in samples.images)
    for image in samples.images:
        assert image.pixels.dtype == np.uint8 and image.pixels.ndim == 3 and image.pixels.shape[2] == 3
        assert max(image.pixels.shape[:2]) <= 1024
    assert len(set(samples.names)) == len(samples.names)
    assert len(samples.identity) == 64


def write_messy_folder(root):
    (root / "sub").mkdir(parents=True)
    (root / "b_good.png").write_bytes(png(grating(0, 32)))
    (root / "sub" / "a_inner.jpg").write_bytes(_jpeg(flat((10, 200, 10), (20, 30))))
    (root / "bad.png").write_bytes(b"this is text, not a picture")
    whole = png(grating(45, 64))
    (root / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (root / "notes.txt").write_text("hello")
    (root / ".hidden.png").write_bytes(png(grating(0, 32)))


def _jpeg(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_a_folder_skips_bad_files_and_counts_them(tmp_path):
    write_messy_folder(tmp_path / "set")
    images = image_set_from_folder(tmp_path / "set")
    assert images.names == ("b_good.png", "sub/a_inner.jpg")
    assert images.images[1].pixels.shape == (20, 30, 3)
    skipped = dict(images.skipped)
    assert set(skipped) == {"bad.png", "truncated.png", "notes.txt"}  # the hidden file is ignored, not skipped
    assert "not an image Pillow can read" in skipped["bad.png"]
    assert "not an image file" in skipped["notes.txt"]
    assert all("\n" not in reason for reason in skipped.values())


def zipped(folder) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.writestr(file.relative_to(folder).as_posix(), file.read_bytes())
        archive.writestr("__MACOSX/._b_good.png", b"resource fork")
        archive.writestr("empty_dir/", b"")
    return buffer.getvalue()


def test_a_zip_follows_the_same_rules_and_shares_the_identity(tmp_path):
    write_messy_folder(tmp_path / "set")
    data = zipped(tmp_path / "set")
    first = image_set_from_zip(data, "set.zip")
    assert first.names == ("b_good.png", "sub/a_inner.jpg")
    assert {name for name, _ in first.skipped} == {"bad.png", "truncated.png", "notes.txt"}
    assert image_set_from_zip(data, "again.zip").identity == first.identity  # the same upload: one cache entry
    assert image_set_from_folder(tmp_path / "set").identity == first.identity
    (tmp_path / "set" / "b_good.png").write_bytes(png(grating(90, 32)))
    assert image_set_from_folder(tmp_path / "set").identity != first.identity


def test_uploaded_files_take_images_as_they_are_and_open_zips(tmp_path):
    write_messy_folder(tmp_path / "set")
    data = zipped(tmp_path / "set")
    alone = image_set_from_files([("set.zip", data)], "set.zip")
    assert alone.names == ("b_good.png", "sub/a_inner.jpg") and alone.identity == image_set_from_zip(data, "x").identity
    mixed = image_set_from_files([("one.png", png(grating(45, 24))), ("set.zip", data), ("two.txt", b"hi")], "3 files")
    assert mixed.names == ("one.png", "set.zip/b_good.png", "set.zip/sub/a_inner.jpg")
    assert {name for name, _ in mixed.skipped} == {"two.txt", "set.zip/bad.png", "set.zip/truncated.png",
                                                   "set.zip/notes.txt"}
    small = image_set_from_files([(f"{index}.png", png(grating(0, 64))) for index in range(4)], "4 files",
                                 max_bytes=2 * 64 * 64 * 3)
    assert len(small) == 2 and all("maximum of" in reason for _, reason in small.skipped)


def test_a_file_that_is_not_a_zip_is_an_image_set_error():
    with pytest.raises(ImageSetError, match="not a zip archive"):
        image_set_from_zip(png(grating(0, 16)), "photo.png")


def test_a_set_without_usable_images_is_an_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"nope")
    (tmp_path / "readme.md").write_text("nope")
    with pytest.raises(ImageSetError, match=r"no usable images in .*: 2 files skipped \(bad.png: "):
        image_set_from_folder(tmp_path)
    with pytest.raises(ImageSetError, match="not found"):
        image_set_from_folder(tmp_path / "missing")


def test_the_set_size_is_capped_and_the_rest_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(image_sets, "MAX_SET_IMAGES", 2)
    for index in range(4):
        (tmp_path / f"{index}.png").write_bytes(png(grating(index * 20, 16)))
    images = image_set_from_folder(tmp_path)
    assert images.names == ("0.png", "1.png")
    assert [name for name, _ in images.skipped] == ["2.png", "3.png"]
    assert "maximum of 2 images" in images.skipped[0][1]


# --- the examples ------------------------------------------------------------------------------------

def direct_maximum(loaded: LoadedModel, layer: str, pixels: np.ndarray, unit: int) -> float:
    """The filter's maximum over positions, computed with the model cut at the layer."""
    batch = loaded.preprocess(np.asarray(pixels, dtype=np.float32)[None])
    network = feature_model(loaded.model, layer)
    output = network([batch] if isinstance(network.input, list) else batch)
    return float(np.asarray(output)[0, ..., unit].max())


def test_the_vertical_edge_filter_picks_the_vertical_grating(edge_model):
    images = make_set(GRATINGS)
    calls = []
    result = layer_examples(edge_model, "edges", images, top=4, progress=lambda done, total: calls.append((done, total)))
    assert (result.filters, result.top, result.layer, result.image_set) == (2, 4, "edges", images.identity)
    vertical, horizontal = result.examples
    assert vertical[0].image == "v_grating.png"
    assert [example.image for example in vertical[:3]] == ["v_grating.png", "d30.png", "d45.png"]
    assert horizontal[0].image == "h_grating.png"
    top = vertical[0]
    assert top.activation == pytest.approx(direct_maximum(edge_model, "edges", GRATINGS["v_grating.png"], 0), rel=1e-5)
    assert images.images[top.image_index].name == top.image
    assert top.box[2:] == (3, 3)  # one 3x3 conv sees 3x3 pixels
    assert calls[0] == (0, len(GRATINGS)) and calls[-1] == (len(GRATINGS), len(GRATINGS))
    assert result.images_per_second > 0 and result.skipped == 0


def test_top_examples_are_best_first_distinct_and_inside_their_images(tiny_model):
    named = {**GRATINGS, "wide.png": np.ascontiguousarray(np.tile(grating(10, 120), (1, 3, 1))[:, :300]),
             "tall.png": np.ascontiguousarray(grating(70, 90)[:, :40]), "small.png": grating(20, 17)}
    images = make_set(named)
    result = layer_examples(tiny_model, "block2_conv1", images, top=5, batch=3)
    assert len(result.examples) == result.filters == 16
    for found in result.examples:
        activations = [example.activation for example in found]
        assert activations == sorted(activations, reverse=True)
        assert len({example.image_index for example in found}) == len(found) == 5
        for example in found:
            height, width = images.images[example.image_index].pixels.shape[:2]
            x, y, w, h = example.box
            assert 0 <= x and 0 <= y and w >= 1 and h >= 1 and x + w <= width and y + h <= height, (example, width)


def test_the_best_activation_matches_the_model_on_the_working_image(tiny_model):
    images = make_set(GRATINGS)
    result = layer_examples(tiny_model, "block1_conv2", images, top=1)
    for unit in (0, 3, 7):
        best = result.examples[unit][0]
        expected = max(direct_maximum(tiny_model, "block1_conv2", image.pixels, unit) for image in images.images)
        assert best.activation == pytest.approx(expected, rel=1e-4, abs=1e-6)
        assert best.activation == pytest.approx(direct_maximum(tiny_model, "block1_conv2", GRATINGS[best.image], unit),
                                                rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_receptive_fields_of_two_convs_and_a_pool(padding):
    model = positive_model(padding)
    sizes = {name: receptive_field(model, name, (64, 64)).size for name in ("c1", "c2", "pool", "c3")}
    assert sizes == {"c1": (3, 3), "c2": (5, 5), "pool": (6, 6), "c3": (10, 10)}
    assert receptive_field(model, "c3", (64, 64)).jump == (2, 2)
    assert receptive_field(positive_model(padding, strides=2), "c3", (64, 64)).jump == (4, 4)


@pytest.mark.parametrize("padding, strides", [("valid", 1), ("same", 1), ("same", 2), ("valid", 2)])
def test_receptive_field_boxes_match_the_gradient(padding, strides):
    """The box of a unit is exactly where its gradient is non-zero (all kernels positive, average pooling
    so that every pixel of a window gets gradient), edges included."""
    import tensorflow as tf

    model = positive_model(padding, strides, pool=keras.layers.AveragePooling2D)
    height, width = 37, 42
    field = receptive_field(model, "c3", (height, width))
    image = tf.Variable(tf.zeros((1, height, width, 1)))
    rows, columns = field.extent
    for row, column in [(0, 0), (rows // 2, columns // 2), (rows - 1, columns - 1), (1, columns - 1)]:
        with tf.GradientTape() as tape:
            unit = model(image)[0, row, column, 0]
        gradient = tape.gradient(unit, image).numpy()[0, ..., 0]
        ys, xs = np.nonzero(gradient)
        seen = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
        assert field.box(row, column, height, width) == seen, (row, column)
    assert model.output.shape[1] is None and field.extent == tuple(model(np.zeros((1, height, width, 1))).shape[1:3])


def test_boxes_of_a_nested_fixed_size_gray_model_are_scaled_to_the_original_image():
    base = keras.Sequential([keras.Input((48, 48, 1)), keras.layers.Conv2D(4, 5, name="inner_conv"),
                             keras.layers.MaxPooling2D(2, name="inner_pool"), keras.layers.Conv2D(6, 3, name="deep")],
                            name="base")
    inputs = keras.Input((48, 48, 1))
    outputs = keras.layers.Dense(3, name="head")(keras.layers.Flatten()(base(inputs)))
    loaded = LoadedModel("nested", "nested", keras.Model(inputs, outputs), lambda x: x / 255.0)
    assert receptive_field(loaded.model, "deep", (48, 48)).size == (10, 10)
    assert receptive_field(loaded.model, "head", (48, 48)).whole
    images = make_set({"big.png": grating(0, 96), "wide.png": np.ascontiguousarray(grating(0, 96)[:48])})
    result = layer_examples(loaded, "deep", images, top=2)
    for found in result.examples:
        for example in found:
            height, width = images.images[example.image_index].pixels.shape[:2]
            x, y, w, h = example.box
            assert x + w <= width and y + h <= height
            assert w == pytest.approx(10 * width / 48, abs=2) or x == 0 or x + w == width
    head = layer_examples(loaded, "head", images, top=2)
    assert all(example.box == (0, 0, 96, 96 if example.image == "big.png" else 48) for example in head.examples[0])


def test_patches_sheet_and_json(edge_model):
    images = make_set(GRATINGS)
    result = layer_examples(edge_model, "edges", images, top=3)
    cut = patch(images, result.examples[0][0], size=40)
    assert cut.shape == (40, 40, 3) and cut.dtype == np.uint8
    sheet = examples_sheet(images, result, size=32)
    with_pictures = examples_sheet(images, result, [1], size=32, pictures={1: grating(0, 50)})
    assert sheet.dtype == np.uint8 and sheet.shape[0] > with_pictures.shape[0]
    assert with_pictures.shape[1] > examples_sheet(images, result, [1], size=32).shape[1]
    document = examples_json(images, result, [0])
    assert document["filters"]["0"][0] == {"image": "v_grating.png", "box": list(result.examples[0][0].box),
                                           "activation": result.examples[0][0].activation}
    assert isinstance(result.examples[0][0], Example) and isinstance(ReceptiveField().box(0, 0, 5, 5), tuple)


# --- the command line ---------------------------------------------------------------------------------

def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_writes_the_sheet_and_the_json(capsys, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name, pixels in GRATINGS.items():
        (folder / name).write_bytes(png(pixels))
    (folder / "broken.png").write_bytes(b"not a png")
    sheet, document = tmp_path / "out.png", tmp_path / "out.json"
    code, out, err = run_cli(capsys, "examples", "tiny", "block1_conv1", "--filters", "0-2", "--images", folder,
                             "--top", "4", "-o", sheet, "--json", document)
    assert code == 0, err
    assert Image.open(sheet).format == "PNG"
    data = json.loads(document.read_text())
    assert (data["model"], data["layer"], data["images"]) == ("tiny", "block1_conv1", len(GRATINGS))
    assert data["skipped"][0][0] == "broken.png"
    assert set(data["filters"]) == {"0", "1", "2"}
    for found in data["filters"].values():
        assert len(found) == 4 and set(found[0]) == {"image", "box", "activation"} and len(found[0]["box"]) == 4
        assert [item["activation"] for item in found] == sorted((item["activation"] for item in found), reverse=True)
    assert "images/s" in out and "1 files skipped" in out
    assert "8/8" in err  # the progress bar


def test_the_cli_reads_a_zip(capsys, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("v_grating.png", "h_grating.png"):
        (folder / name).write_bytes(png(GRATINGS[name]))
    archive = tmp_path / "set.zip"
    archive.write_bytes(zipped(folder))
    code, out, err = run_cli(capsys, "examples", "tiny", "block1_conv1", "--filters", "1", "--images", archive,
                             "--top", "2", "-o", tmp_path / "out.png")
    assert code == 0, err
    assert "top 2 of 2 images" in out
    with_pictures = tmp_path / "pictures.png"
    code, _, err = run_cli(capsys, "examples", "tiny", "block1_conv1", "--filters", "1", "--images", archive,
                           "--top", "2", "-o", with_pictures, "--pictures")
    assert code == 0, err
    assert "pictures 1-1" in err  # the tiny model has no atlas: its picture was rendered
    assert Image.open(with_pictures).width > Image.open(tmp_path / "out.png").width  # one column more, in front


@pytest.mark.parametrize("arguments, fragment", [
    (["--images", "{tmp}/missing"], "no such folder or zip file"),
    (["--images", "{tmp}/notzip.zip"], "not a zip archive"),
    (["--images", "{tmp}/empty"], "no usable images"),
    (["--filters", "0-99", "--images", "{tmp}/empty"], "no usable images"),
    (["--top", "0"], "--top must be at least 1"),
    (["--filters", "x"], "--filters must look like"),
])
def test_cli_usage_errors_exit_2(capsys, tmp_path, arguments, fragment):
    (tmp_path / "notzip.zip").write_bytes(b"plain text")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("x")
    argv = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    code, out, err = run_cli(capsys, "examples", "tiny", "block1_conv1", *argv, "-o", tmp_path / "x.png")
    assert code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("featviz: error:") and fragment in err, err


def test_cli_unknown_layer_and_filter_out_of_range(capsys, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "v.png").write_bytes(png(grating(0, 32)))
    code, _, err = run_cli(capsys, "examples", "tiny", "nope", "--images", folder, "-o", tmp_path / "x.png")
    assert code == 2 and "no layer 'nope'" in err
    code, _, err = run_cli(capsys, "examples", "tiny", "block1_conv1", "--filters", "8", "--images", folder,
                           "-o", tmp_path / "x.png")
    assert code == 2 and "has 8 filters" in err


# --- the real model -----------------------------------------------------------------------------------

@pytest.mark.vgg16
def test_vgg16_block1_conv1_examples(vgg16_offline):
    images = make_set({name: GRATINGS[name] for name in ("v_grating.png", "h_grating.png", "d45.png", "flat_red.png")})
    result = layer_examples(vgg16_offline, "block1_conv1", images, top=2)
    assert result.filters == 64 and result.model == "vgg16-offline"
    for unit in (0, 5, 63):
        best = result.examples[unit][0]
        assert best.box[2:] == (3, 3) or 0 in best.box[:2] or best.box[0] + best.box[2] == SIZE
        assert best.activation == pytest.approx(direct_maximum(vgg16_offline, "block1_conv1", GRATINGS[best.image], unit),
                                                rel=1e-4, abs=1e-4)
