"""AppTest: the Compare start images page, uploads included, on the tiny test model."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dashboard_helpers import click_step, figure, page_at, no_exceptions, photo_png, loss_charts, png
from featviz_core.results import Result, Snapshot
from featviz_core.settings import RenderSettings

SMALL = dict(preset="quick", final_size=48, octaves=2, steps_per_octave=4)
SLOW = pytest.mark.slow  # the other cases of a page test whose first case runs in the quick tier


def compare_page(monkeypatch, **query):
    return page_at(monkeypatch, "compare", **{**SMALL, **query})


def test_three_starts_render_side_by_side_with_one_chart_and_a_table(monkeypatch, renders):
    at = compare_page(monkeypatch)
    before = renders.count
    assert [image.captions[0].split(" · ")[0] for image in at.image] == ["Noise (classic)", "Uniform gray",
                                                                        "Colour gradient"]
    at.button(key="compare_render").click().run()
    no_exceptions(at)
    assert renders.count == before + 2  # the noise run is Explore's picture, already cached
    assert len(at.image) == 6  # start images row, results row
    assert len(loss_charts(at)) == 1
    assert len(at.dataframe) == 2
    pairs = at.dataframe[0].value
    assert list(pairs["pair"]) == ["Noise (classic) vs Uniform gray", "Noise (classic) vs Colour gradient",
                                   "Uniform gray vs Colour gradient"]
    assert pairs["pixel correlation"].between(-1, 1).all()
    assert any("Mean correlation" in text.value for text in at.main.markdown)


@pytest.mark.slow
@pytest.mark.floor
def test_shared_scrubber_moves_every_column_without_rendering(monkeypatch, renders):
    at = compare_page(monkeypatch)
    at.button(key="compare_render").click().run()
    rendered = renders.count
    at.slider[0].set_value(0).run()
    results = at.image[3:]
    assert all("the start image" in image.captions[0] for image in results)
    at.slider[0].set_value(5).run()
    assert all("step 5 of" in image.captions[0] for image in at.image[3:])
    click_step(at, loss_charts(at)[0], 2)  # a click on the curves moves the shared scrubber
    assert at.slider[0].value == 2 and all("step 2 of" in image.captions[0] for image in at.image[3:])
    assert renders.count == rendered
    no_exceptions(at)


def _run_until(settings: RenderSettings, octaves: int) -> Result:
    """A made-up result of `settings` that went through its first `octaves` octaves (fewer: stopped)."""
    steps = settings.steps_per_octave * octaves
    image = np.full((settings.final_size, settings.final_size, 3), 128, np.uint8)
    return Result(settings=settings, image=image, losses=np.linspace(0, 1, steps, dtype=np.float32),
                  octave_sizes=settings.octave_sizes, octave_starts=tuple(range(0, steps, settings.steps_per_octave)),
                  snapshots=(Snapshot(0, image), Snapshot(steps, image)), final_activation=1.0, dead=False,
                  cancelled=octaves < settings.octaves, seconds=0.1, device="CPU")


@pytest.mark.floor
def test_octave_marks_follow_the_schedule_when_the_first_run_was_stopped(monkeypatch):
    from dashboard.line import renders as page_renders

    def existing(runs, *args, **kwargs):  # the first run stopped after one octave, the others finished
        return {kind: page_renders.Shown(_run_until(run, 1 if index == 0 else run.octaves))
                for index, (kind, run) in enumerate(runs.items())}, []

    monkeypatch.setattr(page_renders, "existing", existing)
    at = compare_page(monkeypatch, octaves=3)
    no_exceptions(at)
    layout = figure(loss_charts(at)[0])["layout"]
    marks = [shape["x0"] for shape in layout["shapes"] if shape["line"].get("dash") == "dot"]
    assert marks == [4.5, 8.5]  # octaves 2 and 3 start after steps 4 and 8
    assert [note["text"] for note in layout["annotations"]] == [f"{size} px" for size in (27, 33, 40)]


def test_one_start_asks_for_two(monkeypatch):
    at = compare_page(monkeypatch)
    at.button_group(key="compare_starts").set_value(["noise"]).run()
    assert any("two to four" in info.value for info in at.info)


@pytest.mark.slow
def test_a_photo_start_is_used(monkeypatch, renders):
    at = compare_page(monkeypatch)
    at.button_group(key="compare_starts").set_value(["noise", "photo"]).run()
    at.file_uploader(key="compare_photo").set_value(("ramp.png", photo_png(), "image/png")).run()
    assert not at.error
    assert [image.captions[0].split(" · ")[0] for image in at.image] == ["Noise (classic)", "Your photo"]
    at.button(key="compare_render").click().run()
    no_exceptions(at)
    assert len(at.image) == 4


def _sixteen_bit_gray() -> bytes:
    return png(Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16))  # mode I;16


def _palette_with_transparency() -> bytes:
    image = Image.new("P", (40, 30), 3)
    image.info["transparency"] = 3
    return png(image)


def _cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("CMYK", (32, 32), (10, 200, 30, 0)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize("name, data", [("gray16.png", _sixteen_bit_gray()),
                                        pytest.param("palette.png", _palette_with_transparency(), marks=SLOW),
                                        pytest.param("cmyk.jpg", _cmyk_jpeg(), marks=SLOW)],
                         ids=["16-bit", "palette+alpha", "cmyk"])
def test_odd_image_modes_are_accepted(monkeypatch, name, data):
    at = compare_page(monkeypatch)
    at.button_group(key="compare_starts").set_value(["gray", "photo"]).run()
    at.file_uploader(key="compare_photo").set_value((name, data, "image/png")).run()
    no_exceptions(at)
    assert not at.error
    assert len(at.image) == 2


@pytest.mark.floor
@pytest.mark.parametrize("name, data, says", [
    ("notes.png", b"this is not an image at all", "not an image"),
    pytest.param("cut.png", photo_png(256)[:300], "damaged or truncated", marks=SLOW),
    pytest.param("empty.png", b"", "empty", marks=SLOW),
    pytest.param("huge.png", png(Image.new("L", (8000, 6000))), "megapixels", marks=SLOW),
    pytest.param("big.png", b"\x89PNG" + bytes(11 * 2**20), "limit is 10 MB", marks=SLOW),
], ids=["not-an-image", "truncated", "empty", "48-megapixels", "11-MB"])
def test_bad_uploads_show_an_error_and_the_page_keeps_working(monkeypatch, name, data, says):
    at = compare_page(monkeypatch)
    at.button_group(key="compare_starts").set_value(["noise", "gray", "photo"]).run()
    at.file_uploader(key="compare_photo").set_value((name, data, "image/png")).run()
    no_exceptions(at)
    errors = [error.value for error in at.error]
    assert len(errors) == 1 and says in errors[0] and name in errors[0], errors
    assert len(at.image) == 2  # the other two starts still shown
    assert at.button(key="compare_render").label.startswith("Render")
