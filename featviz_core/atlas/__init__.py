"""The atlas: its TensorFlow-free format (`format`, whose names are re-exported here) and its builder
(`build`, which loads TensorFlow)."""

from featviz_core.lazy import lazy_exports

_NAMES = ("Atlas", "AtlasEntry", "AtlasError", "default_atlas_folders", "find_atlases", "open_atlas")
__getattr__ = lazy_exports(__name__, {**dict.fromkeys(_NAMES, "format"),  # loaded on first use
                                      **dict.fromkeys(("ModelAtlases", "atlases_by_model"), "by_model"),
                                      "merge": "merging"})
