"""The default recipe's parts: steps at the shown size, step sizes that grow with the octave, damped Adam,
the plateau stop, and the rescue of filters that fire on real images but never from noise."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from featviz_core.ascent import RESCUE_STEPS
from featviz_core.rendering import render
from featviz_core.models import LoadedModel
from featviz_core.settings import PLATEAU_STEPS, RenderSettings, SettingsError, preset
from plain import PLAIN


def test_final_steps_render_at_the_shown_size():
    settings = RenderSettings(**PLAIN | dict(final_size=100, octaves=2, upscale_factor=1.25, steps_per_octave=3,
                                             final_steps=2))
    assert settings.octave_sizes == (64, 80, 100)
    assert settings.octave_steps == (3, 3, 2) and settings.octave_starts == (0, 3, 6) and settings.total_steps == 8
    classic = settings.with_changes(final_steps=0)
    assert classic.octave_sizes == (64, 80) and classic.total_steps == 6


def test_size_scaled_steps_grow_with_the_octave():
    settings = RenderSettings(**PLAIN | dict(final_size=100, octaves=2, upscale_factor=1.25, step_size=2.0,
                                             final_steps=1))
    assert [settings.octave_step_size(octave) for octave in range(3)] == [2.0, 2.0, 2.0]
    scaled = settings.with_changes(size_scaled_steps=True)
    assert [scaled.octave_step_size(octave) for octave in range(3)] == pytest.approx([2.0, 2.5, 3.125 * 0.5])
    assert scaled.with_changes(final_steps=0).octave_step_size(1) == pytest.approx(2.5)


@pytest.mark.parametrize("field, value", [("final_steps", -1), ("final_steps", 1.5), ("size_scaled_steps", "yes"),
                                          ("plateau_gain", -0.1), ("plateau_gain", 2.0)])
def test_new_schedule_fields_are_validated(field, value):
    with pytest.raises(SettingsError) as caught:
        RenderSettings(**{field: value})
    assert caught.value.field == field


def test_a_render_with_final_steps_ends_at_the_shown_size(tiny_model):
    settings = RenderSettings(**PLAIN | dict(model="tiny", layer="block2_conv1", filter=5, steps_per_octave=2, octaves=2,
                                             final_size=40, final_steps=2, size_scaled_steps=True,
                                             optimizer="adam-damped", parameterization="fourier"))
    result = render(settings, tiny_model)
    assert result.steps_run == 6 and result.octave_sizes == (27, 33, 40) and result.octave_starts == (0, 2, 4)
    assert result.image.shape == (40, 40, 3) and result.snapshots[-1].image.shape == (40, 40, 3)


def test_the_plateau_stop_ends_octaves_early_and_only_when_asked(tiny_model):
    settings = RenderSettings(**PLAIN | dict(model="tiny", layer="block2_conv1", filter=5, steps_per_octave=12,
                                             octaves=2, final_size=40, step_size=0.05))
    full = render(settings, tiny_model)
    assert full.steps_run == 24
    eager = render(settings.with_changes(plateau_gain=1.0), tiny_model)  # a 100% gain every 3 steps: never met
    assert eager.steps_run == 2 * (PLATEAU_STEPS + 1) and eager.octave_starts == (0, PLATEAU_STEPS + 1)
    gains = [eager.losses[index] - eager.losses[index - PLATEAU_STEPS] for index in (PLATEAU_STEPS, -1)]
    assert all(gain < abs(eager.losses[index - PLATEAU_STEPS]) for gain, index in zip(gains, (PLATEAU_STEPS, -1)))
    patient = render(settings.with_changes(plateau_gain=1e-9), tiny_model)  # any gain at all goes on
    assert patient.steps_run > eager.steps_run


# --- the rescue --------------------------------------------------------------------------------------

def spot_detector() -> LoadedModel:
    """One conv layer of three filters on 0..1 pixels: 0 the plain brightness (alive everywhere); 1 a bright
    spot on a dark ring (a zero-sum kernel, so its mean over any image is about 0, minus a bias: it fires
    on a spot and never on noise); 2 the same spot detector with a bias no image can overcome."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="spots")
    model = keras.Model(inputs, conv(inputs))
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    kernel[..., 0] = 1 / 27
    spot = np.full((3, 3), -1 / 8, np.float32)
    spot[1, 1] = 1.0
    for filter_index in (1, 2):
        kernel[:, :, :, filter_index] = spot[:, :, None]  # a white spot on a black ring gives 3
    conv.set_weights([kernel, np.array([0.0, -2.4, -50.0], np.float32)])
    return LoadedModel("spots", "a spot detector (test)", model, lambda x: x / 255.0)


def spot_settings(**changes) -> RenderSettings:
    values = dict(PLAIN, model="spots", layer="spots", filter=1, final_size=48, octaves=2, steps_per_octave=4, seed=0,
                  parameterization="pixels", optimizer="rms", step_size=4.0, transforms="standard", warmup_steps=3,
                  final_steps=1, rescue=True)
    return RenderSettings(**{**values, **changes})


def test_the_spot_filter_fires_on_a_spot_and_never_on_noise():
    loaded = spot_detector()
    noise = np.random.default_rng(0).uniform(118, 138, (1, 48, 48, 3)).astype(np.float32)
    spot = np.zeros((1, 48, 48, 3), np.float32)
    spot[0, 24, 24] = 255.0
    response = lambda image: loaded.model(loaded.preprocess(image)).numpy()[0, ..., 1]  # noqa: E731
    assert response(noise).max() == 0.0 and response(spot).max() > 0.1


