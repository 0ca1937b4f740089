"""Models: loading (the registry and .keras files), input preprocessing, compute precision, devices."""

from featviz_core.lazy import lazy_exports

_NAMES = ("LoadedModel", "ModelLoadError", "OFFLINE_WEIGHTS_ENV", "build_tiny_cnn", "describe",
          "feature_model", "fixed_input_size", "list_layers", "load_model", "model_names",
          "offline_weights_path", "pre_activation_model")
__getattr__ = lazy_exports(__name__, dict.fromkeys(_NAMES, "loading"))  # loaded on first use
