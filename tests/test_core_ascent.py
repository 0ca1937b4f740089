"""The render loop on the tiny CNN: Result bookkeeping, snapshots, progress, cancel, seeds, batches,
tracing and dead filters. Fast: every render here is a few steps on images under 50 px."""

from __future__ import annotations

import gc
import weakref

import keras
import numpy as np
import pytest

from featviz_core import ascent, imaging
from featviz_core.ascent import DEAD_LOSS
from featviz_core.rendering import render, render_batch
from featviz_core.results import Progress, Result
from featviz_core.models.devices import device_name
from featviz_core.models import LoadedModel, load_model
from featviz_core.settings import Method, RenderSettings
from featviz_core.ascent.start_images import make_start_image
from plain import PLAIN

LAYER = "block2_conv1"  # 16 filters; 1, 3, 5 and 7 stay alive on noise


def tiny_settings(**changes) -> RenderSettings:
    """3 octaves of 3 steps at 27, 33 and 40 px, then 48 px."""
    values = dict(PLAIN, model="tiny", layer=LAYER, filter=5, steps_per_octave=3, octaves=3, final_size=48, seed=0)
    return RenderSettings(**{**values, **changes})


def octave_of_step(settings: RenderSettings, step: int) -> int:
    """The octave in which the image shown after `step` steps lives (step 0: the first)."""
    return max(step - 1, 0) // settings.steps_per_octave


def test_render_returns_a_complete_result(tiny_model):
    settings = tiny_settings()
    result = render(settings, tiny_model)
    assert isinstance(result, Result)
    assert result.settings == settings
    assert result.image.dtype == np.uint8 and result.image.shape == (48, 48, 3)
    assert result.losses.shape == (9,) and result.steps_run == 9
    assert np.all(np.isfinite(result.losses))
    assert result.final_loss == pytest.approx(float(result.losses[-1]))
    assert result.octave_sizes == settings.octave_sizes == (27, 33, 40)
    assert result.octave_starts == (0, 3, 6)
    assert not result.dead and not result.cancelled
    assert result.losses[-1] > result.losses[0] > 0  # the ascent climbs
    assert result.final_activation > 0
    assert result.seconds > 0
    assert isinstance(result.device, str) and result.device.startswith(device_name())


@pytest.mark.parametrize("stride", [1, 2, 4])
def test_snapshots_follow_the_stride_and_the_octaves(tiny_model, stride):
    settings = tiny_settings(snapshot_stride=stride)
    result = render(settings, tiny_model)
    steps = [snap.step for snap in result.snapshots]
    assert steps == sorted(set(range(0, 10, stride)) | {9})
    assert steps[0] == 0 and steps[-1] == result.steps_run == 9
    start = imaging.deprocess(make_start_image("noise", 27, settings.seed))
    assert np.array_equal(result.snapshots[0].image, start)  # step 0 is the start image
    for snap in result.snapshots:
        size = settings.octave_sizes[octave_of_step(settings, snap.step)]
        assert snap.image.shape == (size, size, 3) and snap.image.dtype == np.uint8
    # the last snapshot is the image after the last step: the final image is it, enlarged
    enlarged = imaging.resize(result.snapshots[-1].image, 48).astype(int)
    assert np.abs(enlarged - result.image).mean() < 10


def test_progress_is_reported_once_per_step(tiny_model):
    events: list[Progress] = []
    result = render(tiny_settings(), tiny_model, on_progress=events.append)
    assert [event.step for event in events] == list(range(1, 10))
    for event in events:
        assert event.total_steps == 9
        assert event.octave == octave_of_step(result.settings, event.step)
        assert event.size == result.octave_sizes[event.octave]
        assert event.preview.dtype == np.uint8 and event.preview.shape == (event.size, event.size, 3)
        assert event.losses.shape == (1,)
        assert event.losses[0] == pytest.approx(result.losses[event.step - 1])
    assert not result.cancelled


