"""Render settings: one frozen, hashable, validated request, and the named presets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Iterable, Mapping

import numpy as np

from featviz_core.layers import LayerInfo
from featviz_core.objective_text import CHANNEL, Objective, ObjectiveError, parse_objective
from featviz_core.parts import OPTIMIZERS, PARAMETERIZATIONS, PREPROCESSINGS, START_IMAGES, TRANSFORMS, Part

MIN_OCTAVE_SIZE = 16  # the first octave of a picture of 32 px or more is at least this big
MIN_FINAL_SIZE = 8  # small enough for the fixed inputs of MNIST-sized models (28 px)
MAX_FINAL_SIZE = 1024
MAX_TOTAL_STEPS = 2000
MAX_VARIANTS = 8
PLATEAU_STEPS = 3  # the window over which `plateau_gain` is measured
FINAL_STEP_SHARE = 0.5  # size-scaled steps at the shown size: half as long (bench_quality: hf 0.0052 -> 0.0032)
SCHEDULE_FIELDS = ("steps_per_octave", "octaves", "upscale_factor", "final_size", "final_steps")

Problem = tuple[str, str]  # (field, message)


def min_first_octave(final_size: int) -> int:
    """The smallest first octave allowed: MIN_OCTAVE_SIZE, or half the final size for small pictures
    (a 28 px model input gets a 14 px first octave at least)."""
    return min(MIN_OCTAVE_SIZE, int(final_size) // 2)


class SettingsError(ValueError):
    """Bad settings: every problem found, each with the field it is about (`problems`), so that a
    form can mark the right field. `field` is the first problem's field."""

    def __init__(self, field: str, message: str, *more: Problem) -> None:
        self.problems: tuple[Problem, ...] = ((field, message), *more)
        super().__init__("; ".join(text for _, text in self.problems))

    @property
    def field(self) -> str:
        return self.problems[0][0]


@dataclass(frozen=True)
class Method:
    """The choices that are compiled into an ascent step."""

    objective: Objective = CHANNEL
    parameterization: str = "pixels"
    optimizer: str = "rms"
    transforms: str = "none"
    preprocessing: str = "model"
    redirect_relu: bool = False  # rescue dead filters: see `lean_gradients`
    climb_strongest: bool = False  # warm images climb each channel's strongest pre-activation, not its mean
    channel_weights: tuple[tuple[float, ...], ...] = ()  # the layer seen as these weighted sums of its channels
    rivals: float = 0.0  # weight of the term that keeps the layer's other filters at their usual response
    rival_norms: tuple[tuple[float, ...], tuple[float, ...]] = ()  # (mean, spread) of each filter on photos


