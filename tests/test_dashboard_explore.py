"""AppTest: the Explore page and the shared sidebar, on the tiny test model."""

from __future__ import annotations

import pytest

from dashboard_helpers import app, click_step, figure, fresh_seed, no_exceptions, loss_charts, query_param

SMALL = dict(preset="quick", final_size=48, octaves=2, steps_per_octave=8)  # 16 steps, quick on the tiny model


@pytest.mark.slow
@pytest.mark.floor
def test_explore_renders_picture_chart_scrubber_and_metrics(monkeypatch, renders):
    at = app(monkeypatch, seed=fresh_seed()).run()
    no_exceptions(at)
    assert renders.count == 1
    assert at.selectbox(key="model").value == "tiny"
    assert at.selectbox(key="layer").value == "block2_conv2"
    assert [option for option in at.selectbox(key="layer").options][0].startswith("block1_conv1 · 8 filters")
    assert at.number_input(key="filter").value == 0
    assert len(at.image) == 1 and at.image[0].captions[0].startswith("finished picture")
    assert len(loss_charts(at)) == 1
    assert at.slider[0].label == "Iteration" and at.slider[0].value == at.slider[0].max > 0
    metrics = {metric.label: metric.value for metric in at.metric}
    assert set(metrics) >= {"Activation", "High freq.", "Time", "Device"}
    assert "Robust" not in metrics  # measured only when asked: nothing slow runs before the scrubber answers
    assert "CPU" in metrics["Device"] or "GPU" in metrics["Device"]
    assert 0 <= float(metrics["High freq."]) <= 1
    at.button(key=next(button.key for button in at.button if button.label == "Robust?")).click().run()
    no_exceptions(at)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert float(metrics["Robust"]) >= 0 and renders.count == 1  # measuring renders nothing again
    assert "Robust?" not in [button.label for button in at.run().button]  # measured once, shown from now on
    assert [button.label for button in at.get("download_button")] == ["PNG", "GIF of the ascent"]
    assert query_param(at, "model") == "tiny" and query_param(at, "filter") == "0"


def test_scrubber_shows_other_steps_without_rendering_again(monkeypatch, renders):
    at = app(monkeypatch, **SMALL, seed=fresh_seed()).run()
    final_url = at.image[0].value[0]
    assert renders.count == 1
    at.slider[0].set_value(0).run()
    assert at.image[0].captions[0] == "the start image (noise)"
    assert at.image[0].value[0] != final_url
    at.slider[0].set_value(11).run()
    assert at.image[0].captions[0] == "step 11 of 16 · octave 2 of 2 at 40 px"
    assert renders.count == 1, renders.calls
    assert _marked_steps(figure(loss_charts(at)[0])) == ([11], [11])  # the chart marks the scrubber's step
    no_exceptions(at)


def _marked_steps(spec: dict) -> tuple[list[float], list[float]]:
    """Where a loss figure marks the scrubber's step: its solid lines, and its markers off the curves."""
    lines = [shape["x0"] for shape in spec["layout"].get("shapes", []) if "dash" not in shape["line"]]
    markers = [x for trace in spec["data"] if trace.get("hoverinfo") == "skip" for x in trace["x"]]
    return lines, markers


def test_a_click_on_the_loss_curve_moves_the_scrubber_to_that_step(monkeypatch, renders):
    at = app(monkeypatch, **SMALL, seed=fresh_seed()).run()
    assert at.slider[0].value == 16
    click_step(at, loss_charts(at)[0], 5)
    no_exceptions(at)
    assert at.slider[0].value == 5
    assert at.image[0].captions[0] == "step 5 of 16 · octave 1 of 2 at 33 px"
    assert _marked_steps(figure(loss_charts(at)[0])) == ([5], [5])
    click_step(at, loss_charts(at)[0], 12)  # the chart drawn at step 5 answers a click too
    assert at.slider[0].value == 12 and at.image[0].captions[0].startswith("step 12 of 16")
    at.slider[0].set_value(3).run()  # the slider still moves by itself
    assert at.image[0].captions[0].startswith("step 3 of 16") and renders.count == 1
    no_exceptions(at)


def test_asking_again_after_switching_pages_shows_the_result_at_once(monkeypatch, renders):
    seed = fresh_seed()
    at = app(monkeypatch, **SMALL, seed=seed).run()
    at.switch_page("app_pages/how_it_works.py").run()
    at.switch_page("app_pages/explore.py").run()
    assert renders.count == 1
    assert len(at.image) == 1
    other = app(monkeypatch, **SMALL, seed=seed).run()  # another browser session, same settings
    assert renders.count == 1 and len(other.image) == 1


@pytest.mark.slow
def test_play_toggle_shows_the_animation(monkeypatch):
    at = app(monkeypatch, **SMALL, seed=fresh_seed()).run()
    next(toggle for toggle in at.toggle if toggle.label == "Play the ascent").set_value(True).run()
    assert at.image[0].captions[0] == "the ascent, looping"
    no_exceptions(at)