def test_returning_false_from_progress_cancels(tiny_model):
    seen: list[int] = []

    def stop_after_four(event: Progress) -> bool:
        seen.append(event.step)
        return event.step < 4

    result = render(tiny_settings(), tiny_model, on_progress=stop_after_four)
    assert result.cancelled
    assert seen == [1, 2, 3, 4]
    assert result.steps_run == 4 < result.settings.total_steps
    assert result.snapshots[-1].step == 4
    assert result.octave_starts == (0, 3)  # the third octave never began
    assert result.image.shape == (48, 48, 3)  # still a full-size picture


def test_same_settings_and_seed_give_the_same_picture(tiny_model):
    first = render(tiny_settings(seed=11), tiny_model)
    second = render(tiny_settings(seed=11), tiny_model)
    assert np.array_equal(first.image, second.image)
    assert np.array_equal(first.losses, second.losses)
    assert all(np.array_equal(a.image, b.image) for a, b in zip(first.snapshots, second.snapshots))


def test_a_different_seed_gives_a_different_noise_start(tiny_model):
    first = render(tiny_settings(seed=1), tiny_model)
    second = render(tiny_settings(seed=2), tiny_model)
    assert not np.array_equal(first.snapshots[0].image, second.snapshots[0].image)
    assert not np.array_equal(first.image, second.image)
    assert not np.array_equal(first.losses, second.losses)


def test_gray_start_is_seed_independent(tiny_model):
    first = render(tiny_settings(start="gray", seed=1), tiny_model)
    second = render(tiny_settings(start="gray", seed=2), tiny_model)
    assert np.all(first.snapshots[0].image == 127)  # a uniform image deprocesses to mid-gray
    assert np.array_equal(first.image, second.image)


def test_render_batch_gives_one_result_per_filter_matching_single_renders(tiny_model):
    filters = [1, 3, 5, 7]
    settings = tiny_settings()
    results = render_batch(settings, filters, tiny_model)
    assert len(results) == len(filters)
    assert [result.settings.filter for result in results] == filters
    for result in results:
        assert result.settings == settings.with_changes(filter=result.settings.filter)
        single = render(result.settings, tiny_model)
        assert np.allclose(result.losses, single.losses, rtol=0.05, atol=1e-4)
        assert np.allclose(result.image.astype(float), single.image.astype(float), atol=12)
        assert np.abs(result.image.astype(float) - single.image).mean() < 2
    # the filters really differ: the batch is not one filter repeated
    assert not np.array_equal(results[0].image, results[1].image)
    assert len({round(float(result.losses[0]), 6) for result in results}) == len(filters)


def test_render_batch_checks_every_filter_and_needs_one(tiny_model):
    with pytest.raises(ValueError, match=r"filter must be between 0 and 15"):
        render_batch(tiny_settings(), [1, 16], tiny_model)
    with pytest.raises(ValueError, match="at least one filter"):
        render_batch(tiny_settings(), [], tiny_model)
    with pytest.raises(ValueError, match=r"layer 'nope'"):
        render(tiny_settings(layer="nope"), tiny_model)


def test_the_step_is_traced_at_most_once_per_image_size():
    loaded = load_model("tiny")  # a fresh model: a fresh compiled step
    settings = tiny_settings(layer="block2_conv2", octaves=4, steps_per_octave=2, final_size=64)
    sizes = set(settings.octave_sizes)
    assert len(sizes) == 4
    step = ascent.ascent_step(loaded, settings.layer, settings.method)
    before = step.trace_count()
    render(settings, loaded)
    first_run = step.trace_count() - before
    assert 1 <= first_run <= len(sizes)
    render(settings.with_changes(filter=3, seed=5), loaded)
    render_batch(settings, [0, 2, 4], loaded)
    assert step.trace_count() - before == first_run  # same sizes: no new traces


def test_ascent_step_cache_does_not_depend_on_how_it_is_called():
    loaded = load_model("tiny")
    settings = tiny_settings(layer="block1_conv1", filter=0, steps_per_octave=1, octaves=2, final_size=40)
    assert settings.method == Method()
    assert ascent.ascent_step(loaded, settings.layer) is ascent.ascent_step(loaded, settings.layer, Method())
    step = ascent.ascent_step(loaded, settings.layer)  # the call the dashboard and benchmarks make
    before = step.trace_count()
    render(settings, loaded)
    assert step.trace_count() > before  # the render used (and so traced) this very step


