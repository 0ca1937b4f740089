"""The advanced render settings as a declarative list: adding a core field to the sidebar is one line.

Each entry names a `RenderSettings` field, how to show it, and how to read it back from the URL.
The choices and their help come from the core's registries of parts (featviz_core.parts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from featviz_core import parts
from featviz_core.parts import Part
from featviz_core.settings import RenderSettings


@dataclass(frozen=True)
class Field:
    """One advanced setting: a number, a choice or a switch."""

    name: str
    label: str
    kind: type  # int, float, str (a choice, or free text without choices) or bool
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
            if self.choices and text not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
            return text
        try:
            return self.kind(text)
        except ValueError:
            raise ValueError(f"{self.name} must be a {'whole ' if self.kind is int else ''}number") from None

    def default(self) -> object:
        """The core's default for this field (as the sidebar shows it: an objective as text)."""
        value = RenderSettings.__dataclass_fields__[self.name].default
        return str(value) if self.name == "objective" else value


def _help(chosen: Iterable[Part]) -> str:
    """'name: help; name: help.' for these parts."""
    return "; ".join(f"{part.name}: {part.help}" for part in chosen) + "."


FIELDS: tuple[Field, ...] = (
    Field("steps_per_octave", "Steps per octave", int, 1, help="Gradient-ascent steps at each image size."),
    Field("octaves", "Octaves", int, 1,
          help="How many image sizes get steps; each is the one before times the upscale factor."),
    Field("upscale_factor", "Upscale factor", float, 0.05, help="How much the image grows between octaves."),
    Field("step_size", "Step size", float, 0.1,
          help="How far each step moves the image variable along the normalized gradient."),
    Field("final_size", "Final size (px)", int, 16, help="Side of the finished picture; the first octave is smaller."),
    Field("final_steps", "Final steps", int, 1,
          help="Steps at the final size after the octaves; 0 enlarges the last octave without steps (classic)."),
    Field("size_scaled_steps", "Step size grows with the image", bool,
          help="Each octave's step size is the step size times its size over the first octave's, so a step "
               "moves the picture about as much at every size."),
    Field("plateau_gain", "Plateau stop", float, 0.01,
          help="End an octave early once every picture gained less than this share of its loss over the last "
               "3 steps (0: never; 0.02 means under 2%)."),
    Field("seed", "Seed", int, 1, help="Seed of the random start and transforms: same seed, same picture."),
    Field("start", "Start image", str, choices=tuple(name for name in parts.START_IMAGES if name != "photo"),
          help="What the ascent starts from. The Compare page puts several side by side, photos too."),
    Field("preprocessing", "Input preprocessing", str, choices=tuple(parts.PREPROCESSINGS),
          help="How pixels (0..255) are fed to the network: " + _help(parts.PREPROCESSINGS.values())
               + " Pick your own model's convention; raw is what the classic Keras script fed VGG16."),
    Field("objective", "Objective", str, group="Method",
          help="A sum of weighted terms, e.g. `channel - 0.05*tv + 0.5*diversity`. Targets (added): "
               + _help(part for part in parts.TERMS.values() if part.role != "penalty") + " Penalties (subtracted): "
               + _help(part for part in parts.TERMS.values() if part.role == "penalty")
               + " Their weights are relative to the target."),
    Field("variants", "Variants", int, 1, group="Method",
          help="Pictures of the filter, each from its own seed; the diversity term pushes them apart."),
    Field("parameterization", "Image parameterization", str, choices=tuple(parts.PARAMETERIZATIONS), group="Method",
          help=_help(parts.PARAMETERIZATIONS.values())),
    Field("optimizer", "Optimizer", str, choices=tuple(parts.OPTIMIZERS), group="Method",
          help=_help(parts.OPTIMIZERS.values())),
    Field("transforms", "Robustness transforms", str, choices=tuple(parts.TRANSFORMS), group="Method",
          help=_help(parts.TRANSFORMS.values()) + " Only patterns that survive them remain."),
    Field("warmup_steps", "Warm-up steps", int, 1, group="Method",
          help="First steps climb the pre-activation, so filters that start dead get a gradient."),
    Field("rescue", "Rescue dead filters", bool, group="Method",
          help="A filter whose picture does not fire keeps climbing its pre-activation (and, if it fires on the "
               "sample photos, starts again from its best photo patch) until it does."),
    Field("rivals", "Keep other filters quiet", float, 0.5, group="Method",
          help="Weight of a term that keeps the layer's other filters at their usual response on photos, so the "
               "picture shows what sets this filter apart (0: off)."),
)

BY_NAME: dict[str, Field] = {field.name: field for field in FIELDS}
