"""RenderSettings: every field is validated with a message naming it; frozen, hashable; presets."""

from __future__ import annotations

import dataclasses
import math

import pytest

from featviz_core.layers import LayerInfo
from featviz_core.settings import (
    MAX_TOTAL_STEPS,
    MIN_FINAL_SIZE,
    MIN_OCTAVE_SIZE,
    PRESETS,
    RenderSettings,
    SettingsError,
    matching_preset,
    preset,
)

TINY_LAYERS = (
    LayerInfo("block1_conv1", 8, "block1", "Conv2D"),
    LayerInfo("block1_conv2", 8, "block1", "Conv2D"),
    LayerInfo("block2_conv1", 16, "block2", "Conv2D"),
    LayerInfo("block2_conv2", 16, "block2", "Conv2D"),
)


def test_the_defaults_are_the_default_preset():
    from featviz_core.settings import DEFAULT_PRESET, matching_preset

    settings = RenderSettings()
    assert matching_preset(settings) == DEFAULT_PRESET and settings == preset(DEFAULT_PRESET)
    assert settings.total_steps == settings.steps_per_octave * settings.octaves + settings.final_steps
    assert len(settings.octave_sizes) == settings.octaves + 1  # the final steps at the shown size
    assert settings.rescues_dead_filters and not settings.with_changes(rescue=False).rescues_dead_filters


# (changed fields, the field that must be named at the start of the message)
INVALID = [
    ({"filter": -1}, "filter"),
    ({"filter": 1.5}, "filter"),
    ({"filter": "3"}, "filter"),
    ({"filter": True}, "filter"),
    ({"start": "plasma"}, "start"),
    ({"start": "photo"}, "start_photo"),
    ({"start": "photo", "start_photo": b""}, "start_photo"),
    ({"steps_per_octave": 0}, "steps_per_octave"),
    ({"steps_per_octave": 2.5}, "steps_per_octave"),
    ({"octaves": 0}, "octaves"),
    ({"octaves": 21}, "octaves"),
    ({"upscale_factor": math.nan}, "upscale_factor"),
    ({"upscale_factor": 0.5}, "upscale_factor"),
    ({"upscale_factor": 3}, "upscale_factor"),
    ({"upscale_factor": "1.2"}, "upscale_factor"),
    ({"step_size": 0}, "step_size"),
    ({"step_size": math.nan}, "step_size"),
    ({"step_size": -1.0}, "step_size"),
    ({"step_size": math.inf}, "step_size"),
    ({"final_size": MIN_FINAL_SIZE - 1}, "final_size"),
    ({"final_size": 5000}, "final_size"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**32}, "seed"),
    ({"snapshot_stride": 0}, "snapshot_stride"),
    ({"preprocessing": "yes"}, "preprocessing"),
    ({"preprocessing": True}, "preprocessing"),
]


@pytest.mark.parametrize("changes, field", INVALID, ids=[f"{field}={list(changes.values())[-1]!r}" for changes, field in INVALID])
def test_each_invalid_field_is_rejected_with_a_message_naming_it(changes, field):
    with pytest.raises(ValueError, match=rf"^{field}\b"):
        RenderSettings(**changes)


def test_messages_show_the_allowed_range_and_the_bad_value():
    with pytest.raises(ValueError, match=r"octaves must be between 1 and 20; got 21"):
        RenderSettings(octaves=21)
    with pytest.raises(ValueError, match=r"step_size must be a number .*got nan"):
        RenderSettings(step_size=math.nan)
    with pytest.raises(ValueError, match=r"start must be one of noise, gray, gradient, photo; got 'plasma'"):
        RenderSettings(start="plasma")


def test_first_octave_below_the_minimum_is_rejected():
    # 64 / 1.5**5 = 8.4 px < 16 px
    with pytest.raises(ValueError, match=rf"first octave of 8 px.*at least {MIN_OCTAVE_SIZE} px") as caught:
        RenderSettings(final_size=64, octaves=5, upscale_factor=1.5)
    assert "final_size" in str(caught.value)
    # the same numbers with fewer octaves are fine
    assert RenderSettings(final_size=64, octaves=3, upscale_factor=1.5).octave_sizes[0] >= MIN_OCTAVE_SIZE


def test_too_many_total_steps_is_rejected():
    with pytest.raises(ValueError, match=rf"steps_per_octave x octaves \+ final_steps = 2500; at most {MAX_TOTAL_STEPS}"):
        RenderSettings(steps_per_octave=500, octaves=5, final_steps=0, final_size=412)
    assert RenderSettings(steps_per_octave=400, octaves=5, final_steps=0, final_size=412).total_steps == MAX_TOTAL_STEPS


