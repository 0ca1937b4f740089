"""Every registered part works end to end: each name in each registry of featviz_core.parts renders a
picture on the tiny model (a new part is one registry entry, and this test covers it at once)."""

from __future__ import annotations

import numpy as np
import pytest

from featviz_core import parts
from featviz_core.rendering import render
from featviz_core.imaging import png_bytes
from featviz_core.settings import RenderSettings

SMALL = dict(model="tiny", layer="block2_conv1", filter=3, steps_per_octave=3, octaves=2, final_size=40,
             warmup_steps=2)  # the warm-up: no filter is dropped as dead, so every step runs


def photo_bytes() -> bytes:
    return png_bytes(np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8))


def rendered(tiny_model, **changes) -> None:
    settings = RenderSettings(**{**SMALL, **changes})
    result = render(settings, tiny_model)
    assert result.image.shape == (40, 40, 3) and result.image.dtype == np.uint8
    assert result.steps_run == settings.total_steps and np.isfinite(result.losses).all()
    assert len(result.variants) == settings.variants - 1


def test_every_registry_entry_names_an_implementation():
    for registry in (parts.TERMS, parts.PARAMETERIZATIONS, parts.TRANSFORMS, parts.OPTIMIZERS, parts.START_IMAGES,
                     parts.PREPROCESSINGS):
        for name, part in registry.items():
            assert part.name == name and part.help and part.load() is not None
    assert {part.role for part in parts.TERMS.values()} == {"target", "penalty", "group"}


@pytest.mark.parametrize("name", list(parts.PARAMETERIZATIONS))
def test_every_parameterization_renders(tiny_model, name):
    rendered(tiny_model, parameterization=name, optimizer="adam", step_size=0.5)


@pytest.mark.parametrize("name", list(parts.OPTIMIZERS))
def test_every_optimizer_renders(tiny_model, name):
    rendered(tiny_model, optimizer=name)


@pytest.mark.parametrize("name", list(parts.TRANSFORMS))
def test_every_transform_renders(tiny_model, name):
    rendered(tiny_model, transforms=name)


@pytest.mark.parametrize("name", list(parts.START_IMAGES))
def test_every_start_image_renders(tiny_model, name):
    rendered(tiny_model, start=name, start_photo=photo_bytes() if name == "photo" else None)


@pytest.mark.parametrize("name", list(parts.PREPROCESSINGS))
def test_every_preprocessing_renders(tiny_model, name):
    rendered(tiny_model, preprocessing=name)


def objective_using(name: str) -> dict[str, object]:
    """Settings that put the term `name` to use."""
    role = parts.TERMS[name].role
    if name == "logit":
        return dict(layer="predictions", objective="logit")
    if role == "target":
        return dict(objective=name)
    if role == "penalty":
        return dict(objective=f"channel - 0.5*{name}")
    return dict(objective=f"channel + 0.5*{name}", variants=2)


@pytest.mark.parametrize("name", list(parts.TERMS))
def test_every_objective_term_renders(tiny_model, name):
    rendered(tiny_model, **objective_using(name))
