"""Your own model: .keras files of any image shape load, list, render and measure; bad files are
refused with one line that says what is wrong and what to do (the CLI exits 2 with that line)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import user_models
from featviz_core import catalog, imaging, models
from featviz_core.rendering import render
from featviz_core.cli import main
from featviz_core.models import ModelLoadError, list_layers, load_model, pre_activation_model
from featviz_core.imaging import match_channels
from featviz_core.models.precision import compute_dtype
from featviz_core.models.preprocessing import to_model_channels, working_channels
from featviz_core.ascent.quality import QualityMeter
from featviz_core.settings import fit_to_input_size, preset
from featviz_core.ascent.start_images import make_start_image

MEASURE_RTOL = 1e-2 if compute_dtype() == "bfloat16" else 1e-3  # a render measures in bfloat16 where the CPU has it

EXPECTED = {  # name: (channels, input size, conv layers, last layer listed)
    "gray28": (1, (28, 28), ["conv1", "conv2"], "predictions"),
    "rgba64": (4, (64, 64), ["conv1", "conv2"], "conv2"),
    "anysize": (3, None, ["conv1", "conv2"], "predictions"),
    "nested": (3, None, ["base_conv1", "base_conv2"], "logits"),
}
RENDERED_LAYER = {"gray28": "conv2", "rgba64": "conv2", "anysize": "conv2", "nested": "base_conv2"}
FREE_SIZE = 48  # the fitted final size for models that take any size (keeps the tests fast)


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user-models")
    return {name: user_models.save(build(), folder / f"{name}.keras") for name, build in user_models.GOOD.items()}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """name -> (path, a fragment the refusal must contain)."""
    folder = tmp_path_factory.mktemp("bad-models")
    files = {
        "lambda": (user_models.save(user_models.with_lambda(), folder / "lambda.keras"), "Lambda layers run"),
        "custom": (user_models.save(user_models.with_custom_layer(), folder / "custom.keras"),
                   "custom layer class Doubling"),
        "no-conv": (user_models.save(user_models.without_conv(), folder / "dense.keras"), "no convolutional layers"),
        "vector": (user_models.save(user_models.vector_input(), folder / "vector.keras"), "input rank must be 4"),
    }
    user_models.unregister_custom_layer()
    whole = files["lambda"][0].read_bytes()
    (folder / "truncated.keras").write_bytes(whole[:len(whole) // 2])
    files["truncated"] = (folder / "truncated.keras", "is not a readable .keras file")
    (folder / "notes.keras").write_text("these are my notes, not a model\n")
    files["text"] = (folder / "notes.keras", "is not a readable .keras file")
    return files


def fitted_quick(loaded: models.LoadedModel, layer: str, filter_index: int = 0):
    size = min(loaded.input_size) if loaded.input_size else FREE_SIZE
    return fit_to_input_size(preset("quick", model=loaded.name, layer=layer, filter=filter_index), size)


# --- loading and listing ------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPECTED))
def test_image_models_of_any_shape_load_and_list_their_layers(model_files, name):
    loaded = load_model(str(model_files[name]))
    channels, size, convs, last = EXPECTED[name]
    assert (loaded.channels, loaded.input_size) == (channels, size)
    listed = list_layers(loaded.model)
    assert [info.name for info in listed if info.kind == "Conv2D"] == convs
    assert listed[-1].name == last and listed == loaded.layers


def test_the_nested_base_is_cut_at_its_inner_layer(model_files):
    loaded = load_model(str(model_files["nested"]))
    network, activation = pre_activation_model(loaded.model, "base_conv2")
    images = np.random.default_rng(0).uniform(0, 255, (1, 20, 20, 3)).astype("float32")
    base = loaded.model.get_layer("base")
    expected = base(images, training=False).numpy()
    assert np.allclose(activation(network(images, training=False)).numpy(), expected, atol=1e-4)


# --- rendering and measuring --------------------------------------------------------------------

@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_model_renders_at_its_size_and_the_activation_rises(model_files, name):
    loaded = load_model(str(model_files[name]))
    layer = RENDERED_LAYER[name]
    settings = fitted_quick(loaded, layer, 1)
    expected_size = loaded.input_size[0] if loaded.input_size else FREE_SIZE
    assert settings.final_size == expected_size
    result = render(settings, loaded)
    assert result.image.shape == (expected_size, expected_size, 3) and result.image.dtype == np.uint8
    assert np.isfinite(result.losses).all() and result.steps_run == settings.total_steps
    meter = QualityMeter(loaded, layer, views=2)
    start = match_channels(make_start_image("noise", expected_size, 0), working_channels(loaded.channels))
    before = meter.activation(start[None], [1])[0]
    after = meter.activation(result.measured_image[None], [1])[0]
    assert after > before and after > 0
    assert np.isclose(after, result.final_activation, rtol=MEASURE_RTOL, atol=1e-5)  # the ascent measures the same way
    quality = meter.measure(result.measured_image, 1)
    assert quality.robust > 0 and 0 <= quality.hf <= 1


def test_a_gray_model_gives_gray_pictures(model_files):
    loaded = load_model(str(model_files["gray28"]))
    result = render(fitted_quick(loaded, "conv1", 2), loaded)
    for image in (result.image, *(snap.image for snap in result.snapshots)):
        assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])
    assert result.image.std() > 0  # not a flat picture


def test_working_images_become_the_model_channels_as_numpy_does():
    rgb = np.random.default_rng(1).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    gray = to_model_channels(tf.constant(rgb), 1).numpy()
    assert gray.shape == (2, 5, 5, 1) and np.allclose(gray, imaging.match_channels(rgb, 1), atol=1e-3)
    assert np.array_equal(to_model_channels(tf.constant(rgb), 3).numpy(), rgb)
    six = np.random.default_rng(2).uniform(0, 255, (2, 5, 5, 6)).astype("float32")
    assert working_channels(6) == 6 and np.array_equal(to_model_channels(tf.constant(six), 6).numpy(), six)
    with pytest.raises(tf.errors.InvalidArgumentError):
        to_model_channels(tf.constant(rgb), 6)  # a 6-channel model's working image has 6 channels


def test_the_logit_objective_raises_the_pre_softmax_score(model_files):
    loaded = load_model(str(model_files["anysize"]))
    settings = fit_to_input_size(preset("quick", model=loaded.name, layer="predictions", filter=2,
                                        objective="logit"), 32)
    result = render(settings, loaded)
    logits, activation = pre_activation_model(loaded.model, "predictions")
    assert activation is not tf.identity  # the head has a softmax, which the objective skips

    def logit(image: np.ndarray) -> float:
        return float(logits(tf.constant(image[None], tf.float32), training=False).numpy()[0, 2])

    assert logit(result.image) > logit(make_start_image("noise", 32, 0)) + 0.1
    assert np.isclose(result.final_activation, logit(result.image), rtol=MEASURE_RTOL)


# --- refused files ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lambda", "custom", "no-conv", "vector", "truncated", "text"])
def test_bad_model_files_are_refused_in_one_line(bad_files, name):
    path, fragment = bad_files[name]
    with pytest.raises(ModelLoadError) as caught:
        load_model(str(path))
    message = str(caught.value)
    assert fragment in message and path.name in message
    assert "\n" not in message and len(message) < 300


def test_refusals_say_what_to_do(bad_files):
    advice = {"lambda": "built-in layer", "custom": "built-in Keras layers", "truncated": "model.save('name.keras')",
              "text": "model.save('name.keras')", "vector": "(height, width, channels)"}
    for name, fragment in advice.items():
        with pytest.raises(ModelLoadError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
            load_model(str(bad_files[name][0]))


def test_a_registered_custom_layer_is_refused_after_loading_too(bad_files):
    """Even when the class is known in this process, featviz does not run a model's custom code."""
    keras_objects = __import__("keras").saving.get_custom_objects()
    keras_objects["featviz_tests>Doubling"] = user_models.Doubling
    try:
        with pytest.raises(ModelLoadError, match="custom layer class Doubling"):
            load_model(str(bad_files["custom"][0]))
    finally:
        user_models.unregister_custom_layer()


