"""The registries of method parts: name -> implementation, one entry per part.

Objective terms, parameterizations, transforms, optimizers, start images and input preprocessings
are chosen by name in the settings, the URL and the CLI. Each registry entry names its implementation as "module:attribute"
inside featviz_core, imported only when first used, so that settings can be checked (and the
dashboard can list the choices) without importing TensorFlow. Adding a part is one entry here plus
its implementation; tests/test_core_parts.py runs every registered name end to end.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Part:
    """One named part: a line of help and where its implementation lives."""

    name: str
    help: str
    implementation: str  # "module:attribute" in featviz_core
    role: str = ""  # objective terms only: "target", "penalty" or "group"

    def load(self) -> Any:
        """The implementation (imports its module on first use)."""
        module, attribute = self.implementation.split(":")
        return getattr(importlib.import_module(f"featviz_core.{module}"), attribute)


def _registry(*parts: Part) -> dict[str, Part]:
    return {part.name: part for part in parts}


TERMS = _registry(
    Part("channel", "the filter's mean output over the whole image (classic)", "ascent.objectives:channel", "target"),
    Part("neuron", "the filter's output at the centre position only", "ascent.objectives:neuron", "target"),
    Part("deepdream", "the mean squared output of the whole layer (the filter is unused)", "ascent.objectives:deepdream",
         "target"),
    Part("logit", "a classifier's class score", "ascent.objectives:channel", "target"),
    Part("tv", "total variation: differences between neighbouring pixels", "ascent.objectives:total_variation", "penalty"),
    Part("blur", "how far the image is from a blurred copy of itself", "ascent.objectives:blur_distance", "penalty"),
    Part("diversity", "how unlike each other the variants of one filter are", "ascent.objectives:diversity", "group"),
)

PARAMETERIZATIONS = _registry(
    Part("pixels", "optimize the pixels directly (classic)", "ascent.parameterizations:PIXELS"),
    Part("fourier", "a decorrelated 1/f-scaled spectrum (Lucid): smoother, less noisy", "ascent.parameterizations:FOURIER"),
    Part("fourier-bounded", "the Fourier image through a sigmoid (Lucid): pixels stay in 0..255, so the network "
                            "sees exactly the picture that is shown", "ascent.parameterizations:BOUNDED_FOURIER"),
    Part("maco", "only the spectrum's phase; its magnitude is fixed to natural photos' (MaCo)",
         "ascent.parameterizations:MACO"),
)

TRANSFORMS = _registry(
    Part("none", "the network sees the image as it is", "ascent.transforms:unchanged"),
    Part("jitter", "random pad and shift at every step", "ascent.transforms:pad_and_jitter"),
    Part("standard", "random pad, shift, scale and rotation at every step (Lucid)", "ascent.transforms:robustness_transforms"),
    Part("shown", "the network sees the picture as it will be shown (contrast-normalized, clipped): the rescue's view",
         "ascent.transforms:as_shown"),
)

OPTIMIZERS = _registry(
    Part("rms", "the gradient divided by its RMS (classic)", "ascent.optimizers:rms_step"),
    Part("adam", "Adam on the RMS-normalized gradient (Lucid)", "ascent.optimizers:adam_step"),
    Part("adam-damped", "Adam whose coefficients with small gradients move less: far less speckle",
         "ascent.optimizers:damped_adam_step"),
    Part("nadam", "Adam with Nesterov momentum (MaCo)", "ascent.optimizers:nadam_step"),
)

START_IMAGES = _registry(
    Part("noise", "uniform noise around mid-gray (classic)", "ascent.start_images:noise"),
    Part("gray", "a uniform mid-gray image", "ascent.start_images:gray"),
    Part("gradient", "a smooth colour gradient", "ascent.start_images:gradient"),
    Part("photo", "your own photo", "ascent.start_images:photo"),
)

PREPROCESSINGS = _registry(
    Part("model", "the model's own (caffe for VGG16, each Keras application's own, 0..255 for your .keras files)",
         "models.preprocessing:model"),
    Part("raw", "0..255 pixels as they are (the classic Keras script)", "models.preprocessing:raw"),
    Part("unit", "x / 255: pixels in 0..1", "models.preprocessing:unit"),
    Part("symmetric", "x / 127.5 - 1: pixels in -1..1", "models.preprocessing:symmetric"),
    Part("caffe", "BGR minus the ImageNet mean (Keras' VGG16 and ResNet50)", "models.preprocessing:caffe"),
    Part("torch", "(x / 255 - mean) / std with ImageNet's mean and std (PyTorch models)", "models.preprocessing:torch"),
)
