"""End to end in a real browser: the real app (offline VGG16) under `streamlit run`, driven by Playwright.

Uses Debian's chromium (no `playwright install`). Screenshots go to test-output/. The server, the browser and
the page helpers are the harness the benchmarks share (benchmarks/harness/).
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from benchmarks.harness import (CHROMIUM, LOSS_CHART, MAIN, OUTPUT, SMALL, StreamlitServer, click_loss_curve,
                                grayscale_digits_model, image_zip, launch, model_uploader, new_page, settle)
from benchmarks.harness.procfs import peak_rss_mb

SLOW_MS = 180_000

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None,
                                 reason="Debian's chromium is not installed (apt-get install chromium)")]
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The real app (FEATVIZ_MODEL unset) on a free local port; its peak memory (all the browser tests'
    sessions together) noted next to the screenshots."""
    with StreamlitServer(OUTPUT / "streamlit-server.log") as app:
        yield app.url
        peak = peak_rss_mb(app.pid)
        if peak is not None:
            (OUTPUT / "server-memory.txt").write_text(f"streamlit server peak RSS after the browser tests: {peak:.0f} MB\n")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context, tab = new_page(browser, timeout_ms=SLOW_MS)
    yield tab
    context.close()


def shot(page, name: str) -> None:
    """A screenshot of the whole app: Streamlit scrolls inside its main area, so grow the viewport to fit it."""
    size = page.viewport_size
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 4000)})
    time.sleep(0.5)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
    page.set_viewport_size(size)


def main_image_src(page) -> str:
    return page.locator(f"{MAIN} [data-testid='stImage'] img").first.get_attribute("src")


def render_on(page, url: str, button: str, done: str) -> None:
    """Open a page, click its render button and wait for the finished view."""
    page.goto(url)
    page.get_by_role("button", name=button).click()
    page.get_by_text(done).wait_for()


def no_exception_shown(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_the_default_view_shows_the_atlas_picture_at_once_filling_its_column(page, server):
    """The shipped atlas has the default view: its picture is an instant (markdown) image, as wide as its column."""
    page.goto(server)
    picture = page.locator(f"{MAIN} [data-testid='stMarkdown'] img[alt='block5_conv3 filter 0']")
    picture.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    settle(page)
    column = picture.evaluate("img => img.closest(\"[data-testid='stColumn']\").getBoundingClientRect().width")
    assert picture.evaluate("img => img.getBoundingClientRect().width") == pytest.approx(column, abs=1)
    assert column > 256  # stretched beyond the stored 256 px, as st.image(width="stretch") would show it
    assert page.locator(MAIN).get_by_text("Precomputed").count() == 1
    assert page.locator(MAIN).get_by_text("finished picture · stored at 256 px").count() == 1
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() == 0
    no_exception_shown(page)
    shot(page, "browser_atlas_first_view")


def test_explore_by_name_opens_explore_with_the_links_values(page, server):
    """/explore (Explore is served at /) is not "Page not found": it opens Explore with the link's layer and filter."""
    page.goto(f"{server}/explore?layer=block3_conv1&filter=7")
    page.locator(f"{MAIN} img[alt='block3_conv1 filter 7']").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    no_exception_shown(page)


def test_explore_renders_and_the_scrubber_changes_the_image(page, server):
    page.goto(f"{server}/?{SMALL}&filter=2")
    page.locator(LOSS_CHART).wait_for()
    settle(page)
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() == 1
    assert "finished picture" in page.locator(f"{MAIN} [data-testid='stImage']").inner_text()
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    assert [label.strip() for label in labels] == [
        "Activation", "High freq.", "Time", "Steps", "Device"]  # robustness is measured when asked for
    no_exception_shown(page)
    shot(page, "browser_explore")

    before = main_image_src(page)
    thumb = page.locator(MAIN).get_by_role("slider", name="Iteration")
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowLeft")
    page.wait_for_function(
        "before => { const img = document.querySelector(\"[data-testid='stMain'] [data-testid='stImage'] img\");"
        " return img !== null && img.src !== before; }",  # the image is briefly absent while the page reruns
        arg=before, timeout=30_000)
    page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="step 7 of 12").wait_for(timeout=30_000)
    settle(page)
    assert page.locator("[data-testid='stProgress']").count() == 0  # nothing was rendered again
    shot(page, "browser_explore_scrubbed")
    assert "filter=2" in page.url and "model=vgg16-offline" in page.url