def test_files_over_the_size_limit_are_refused(model_files, monkeypatch):
    path = model_files["gray28"]
    megabytes = path.stat().st_size / 2**20
    monkeypatch.setattr(catalog, "MAX_MODEL_MB", megabytes * 0.99)
    with pytest.raises(ModelLoadError, match=r"gray28\.keras is \d+ MB; models up to [\d.]+ MB"):
        load_model(str(path))
    monkeypatch.setattr(catalog, "MAX_MODEL_MB", megabytes)  # a file of exactly the limit is accepted
    assert load_model(str(path)).channels == 1


def _sparse_file(path, size: int):
    with open(path, "wb") as file:
        file.truncate(size)  # no data written: a hole of `size` bytes
    return path


def test_a_file_of_200_mb_is_read_and_one_byte_more_is_refused_unread(tmp_path):
    """The limit the README and the uploader state: 200 MB (2**20 bytes each). A file of exactly that size
    gets as far as the archive check; one byte more is refused by its size before it is opened."""
    limit = 200 * 2**20
    with pytest.raises(ModelLoadError) as read:
        load_model(str(_sparse_file(tmp_path / "at_limit.keras", limit)))
    assert "not a readable .keras file" in str(read.value) and "models up to" not in str(read.value)
    with pytest.raises(ModelLoadError, match=r"^over\.keras is \d+ MB; models up to 200 MB are accepted") as caught:
        load_model(str(_sparse_file(tmp_path / "over.keras", limit + 1)))
    assert "\n" not in str(caught.value) and "smaller model" in str(caught.value)


