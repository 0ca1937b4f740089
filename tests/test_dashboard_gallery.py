"""AppTest: the Layer gallery and How it works pages, on the tiny test model."""

from __future__ import annotations

import pytest

from featviz_core.ascent import MAX_BATCH
from dashboard_helpers import app, fresh_seed, page_at, no_exceptions, loss_charts, query_param
from test_dashboard_line_jobs import line_jobs

SMALL = dict(preset="quick", final_size=32, octaves=2, steps_per_octave=3)


def gallery_page(monkeypatch, **query):
    return page_at(monkeypatch, "gallery", **{**SMALL, **query})


@pytest.mark.floor
def test_gallery_renders_a_layer_in_batches_and_sorts_it(monkeypatch, renders):
    at = gallery_page(monkeypatch)
    assert at.selectbox(key="gallery_count").value == 16
    before = renders.count
    at.button(key="gallery_render").click().run()
    no_exceptions(at)
    batches = renders.calls[before:]
    sizes = [len(call.split("[")[1].split(",")) for call in batches]  # batch_limit: 16 at these tiny sizes
    assert sizes and max(sizes) <= MAX_BATCH and sum(sizes) <= 16, batches
    assert len(at.main.image) == 16
    captions = [image.captions[0] for image in at.main.image]
    losses = [float(caption.split("loss ")[1]) for caption in captions if "loss" in caption]
    assert losses == sorted(losses, reverse=True)  # highest final loss first, like the classic collage
    at.segmented_control(key="gallery_order").set_value("filter index").run()
    assert [image.captions[0].split(" ·")[0] for image in at.main.image] == [f"#{index}" for index in range(16)]
    assert any(button.label == "Collage PNG" for button in at.get("download_button"))
    assert any("filters shown" in text.value for text in at.main.markdown)


def test_a_gallery_larger_than_one_batch_renders_every_batch(monkeypatch, renders):
    from featviz_core import ascent

    monkeypatch.setattr(ascent, "batch_limit", lambda settings: 5)  # as for large pictures on a small host
    at = gallery_page(monkeypatch, seed=fresh_seed())
    before = renders.count
    at.button(key="gallery_render").click().run()
    no_exceptions(at)
    sizes = [len(call.split("[")[1].split(",")) for call in renders.calls[before:]]
    assert sizes == [5, 5, 5], renders.calls[before:]  # filter 0 was rendered by Explore, the first page
    assert len(at.main.image) == 16


def test_dead_filters_are_marked_not_hidden(monkeypatch):
    at = gallery_page(monkeypatch, layer="block1_conv1", preset="classic", final_size=32, octaves=2,
                      steps_per_octave=3, seed=0)  # classic: no warm-up, so filter 1 of this layer dies
    at.button(key="gallery_render").click().run()
    no_exceptions(at)
    captions = [image.captions[0] for image in at.main.image]
    assert len(captions) == 8 and any(caption.startswith("#1 · dead: ") for caption in captions)
    summary = next(text.value for text in at.main.markdown if "filters shown" in text.value)
    assert "**1** dead" in summary


def test_open_a_tile_in_explore(monkeypatch, renders):
    at = gallery_page(monkeypatch)
    at.button(key="gallery_render").click().run()
    rendered = renders.count
    at.button(key="open_7").click().run()
    no_exceptions(at)
    assert at.number_input(key="filter").value == 7
    assert query_param(at, "filter") == "7"
    assert at.title[0].value == "What does this filter look for?"
    assert len(at.main.image) == 1 and len(loss_charts(at)) == 1
    assert renders.count == rendered  # the gallery's picture, shown at once


@pytest.mark.floor
def test_how_it_works_fills_in_the_current_numbers(monkeypatch):
    at = app(monkeypatch, preset="quick", final_size=96, octaves=3, steps_per_octave=4, seed=fresh_seed()).run()
    at.switch_page("app_pages/how_it_works.py").run()
    no_exceptions(at)
    text = " ".join(item.value for item in at.main.markdown)
    assert "55 → 66 → 80 px" in text and "12 steps" in text and "96 px" in text
    assert "block2_conv2" in text and "skipped" in text and "dead" in text
    assert len(at.get("plotly_chart")) == 1  # the octave schedule
    assert len(at.main.image) >= 3 + 4  # the start images, and the picture growing over the octaves


@pytest.mark.slow
def test_dataset_examples_under_each_tile_from_one_pass(monkeypatch, renders):
    from featviz_core import examples

    passes = []
    real = examples.layer_examples
    monkeypatch.setattr(examples, "layer_examples", lambda *args, **kwargs: passes.append(args[1]) or real(*args, **kwargs))
    jobs = line_jobs(monkeypatch)
    at = gallery_page(monkeypatch, layer="block2_conv1")
    at.button(key="gallery_render").click().run()
    at.toggle(key="gallery_examples").set_value(True).run()
    no_exceptions(at)
    assert at.segmented_control(key="examples_source").value == "Sample photos"
    at.button(key="gallery_find_examples").click().run()
    no_exceptions(at)
    assert passes == ["block2_conv1"]  # every filter of the layer scored in one pass, in the server's line:
    assert jobs.count("examples") == 1 and jobs[-1] == "examples"
    strips = [image for image in at.main.image if image.captions[0].startswith(("examples:", "no examples"))]
    assert len(strips) == 16
    assert any("images/s" in caption.value for caption in at.main.caption)
    at.run()  # a rerun finds the layer's examples already there: no second pass
    assert passes == ["block2_conv1"] and len(at.main.image) == 32