def test_a_click_on_the_loss_curve_moves_the_scrubber(page, server):
    page.goto(f"{server}/?{SMALL}&filter=6")
    page.locator(LOSS_CHART).wait_for()
    settle(page)
    thumb = page.locator(MAIN).get_by_role("slider", name="Iteration")
    assert thumb.input_value() == "12"
    click_loss_curve(page, 5)
    page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="step 5 of 12").wait_for(timeout=30_000)
    settle(page)
    assert thumb.input_value() == "5"
    hover = click_loss_curve(page, 9)  # the chart redrawn at step 5 answers too
    assert "step 9" in hover and "loss" in hover and "octave 80 px" in hover
    page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="step 9 of 12").wait_for(timeout=30_000)
    settle(page)
    assert thumb.input_value() == "9"
    assert page.locator("[data-testid='stProgress']").count() == 0  # nothing was rendered again
    no_exception_shown(page)
    shot(page, "browser_explore_curve_clicked")


def test_the_scrubber_answers_as_soon_as_the_picture_appears(page, server):
    """Nothing slow (no quality measure) runs between a live render's picture and its scrubber."""
    page.goto(f"{server}/?{SMALL}&filter=4")
    thumb = page.locator(MAIN).get_by_role("slider", name="Iteration")
    thumb.wait_for()  # the render has just finished: do not wait for the script to go idle
    before = main_image_src(page)
    thumb.focus()
    thumb.press("Home")
    page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="the start image").wait_for(timeout=30_000)
    assert main_image_src(page) != before
    assert page.get_by_role("button", name="Robust?").count() == 1  # measured only when asked for
    no_exception_shown(page)


def test_stop_keeps_the_picture_so_far(page, server):
    page.goto(f"{server}/?{SMALL}&filter=9&steps_per_octave=60")  # 180 steps: long enough to stop
    page.locator("[data-testid='stProgress']").wait_for()
    page.locator(f"{MAIN} [data-testid='stImage']").first.wait_for()  # the live preview
    time.sleep(1.0)
    shot(page, "browser_rendering")
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped after").wait_for()
    settle(page)
    assert page.locator("[data-testid='stProgress']").count() == 0
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() == 1
    no_exception_shown(page)
    shot(page, "browser_stopped")


def test_two_sessions_at_once_each_see_their_place_in_line_and_get_their_own_picture(browser, server):
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(2)]
    tabs = [context.new_page() for context in contexts]
    slow = "&steps_per_octave=30"  # 90 steps: the first still renders while the second waits
    try:
        for tab, number in zip(tabs, (20, 21)):  # both start before either finishes
            tab.set_default_timeout(SLOW_MS)
            tab.goto(f"{server}/?{SMALL}{slow}&filter={number}", wait_until="commit")
            time.sleep(1.0)
        tabs[1].get_by_text("2nd in line").wait_for()  # the second session is told its place and a wait
        assert "until it is done" in tabs[1].locator("[data-testid='stAlert']").first.inner_text()
        shot(tabs[1], "browser_in_line")
        for tab, number in zip(tabs, (20, 21)):
            tab.locator(LOSS_CHART).wait_for()
            settle(tab)
            assert f"filter {number}:" in tab.locator(f"{MAIN} [data-testid='stCaptionContainer']").first.inner_text()
            assert tab.locator(f"{MAIN} [data-testid='stImage']").count() == 1
            no_exception_shown(tab)
    finally:
        for context in contexts:
            context.close()


