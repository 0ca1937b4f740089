"""Which model to show first, the fallback when a model cannot be loaded, and whether it can render live.

TensorFlow-free: it only looks at files and installed packages.
"""

from __future__ import annotations

import os
from pathlib import Path

from dashboard.line import server
from featviz_core import catalog

MODEL_ENV = "FEATVIZ_MODEL"
IMAGENET_VGG16_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"


def imagenet_vgg16_cached() -> bool:
    """True when Keras already has the ImageNet VGG16 weights on disk (no download needed)."""
    keras_home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return (keras_home / "models" / IMAGENET_VGG16_FILE).is_file()


def default_model() -> str:
    """$FEATVIZ_MODEL if set; else the ImageNet VGG16 when it needs no download; else the offline VGG16 when
    it has an atlas (its pictures open at once) or its weights are installed; else the ImageNet VGG16
    (downloaded once, e.g. on a cloud host with internet)."""
    chosen = os.environ.get(MODEL_ENV, "").strip()
    if chosen:
        return chosen
    if imagenet_vgg16_cached():
        return "vgg16"
    if server.atlas_of(catalog.OFFLINE_MODEL) is not None or catalog.offline_model_available():
        return catalog.OFFLINE_MODEL
    return "vgg16"


def can_render_live(name: str) -> bool:
    """False only where we know the model cannot load here (the offline VGG16 without its weights)."""
    return name != catalog.OFFLINE_MODEL or catalog.offline_model_available()


def fallback_for(failed: str) -> str | None:
    """The model to show instead of one that failed to load, or None when there is none."""
    if failed == catalog.OFFLINE_MODEL:
        return None
    if catalog.offline_model_available() or server.atlas_of(catalog.OFFLINE_MODEL) is not None:
        return catalog.OFFLINE_MODEL
    return None
