"""Gradient ascent on the input image: the render loop (`loop`) and its parts (objectives,
parameterizations, transforms, optimizers, lean gradients, start images, the dead-filter `rescue`), and
the quality measures. It knows nothing of photos: what they say comes from the caller
(`featviz_core.rendering` passes the sample photos' answers)."""

from featviz_core.lazy import lazy_exports

_NAMES = ("AscentStep", "MAX_BATCH", "STEPS_PER_MODEL", "ascent_step", "batch_limit", "cached_model", "render",
          "render_batch")
__getattr__ = lazy_exports(__name__, {**dict.fromkeys(_NAMES, "loop"),  # loaded on first use
                                      **dict.fromkeys(("DEAD_LOSS", "RESCUE_STEPS", "NoPhotos", "PhotoAnswers"), "rescue")})