def test_the_rescue_makes_a_filter_fire_that_never_fires_from_noise():
    loaded = spot_detector()
    rescued = render(spot_settings(), loaded)
    assert not rescued.dead and rescued.final_activation > 0 and rescued.rescue_steps > 0
    without = render(spot_settings(warmup_steps=0, rescue=False), loaded)  # no warm-up, no rescue
    assert without.dead and without.rescue_steps == 0


def test_a_filter_that_fires_on_the_photos_is_rescued_again_when_a_resize_loses_it(monkeypatch):
    """Big octave steps (1.6x) lose the spot picture's firing at each resize: only a filter known to fire on the
    sample photos climbs again at each octave start (whose pictures are worth the extra steps)."""
    from featviz_core.examples.photo_response import SamplePhotoAnswers

    loaded = spot_detector()
    settings = spot_settings(octaves=4, steps_per_octave=3, final_size=160, upscale_factor=1.6)
    rescue_steps = {}
    for fires in (False, True):
        monkeypatch.setattr(SamplePhotoAnswers, "peak", lambda self, index, fires=fires: 100.0 if fires else 0.0)
        rescue_steps[fires] = render(settings, loaded).rescue_steps
    assert rescue_steps[False] <= 2 * RESCUE_STEPS  # after the warm-up and at the end only
    assert rescue_steps[True] > rescue_steps[False] + RESCUE_STEPS  # and again after the resizes


def edge_detector() -> LoadedModel:
    """One 7x7 filter on 0..1 pixels: the left half's mean minus the right half's, minus a bias. A photo's
    sharp edges overcome the bias; noise, even contrast-stretched as pictures are shown, never does."""
    inputs = keras.Input((None, None, 3))
    conv = keras.layers.Conv2D(1, 7, activation="relu", name="edges")  # no padding: no edge at the border
    kernel = np.zeros((7, 7, 3, 1), np.float32)
    kernel[:, :3], kernel[:, 4:] = 1 / 21, -1 / 21
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([kernel, np.array([-1.0], np.float32)])
    return LoadedModel("edges", "an edge detector (test)", model, lambda x: x / 255.0)


def test_a_filter_the_climb_cannot_wake_starts_again_from_its_best_photo_patch(monkeypatch):
    """The last resort: with the rescue's climb taken away (0 steps) and steps too small to wake it, a
    filter that fires on the sample photos starts again from its best photo patch tiled over the picture
    and ends alive; without the photo patch it ends dead."""
    from featviz_core.ascent import rescue
    from featviz_core.examples.photo_response import SamplePhotoAnswers

    loaded = edge_detector()
    settings = spot_settings(model="edges", layer="edges", filter=0, step_size=0.01)
    monkeypatch.setattr(rescue, "RESCUE_STEPS", 0)
    seeded = render(settings, loaded)
    assert not seeded.dead and seeded.final_activation > 0
    monkeypatch.setattr(SamplePhotoAnswers, "tile", lambda self, index, size: None)  # no patch to start from
    unseeded = render(settings, loaded)
    assert unseeded.dead and unseeded.photo_peak > 0.1  # alive on the photos, dead in the picture


def test_a_photo_tile_repeats_the_patch_where_the_filter_fires_most():
    from featviz_core.examples.photo_response import photo_peak, photo_tile

    loaded = spot_detector()
    tile = photo_tile(loaded, "spots", 0, 50)
    assert tile.shape == (50, 50, 3) and tile.dtype == np.float32
    loaded = edge_detector()
    tile = photo_tile(loaded, "edges", 0, 60)
    response = loaded.model(loaded.preprocess(tile[None])).numpy()[0, ..., 0]
    assert response.max() >= 0.9 * photo_peak(loaded, "edges", 0)  # the patch fires as it did in its photo
    assert (response > 0.5 * response.max()).sum() > 1  # and it does so in every copy


def test_a_filter_that_cannot_fire_stays_dead_and_says_so_against_the_photos():
    loaded = spot_detector()
    hopeless = render(spot_settings(filter=2), loaded)
    assert hopeless.dead and hopeless.photo_peak is not None and hopeless.photo_peak <= 1e-7
    assert "never fires on the sample photos" in hopeless.dead_note
    alive = render(spot_settings(filter=0), loaded)
    assert not alive.dead and alive.rescue_steps == 0 and alive.photo_peak is None and alive.dead_note == ""


def test_the_default_recipe_is_the_atlas_recipe_and_renders_at_the_shown_size():
    from featviz_core.atlas.build import atlas_settings
    from featviz_core.settings import DEFAULT_PRESET, matching_preset

    assert matching_preset(atlas_settings("vgg16-offline")) == DEFAULT_PRESET
    default = preset(DEFAULT_PRESET)
    assert default.octave_sizes[-1] == default.final_size and default.size_scaled_steps


def test_photo_peaks_are_kept_per_layer_without_keeping_the_model_alive():
    import gc
    import weakref

    from featviz_core.examples.photo_response import photo_peak

    loaded = spot_detector()
    assert photo_peak(loaded, "spots", 0) > 0.5  # plain brightness: every photo lights it
    assert photo_peak(loaded, "spots", 2) <= 1e-7  # a bias no photo overcomes
    alive = weakref.ref(loaded)
    del loaded
    gc.collect()
    assert alive() is None
