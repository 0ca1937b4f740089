"""AppTest: What it sees in your photo (the photo page) on the tiny test model, and its parts: the composed
pictures, the grid chart, the server's bounded shelves."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard_helpers import figure, no_exceptions, page_at, photo_png, query_param, select_points
from test_dashboard_line_jobs import line_jobs

SMALL = dict(preset="quick", final_size=32, octaves=2, steps_per_octave=3)


@pytest.fixture(autouse=True)
def _forget_what_the_page_found():
    """The photo page fills the server's shelves (dataset examples, readings, groups): other tests' pages
    would find them there and show more than they expect, so each test here leaves them empty."""
    yield
    from dashboard.line import server
    from dashboard.photos import dissections

    for shelf in (server.examples, dissections.reading_shelf, dissections.group_shelf):
        shelf.clear()


def photo_page(monkeypatch, **query):
    return page_at(monkeypatch, "photo", **{**SMALL, **query})


def grid_chart(at):
    charts = [chart for chart in at.get("plotly_chart") if chart.proto.id.endswith("photo_grid")]
    assert len(charts) == 1, [chart.proto.id for chart in at.get("plotly_chart")]
    return charts[0]


def cell_buttons(at) -> list[str]:
    return [button.key for button in at.button if button.key and button.key.startswith("photo_open_cell_")]


def listed_cell(at) -> str:
    return next(text.value for text in at.main.markdown if text.value.startswith("**Top "))


@pytest.mark.floor
def test_the_page_opens_on_a_sample_photo_with_its_grid_and_top_filters(monkeypatch):
    jobs = line_jobs(monkeypatch)
    at = photo_page(monkeypatch)
    no_exceptions(at)
    assert not at.error
    assert at.title[0].value == "What it sees in your photo"
    assert at.selectbox(key="photo_sample").value == "chelsea"
    assert at.selectbox(key="photo_layer").options == ["block2_conv1 · 16 filters", "block2_conv2 · 16 filters"]
    assert "dissect" in jobs and "groups" in jobs  # both through the server's line
    spec = figure(grid_chart(at))
    rows, cols = 16, 16  # the tiny model's block2_conv1 has 150 x 225 positions on the cat: the most cells
    assert len(spec["data"]) == 1 and len(spec["data"][0]["x"]) == rows * cols
    assert spec["layout"]["images"][0]["source"].startswith("data:image/jpeg;base64,")
    assert [header.value for header in at.subheader] == ["Where each filter fires most", "The photo's top filters",
                                                         "Neuron groups"]
    assert len(cell_buttons(at)) == 5  # the strongest cell's top 5, listed at once
    tops = [button.key for button in at.button if button.key and button.key.startswith("photo_open_top_")]
    assert len(tops) == 5
    captions = [image.captions[0] for image in at.main.image]
    assert sum(caption.startswith("where filter ") for caption in captions) == 5  # the top filters' heat maps
    assert sum(caption == "where it fires" for caption in captions) == 6  # the six groups
    assert at.button(key="photo_groups_render").label == "Render group pictures"


def test_picking_a_cell_lists_its_top_five_each_one_click_from_explore(monkeypatch):
    at = photo_page(monkeypatch)
    cell = at.selectbox(key="photo_cell")
    assert cell.value == int(np.argmax([float(text.split("<br>")[2].split("%")[0])
                                        for text in figure(grid_chart(at))["data"][0]["text"]]))  # the strongest
    at.selectbox(key="photo_cell").set_value(17).run()  # row 2, col 2 of 16 x 16
    no_exceptions(at)
    assert listed_cell(at).startswith("**Top 5 filters in row 2, col 2**")
    assert "row 2, col 2" in at.selectbox(key="photo_cell").format_func(17)
    buttons = cell_buttons(at)
    assert len(buttons) == 5 and all(at.button(key=key).label == "Open in Explore" for key in buttons)
    outline = figure(grid_chart(at))["layout"]["shapes"]
    assert len(outline) == 1 and outline[0]["type"] == "rect"  # the picked cell, outlined on the grid
    chosen = int(buttons[2].rsplit("_", 1)[1])
    at.button(key=buttons[2]).click().run()
    no_exceptions(at)
    assert at.title[0].value == "What does this filter look for?"
    assert at.selectbox(key="layer").value == "block2_conv1" and at.number_input(key="filter").value == chosen
    assert query_param(at, "filter") == str(chosen) and query_param(at, "layer") == "block2_conv1"


def test_a_click_on_the_grid_picks_that_cell(monkeypatch):
    at = photo_page(monkeypatch)
    chart = grid_chart(at)
    spec = figure(chart)["data"][0]
    point = {"curve_number": 0, "point_index": 40, "point_number": 40, "x": spec["x"][40], "y": spec["y"][40]}
    select_points(at, chart, [point])
    no_exceptions(at)
    assert at.selectbox(key="photo_cell").value == 40
    assert listed_cell(at).startswith("**Top 5 filters in row 3, col 9**")


def test_a_bad_upload_gives_one_line_and_the_page_keeps_working(monkeypatch):
    at = photo_page(monkeypatch)
    at.segmented_control(key="photo_source").set_value("Your photo").run()
    no_exceptions(at)
    assert "Upload a photo" in " ".join(caption.value for caption in at.main.caption)
    at.file_uploader(key="photo_upload").set_value(("junk.png", b"not an image at all", "image/png")).run()
    no_exceptions(at)
    assert [error.value for error in at.error] == ["**junk.png** can't be used: This file is not an image Pillow can "
                                                   "read (try PNG, JPEG, WebP, GIF, BMP or TIFF)."]
    assert not at.get("plotly_chart")
    at.file_uploader(key="photo_upload").set_value(("ramp.png", photo_png(96), "image/png")).run()
    no_exceptions(at)
    assert not at.error and len(figure(grid_chart(at))["data"][0]["x"]) > 1
    assert "96×96 photo" in " ".join(caption.value for caption in at.main.caption)


@pytest.mark.slow
def test_a_dissection_is_kept_for_every_session_by_model_photo_and_layer(monkeypatch):
    photo_page(monkeypatch, seed=11)  # this photo and layer, read (perhaps by an earlier test)
    jobs = line_jobs(monkeypatch)
    at = photo_page(monkeypatch, seed=12)  # another session
    no_exceptions(at)
    assert "dissect" not in jobs and "groups" not in jobs
    at.selectbox(key="photo_layer").set_value("block2_conv2").run()
    no_exceptions(at)
    assert jobs.count("dissect") <= 1  # (none when an earlier test read it already)
    at.toggle(key="photo_all_layers").set_value(True).run()
    assert at.selectbox(key="photo_layer").options[:2] == ["block1_conv1 · 8 filters", "block1_conv2 · 8 filters"]
    assert at.selectbox(key="photo_layer").value == "block2_conv2"  # kept


def test_another_group_count_is_factorized_and_the_group_pictures_render_in_one_batch(monkeypatch, renders):
    jobs = line_jobs(monkeypatch)
    at = photo_page(monkeypatch, seed=13)
    at.slider(key="photo_groups").set_value(4).run()
    no_exceptions(at)
    assert "groups" in jobs
    captions = [image.captions[0] for image in at.main.image]
    assert captions.count("where it fires") == 4
    before = renders.count
    at.button(key="photo_groups_render").click().run()
    no_exceptions(at)
    assert renders.calls[before:] == ["noise filters [0, 1, 2, 3]"]  # one batch: the four groups' mixes
    assert [image.captions[0] for image in at.main.image].count("its picture") == 4
    assert not any(button.key == "photo_groups_render" for button in at.button)  # rendered: kept in the store


@pytest.mark.slow
@pytest.mark.vgg16
def test_vgg16_offers_two_deep_layers_and_shows_atlas_pictures_in_the_grid(monkeypatch):
    at = page_at(monkeypatch, "photo", model="vgg16-offline", **SMALL)
    no_exceptions(at)
    assert not at.error
    assert at.selectbox(key="photo_layer").value == "block4_conv3"
    assert [option.split(" ·")[0] for option in at.selectbox(key="photo_layer").options] == ["block4_conv3",
                                                                                          "block5_conv3"]
    assert len(figure(grid_chart(at))["data"][0]["x"]) == 16 * 16
    captions = " ".join(caption.value for caption in at.main.caption)
    assert "block4_conv3 sees the 451×300 photo at 37×56 positions" in captions
    assert picture_sources(at) and set(picture_sources(at).values()) == {"atlas"}  # the atlases hold all 512
    at.selectbox(key="photo_layer").set_value("block5_conv3").run()
    no_exceptions(at)
    assert len(cell_buttons(at)) == 5
    assert set(picture_sources(at).values()) == {"atlas"}
    at.toggle(key="photo_all_layers").set_value(True).run()
    assert len(at.selectbox(key="photo_layer").options) == 13  # every conv layer of VGG16
    at.selectbox(key="photo_layer").set_value("block3_conv1").run()  # its filters 0-63 only are in an atlas
    no_exceptions(at)
    sources = picture_sources(at)
    assert {index for index, source in sources.items() if source == "atlas"} == {index for index in sources if index < 64}
    assert any(source == "photo patch" for source in sources.values())  # a stand-in says so: its best photo patch


def picture_sources(at) -> dict[int, str]:
    """The filter pictures on the page: filter -> "atlas", or "photo patch" for a stand-in (from the captions)."""
    captions = [image.captions[0] for image in at.main.image if image.captions and image.captions[0].startswith("filter ")]
    return {int(caption.split()[1]): "photo patch" if "photo patch" in caption else "atlas" for caption in captions}


# --- the parts ---------------------------------------------------------------------------------------------

def test_the_grid_chart_has_one_point_per_cell_and_outlines_the_picked_one():
    from dashboard.display.charts import grid_figure

    chart = grid_figure("data:image/jpeg;base64,", (60, 40), (0, 20, 40), (0, 20, 40, 60),
                        [f"cell {index}" for index in range(6)], selected=5)
    scatter = chart.data[0]
    assert list(zip(scatter.x, scatter.y)) == [(10, 10), (30, 10), (50, 10), (10, 30), (30, 30), (50, 30)]
    assert chart.layout.hoverdistance == -1  # a click anywhere picks the nearest cell
    shape = chart.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (40, 60, 20, 40)


def test_the_bounded_shelf_keeps_values_by_size_and_never_one_larger_than_its_bound():
    from featviz_core.bounded import Bounded

    shelf, builds = Bounded(100, getsizeof=len), []
    for key in "abc":
        shelf.get(key, lambda key=key: builds.append(key) or key * 40)
    assert builds == ["a", "b", "c"] and shelf.find("a") is None  # 120 > 100: the least recently used went
    assert shelf.get("b", lambda: "built again") == "b" * 40
    assert shelf.get("huge", lambda: "x" * 101) == "x" * 101 and shelf.find("huge") is None
    assert shelf.find("b") == "b" * 40  # a value too large to keep evicts nothing


def test_group_pictures_read_the_layer_as_the_groups_mixes_of_channels():
    from dashboard.photos.dissections import group_settings, top_channels
    from featviz_core.dissect import Factorization, NeuronGroup
    from featviz_core.settings import preset

    weights = [np.array([0.0, 1.0, 0.5], np.float32), np.array([1.0, 0.0, 0.25], np.float32)]
    groups = Factorization(tuple(NeuronGroup(row, np.ones((2, 2), np.float32)) for row in weights), 0.2)
    runs = group_settings(preset("quick", model="tiny", layer="block1_conv1"), "block2_conv1", groups)
    assert list(runs) == ["1", "2"]
    assert [(run.layer, run.filter) for run in runs.values()] == [("block2_conv1", 0), ("block2_conv1", 1)]
    assert runs["2"].channel_weights == ((0.0, 1.0, 0.5), (1.0, 0.0, 0.25))
    assert top_channels(weights[0], 2) == [1, 2]


@pytest.mark.slow
def test_an_uploaded_fixed_size_gray_model_reads_the_photo_too(monkeypatch, tmp_path):
    """Any model: an uploaded 28x28 gray digits model (a fixed input size, one channel) reads the cat photo,
    resized to its input, and the page shows its grid and top filters."""
    from dashboard.controls import model_upload
    from user_models import gray28

    monkeypatch.setattr(model_upload, "UPLOAD_DIR", tmp_path / "uploads")
    source = tmp_path / "digits.keras"
    gray28().save(source)
    at = photo_page(monkeypatch)
    at.file_uploader(key="model_upload").set_value(("digits.keras", source.read_bytes(), "application/octet-stream")).run()
    no_exceptions(at)
    assert not at.error
    assert at.selectbox(key="model").value.endswith("digits.keras")
    assert [option.split(" ")[0] for option in at.selectbox(key="photo_layer").options] == ["conv1", "conv2"]
    assert len(figure(grid_chart(at))["data"][0]["x"]) == 16 * 16  # conv1: 28 x 28 positions, at most 16 cells a side
    at.selectbox(key="photo_layer").select_index(1).run()
    no_exceptions(at)
    assert len(figure(grid_chart(at))["data"][0]["x"]) == 14 * 14  # conv2 after the pooling: 14 x 14 positions, a cell each
    assert len(cell_buttons(at)) == 5


def test_a_link_carries_the_photo_layer_cell_and_groups(monkeypatch):
    """The URL reproduces the view: a link's photo, layer, cell and group count are what the page opens on,
    and a change on the page goes into the URL (where the sidebar's writes keep it)."""
    from dashboard_helpers import app, fresh_seed

    at = app(monkeypatch, seed=fresh_seed(), **SMALL, photo_sample="astronaut", photo_layer="block1_conv2",
             photo_cell="17", photo_groups="4")
    at = at.switch_page("app_pages/photo.py").run()
    no_exceptions(at)
    assert at.selectbox(key="photo_sample").value == "astronaut"
    assert at.toggle(key="photo_all_layers").value  # block1_conv2 is not one of the two offered at first
    assert at.selectbox(key="photo_layer").value == "block1_conv2"
    assert at.selectbox(key="photo_cell").value == 17 and at.slider(key="photo_groups").value == 4
    at.selectbox(key="photo_cell").set_value(3).run()
    at.slider(key="photo_groups").set_value(5).run()
    no_exceptions(at)
    assert {key: at.query_params[key] for key in ("photo_sample", "photo_layer", "photo_cell", "photo_groups")} == {
        "photo_sample": "astronaut", "photo_layer": "block1_conv2", "photo_cell": "3", "photo_groups": "5"}
    assert at.query_params["model"] == "tiny"  # the sidebar's own parameters stay beside them


def test_a_link_with_bad_photo_parameters_opens_the_defaults(monkeypatch):
    from dashboard_helpers import app, fresh_seed

    at = app(monkeypatch, seed=fresh_seed(), **SMALL, photo_sample="nope", photo_layer="dense", photo_cell="x",
             photo_groups="99")
    at = at.switch_page("app_pages/photo.py").run()
    no_exceptions(at)
    assert at.selectbox(key="photo_sample").value == "chelsea" and at.slider(key="photo_groups").value == 6
    assert at.selectbox(key="photo_layer").value == "block2_conv1"
