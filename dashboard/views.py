"""Display pieces the pages share: snapshots by step, the step scrubber, metrics and downloads."""

from __future__ import annotations

import bisect

import numpy as np
import streamlit as st

from featviz_core import imaging
from featviz_core.ascent import Result
from featviz_core.quality import Quality
from featviz_core.settings import RenderSettings

GIF_FRAMES = 60
GIF_SIZE = 256


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
    """The iteration scrubber: 0 is the start image, `last` the finished picture."""
    if last < 1:
        return 0
    return st.slider("Iteration", min_value=0, max_value=last, value=last, key=key,
                     help="Move through the ascent: every step's image is kept, nothing is recomputed.")


def result_key(settings: RenderSettings, *extra: object) -> str:
    """A widget key unique to these settings (and extra parts) within this process."""
    return f"{abs(hash((settings, *extra))):x}"


def result_metrics(result: Result, quality: Quality) -> None:
    """Final activation, picture quality, time taken and device, as metrics in one row."""
    activation, robust, hf, seconds, steps, device = st.columns([1, 1, 1, 1, 1, 3])
    activation.metric("Activation", f"{result.final_activation:.3g}",
                      help="Final mean output of the filter on the finished picture, fed the model's own way.")
    robust.metric("Robust", f"{quality.robust:.2f}",
                  help="Activation kept under 16 small random jitters, scalings and rotations, divided by the "
                       "activation: near 1 = real structure, low = fragile pixel noise.")
    hf.metric("High freq.", f"{quality.hf:.3f}", help="Share of spectral power above half the Nyquist frequency: "
                                                       "lower = less noise.")
    seconds.metric("Time", f"{result.seconds:.1f} s")
    steps.metric("Steps", f"{result.steps_run} / {result.settings.total_steps}")
    device.metric("Device", result.device)


def ascent_gif(result: Result) -> bytes:
    """A looping GIF of the ascent: at most GIF_FRAMES snapshots, then the finished picture."""
    snapshots = result.snapshots
    picks = np.unique(np.linspace(0, len(snapshots) - 1, min(GIF_FRAMES, len(snapshots))).round().astype(int))
    return imaging.gif_bytes([snapshots[index].image for index in picks] + [result.image], size=GIF_SIZE)


@st.cache_data(max_entries=16, show_spinner="Making the animation...")
def animation_gif(key: str, _result: Result) -> bytes:
    """`ascent_gif`, cached under `key` (the result itself is not hashed)."""
    return ascent_gif(_result)


def file_stem(settings: RenderSettings) -> str:
    return f"featviz_{settings.model}_{settings.layer}_f{settings.filter}_{settings.start}".replace("/", "_")


def downloads(result: Result, key: str) -> None:
    """PNG of the picture and GIF of the ascent (the GIF is made when clicked)."""
    stem = file_stem(result.settings)
    png, gif = st.columns(2)
    png.download_button("PNG", imaging.png_bytes(result.image), file_name=f"{stem}.png", mime="image/png",
                        icon=":material/image:", key=f"png_{key}", on_click="ignore", width="stretch")
    gif.download_button("GIF of the ascent", lambda: ascent_gif(result), file_name=f"{stem}.gif",
                        mime="image/gif", icon=":material/animation:", key=f"gif_{key}", on_click="ignore",
                        width="stretch")
