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


def with_compute_dtype(model: keras.Model, dtype: str) -> keras.Model:
    """A copy of `model` computing in `dtype` (weights kept in float32), or the model itself."""
    if dtype == "float32":
        return model

    def clone_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
        if isinstance(layer, keras.Model):  # a nested model: its layers, one by one
            return keras.models.clone_model(layer, clone_function=clone_layer)
        config = layer.get_config()
        config["dtype"] = keras.DTypePolicy(f"mixed_{dtype}")
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(model, clone_function=clone_layer)
        copy.set_weights(model.get_weights())
    except Exception:  # noqa: BLE001 - custom layers may not clone: fall back to full precision
        return model
    return copy
