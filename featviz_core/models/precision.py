"""Pick the compute precision: bfloat16 where the hardware runs it fast, else float32.

The image being optimized always stays float32; only the network's activations are computed in
bfloat16. On CPUs with AVX512-BF16 or AMX (and on GPUs) this halves the step time; on other CPUs
bfloat16 would be emulated and slow, so float32 is kept. `FEATVIZ_PRECISION=float32|bfloat16`
overrides the choice.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import keras
import tensorflow as tf

PRECISION_ENV = "FEATVIZ_PRECISION"
FAST_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpu_has_fast_bfloat16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in FAST_BF16_CPU_FLAGS)


@functools.lru_cache(maxsize=1)
def compute_dtype() -> str:
    """'bfloat16' or 'float32', from FEATVIZ_PRECISION or the hardware."""
    chosen = os.environ.get(PRECISION_ENV, "auto").strip().lower()
    if chosen in ("float32", "bfloat16"):
        return chosen
    if tf.config.list_physical_devices("GPU") or _cpu_has_fast_bfloat16():
        return "bfloat16"
    return "float32"


def use_compute_dtype(model: keras.Model, dtype: str | None = None) -> keras.Model:
    """Make `model` compute in `dtype` (by default `compute_dtype()`), in place, and return it.

    Each layer, nested models' too, gets Keras' mixed policy: it keeps its float32 weights and
    computes in `dtype`. There is no second copy of the model or of its weights: every network cut
    from it (ascent, measures, dataset examples) shares them and computes in `dtype`.
    """
    dtype = dtype or compute_dtype()
    if dtype != "float32":
        for layer in _leaf_layers(model):
            layer.dtype_policy = f"mixed_{dtype}"
    return model


def model_compute_dtype(model: keras.Model) -> str:
    """The dtype `model`'s layers with weights compute in."""
    return next((layer.compute_dtype for layer in _leaf_layers(model) if layer.weights), "float32")


def _leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every layer that is not itself a model, at any nesting depth."""
    return [leaf for layer in model.layers
            for leaf in (_leaf_layers(layer) if isinstance(layer, keras.Model) else [layer])]