def test_photo_start_with_bytes_is_valid():
    settings = RenderSettings(start="photo", start_photo=b"\x89PNG...")
    assert settings.start_photo == b"\x89PNG..."
    assert "start_photo" not in repr(settings)  # the bytes are kept out of the repr


def test_with_changes_validates_again_and_leaves_the_original():
    settings = RenderSettings(filter=2)
    changed = settings.with_changes(filter=5)
    assert (settings.filter, changed.filter) == (2, 5)
    with pytest.raises(ValueError, match=r"^steps_per_octave\b"):
        settings.with_changes(steps_per_octave=0)


def test_settings_are_frozen():
    settings = RenderSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.filter = 3  # type: ignore[misc]


def test_settings_are_hashable_and_equal_by_value():
    a = RenderSettings(layer="block3_conv1", filter=4, seed=9)
    b = RenderSettings(layer="block3_conv1", filter=4, seed=9)
    c = RenderSettings(layer="block3_conv1", filter=5, seed=9)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    with_photo = RenderSettings(start="photo", start_photo=b"abc")
    assert {with_photo: 1}[RenderSettings(start="photo", start_photo=b"abc")] == 1
    assert with_photo != RenderSettings(start="photo", start_photo=b"abd")


def test_check_layer_range_ends_at_each_layers_last_filter():
    """Each layer's own filter count bounds it: its last filter passes, the next one is refused, even where
    another layer has that many filters (block1's 8 is fine in block2, not in block1)."""
    for info in TINY_LAYERS:
        last = RenderSettings(model="tiny", layer=info.name, filter=info.filters - 1)
        assert last.check_layer(TINY_LAYERS) is None
        with pytest.raises(SettingsError, match=rf"^filter must be between 0 and {info.filters - 1} for {info.name}; "
                                                rf"got {info.filters}$") as caught:
            last.with_changes(filter=info.filters).check_layer(TINY_LAYERS)
        assert caught.value.field == "filter"  # the dashboard marks the filter control
    assert RenderSettings(model="tiny", layer="block2_conv1", filter=8).check_layer(TINY_LAYERS) is None


def test_check_layer_unknown_layer_names_it_and_the_choices():
    settings = RenderSettings(model="tiny", layer="block9_conv9")
    with pytest.raises(ValueError, match=r"layer 'block9_conv9' is not a conv layer of tiny") as caught:
        settings.check_layer(TINY_LAYERS)
    assert "block1_conv1" in str(caught.value) and "block2_conv2" in str(caught.value)


def test_check_layer_filter_out_of_range_names_filter_layer_and_range():
    settings = RenderSettings(model="tiny", layer="block2_conv1", filter=16)
    with pytest.raises(ValueError, match=r"filter must be between 0 and 15 for block2_conv1; got 16"):
        settings.check_layer(TINY_LAYERS)
    with pytest.raises(ValueError, match=r"between 0 and 7 for block1_conv1; got 8"):
        RenderSettings(model="tiny", layer="block1_conv1", filter=8).check_layer(TINY_LAYERS)


def test_check_layer_lists_at_most_a_dozen_choices():
    many = tuple(LayerInfo(f"conv{index}", 4, f"conv{index}", "Conv2D") for index in range(30))
    with pytest.raises(ValueError, match=r"\.\.\.$") as caught:
        RenderSettings(layer="nope").check_layer(many)
    assert "conv11" in str(caught.value) and "conv12" not in str(caught.value)


def test_classic_preset_has_the_keras_script_numbers():
    classic = preset("classic")
    assert classic.octave_sizes == (79, 95, 114, 137, 165, 198, 238, 286, 343)
    assert classic.final_size == 412
    assert classic.steps_per_octave == 15
    assert classic.step_size == 1.0
    assert classic.upscale_factor == 1.2
    assert classic.total_steps == 135
    assert classic.preprocessing == "raw"  # the script fed raw pixels to VGG16


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_valid_and_matches_itself(name):
    settings = preset(name)
    assert isinstance(settings, RenderSettings)
    assert matching_preset(settings) == name
    # fields a preset does not fix (model, layer, filter, seed, start) keep the match
    assert matching_preset(preset(name, layer="block3_conv1", filter=7, seed=3, start="gray")) == name