def test_compare_renders_three_starts_side_by_side(page, server):
    render_on(page, f"{server}/compare?{SMALL}&filter=2", "Render", "How alike are they?")
    page.locator(LOSS_CHART).wait_for()
    settle(page)
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() == 6
    assert page.locator(LOSS_CHART).count() == 1
    assert page.locator(f"{MAIN} [data-testid='stDataFrame']").count() == 2
    no_exception_shown(page)
    shot(page, "browser_compare")


def test_stop_on_compare_keeps_the_picture_so_far_and_can_render_the_rest(page, server):
    render_on(page, f"{server}/compare?{SMALL}&filter=11&steps_per_octave=60", "Render", "Noise (classic): step")
    time.sleep(1.0)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Not started: Uniform gray, Colour gradient").wait_for()
    page.locator(LOSS_CHART).wait_for()
    settle(page)
    shot(page, "browser_compare_stopped")
    assert "Stopped: Noise (classic) at step" in page.locator(MAIN).inner_text()
    results = page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="Noise (classic):")
    assert results.count() == 1
    assert page.locator(LOSS_CHART).count() == 1
    no_exception_shown(page)

    page.get_by_role("button", name="Render the rest").click()
    page.get_by_role("button", name="Render 3 runs").wait_for()
    no_exception_shown(page)


def test_methods_renders_classic_and_robust_side_by_side(page, server):
    render_on(page, f"{server}/methods?{SMALL}&filter=2", "Render", "How good is each picture?")
    page.locator(f"{MAIN} [data-testid='stDataFrame']").wait_for()
    settle(page)
    captions = page.locator(f"{MAIN} [data-testid='stImage']").all_inner_texts()
    assert [caption.split(":")[0].strip() for caption in captions] == ["classic", "robust"]
    assert page.locator(LOSS_CHART).count() == 1
    assert "Strongest activation" in page.locator(MAIN).inner_text() or "Dead here" in page.locator(MAIN).inner_text()
    no_exception_shown(page)
    shot(page, "browser_methods")


def test_gallery_renders_a_layer_and_opens_a_tile_in_explore(page, server):
    render_on(page, f"{server}/gallery?{SMALL}&filter=2", "in batches", "16 of 16 filters shown")
    settle(page)
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() == 16
    no_exception_shown(page)
    shot(page, "browser_gallery")

    tile = page.locator(f"{MAIN} [data-testid='stImage']").nth(3)
    number = tile.inner_text().split("#")[1].split(" ")[0]
    page.locator(f".st-key-open_{number} button").click()  # Streamlit marks keyed widgets with st-key-<key>
    page.locator(LOSS_CHART).wait_for()
    settle(page)
    assert f"filter **{number}**" not in page.content()  # markdown is rendered, not shown raw
    assert f"filter {number}:" in page.locator(f"{MAIN} [data-testid='stCaptionContainer']").first.inner_text()
    assert f"filter={number}" in page.url


def test_how_it_works_is_illustrated(page, server):
    page.goto(f"{server}/how-it-works?{SMALL}&filter=2")
    page.locator(f"{MAIN} [data-testid='stPlotlyChart']").wait_for()
    settle(page)
    assert "55 → 66 → 80 px" in page.locator(MAIN).inner_text()
    no_exception_shown(page)
    shot(page, "browser_how_it_works")


