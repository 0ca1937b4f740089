"""Gradient ascent on the input image: the render loop (`loop`) and its parts (objectives,
parameterizations, transforms, optimizers, lean gradients, start images), and the quality measures."""

from featviz_core.lazy import lazy_exports

_NAMES = ("AscentStep", "DEAD_LOSS", "MAX_BATCH", "RESCUE_STEPS", "STEPS_PER_MODEL", "ascent_step",
          "batch_limit", "cached_model", "render", "render_batch")
__getattr__ = lazy_exports(__name__, dict.fromkeys(_NAMES, "loop"))  # loaded on first use
