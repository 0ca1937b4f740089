"""Display pieces the pages share: snapshots by step, the step scrubber, metrics and downloads."""

from __future__ import annotations

import base64
import bisect
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from dashboard.display import charts
from dashboard.line import quality_figures, renders
from featviz_core import catalog, imaging
from featviz_core.results import Result
from featviz_core.settings import RenderSettings

if TYPE_CHECKING:
    import plotly.graph_objects as go

GIF_FRAMES = 60
GIF_SIZE = 256
CHART_CONFIG = {"displayModeBar": False}
INSTANT_WIDTH = 2048  # px: an instant picture's own width, wider than any column, so that it fills its column


def last_step(result: Result) -> int:
    """The last step that has a snapshot."""
    return result.snapshots[-1].step


def snapshot_at(result: Result, step: int) -> np.ndarray:
    """The image after `step` steps (the latest snapshot at or before it), at the final size.

    At the last step this is the finished picture itself; earlier snapshots are smaller (octaves)
    and are enlarged so every step shows at the same size.
    """
    if step >= last_step(result):
        return result.image
    steps = [snapshot.step for snapshot in result.snapshots]
    snapshot = result.snapshots[max(0, bisect.bisect_right(steps, step) - 1)]
    return imaging.resize(snapshot.image, result.settings.final_size)


def octave_at(result: Result, step: int) -> tuple[int, int]:
    """(octave number from 1, image size) in which `step` was taken."""
    index = max(0, bisect.bisect_left(result.octave_starts, step) - 1) if step else 0
    return index + 1, result.octave_sizes[index]


def step_caption(result: Result, step: int) -> str:
    if step == 0:
        return f"the start image ({result.settings.start})"
    octave, size = octave_at(result, step)
    where = f"octave {octave} of {len(result.octave_sizes)} at {size} px"
    if step < last_step(result):
        return f"step {step} of {result.steps_run} · {where}"
    if result.cancelled:
        return f"picture when stopped · {where}"
    return f"finished picture · {result.settings.final_size} px"


def step_slider(last: int, key: str) -> int:
    """The iteration scrubber: 0 is the start image, `last` the finished picture (where it starts).

    It starts through Session State rather than `value`, as a click on the loss chart sets it there too
    (move_scrubber), and Streamlit warns about a widget given both."""
    if last < 1:
        return 0
    st.session_state.setdefault(key, last)
    return st.slider("Iteration", min_value=0, max_value=last, key=key,
                     help="Move through the ascent: every step's image is kept, nothing is recomputed.")


def result_key(settings: RenderSettings, *extra: object) -> str:
    """A widget key unique to these settings (and extra parts) within this process."""
    return f"{abs(hash((settings, *extra))):x}"


def data_url(data: bytes, mime: str) -> str:
    """A file's bytes as a data: URL. st.image shows one as it is; a file path or bytes it decodes on the server
    and sends again as JPEG or PNG."""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def instant_picture(image: bytes, mime: str, size: tuple[int, int], alt: str, caption: str) -> None:
    """An image file's bytes, shown as soon as the page's title is: inside a markdown image, filling its column.

    st.image is one of Streamlit's lazily loaded elements, and a page's first view shows all of those
    together once the last one's code has arrived (0.5-1 s after the title on a busy 2-core machine).
    Markdown is in Streamlit's main bundle, so a markdown image shows at once. The bytes go as they are
    inside an SVG INSTANT_WIDTH px wide, which the browser scales down to the column, as st.image does
    with width="stretch".
    """
    height, width = size
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{INSTANT_WIDTH}" '
           f'height="{round(INSTANT_WIDTH * height / width)}" viewBox="0 0 {width} {height}">'
           f'<image href="{data_url(image, mime)}" width="{width}" height="{height}"/></svg>')
    st.markdown(f"![{alt}]({data_url(svg.encode(), 'image/svg+xml')})")
    st.caption(caption)


def loss_chart(result: Result, key: str, step: int | None = None, scrubber: str | None = None) -> None:
    """The loss curve with its octaves (and the scrubber's step), with a line on how to read it.

    `scrubber` is the key of the step slider that a click on the curve moves (None: no slider to move)."""
    figure = charts.loss_figure({"loss": result.losses}, result.octave_starts, result.octave_sizes, step=step)
    plot_losses(figure, f"loss_{key}", scrubber)
    st.caption("Each dotted line starts an octave: the image is enlarged and the ascent goes on at the new "
               "size (labelled on top)." + (" The red line is the scrubber's step." if step is not None else "")
               + (" Click the curve to move the scrubber to that step." if scrubber else ""))


