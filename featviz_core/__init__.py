"""featviz_core: see what the filters of a convolutional network have learned.

Streamlit-free: usable from notebooks, the `featviz` CLI and the dashboard. The names below are
imported on first use, so `import featviz_core.cli` (and `featviz --help`) does not load
TensorFlow before the command line has set its log level. Importing it changes nothing in the
process: glibc's heap settings are an explicit call (`featviz_core.memory.tune_heap()`).
"""

from __future__ import annotations

from featviz_core.lazy import lazy_exports

__version__ = "0.5.0"

_EXPORTS = {
    "Atlas": "atlas", "AtlasError": "atlas", "find_atlases": "atlas", "open_atlas": "atlas",
    "Progress": "results", "Result": "results", "Snapshot": "results", "render": "rendering", "render_batch": "rendering",
    "LayerInfo": "layers", "LoadedModel": "models", "ModelLoadError": "models", "describe": "models",
    "list_layers": "models", "load_model": "models", "model_names": "models",
    "PRESETS": "settings", "RenderSettings": "settings", "SettingsError": "settings", "preset": "settings",
    "Objective": "objective_text", "parse_objective": "objective_text",
    "BadImageError": "ascent.start_images",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