# --- dead filters ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dead_net() -> LoadedModel:
    """Two conv filters: filter 0 has a huge negative bias (its ReLU is always 0), filter 1 is alive."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv_a")(inputs)
    outputs = keras.layers.Conv2D(2, 3, padding="same", activation="relu", name="conv_b")(x)
    model = keras.Model(inputs, outputs, name="dead_net")
    model.get_layer("conv_a").set_weights([np.full((3, 3, 3, 2), 0.01, np.float32),
                                           np.array([-1e4, 1.0], np.float32)])
    return LoadedModel("dead_net", "a test model with one dead filter", model, unchanged)


def unchanged(pixels):
    return pixels


def dead_settings(**changes) -> RenderSettings:
    return RenderSettings(**{**dict(PLAIN, model="dead_net", layer="conv_a", filter=0, steps_per_octave=3, octaves=2,
                                    final_size=40), **changes})


def test_a_dead_filter_is_flagged_not_dropped(dead_net):
    results = render_batch(dead_settings(), [0, 1], dead_net)
    assert [result.settings.filter for result in results] == [0, 1]  # both come back
    dead, alive = results
    assert dead.dead and not alive.dead
    assert dead.losses[-1] <= DEAD_LOSS and dead.final_activation == 0.0
    assert dead.steps_run < dead.settings.total_steps  # it stopped early
    assert dead.image.shape == (40, 40, 3) and dead.image.dtype == np.uint8
    assert alive.steps_run == alive.settings.total_steps and alive.losses[-1] > alive.losses[0] > 0


def test_a_single_dead_filter_stops_and_is_flagged(dead_net):
    result = render(dead_settings(), dead_net)
    assert result.dead and not result.cancelled
    assert result.steps_run == 1
    assert result.image.shape == (40, 40, 3)
    assert result.snapshots[0].step == 0


def test_the_step_on_which_a_filter_dies_is_on_the_scrubber(dead_net):
    """Its loss is recorded and its step counted: the last snapshot is the last step with a loss
    (captions say "step k of n", and the scrubber reaches step n)."""
    for result in render_batch(dead_settings(), [0, 1], dead_net):
        assert result.snapshots[-1].step == result.steps_run == len(result.losses)


def test_progress_reports_the_step_on_which_the_last_filter_died(dead_net):
    events: list[Progress] = []
    result = render(dead_settings(), dead_net, on_progress=events.append)
    assert result.dead
    assert [event.step for event in events] == list(range(1, result.steps_run + 1))


def test_batch_limit_keeps_big_renders_small_and_small_ones_batched():
    from featviz_core.ascent import MAX_BATCH, batch_limit
    from featviz_core.settings import preset

    assert batch_limit(preset("classic")) == 1  # 343 px octaves
    assert batch_limit(preset("robust")) == 1  # 294 px octaves, padded and zoomed
    assert 4 <= batch_limit(preset("quick")) <= MAX_BATCH
    assert batch_limit(preset("quick", final_size=32, octaves=1)) == MAX_BATCH


# --- the step cache --------------------------------------------------------------------------

def test_a_models_steps_go_when_the_model_goes():
    loaded = load_model("tiny")
    settings = tiny_settings(steps_per_octave=1)
    render(settings, loaded)
    step = weakref.ref(ascent.ascent_step(loaded, settings.layer, settings.method))
    model = weakref.ref(loaded.model)
    del loaded
    gc.collect()
    assert step() is None and model() is None


def test_each_model_keeps_its_few_latest_steps():
    loaded = load_model("tiny")
    keys = [(info.name, Method()) for info in loaded.layers if info.kind == "Conv2D"]
    keys.append((LAYER, RenderSettings(objective="neuron").method))
    assert len(keys) == ascent.STEPS_PER_MODEL + 1
    steps = [ascent.ascent_step(loaded, layer, method) for layer, method in keys]
    assert all(ascent.ascent_step(loaded, *key) is step for key, step in zip(keys[1:], steps[1:]))
    assert ascent.ascent_step(loaded, *keys[0]) is not steps[0]  # the least recently used one was dropped