def plot_losses(figure: go.Figure, key: str, scrubber: str | None = None) -> None:
    """A loss figure (charts.loss_figure); with a `scrubber` (a step slider's key), a click moves that slider."""
    if scrubber is None:
        st.plotly_chart(figure, key=key, config=CHART_CONFIG)
    else:
        st.plotly_chart(figure, key=key, config=CHART_CONFIG, on_select=partial(move_scrubber, key, scrubber),
                        selection_mode="points")


def move_scrubber(chart: str, slider: str) -> None:
    """Selection callback of the loss chart keyed `chart`: puts the slider keyed `slider` on the clicked step.

    A callback runs before the next script run, while the slider can still be set."""
    points = st.session_state[chart]["selection"]["points"]
    if points:
        st.session_state[slider] = round(points[0]["x"])


def result_metrics(shown: renders.Shown, key: str) -> None:
    """Final activation, picture quality, time taken and device, as metrics in one row.

    Robustness (16 jittered views through the network) is measured only when asked for, so
    nothing slow runs between a live picture appearing and its scrubber answering.
    """
    result = shown.result
    figures = quality_figures.figures(shown)
    activation, robust, hf, seconds, steps, device = st.columns([1, 1, 1, 1, 1, 3])
    activation.metric("Activation", f"{result.final_activation:.3g}",
                      help="Final mean output of the filter on the finished picture, fed the model's own way.")
    robust_help = ("Activation kept under 16 small random jitters, scalings and rotations, divided by the "
                   "activation: near 1 = real structure, low = fragile pixel noise.")
    if figures is not None:
        robust.metric("Robust", f"{figures.robust:.2f}", help=robust_help)
    elif robust.button("Robust?", key=f"measure_{key}", icon=":material/straighten:", help=robust_help
                       + " Click to measure it (a few seconds on this server)."):
        figures = quality_figures.measure(shown, st.container())
        robust.metric("Robust", f"{figures.robust:.2f}", help=robust_help)
    hf.metric("High freq.", f"{figures.hf if figures else _high_frequency_share(result.image):.3f}",
              help="Share of spectral power above half the Nyquist frequency: lower = less noise.")
    seconds.metric("Time", f"{result.seconds:.1f} s", help="Render time on the server that rendered it.")
    steps.metric("Steps", f"{result.steps_run} / {result.settings.total_steps}")
    device.metric("Device", result.device)


def _high_frequency_share(image: np.ndarray) -> float:
    """The hf figure of a live picture (TensorFlow is loaded already when there is one)."""
    from featviz_core.ascent.quality import high_frequency_share

    return high_frequency_share(image)


def ascent_gif(result: Result) -> bytes:
    """A looping GIF of the ascent: at most GIF_FRAMES snapshots, then the finished picture."""
    snapshots = result.snapshots
    picks = np.unique(np.linspace(0, len(snapshots) - 1, min(GIF_FRAMES, len(snapshots))).round().astype(int))
    return imaging.gif_bytes([snapshots[index].image for index in picks] + [result.image], size=GIF_SIZE)


@st.cache_data(max_entries=4, show_spinner="Making the animation...")
def animation_gif(key: str, _result: Result) -> bytes:
    """`ascent_gif`, cached under `key` (the result itself is not hashed)."""
    return ascent_gif(_result)


def file_stem(settings: RenderSettings) -> str:
    return f"featviz_{catalog.short_name(settings.model)}_{settings.layer}_f{settings.filter}_{settings.start}".replace("/", "_")


def _png_label(shown: renders.Shown) -> tuple[str, str | None]:
    """The PNG button's label and help: an atlas picture's PNG is the stored small, lossy picture, and says so."""
    if shown.entry is None:
        return "PNG", None
    width = shown.entry.image_size  # (the picture itself is decoded only when the PNG is asked for)
    return (f"PNG (atlas, {width} px)", f"The atlas keeps this picture at {width} px, as a lossy WebP: this PNG is "
            f"made from it. **Render live** for the full-size picture ({shown.result.settings.final_size} px).")


def downloads(shown: renders.Shown, key: str) -> None:
    """PNG of the picture and, for a live render, GIF of the ascent (each made when clicked)."""
    result = shown.result
    stem = file_stem(result.settings)
    png, gif = st.columns(2)
    label, png_help = _png_label(shown)
    png.download_button(label, lambda: imaging.png_bytes(result.image), file_name=f"{stem}.png", mime="image/png",
                        icon=":material/image:", key=f"png_{key}", on_click="ignore", width="stretch", help=png_help)
    if not shown.precomputed:
        gif.download_button("GIF of the ascent", lambda: ascent_gif(result), file_name=f"{stem}.gif",
                            mime="image/gif", icon=":material/animation:", key=f"gif_{key}", on_click="ignore",
                            width="stretch")
