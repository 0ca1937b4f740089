"""featviz_core: see what the filters of a convolutional network have learned.

Streamlit-free: usable from notebooks, the `featviz` CLI and the dashboard.
"""

from .ascent import Progress, Result, Snapshot, render, render_batch
from .models import LayerInfo, LoadedModel, ModelLoadError, describe, list_layers, load_model, model_names
from .settings import PRESETS, RenderSettings, preset
from .start_images import BadImageError

__all__ = [
    "BadImageError", "LayerInfo", "LoadedModel", "ModelLoadError", "PRESETS", "Progress", "RenderSettings",
    "Result", "Snapshot", "describe", "list_layers", "load_model", "model_names", "preset", "render",
    "render_batch",
]