@dataclass(frozen=True)
class RenderSettings:
    """Everything that determines one visualization. Same settings, same picture(s).

    The octaves enlarge the image `upscale_factor` times between sizes; `final_steps` more steps at
    `final_size` itself follow them (0: the picture is the last octave enlarged without steps, as in
    the classic script). With `size_scaled_steps`, each octave's step size grows with its image size.
    With `plateau_gain` above 0, an octave ends early once every picture's loss gained less than that
    share of itself over the last PLATEAU_STEPS steps. With `rivals` above 0, the ascent also keeps
    the layer's other filters near their usual response on photos (`ascent.objectives.rival_excess`),
    so that the picture shows what sets this filter apart.

    `objective` may be given as text ("channel - 0.05*tv"); it is stored as an Objective. The parts
    (start, parameterization, optimizer, transforms, objective terms) are names in the registries of
    `featviz_core.parts`. `variants` images of the filter are rendered, each from its own seed.
    Invalid settings raise SettingsError listing every problem.
    """

    model: str = "vgg16-offline"
    layer: str = "block5_conv3"
    filter: int = 0
    start: str = "noise"
    # The default recipe (the "robust" preset is exactly these defaults: see PRESETS).
    steps_per_octave: int = 6
    octaves: int = 4
    upscale_factor: float = 1.4
    step_size: float = 2.0
    final_size: int = 256
    seed: int = 0
    snapshot_stride: int = 1
    preprocessing: str = "model"
    objective: Objective = CHANNEL
    parameterization: str = "fourier-bounded"
    optimizer: str = "adam-damped"
    transforms: str = "standard"
    warmup_steps: int = 6
    variants: int = 1
    final_steps: int = 2
    size_scaled_steps: bool = True
    plateau_gain: float = 0.0
    rivals: float = 4.0
    rescue: bool = True
    start_photo: bytes | None = field(default=None, repr=False)
    channel_weights: tuple[tuple[float, ...], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        check = _Checker(self, problems)
        self._read_channel_weights(problems)
        check.whole("filter", 0, 100_000)
        check.part("start", START_IMAGES)
        if self.start == "photo" and not self.start_photo:
            problems.append(("start", "start_photo is required when start is 'photo': upload or pass an image file"))
        check.whole("steps_per_octave", 1, 500)
        check.whole("octaves", 1, 20)
        check.number("upscale_factor", 1.0, 2.0)
        check.number("step_size", 1e-4, 1000.0)
        check.whole("final_size", MIN_FINAL_SIZE, MAX_FINAL_SIZE)
        check.whole("seed", 0, 2**32 - 1)
        check.whole("snapshot_stride", 1, 10_000)
        check.part("preprocessing", PREPROCESSINGS)
        check.part("parameterization", PARAMETERIZATIONS)
        check.part("optimizer", OPTIMIZERS)
        check.part("transforms", TRANSFORMS)
        check.whole("warmup_steps", 0, 500)
        check.whole("variants", 1, MAX_VARIANTS)
        check.whole("final_steps", 0, 500)
        check.switch("size_scaled_steps")
        check.number("plateau_gain", 0.0, 1.0)
        check.number("rivals", 0.0, 100.0)
        check.switch("rescue")
        self._read_objective(problems)
        if not self.model or not isinstance(self.model, str):
            problems.append(("model", "model must be a registered model name or a path to a .keras file"))
        if not self.layer or not isinstance(self.layer, str):
            problems.append(("layer", "layer must be the name of a convolutional layer"))
        if not {name for name, _ in problems} & set(SCHEDULE_FIELDS):
            problems += self._schedule_problems()
        if problems:
            raise SettingsError(*problems[0], *problems[1:])

    def _read_channel_weights(self, problems: list[Problem]) -> None:
        """Store `channel_weights` as a tuple of float tuples. When given, the objective reads the layer as
        these weighted sums of its channels, one per row, and `filter` picks a row (a neuron group's
        picture: `featviz_core.dissect.groups`)."""
        try:
            rows = tuple(tuple(float(value) for value in row) for row in self.channel_weights)
        except (TypeError, ValueError):
            problems.append(("channel_weights", "channel_weights must be rows of numbers, one weight per channel"))
            return
        object.__setattr__(self, "channel_weights", rows)
        if not rows:
            return
        if len({len(row) for row in rows}) != 1 or not rows[0]:
            problems.append(("channel_weights", "channel_weights' rows must all have one weight per channel"))
        elif not all(math.isfinite(value) for row in rows for value in row):
            problems.append(("channel_weights", "channel_weights must be finite numbers"))
        elif any(not any(row) for row in rows):
            problems.append(("channel_weights", "each row of channel_weights needs a weight that is not 0"))

    def _read_objective(self, problems: list[Problem]) -> None:
        """Store the objective as an Objective; diversity needs several variants."""
        try:
            object.__setattr__(self, "objective", parse_objective(self.objective))
        except ObjectiveError as error:
            problems.append(("objective", f"objective: {error}"))
            return
        if self.objective.of_role("group") and isinstance(self.variants, int) and self.variants < 2:
            problems.append(("variants", "variants must be 2 or more for the diversity term, which pushes the "
                                         "variants of one filter apart (or drop diversity from the objective)"))

    def _schedule_problems(self) -> list[Problem]:
        problems = []
        first, smallest = self.octave_sizes[0], min_first_octave(self.final_size)
        if first < smallest:
            problems.append(("octaves",
                             f"final_size / upscale_factor ** octaves gives a first octave of {first} px; it must "
                             f"be at least {smallest} px: raise final_size or lower octaves or upscale_factor"))
        if self.total_steps > MAX_TOTAL_STEPS:
            problems.append(("steps_per_octave", f"steps_per_octave x octaves + final_steps = {self.total_steps}; "
                                                 f"at most {MAX_TOTAL_STEPS} steps are allowed"))
        return problems

    @property
    def octave_sizes(self) -> tuple[int, ...]:
        """Image size of each octave that gets ascent steps (classic: 79, 95, ..., 343), then the final
        size when `final_steps` take steps there."""
        sizes = tuple(
            int(self.final_size / self.upscale_factor ** (self.octaves - index)) for index in range(self.octaves)
        )
        return sizes + ((self.final_size,) if self.final_steps else ())

    @property
    def octave_steps(self) -> tuple[int, ...]:
        """How many ascent steps each octave takes."""
        return (self.steps_per_octave,) * self.octaves + ((self.final_steps,) if self.final_steps else ())

    @property
    def octave_starts(self) -> tuple[int, ...]:
        """The step at which each octave starts (every step taken)."""
        return tuple(sum(self.octave_steps[:index]) for index in range(len(self.octave_steps)))

    def octave_step_size(self, octave: int) -> float:
        """The step size in this octave: `step_size`, times the octave's size over the first octave's with
        `size_scaled_steps` (so a step moves pixels about as far at every size); the final steps at the
        shown size take FINAL_STEP_SHARE of that (they refine: full steps there add speckle)."""
        sizes = self.octave_sizes
        if not self.size_scaled_steps:
            return self.step_size
        final = FINAL_STEP_SHARE if self.final_steps and octave == len(sizes) - 1 else 1.0
        return self.step_size * sizes[octave] / sizes[0] * final

    @property
    def method(self) -> "Method":
        """The parts of the settings that change the compiled step."""
        return Method(self.objective, self.parameterization, self.optimizer, self.transforms, self.preprocessing,
                      redirect_relu=self.rescues_dead_filters, channel_weights=self.channel_weights,
                      rivals=self.rivals)

    @property
    def rescues_dead_filters(self) -> bool:
        """Whether a filter that does not fire keeps climbing until it does: its pre-activation, with
        gradients redirected through ReLUs that would block them (`rescue`)."""
        return self.rescue

    @property
    def drops_dead_filters(self) -> bool:
        """Whether a filter whose activation reaches zero stops climbing, as in the classic script (its
        gradient is zero from then on). Not with the rescue (dead filters keep climbing the
        pre-activation), for logits (they can be negative), or on randomly transformed views."""
        return not self.rescues_dead_filters and self.transforms == "none" and not self.objective.reads_logits

    @property
    def total_steps(self) -> int:
        return sum(self.octave_steps)

    def with_changes(self, **changes: object) -> "RenderSettings":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def check_layer(self, layers: Iterable[LayerInfo]) -> None:
        """Raise SettingsError unless `layer` is one of the model's `layers` and `filter` is in its range."""
        by_name = {info.name: info for info in layers}
        info = by_name.get(self.layer)
        if info is None:
            shown = ", ".join(list(by_name)[:12]) + (" ..." if len(by_name) > 12 else "")
            raise SettingsError("layer", f"layer {self.layer!r} is not a conv layer of {self.model}; "
                                         f"choose one of: {shown}")
        if self.channel_weights:
            if len(self.channel_weights[0]) != info.filters:
                raise SettingsError("channel_weights", f"{self.layer} has {info.filters} channels; channel_weights' "
                                                       f"rows have {len(self.channel_weights[0])} weights")
            if self.filter >= len(self.channel_weights):
                raise SettingsError("filter", f"filter picks a row of channel_weights: between 0 and "
                                              f"{len(self.channel_weights) - 1}; got {self.filter}")
        elif self.filter >= info.filters:
            raise SettingsError("filter", f"filter must be between 0 and {info.filters - 1} for {self.layer}; "
                                          f"got {self.filter}")
        if self.objective.reads_logits and info.kind != "Dense":
            heads = [layer.name for layer in by_name.values() if layer.kind == "Dense"]
            raise SettingsError("objective", f"objective 'logit' needs the classifier layer ({heads[0]})" if heads
                                else f"objective 'logit' needs a classification head, and {self.model} has none "
                                     "(its conv layers only)")


class _Checker:
    """Range and choice checks of one settings object; each adds (field, message) to `problems`."""

    def __init__(self, settings: RenderSettings, problems: list[Problem]) -> None:
        self.settings = settings
        self.problems = problems

    def whole(self, name: str, low: int, high: int) -> None:
        value = getattr(self.settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            self.problems.append((name, f"{name} must be a whole number between {low} and {high}; got {value!r}"))
        elif not low <= value <= high:
            self.problems.append((name, f"{name} must be between {low} and {high}; got {value}"))

    def number(self, name: str, low: float, high: float) -> None:
        value = getattr(self.settings, name)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
            self.problems.append((name, f"{name} must be a number between {low} and {high}; got {value!r}"))
        elif not low <= value <= high:
            self.problems.append((name, f"{name} must be between {low} and {high}; got {value}"))

    def switch(self, name: str) -> None:
        if not isinstance(getattr(self.settings, name), (bool, np.bool_)):
            self.problems.append((name, f"{name} must be true or false; got {getattr(self.settings, name)!r}"))

    def part(self, name: str, registry: Mapping[str, Part]) -> None:
        value = getattr(self.settings, name)
        if value not in registry:
            self.problems.append((name, f"{name} must be one of {', '.join(registry)}; got {value!r}"))


PRESET_FIELDS = ("steps_per_octave", "octaves", "upscale_factor", "step_size", "final_size", "preprocessing",
                 "objective", "parameterization", "optimizer", "transforms", "warmup_steps", "variants",
                 "final_steps", "size_scaled_steps", "plateau_gain", "rivals", "rescue")
_DEFAULTS = {item.name: item.default for item in fields(RenderSettings)}
PRESETS: dict[str, dict[str, object]] = {
    # The default: RenderSettings' own defaults. Lucid-style: a decorrelated Fourier image through a sigmoid
    # (the network sees exactly the picture that is shown), damped Adam, random pad/jitter/scale/rotate,
    # and a term that keeps the layer's other filters at their usual response on photos, so the picture
    # shows what sets this filter apart. A pre-activation warm-up and the rescue (redirected ReLU gradients,
    # `ascent.rescue`) wake filters the classic method leaves dead. 6 steps at each of 4 octaves (66 to
    # 182 px) whose step sizes grow with the image, then 2 at the shown 256 px: more specific pictures than
    # featviz 0.5's 412 px recipe in half its time (benchmarks/bench_legibility.py, docs/recipe.md).
    "robust": {name: str(_DEFAULTS[name]) if name == "objective" else _DEFAULTS[name]  # (objectives as text)
               for name in PRESET_FIELDS},
    # A good deep-layer picture in a few seconds on two CPU cores: plain pixels, the classic step.
    "quick": dict(steps_per_octave=10, octaves=5, upscale_factor=1.2, step_size=2.0, final_size=160,
                  preprocessing="model", objective="channel", parameterization="pixels", optimizer="rms",
                  transforms="none", warmup_steps=10, variants=1, final_steps=0, size_scaled_steps=False,
                  plateau_gain=0.0, rivals=0.0, rescue=True),
    # The Keras conv_filter_visualization.py script: 79 px start, 9 upscalings of 1.2x, 15 steps each.
    # It feeds raw pixels to the network, without the model's own preprocessing.
    "classic": dict(steps_per_octave=15, octaves=9, upscale_factor=1.2, step_size=1.0, final_size=412,
                    preprocessing="raw", objective="channel", parameterization="pixels", optimizer="rms",
                    transforms="none", warmup_steps=0, variants=1, final_steps=0, size_scaled_steps=False,
                    plateau_gain=0.0, rivals=0.0, rescue=False),
}
DEFAULT_PRESET = "robust"


def preset(name: str, **overrides: object) -> RenderSettings:
    """Settings for a named preset, with any fields overridden."""
    if name not in PRESETS:
        raise SettingsError("preset", f"preset must be one of {', '.join(PRESETS)}; got {name!r}")
    return RenderSettings(**{**PRESETS[name], **overrides})  # type: ignore[arg-type]


def matching_preset(settings: RenderSettings) -> str | None:
    """The preset whose numbers these settings use, or None for custom settings."""
    for name, values in PRESETS.items():
        if all(_same(key, getattr(settings, key), value) for key, value in values.items()):
            return name
    return None


def _same(key: str, value: object, preset_value: object) -> bool:
    """Equal settings values (objectives compared as text: "channel" is the Objective channel)."""
    return str(value) == str(preset_value) if key == "objective" else value == preset_value


def fit_to_input_size(settings: RenderSettings, size: int) -> RenderSettings:
    """Settings for a model that only takes `size` x `size` images (use min(height, width)).

    Bigger settings are scaled down: final_size becomes `size`, octaves drop until the first octave
    is at least min(MIN_OCTAVE_SIZE, size) (one octave at least), and steps_per_octave grows so the
    total number of steps stays about the same (rounded up). Settings already at or below `size`
    are returned unchanged.
    """
    size = int(size)
    if settings.final_size <= size:
        return settings
    smallest = min(MIN_OCTAVE_SIZE, size)
    octaves = next((count for count in range(settings.octaves, 0, -1)
                    if int(size / settings.upscale_factor ** count) >= smallest), 1)
    steps = min(math.ceil((settings.total_steps - settings.final_steps) / octaves), MAX_TOTAL_STEPS // octaves)
    return settings.with_changes(final_size=size, octaves=octaves, steps_per_octave=steps)


def fit_to_model_input(settings: RenderSettings, input_size: tuple[int, int] | None) -> RenderSettings:
    """`fit_to_input_size` for a model's (height, width) input, or the settings unchanged when the model
    takes any size (input_size None)."""
    return settings if input_size is None else fit_to_input_size(settings, min(input_size))


LEGACY_RAW_INPUT = "raw_input"  # featviz 0.3 stored this switch; the "preprocessing" choice replaced it
# Fields added after featviz 0.5, with the value that 0.5's settings meant when they were not there.
FIELDS_SINCE_0_5 = {"rivals": lambda values: 0.0, "rescue": lambda values: int(values.get("warmup_steps", 0)) > 0}
# featviz 0.5's defaults of the fields whose default changed (when the default recipe became RenderSettings').
DEFAULTS_OF_0_5 = dict(steps_per_octave=10, octaves=5, upscale_factor=1.2, step_size=1.0, final_size=160,
                       parameterization="pixels", optimizer="rms", transforms="none", warmup_steps=0, final_steps=0,
                       size_scaled_steps=False)


def upgrade_legacy_settings(values: Mapping[str, object]) -> dict[str, object]:
    """Settings values (e.g. read from an atlas index) with old keys mapped to today's fields: raw_input
    False -> preprocessing "model", True -> preprocessing "raw"; records written before `rivals` and
    `rescue` existed (no "rivals" key) keep what they meant then (no rivals term, the rescue on with a
    warm-up, featviz 0.5's defaults for any field they left out)."""
    upgraded = dict(values)
    if LEGACY_RAW_INPUT in upgraded:
        raw = upgraded.pop(LEGACY_RAW_INPUT)
        upgraded.setdefault("preprocessing", "raw" if raw else "model")
    if "rivals" not in upgraded:
        upgraded = {**DEFAULTS_OF_0_5, **upgraded}
        for name, meant in FIELDS_SINCE_0_5.items():
            upgraded.setdefault(name, meant(upgraded))
    return upgraded