def test_url_sets_the_view_and_follows_the_sidebar(monkeypatch):
    at = app(monkeypatch, layer="block1_conv2", filter=5, preset="quick", final_size=64, octaves=2,
             seed=fresh_seed()).run()
    no_exceptions(at)
    assert at.selectbox(key="layer").value == "block1_conv2"
    assert at.number_input(key="filter").value == 5
    assert at.number_input(key="adv_final_size").value == 64
    assert at.selectbox(key="preset").value == "custom"
    assert query_param(at, "preset") == "quick" and query_param(at, "final_size") == "64"
    at.number_input(key="filter").set_value(6).run()
    assert query_param(at, "filter") == "6"


@pytest.mark.slow
def test_invalid_settings_show_the_core_message_next_to_the_control(monkeypatch, renders):
    at = app(monkeypatch, final_size=20, seed=fresh_seed()).run()
    no_exceptions(at)
    errors = [error.value for error in at.sidebar.error]
    assert any("first octave" in message for message in errors), errors
    assert renders.count == 0 and not at.image
    at = app(monkeypatch, filter=99).run()
    assert any("filter must be between 0 and 15" in error.value for error in at.sidebar.error)
    assert renders.count == 0
    at = app(monkeypatch, octaves="many").run()
    assert any("octaves" in warning.value for warning in at.sidebar.warning)
    no_exceptions(at)


@pytest.mark.floor
def test_presets_fill_the_advanced_fields_and_edits_make_them_custom(monkeypatch, renders):
    at = app(monkeypatch, filter=99).run()  # an invalid filter: nothing renders while we try presets
    at.selectbox(key="preset").set_value("classic").run()
    assert at.number_input(key="adv_steps_per_octave").value == 15
    assert at.number_input(key="adv_octaves").value == 9
    assert at.selectbox(key="preset").value == "classic"
    at.number_input(key="adv_final_size").set_value(300).run()
    assert at.selectbox(key="preset").value == "custom"
    assert query_param(at, "preset") == "classic" and query_param(at, "final_size") == "300"
    assert renders.count == 0


def test_random_filter_picks_a_filter_of_the_layer(monkeypatch):
    at = app(monkeypatch, **SMALL, layer="block1_conv1", seed=fresh_seed()).run()
    for _ in range(3):
        at.button(key="random_filter").click().run()
        assert 0 <= at.number_input(key="filter").value < 8
    no_exceptions(at)


def test_unloadable_model_falls_back_to_the_offline_vgg16_with_one_warning(monkeypatch, no_internet):
    at = app(monkeypatch, model="vgg16", preset="quick", final_size=48, octaves=2, steps_per_octave=2,
             seed=fresh_seed()).run()
    no_exceptions(at)
    assert no_internet, "the ImageNet weights were never asked for"
    assert at.selectbox(key="model").value == "vgg16-offline"
    warnings = [warning.value for warning in at.sidebar.warning]
    assert len(warnings) == 1 and "vgg16" in warnings[0] and "vgg16-offline" in warnings[0]
    details = [caption.help for caption in at.sidebar.caption if caption.value == "Details"]
    assert details and details[0].startswith("Could not download the ImageNet weights for 'vgg16'"), details
    assert query_param(at, "model") == "vgg16-offline"
    assert len(at.image) == 1


def test_a_photo_start_dreams_and_shows_photo_and_result_side_by_side(monkeypatch, renders):
    from dashboard_helpers import photo_png

    at = app(monkeypatch, **SMALL, seed=fresh_seed()).run()
    at.file_uploader(key="explore_photo").set_value(("ramp.png", photo_png(), "image/png")).run()
    no_exceptions(at)
    assert renders.calls[-1].startswith("photo")
    captions = [image.captions[0] for image in at.image]
    assert captions[0] == "your photo (centre square)" and "DeepDream" in captions[1]
    assert captions[2].startswith("finished picture")


def test_a_bad_photo_in_explore_gives_an_error_and_keeps_the_page(monkeypatch, renders):
    at = app(monkeypatch, **SMALL, seed=fresh_seed()).run()
    at.file_uploader(key="explore_photo").set_value(("junk.png", b"not an image at all", "image/png")).run()
    no_exceptions(at)
    assert any("can't be used" in error.value for error in at.error)
    assert at.image and at.image[0].captions[0].startswith("finished picture")


def test_a_dead_result_says_why_by_the_rule_that_rendered_it(monkeypatch):
    """Classic drops a dead filter; the robust preset keeps climbing and the picture still does not fire."""
    import numpy as np

    from dashboard.line import renders as page_renders
    from featviz_core.results import Result, Snapshot

    def dead(runs, *args, **kwargs):
        settings = runs["picture"]
        image = np.full((settings.final_size, settings.final_size, 3), 128, np.uint8)
        return {"picture": page_renders.Shown(Result(
            settings=settings, image=image, losses=np.zeros(3, np.float32), octave_sizes=settings.octave_sizes,
            octave_starts=(0,), snapshots=(Snapshot(0, image),), final_activation=0.0, dead=True, cancelled=False,
            seconds=0.1, device="CPU"))}, []

    monkeypatch.setattr(page_renders, "existing", dead)
    for preset, says in (("classic", "so the ascent stopped"), ("robust", "does **not make the filter fire**")):
        at = app(monkeypatch, preset=preset, final_size=48, octaves=2, seed=fresh_seed()).run()
        no_exceptions(at)
        assert [says in warning.value for warning in at.warning] == [True]