def test_upload_a_model_render_it_and_find_examples_in_an_image_zip(page, server, tmp_path):
    page.goto(f"{server}/?{SMALL}&filter=2")
    settle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    uploader = model_uploader(page)
    (tmp_path / "notes.keras").write_text("not a model")  # a renamed text file: one line, nothing else breaks
    uploader.set_input_files(str(tmp_path / "notes.keras"))
    sidebar.locator("[data-testid='stAlertContentError']").filter(has_text="notes.keras").wait_for()
    settle(page)
    lines = sidebar.locator("[data-testid='stAlertContentError']").inner_text().splitlines()
    assert [line for line in lines if line.strip() not in ("", "error")] == [  # "error" is the icon's name
        "notes.keras is not a readable .keras file (not a zip archive: truncated, or not saved by Keras): "
        "save it again with model.save('name.keras')."]
    assert page.locator(f"{MAIN} [data-testid='stImage']").count() >= 1  # the page still shows its picture
    uploader.set_input_files(str(grayscale_digits_model(tmp_path / "digits.keras")))
    sidebar.get_by_text("Grayscale input").wait_for()
    settle(page)
    assert sidebar.locator("[data-testid='stSelectbox'] input").first.input_value() == "digits.keras (yours)"
    assert "has no conv layer" not in sidebar.inner_text()
    assert "Fitted to the model's fixed 28×28 input" in sidebar.inner_text()
    assert sidebar.locator("[data-testid='stSelectbox'] input").nth(1).input_value().startswith("digits_conv2")
    page.locator(f"{MAIN} [data-testid='stImage']").filter(has_text="finished picture").wait_for()
    settle(page)
    assert "model=" in page.url and "digits.keras" in page.url
    no_exception_shown(page)

    page.locator(".st-key-examples_source").get_by_text("Your images").click()
    settle(page)
    page.locator(".st-key-examples_upload [data-testid='stFileUploaderDropzoneInput']").set_input_files(
        str(image_zip(tmp_path / "shapes.zip")))
    page.locator(MAIN).get_by_text("6 images from shapes.zip · 1 skipped").wait_for()
    page.locator(MAIN).get_by_role("button", name="Find examples").click()
    page.locator(MAIN).get_by_text("Where they come from").wait_for()
    settle(page)
    captions = page.locator(f"{MAIN} [data-testid='stImage']").all_inner_texts()
    assert sum(".png" in caption for caption in captions) >= 3  # each patch names its image
    no_exception_shown(page)
    shot(page, "browser_your_model_examples")


# Where a grid cell's centre (its invisible marker) is drawn, in page pixels, from Plotly's own axes.
CELL_POINT_JS = """(gd, index) => {
  const box = gd.getBoundingClientRect(), xaxis = gd._fullLayout.xaxis, yaxis = gd._fullLayout.yaxis;
  return {x: box.left + xaxis._offset + xaxis.l2p(gd.data[0].x[index]),
          y: box.top + yaxis._offset + yaxis.l2p(gd.data[0].y[index])};
}"""


def test_the_photo_page_reads_a_sample_photo_and_a_click_on_its_grid_lists_the_cells_top_five(page, server):
    page.goto(f"{server}/photo?model=vgg16-offline")
    grid = page.locator(f"{MAIN} .st-key-photo_grid .js-plotly-plot")
    grid.wait_for()
    settle(page)
    page.locator(".st-key-photo_sample input").click()
    page.get_by_role("option", name="astronaut").click()
    page.locator(MAIN).get_by_text("sees the 512×512 photo").wait_for()
    settle(page)
    assert page.locator(".st-key-photo_layer input").input_value().startswith("block4_conv3")
    assert page.locator(f"{MAIN} [class*='st-key-photo_open_top_']").count() == 5  # the photo's top filters

    point = grid.evaluate(CELL_POINT_JS, 16 * 2 + 3)  # row 3, col 4
    page.mouse.move(point["x"], point["y"])
    hover = page.locator(f"{MAIN} .st-key-photo_grid .hoverlayer .hovertext")
    hover.wait_for()
    assert "row 3, col 4" in hover.text_content() and "filter" in hover.text_content()
    page.mouse.click(point["x"], point["y"])
    page.locator(MAIN).get_by_text("Top 5 filters in row 3, col 4").wait_for()
    settle(page)
    assert page.locator(f"{MAIN} [class*='st-key-photo_open_cell_']").count() == 5
    assert page.locator(".st-key-photo_cell input").input_value().startswith("row 3, col 4")
    no_exception_shown(page)
    shot(page, "browser_photo")

    page.locator(f"{MAIN} [class*='st-key-photo_open_cell_'] button").first.click()  # one click from Explore
    page.get_by_text("What does this filter look for?").wait_for()
    settle(page)
    assert "layer=block4_conv3" in page.url
    no_exception_shown(page)
