"""The advanced render settings as a declarative list: adding a core field to the sidebar is one line.

Each entry names a `RenderSettings` field, how to show it, and how to read it back from the URL.
Entries whose field the core does not (yet) have are left out, so the list can run ahead of the core.
"""

from __future__ import annotations

from dataclasses import dataclass

from featviz_core import settings as core_settings
from featviz_core.settings import RenderSettings


@dataclass(frozen=True)
class Field:
    """One advanced setting: a number, a choice or a switch."""

    name: str
    label: str
    kind: type  # int, float, str (a choice) or bool
    step: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    group: str = "Ascent"

    def parse(self, text: str) -> object:
        """The value of this field written in a URL (ValueError if it is not one)."""
        if self.kind is bool:
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"{self.name} must be true or false")
            return text.lower() in ("true", "1")
        if self.kind is str:
            if text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
            return text
        try:
            return self.kind(text)
        except ValueError:
            raise ValueError(f"{self.name} must be a {'whole ' if self.kind is int else ''}number") from None

    def default(self) -> object:
        """The core's default for this field."""
        return RenderSettings.__dataclass_fields__[self.name].default


def _choices(constant: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(getattr(core_settings, constant, fallback))


_ALL = (
    Field("steps_per_octave", "Steps per octave", int, 1, help="Gradient-ascent steps at each image size."),
    Field("octaves", "Octaves", int, 1,
          help="How many image sizes get steps; each is the one before times the upscale factor."),
    Field("upscale_factor", "Upscale factor", float, 0.05, help="How much the image grows between octaves."),
    Field("step_size", "Step size", float, 0.1,
          help="How far each step moves the pixels along the normalized gradient."),
    Field("final_size", "Final size (px)", int, 16, help="Side of the finished picture; the first octave is smaller."),
    Field("seed", "Seed", int, 1, help="Seed of the random start and transforms: same seed, same picture."),
    Field("start", "Start image", str, choices=("noise", "gray", "gradient"),
          help="What the ascent starts from. The Compare page puts several side by side, photos too."),
    Field("raw_input", "Raw pixels (classic)", bool,
          help="Feed 0..255 pixels as they are, like the classic Keras script, instead of the model's preprocessing."),
    Field("objective", "Objective", str, choices=_choices("OBJECTIVES", ("channel",)), group="Method",
          help="channel: the filter's mean output (classic); neuron: its centre position; deepdream: the whole layer."),
    Field("parameterization", "Image parameterization", str, choices=_choices("PARAMETERIZATIONS", ("pixels",)),
          group="Method",
          help="pixels: optimize pixels directly; fourier: a decorrelated spectrum (Lucid), less noisy."),
    Field("optimizer", "Optimizer", str, choices=_choices("OPTIMIZERS", ("rms",)), group="Method",
          help="rms: the classic gradient/RMS step; adam: Adam, as in Lucid."),
    Field("transforms", "Robustness transforms", bool, group="Method",
          help="Random jitter, scale and rotation at every step, so only robust patterns survive."),
    Field("tv_weight", "Smoothness (TV) weight", float, 0.01, group="Method",
          help="Penalize differences between neighbouring pixels (less high-frequency noise)."),
    Field("warmup_steps", "Warm-up steps", int, 1, group="Method",
          help="First steps climb the pre-activation, so filters that start dead get a gradient."),
)

FIELDS: tuple[Field, ...] = tuple(field for field in _ALL if field.name in RenderSettings.__dataclass_fields__)
BY_NAME: dict[str, Field] = {field.name: field for field in FIELDS}
