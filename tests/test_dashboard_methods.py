"""AppTest: the Methods page (one filter by 2-4 methods, side by side) on the tiny test model."""

from __future__ import annotations

import pytest

from dashboard_helpers import app, fresh_seed, no_exceptions, loss_charts

PAGE = "app_pages/methods.py"
SMALL = dict(preset="quick", final_size=96)  # the smallest size at which classic and robust both fit


def methods_page(monkeypatch, **query):
    at = app(monkeypatch, **{**SMALL, "seed": fresh_seed(), **query}).run()
    return at.switch_page(PAGE).run()


def test_picker_defaults_to_classic_and_robust_and_waits_for_a_click(monkeypatch, renders):
    at = methods_page(monkeypatch)
    before = renders.count  # Explore, the first page, rendered its picture
    at.run()
    no_exceptions(at)
    picker = at.multiselect(key="methods_chosen")
    assert picker.value == ["classic", "robust"]
    assert set(picker.options) >= {"classic", "quick", "robust", "custom (the sidebar's settings)"}
    assert at.button(key="methods_render").label == "Render 2 methods"
    assert not at.image and renders.count == before


@pytest.mark.slow
@pytest.mark.floor
def test_a_render_shows_one_image_per_method_one_chart_and_a_quality_row_each(monkeypatch, renders):
    at = methods_page(monkeypatch)
    before = renders.count
    at.button(key="methods_render").click().run()
    no_exceptions(at)
    assert renders.count == before + 2
    captions = [image.captions[0] for image in at.image]
    assert [caption.split(":")[0] for caption in captions] == ["classic", "robust"]
    assert "raw pixels" in captions[0] and "135 steps" in captions[0]
    assert captions[1] == ("robust: fourier-bounded · adam-damped · standard transforms · warm-up 6 · others quiet x4 · "
                           "26 steps")
    assert len(loss_charts(at)) == 1
    (table,) = at.dataframe
    frame = table.value
    assert list(frame["method"]) == ["classic", "robust"]
    assert list(frame.columns) == ["method", "final activation", "act", "robust", "hf", "dead", "seconds"]
    assert frame["hf"].between(0, 1).all() and (frame["seconds"] > 0).all()
    assert any("least high-frequency" in text.value for text in at.main.markdown)


@pytest.mark.slow
def test_a_second_visit_shows_the_results_at_once(monkeypatch, renders):
    seed = fresh_seed()
    methods_page(monkeypatch, seed=seed).button(key="methods_render").click().run()
    rendered = renders.count
    again = methods_page(monkeypatch, seed=seed)
    no_exceptions(again)
    assert renders.count == rendered
    assert len(again.image) == 2 and len(again.dataframe) == 1
    assert "methods_render" not in [button.key for button in again.button]  # nothing left to render


@pytest.mark.slow
def test_custom_takes_the_sidebar_settings_and_four_methods_fit(monkeypatch, renders):
    at = methods_page(monkeypatch, steps_per_octave=3)
    at.multiselect(key="methods_chosen").set_value(["classic", "quick", "robust", "custom"]).run()
    assert at.button(key="methods_render").label == "Render 3 methods"  # custom is Explore's picture, cached
    before = renders.count
    at.button(key="methods_render").click().run()
    no_exceptions(at)
    assert renders.count == before + 3
    assert len(at.image) == 4
    assert at.image[3].captions[0] == "custom: pixels · rms · warm-up 10 · 15 steps"
    assert list(at.dataframe[0].value["method"]) == ["classic", "quick", "robust", "custom"]


def test_one_method_asks_for_two(monkeypatch):
    at = methods_page(monkeypatch)
    at.multiselect(key="methods_chosen").set_value(["robust"]).run()
    no_exceptions(at)
    assert any("two to four" in info.value for info in at.info)


def test_a_size_too_small_for_a_preset_says_why(monkeypatch):
    at = methods_page(monkeypatch, final_size=56)  # too small for robust (14 px first octave) and classic
    no_exceptions(at)
    warnings = [warning.value for warning in at.warning]
    assert len(warnings) == 2 and all("final_size" in text for text in warnings), warnings
    assert any("two to four" in info.value for info in at.info)