# --- the command line ---------------------------------------------------------------------------

def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", list(EXPECTED))
def test_cli_lists_the_layers_of_good_files(capsys, model_files, name):
    code, out, err = run_cli(capsys, "layers", model_files[name])
    assert code == 0, err
    assert all(layer in out for layer in EXPECTED[name][2])


@pytest.mark.parametrize("name, size", [("gray28", 28), ("rgba64", 64)])
def test_cli_renders_a_fixed_size_model_at_its_input_size(capsys, tmp_path, model_files, name, size):
    out = tmp_path / "out.png"
    code, _, err = run_cli(capsys, "render", model_files[name], "conv2", "1", "-o", out, "--preset", "quick")
    assert code == 0, err
    assert Image.open(out).size == (size, size)


def test_cli_keeps_an_explicit_size(capsys, tmp_path, model_files):
    out = tmp_path / "out.png"
    code, _, err = run_cli(capsys, "render", model_files["gray28"], "conv1", "0", "-o", out, "--preset", "quick",
                           "--size", "40", "--octaves", "2", "--steps", "2")
    assert code == 0, err
    assert Image.open(out).size == (40, 40)  # resized to 28 px for the network, shown at the size asked for


def test_cli_renders_a_nested_model(capsys, tmp_path, model_files):
    out = tmp_path / "out.png"
    code, _, err = run_cli(capsys, "render", model_files["nested"], "base_conv1", "1", "-o", out,
                           "--size", "32", "--octaves", "2", "--steps", "2", "--preprocessing", "symmetric")
    assert code == 0, err
    assert Image.open(out).size == (32, 32)


@pytest.mark.parametrize("name", ["lambda", "custom", "no-conv", "vector", "truncated", "text"])
@pytest.mark.parametrize("command", ["layers", "render"])
def test_cli_exits_2_with_one_line_for_bad_files(capsys, tmp_path, bad_files, name, command):
    path, fragment = bad_files[name]
    extra = ("conv1", "0", "-o", tmp_path / "out.png") if command == "render" else ()
    code, out, err = run_cli(capsys, command, path, *extra)
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("featviz: error:") and fragment in lines[0]
    assert not (tmp_path / "out.png").exists()


# --- input preprocessings -----------------------------------------------------------------------