def test_preset_overrides_and_errors():
    settings = preset("quick", layer="block2_conv1", final_size=96)
    assert (settings.layer, settings.final_size, settings.step_size) == ("block2_conv1", 96, 2.0)
    assert matching_preset(settings) is None  # final_size is a preset number
    assert matching_preset(preset("classic", steps_per_octave=1)) is None
    with pytest.raises(ValueError, match=r"^preset must be one of"):
        preset("fancy")
    with pytest.raises(ValueError, match=r"^steps_per_octave\b"):
        preset("classic", steps_per_octave=0)


# --- fitting a preset to a model's fixed input size ---------------------------------------------

@pytest.mark.parametrize("name, size, octaves, steps", [
    ("quick", 28, 3, 17),  # 28 / 1.2**3 = 16.2 px first octave; 50 steps -> ceil(50 / 3)
    ("robust", 28, 1, 24),  # 28 / 1.4 = 20 px; two octaves would start at 14 px; 4 x 6 steps in one octave
    ("robust", 64, 4, 6),  # 64 / 1.4**4 = 16.7 px: the preset's own 4 octaves fit
    ("classic", 32, 3, 45),
    ("quick", 18, 1, 50),  # one octave even below 16 px: 15 px
    ("quick", 8, 1, 50),
])
def test_fit_to_input_size(name, size, octaves, steps):
    from featviz_core.settings import fit_to_input_size

    before = preset(name, layer="conv1")
    fitted = fit_to_input_size(before, size)
    assert (fitted.final_size, fitted.octaves, fitted.steps_per_octave) == (size, octaves, steps)
    assert before.total_steps <= fitted.total_steps < before.total_steps + octaves
    assert fitted.octave_sizes[0] >= min(MIN_OCTAVE_SIZE, size) or octaves == 1
    assert fitted.with_changes(final_size=before.final_size, octaves=before.octaves,
                               steps_per_octave=before.steps_per_octave) == before  # nothing else changes


def test_fit_to_input_size_keeps_settings_that_already_fit():
    from featviz_core.settings import fit_to_input_size

    small = preset("quick", final_size=96)
    assert fit_to_input_size(small, 96) is small and fit_to_input_size(small, 224) is small
    with pytest.raises(ValueError, match="final_size"):
        fit_to_input_size(small, MIN_FINAL_SIZE - 1)


def test_small_final_sizes_allow_a_first_octave_of_half_their_size():
    assert RenderSettings(final_size=28, octaves=3, upscale_factor=1.2).octave_sizes[0] == 16
    assert RenderSettings(final_size=20, octaves=1, upscale_factor=1.4, final_steps=0).octave_sizes == (14,)
    with pytest.raises(ValueError, match=r"first octave of 9 px; it must be at least 10 px"):
        RenderSettings(final_size=20, octaves=3, upscale_factor=1.3)


def test_legacy_raw_input_maps_to_a_preprocessing():
    from featviz_core.settings import upgrade_legacy_settings

    upgraded = upgrade_legacy_settings({"raw_input": False, "seed": 1})
    assert upgraded["preprocessing"] == "model" and upgraded["seed"] == 1 and "raw_input" not in upgraded
    assert upgrade_legacy_settings({"raw_input": True})["preprocessing"] == "raw"
    assert upgrade_legacy_settings({"preprocessing": "unit", "rivals": 4.0}) == {"preprocessing": "unit", "rivals": 4.0}


def test_settings_stored_before_the_rivals_term_keep_their_meaning():
    """An atlas index of featviz 0.5 has no rivals or rescue: no rivals term, the rescue on with a warm-up, and
    0.5's defaults for any field it left out (today's defaults are the new recipe's)."""
    from featviz_core.settings import upgrade_legacy_settings

    old_robust = upgrade_legacy_settings({"warmup_steps": 6, "parameterization": "fourier", "final_size": 412})
    assert old_robust["rivals"] == 0.0 and old_robust["rescue"] is True and old_robust["final_size"] == 412
    old_classic = upgrade_legacy_settings({"warmup_steps": 0})
    assert old_classic["rescue"] is False and old_classic["parameterization"] == "pixels"
    assert RenderSettings(**old_classic).rivals == 0.0


def test_fit_to_model_input_uses_the_shorter_side_and_leaves_any_size_models_alone():
    from featviz_core.settings import fit_to_input_size, fit_to_model_input

    robust = preset("robust")
    assert fit_to_model_input(robust, None) is robust
    assert fit_to_model_input(robust, (40, 28)) == fit_to_input_size(robust, 28)
