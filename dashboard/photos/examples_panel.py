"""Dataset examples on the pages: choose an image set, find a layer's top patches (one pass for every
filter, on demand), and show a filter's patches with their activations and where they came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from dashboard.line import renders, server
from dashboard.line.render_queue import Job
from dashboard.photos.uploads import IMAGE_TYPES
from featviz_core.catalog import ModelLoadError
from featviz_core.examples.image_sets import (SAMPLE_PHOTOS, ImageSet, ImageSetError, image_set_from_files,
                                     sample_image_set)
from featviz_core.settings import RenderSettings

MAX_SET_MB = 50  # one upload of images (or a zip)
SET_PIXELS_MB = 64  # decoded pixels kept per set on the server; the rest of an upload is skipped, and counted
TOP = 9
SAMPLES = "Sample photos"
YOURS = "Your images"
_KEY = "examples_source"


@dataclass(frozen=True)
class ImageSource:
    """The image set a session picked, loaded (once per server) only when examples are shown or found, so
    that a page that never asks for examples does not decode the sample photos."""

    key: str  # the shelf's key: "samples", or the sha256 of the uploaded files
    summary: str
    load: Callable[[], ImageSet] = field(compare=False)

    def image_set(self) -> ImageSet:
        return server.examples().image_set(self.key, self.load)


SAMPLE_SOURCE = ImageSource("samples", f"The {len(SAMPLE_PHOTOS)} photos that ship with scikit-image.",
                            sample_image_set)


def image_set_control() -> ImageSource | None:
    """The images this session picked: scikit-image's sample photos, or an upload (zip or images)."""
    source = st.segmented_control("Images", (SAMPLES, YOURS), default=SAMPLES, key=_KEY, required=True,
                                  persist_state="session",
                                  help="Where the examples come from: natural photos that ship with scikit-image "
                                       "(offline), or your own images (a zip, or many files at once).")
    if source == SAMPLES:
        return SAMPLE_SOURCE
    uploaded = st.file_uploader("Your images (a .zip, or image files)", type=["zip", *IMAGE_TYPES],
                                accept_multiple_files=True, key="examples_upload", max_upload_size=MAX_SET_MB,
                                help=f"Up to {MAX_SET_MB} MB. Files that are not readable images are skipped and "
                                     "counted.")
    if not uploaded:
        st.caption("Upload a zip of images, or select several image files.")
        return None
    files = tuple((item.name, item.getvalue()) for item in uploaded)
    key = hashlib.sha256(b"".join(name.encode() + data for name, data in files)).hexdigest()

    def load() -> ImageSet:
        return image_set_from_files(files, _set_name(uploaded), max_bytes=SET_PIXELS_MB * 2**20)

    try:
        image_set = server.examples().image_set(key, load)  # decoded now: the upload's problems show at once
    except ImageSetError as error:
        st.error(str(error), icon=":material/broken_image:")
        return None
    return ImageSource(key, set_summary(image_set), load)


def _set_name(uploaded: list) -> str:
    return uploaded[0].name if len(uploaded) == 1 else f"{len(uploaded)} files"


def set_summary(image_set: ImageSet) -> str:
    skipped = len(image_set.skipped)
    line = f"{len(image_set.images)} images from {image_set.name}"
    if skipped:
        first_name, first_reason = image_set.skipped[0]
        line += f" · {skipped} skipped (e.g. {first_name}: {first_reason})"
    return line


def _layer_key(settings: RenderSettings, source: ImageSource) -> tuple[str, str, str, str]:
    return settings.model, settings.layer, settings.preprocessing, source.key


def cached_layer(settings: RenderSettings, source: ImageSource):
    """The layer's examples when already found (by any session), else None."""
    return server.examples().cached_layer(_layer_key(settings, source))


def find_layer(settings: RenderSettings, source: ImageSource):
    """Score every filter of the layer on the set (one batched pass in the server's line, with place,
    estimate and progress), or None with the reason shown."""
    from featviz_core.examples import layer_examples
    from featviz_core.models.preprocessing import preprocess_for

    key = _layer_key(settings, source)
    image_set = source.image_set()

    def work(job: Job):
        def progress(done: int, total: int) -> None:
            job.report(done / max(total, 1), note=f"image {done} of {total}")

        def build():
            loaded = server.shelf().get(settings.model)
            return layer_examples(loaded, settings.layer, image_set, top=TOP,
                                  preprocess=preprocess_for(loaded, settings.preprocessing), progress=progress)

        return server.examples().layer(key, build)

    pixels = sum(image.pixels.shape[0] * image.pixels.shape[1] for image in image_set.images)
    try:
        return renders.in_line(renders.job_key("examples", *key), work, pixels * renders.EXAMPLES_COST_PER_PIXEL,
                               st.container(), f"Scoring {settings.layer} on {len(image_set.images)} images")
    except ModelLoadError as error:
        st.error(str(error), icon=":material/error:")
        return None


def with_box(pixels: np.ndarray, box: tuple[int, int, int, int], width: int = 160) -> np.ndarray:
    """A thumbnail of the whole image with the example's box drawn in red."""
    image = Image.fromarray(pixels)
    scale = width / image.width
    thumbnail = image.resize((width, max(1, round(image.height * scale))))
    x, y, w, h = (value * scale for value in box)
    ImageDraw.Draw(thumbnail).rectangle((x, y, x + w - 1, y + h - 1), outline=(228, 87, 46), width=2)
    return np.asarray(thumbnail)


def firing(found, filter_index: int, count: int) -> list:
    """The filter's best `count` examples that make it fire at all (activation above 0)."""
    return [example for example in found.examples[filter_index][:count] if example.activation > 0]


def filter_examples(found, image_set: ImageSet, filter_index: int, count: int = TOP, where: bool = True) -> None:
    """A filter's top patches, best first, each with its activation; with `where`, the whole images with
    the boxes too."""
    from featviz_core.examples import patch

    examples = firing(found, filter_index, count)
    if not examples:
        st.caption(f"No image in the set makes filter {filter_index} fire (its activation stays 0).")
        return
    columns = st.columns(len(examples))
    for column, example in zip(columns, examples):
        column.image(patch(image_set, example), width="stretch",
                     caption=f"{example.activation:.3g} · {example.image}")
    if where:
        with st.expander("Where they come from", icon=":material/crop_free:"):
            for column, example in zip(st.columns(len(examples)), examples):
                x, y, w, h = example.box
                column.image(with_box(image_set.images[example.image_index].pixels, example.box), width="stretch",
                             caption=f"box {x},{y} {w}×{h}")


def timing_caption(found, image_set: ImageSet) -> str:
    return (f"Top {min(found.top, len(image_set.images))} of {len(image_set.images)} images ({image_set.name}) for each of the "
            f"{found.filters} filters of {found.layer}, found in one pass of {found.seconds:.1f} s "
            f"({found.images_per_second:.1f} images/s); the number is the filter's strongest output in the patch.")


STRIP = 3  # patches under a gallery tile


def strip(found, image_set: ImageSet, filter_index: int, size: int = 64) -> np.ndarray:
    """A filter's best STRIP patches side by side, for under its gallery tile."""
    from featviz_core.examples import patch

    patches = [patch(image_set, example, size) for example in firing(found, filter_index, STRIP)]
    return np.hstack(patches) if patches else np.zeros((size, size * STRIP, 3), np.uint8)


def strip_caption(found, filter_index: int) -> str:
    shown = firing(found, filter_index, STRIP)
    return "examples: " + ", ".join(f"{example.activation:.3g}" for example in shown) if shown else "no examples"
