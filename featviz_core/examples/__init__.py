"""Dataset examples: image sets, the top patches of a layer's filters, and their peaks on the sample photos."""

from featviz_core.lazy import lazy_exports

_NAMES = ("Example", "LayerExamples", "ReceptiveField", "examples_json", "examples_sheet", "layer_examples",
          "patch", "receptive_field")
__getattr__ = lazy_exports(__name__, dict.fromkeys(_NAMES, "top_patches"))  # loaded on first use
