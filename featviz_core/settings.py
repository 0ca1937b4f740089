"""Render settings: one frozen, hashable, validated request, and the named presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable

import numpy as np

START_KINDS = ("noise", "gray", "gradient", "photo")
OBJECTIVES = ("channel", "neuron", "deepdream", "logit", "diversity")
PARAMETERIZATIONS = ("pixels", "fourier")
OPTIMIZERS = ("rms", "adam")

MIN_OCTAVE_SIZE = 16
MAX_FINAL_SIZE = 1024
MAX_TOTAL_STEPS = 2000


@dataclass(frozen=True)
class Method:
    """The choices that are compiled into an ascent step."""

    objective: str = "channel"
    parameterization: str = "pixels"
    optimizer: str = "rms"
    transforms: bool = False
    raw_input: bool = False


@dataclass(frozen=True)
class RenderSettings:
    """Everything that determines one visualization. Same settings, same picture."""

    model: str = "vgg16-offline"
    layer: str = "block5_conv3"
    filter: int = 0
    start: str = "noise"
    steps_per_octave: int = 10
    octaves: int = 5
    upscale_factor: float = 1.2
    step_size: float = 1.0
    final_size: int = 160
    seed: int = 0
    snapshot_stride: int = 1
    raw_input: bool = False
    objective: str = "channel"
    parameterization: str = "pixels"
    optimizer: str = "rms"
    transforms: bool = False
    tv_weight: float = 0.0
    warmup_steps: int = 0
    start_photo: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_int("filter", self.filter, 0, 100_000)
        if self.start not in START_KINDS:
            raise ValueError(f"start must be one of {', '.join(START_KINDS)}; got {self.start!r}")
        if self.start == "photo" and not self.start_photo:
            raise ValueError("start_photo is required when start is 'photo': upload or pass an image file")
        _check_int("steps_per_octave", self.steps_per_octave, 1, 500)
        _check_int("octaves", self.octaves, 1, 20)
        _check_float("upscale_factor", self.upscale_factor, 1.0, 2.0)
        _check_float("step_size", self.step_size, 1e-4, 1000.0)
        _check_int("final_size", self.final_size, MIN_OCTAVE_SIZE, MAX_FINAL_SIZE)
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_int("snapshot_stride", self.snapshot_stride, 1, 10_000)
        for name in ("raw_input", "transforms"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}")
        for name, allowed in (("objective", OBJECTIVES), ("parameterization", PARAMETERIZATIONS),
                              ("optimizer", OPTIMIZERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {getattr(self, name)!r}")
        _check_float("tv_weight", self.tv_weight, 0.0, 10.0)
        _check_int("warmup_steps", self.warmup_steps, 0, 500)
        if not self.model or not isinstance(self.model, str):
            raise ValueError("model must be a registered model name or a path to a .keras file")
        if not self.layer or not isinstance(self.layer, str):
            raise ValueError("layer must be the name of a convolutional layer")
        first = self.octave_sizes[0]
        if first < MIN_OCTAVE_SIZE:
            raise ValueError(
                f"final_size / upscale_factor ** octaves gives a first octave of {first} px; it must be at "
                f"least {MIN_OCTAVE_SIZE} px: raise final_size or lower octaves or upscale_factor"
            )
        if self.total_steps > MAX_TOTAL_STEPS:
            raise ValueError(
                f"steps_per_octave x octaves = {self.total_steps}; at most {MAX_TOTAL_STEPS} steps are allowed"
            )

    @property
    def octave_sizes(self) -> tuple[int, ...]:
        """Image size of each octave that gets ascent steps (classic: 79, 95, ..., 343)."""
        return tuple(
            int(self.final_size / self.upscale_factor ** (self.octaves - index)) for index in range(self.octaves)
        )

    @property
    def method(self) -> "Method":
        """The parts of the settings that change the compiled step."""
        return Method(self.objective, self.parameterization, self.optimizer, self.transforms, self.raw_input)

    @property
    def total_steps(self) -> int:
        return self.steps_per_octave * self.octaves

    def with_changes(self, **changes: object) -> "RenderSettings":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def check_layer(self, layers: Iterable[object]) -> None:
        """Raise ValueError unless `layer` is one of `layers` (LayerInfo) and `filter` is in its range."""
        by_name = {info.name: info for info in layers}  # type: ignore[attr-defined]
        info = by_name.get(self.layer)
        if info is None:
            shown = ", ".join(list(by_name)[:12]) + (" ..." if len(by_name) > 12 else "")
            raise ValueError(f"layer {self.layer!r} is not a conv layer of {self.model}; choose one of: {shown}")
        if self.filter >= info.filters:
            raise ValueError(f"filter must be between 0 and {info.filters - 1} for {self.layer}; got {self.filter}")
        if self.objective == "logit" and info.kind != "Dense":
            heads = [layer.name for layer in by_name.values() if layer.kind == "Dense"]  # type: ignore[attr-defined]
            raise ValueError(
                f"objective 'logit' needs the classifier layer ({heads[0]})" if heads else
                f"objective 'logit' needs a classification head, and {self.model} has none (its conv layers only)")


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number between {low} and {high}; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {value}")


def _check_float(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
        raise ValueError(f"{name} must be a number between {low} and {high}; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {value}")


PRESETS: dict[str, dict[str, object]] = {
    # Modern methods (Lucid-style): decorrelated Fourier image, Adam, random pad/jitter/scale/rotate,
    # and a pre-activation warm-up that rescues filters the classic method leaves dead.
    "robust": dict(steps_per_octave=12, octaves=5, upscale_factor=1.4, step_size=1.0, final_size=412,
                   raw_input=False, objective="channel", parameterization="fourier", optimizer="adam",
                   transforms=True, tv_weight=0.0, warmup_steps=10),
    # A good deep-layer picture in a few seconds on two CPU cores: plain pixels, the classic step.
    "quick": dict(steps_per_octave=10, octaves=5, upscale_factor=1.2, step_size=2.0, final_size=160,
                  raw_input=False, objective="channel", parameterization="pixels", optimizer="rms",
                  transforms=False, tv_weight=0.0, warmup_steps=10),
    # The Keras conv_filter_visualization.py script: 79 px start, 9 upscalings of 1.2x, 15 steps each.
    # It feeds raw pixels to the network, without the model's own preprocessing.
    "classic": dict(steps_per_octave=15, octaves=9, upscale_factor=1.2, step_size=1.0, final_size=412,
                    raw_input=True, objective="channel", parameterization="pixels", optimizer="rms",
                    transforms=False, tv_weight=0.0, warmup_steps=0),
}
DEFAULT_PRESET = "robust"

PRESET_FIELDS = tuple(PRESETS["classic"])


def preset(name: str, **overrides: object) -> RenderSettings:
    """Settings for a named preset, with any fields overridden."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {name!r}")
    return RenderSettings(**{**PRESETS[name], **overrides})  # type: ignore[arg-type]


def matching_preset(settings: RenderSettings) -> str | None:
    """The preset whose numbers these settings use, or None for custom settings."""
    for name, values in PRESETS.items():
        if all(getattr(settings, key) == value for key, value in values.items()):
            return name
    return None