def test_each_preprocessing_maps_pixels_as_documented(tiny_model):
    from featviz_core.models import preprocessing
    from featviz_core.models.preprocessing import preprocess_for

    rgb = tf.constant(np.random.default_rng(2).uniform(0, 255, (1, 4, 4, 3)), tf.float32)
    gray, four = to_model_channels(rgb, 1), tf.concat([rgb, rgb[..., :1]], axis=-1)
    x = rgb.numpy()
    assert preprocess_for(tiny_model, "model") is tiny_model.preprocess
    assert np.allclose(preprocess_for(tiny_model, "raw")(rgb).numpy(), x)
    assert np.allclose(preprocess_for(tiny_model, "unit")(rgb).numpy(), x / 255)
    assert np.allclose(preprocess_for(tiny_model, "symmetric")(rgb).numpy(), x / 127.5 - 1, atol=1e-6)
    caffe = preprocess_for(tiny_model, "caffe")
    assert np.allclose(caffe(rgb).numpy(), x[..., ::-1] - [103.939, 116.779, 123.68], atol=1e-4)
    assert np.allclose(caffe(gray).numpy(), gray.numpy() - 114.8, atol=1e-4)
    assert np.allclose(caffe(four).numpy(), four.numpy() - 114.8, atol=1e-4)
    torch = preprocess_for(tiny_model, "torch")
    assert np.allclose(torch(rgb).numpy(), (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225], atol=1e-5)
    assert np.allclose(torch(gray).numpy(), (gray.numpy() / 255 - 0.449) / 0.226, atol=1e-5)
    assert torch(four).shape == (1, 4, 4, 4)
    with pytest.raises(ValueError, match="preprocessing must be one of model, raw"):
        preprocess_for(tiny_model, "imagenet")
    with pytest.raises(TypeError, match="preprocess_for"):
        preprocessing.model(rgb)
    assert preprocessing.measured_with("raw") == "model" and preprocessing.measured_with("unit") == "unit"


@pytest.mark.parametrize("name", ["unit", "symmetric", "caffe", "torch"])
def test_a_gray_model_renders_with_each_preprocessing(model_files, name):
    loaded = load_model(str(model_files["gray28"]))
    settings = fitted_quick(loaded, "conv1", 2).with_changes(preprocessing=name, steps_per_octave=2)
    result = render(settings, loaded)
    assert result.image.shape == (28, 28, 3) and np.isfinite(result.losses).all()
    meter = QualityMeter(loaded, "conv1", views=1, preprocessing=name)
    assert np.isclose(meter.activation(result.image[None], [2])[0], result.final_activation, rtol=MEASURE_RTOL, atol=1e-5)


@pytest.mark.parametrize("parameterization", ["pixels", "fourier", "maco"])
def test_every_channel_of_a_four_channel_model_is_optimized(parameterization):
    """A filter that sees only the fourth channel: the ascent must change that channel to excite it."""
    import keras

    inputs = keras.Input((32, 32, 4))
    conv = keras.layers.Conv2D(2, 3, activation="relu", name="conv")
    model = keras.Model(inputs, conv(inputs), name="fourth")
    kernel = np.zeros((3, 3, 4, 2), np.float32)
    kernel[:, :, 3, 0] = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]  # filter 0: vertical edges in channel 4 only
    kernel[:, :, 0, 1] = 1.0  # filter 1: brightness of channel 1
    conv.set_weights([kernel, np.zeros(2, np.float32)])
    loaded = models.LoadedModel("fourth", "test", model, lambda x: x)
    settings = fit_to_input_size(preset("quick", model="fourth", layer="conv", filter=0,
                                        parameterization=parameterization), 32)
    result = render(settings, loaded)
    assert result.image.shape == (32, 32, 3) and result.model_view.shape == (32, 32, 4)
    assert np.array_equal(result.model_view[..., :3], result.image)
    assert result.measured_image is result.model_view
    fourth = result.model_view[..., 3].astype(float)
    assert fourth.std() > 10  # the fourth channel got a pattern, not a constant
    assert not result.dead and result.final_activation > 1.0
    assert QualityMeter(loaded, "conv", views=2).measure(result.measured_image, 0).act > 1.0
