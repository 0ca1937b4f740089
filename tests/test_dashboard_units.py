"""Unit tests of the dashboard's pure helpers: URL reading, field list, similarity, tiles, model choice, charts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import dashboard_helpers  # noqa: F401  (first: puts the repository root, home of the package dashboard, on sys.path)
from dashboard_helpers import ROOT
from dashboard.controls import fields, sidebar, urlstate
from dashboard.display import charts, similarity, tiles
from dashboard.line import model_choice
from featviz_core.results import Result, Snapshot
from featviz_core.settings import PRESETS, RenderSettings, SettingsError
from featviz_core import catalog

pytestmark = pytest.mark.floor


def test_every_advanced_field_is_a_core_field_and_every_preset_field_has_a_widget():
    assert fields.FIELDS and all(field.name in RenderSettings.__dataclass_fields__ for field in fields.FIELDS)
    for values in PRESETS.values():
        assert set(values) <= set(fields.BY_NAME), "a preset sets a field the sidebar cannot show"


def test_url_values_are_parsed_and_bad_ones_named():
    values, problems = urlstate.read({"model": "tiny", "filter": "12", "final_size": "96", "preprocessing": "raw",
                                      "step_size": "0.5", "octaves": "x", "start": "plasma", "preset": "fancy"})
    assert values == {"model": "tiny", "filter": 12, "final_size": 96, "preprocessing": "raw", "step_size": 0.5}
    assert len(problems) == 3 and problems[0].startswith("preset must be one of")
    assert problems[1].startswith("octaves must be a whole number")
    assert "start must be one of noise, gray, gradient" in problems[2]


def test_every_settings_problem_is_placed_next_to_its_control():
    """Each problem goes to the field it names (no parsing of the English), all of them, not only the first."""
    with pytest.raises(SettingsError) as caught:
        RenderSettings(final_size=5, objective="chanel", start="photo", snapshot_stride=0)
    problems = sidebar.problems_by_field(caught.value)
    assert problems["final_size"] == ["final_size must be between 8 and 1024; got 5"]
    assert problems["objective"][0].startswith("objective: unknown term 'chanel'")
    assert problems["start"][0].startswith("start_photo is required")
    assert problems["general"][0].startswith("snapshot_stride must be")  # no widget: shown under the form
    assert sum(map(len, problems.values())) == 4


def test_a_layer_problem_is_placed_at_the_layer_control(tiny_model):
    with pytest.raises(SettingsError) as caught:
        RenderSettings(model="tiny", layer="block9_conv9").check_layer(tiny_model.layers)
    assert list(sidebar.problems_by_field(caught.value)) == ["layer"]


def test_pixel_correlation_is_one_for_the_same_picture_and_spectrum_ignores_shifts():
    rng = np.random.default_rng(0)
    stripes = np.tile((np.sin(np.arange(64) / 2) * 100 + 128).astype(np.uint8)[None, :, None], (64, 1, 3))
    shifted = np.roll(stripes, 3, axis=1)
    assert similarity.pixel_correlation(stripes, stripes) == pytest.approx(1.0)
    assert similarity.pixel_correlation(stripes, shifted) < 0.9
    assert similarity.spectrum_correlation(stripes, shifted) > 0.95
    noise = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert abs(similarity.pixel_correlation(stripes, noise)) < 0.2
    assert np.isnan(similarity.pixel_correlation(stripes, np.zeros_like(stripes)))
    rows = similarity.pairwise({"a": stripes, "b": shifted, "c": noise})
    assert [row["pair"] for row in rows] == ["a vs b", "a vs c", "b vs c"]


def test_verdict_says_what_the_numbers_mean():
    assert "Hardly" in similarity.verdict(0.1, 0.9, 0.1) and "tints" not in similarity.verdict(0.1, 0.9, 0.1)
    assert "A little" in similarity.verdict(0.1, 0.7, 0.5)
    assert "Here, yes" in similarity.verdict(0.0, 0.2, 0.5)
    assert "tints its picture" in similarity.verdict(0.1, 0.9, 0.1, cast=60.0)


def test_colour_cast_is_the_largest_distance_between_mean_colours():
    gray = np.full((8, 8, 3), 128, np.uint8)
    warm = gray.copy()
    warm[..., 0] = 188
    assert similarity.colour_cast({"a": gray, "b": gray}) == 0.0
    assert similarity.colour_cast({"a": gray, "b": warm, "c": gray}) == pytest.approx(60.0)


def _result(filter_index: int, loss: float, dead: bool = False) -> Result:
    image = np.full((16, 16, 3), 200, np.uint8)
    return Result(settings=RenderSettings(model="tiny", layer="block1_conv1", filter=filter_index, final_size=20,
                                          octaves=1),
                  image=image, losses=np.array([loss], np.float32), octave_sizes=(16,), octave_starts=(0,),
                  snapshots=(Snapshot(0, image),), final_activation=loss, dead=dead, cancelled=False, seconds=0.1,
                  device="CPU")


def test_tiles_order_by_loss_or_index():
    results = [_result(0, 1.0), _result(1, 0.0, dead=True), _result(2, 3.0)]
    assert [r.settings.filter for r in tiles.ordered(results, "final loss")] == [2, 0, 1]
    assert [r.settings.filter for r in tiles.ordered(results, "filter index")] == [0, 1, 2]
    assert tiles.caption(results[2]) == "#2 · loss 3" and tiles.tile_image(results[2]) is results[2].image
    assert tiles.collage_png(results).startswith(b"\x89PNG")


def test_a_dead_tile_is_plain_and_says_whether_the_filter_fires_on_photos():
    dead = replace(_result(1, 0.0, dead=True), image=np.full((128, 128, 3), 200, np.uint8))
    fires, silent, unchecked = (replace(dead, photo_peak=peak) for peak in (68.0, 0.0, None))
    tile = tiles.tile_image(fires)
    assert tile.shape == dead.image.shape
    assert (tile[:20, :20] == tiles.DEAD_GRAY).all()  # no picture, no blob: a plain tile
    assert (tile.max(axis=2) > 200).any()  # with words on it
    assert not np.array_equal(tile, tiles.tile_image(silent))
    assert tiles.caption(fires) == "#1 · dead: fires on the sample photos (up to 68): the ascent failed, the filter is alive"
    assert tiles.caption(silent) == "#1 · dead: never fires on the sample photos either: a dead filter"
    assert tiles.caption(unchecked) == "#1 · dead: not checked against the sample photos"


def test_default_model_follows_the_environment_and_the_weights_on_disk(monkeypatch, tmp_path):
    monkeypatch.setenv("FEATVIZ_MODEL", "tiny")
    assert model_choice.default_model() == "tiny"
    monkeypatch.delenv("FEATVIZ_MODEL")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(model_choice.server, "atlas_of", lambda name: None)
    monkeypatch.setattr(model_choice.catalog, "offline_model_available", lambda: False)
    assert model_choice.default_model() == "vgg16"  # a cloud host without the offline weights: download once
    monkeypatch.setattr(model_choice.server, "atlas_of", lambda name: object() if name == "vgg16-offline" else None)
    assert model_choice.default_model() == "vgg16-offline"  # its atlas opens at once, even without its weights
    assert not model_choice.can_render_live("vgg16-offline") and model_choice.can_render_live("vgg16")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / model_choice.IMAGENET_VGG16_FILE).write_bytes(b"weights")
    assert model_choice.default_model() == "vgg16"
    assert model_choice.fallback_for("vgg16-offline") is None


def test_the_server_accepts_every_upload_its_widgets_allow():
    """The server refuses (HTTP 413) any file over server.maxUploadSize, whatever the widget says."""
    import tomllib

    from dashboard.photos import examples_panel, uploads
    from featviz_core.catalog import MAX_MODEL_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= max(MAX_MODEL_MB, examples_panel.MAX_SET_MB, uploads.MAX_UPLOAD_MB)


def test_an_uploaded_model_is_stored_under_its_content_hash(monkeypatch, tmp_path):
    from dashboard.controls import model_upload

    monkeypatch.setattr(model_upload, "UPLOAD_DIR", tmp_path)
    first = model_upload.stored_path("My Model (final).keras", b"same bytes")
    assert first.parent.parent == tmp_path and first.name == "My_Model_final_.keras"
    assert model_upload.stored_path("my.keras", b"same bytes") == first.with_name("my.keras")  # not stored yet
    first.parent.mkdir()
    first.write_bytes(b"same bytes")
    assert model_upload.stored_path("my.keras", b"same bytes") == first  # the same model: one file, one load
    assert model_upload.stored_path("My Model (final).keras", b"other bytes").parent != first.parent
    assert model_upload.is_upload(str(first))
    assert model_upload.label(str(first)) == "My_Model_final_.keras (yours)"
    assert catalog.short_name(str(first)) == "My_Model_final_.keras" and model_upload.label("vgg16") == "vgg16"


def _vertical_lines(figure) -> dict[str, list[float]]:
    """A loss figure's vertical lines by kind: "octave" (dotted) and "step" (solid, the scrubber's)."""
    found: dict[str, list[float]] = {"octave": [], "step": []}
    for shape in figure.layout.shapes:
        found["octave" if shape.line.dash == "dot" else "step"].append(shape.x0)
    return found


def test_loss_figure_marks_octaves_and_the_scrubbers_step_on_every_curve():
    curves = {"noise": np.array([0.5, 1.0, 2.0, 3.0, 4.0, 5.0]), "gray": np.array([0.1, 0.2, 0.3, 0.4])}
    figure = charts.loss_figure(curves, (0, 2, 4), (27, 33, 40), step=3)
    noise, gray, marker = figure.data
    assert (noise.name, list(noise.x), list(noise.y)) == ("noise", [1, 2, 3, 4, 5, 6], [0.5, 1.0, 2.0, 3.0, 4.0, 5.0])
    assert (gray.name, list(gray.x)) == ("gray", [1, 2, 3, 4])
    assert _vertical_lines(figure) == {"octave": [2.5, 4.5], "step": [3]}  # octaves 2 and 3 start after steps 2 and 4
    assert [(note.x, note.text) for note in figure.layout.annotations] == [
        (1.5, "27 px"), (3.5, "33 px"), (5.5, "40 px")]  # centred on steps 1-2, 3-4, 5-6
    assert (list(marker.x), list(marker.y)) == ([3, 3], [2.0, 0.3])  # the step, on both curves
    assert marker.hoverinfo == "skip" and not marker.showlegend  # a click lands on the curves, not on it
    assert figure.layout.showlegend


def test_loss_figure_hover_shows_step_loss_and_octave_size():
    figure = charts.loss_figure({"noise": np.array([0.5, 1.0, 2.0, 3.0, 4.0])}, (0, 2, 4), (27, 33, 40))
    curve = figure.data[0]
    assert list(curve.customdata) == [27, 27, 33, 33, 40]  # each step's octave size
    assert all(part in curve.hovertemplate for part in ("step %{x}", "loss %{y:.4g}", "octave %{customdata} px"))
    assert "markers" in curve.mode  # Plotly selects only traces with markers: a click needs them


def test_loss_figure_without_a_step_or_octaves_draws_the_curves_only():
    figure = charts.loss_figure({"classic": np.array([1.0, 2.0])}, (), ())
    assert len(figure.data) == 1 and not figure.layout.shapes and not figure.layout.annotations
    assert not figure.layout.showlegend  # one curve: no legend
    assert "octave" not in figure.data[0].hovertemplate and figure.data[0].customdata is None
    assert not charts.loss_figure({"classic": np.array([1.0, 2.0])}, (), (), step=5).layout.shapes  # past the end
    assert charts.loss_figure({"a": np.ones(3), "b": np.ones(3)}, (), ()).layout.showlegend


def test_a_live_render_draws_its_loss_curve_from_the_steps_it_sees():
    """The live curve: steps between two looks drawn straight, nothing before the first step seen, and an
    octave mark where a new octave was first seen."""
    from types import SimpleNamespace

    from dashboard.line.renders import LiveCurve

    drawn = []
    slot = SimpleNamespace(plotly_chart=lambda figure, **options: drawn.append((figure, options)))
    curve = LiveCurve(slot)
    curve.add(SimpleNamespace(step=3, losses=np.array([1.0]), octave=0, size=76))
    curve.draw()
    assert drawn == []  # one step seen: no curve yet
    curve.add(SimpleNamespace(step=5, losses=np.array([3.0]), octave=0, size=76))
    curve.add(SimpleNamespace(step=8, losses=np.array([2.0]), octave=1, size=107))
    curve.draw()
    figure, options = drawn[-1]
    y = np.array(figure.data[0].y, dtype=float)
    assert np.isnan(y[:2]).all() and np.allclose(y[2:], [1.0, 2.0, 3.0, 8 / 3, 7 / 3, 2.0])
    assert options["config"] == {"staticPlot": True}
    assert [shape.x0 for shape in figure.layout.shapes] == [7.5]  # octave 2 begins after step 7 (first seen at 8)
