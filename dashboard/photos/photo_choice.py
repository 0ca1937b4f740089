"""The photo a page looks at: one of scikit-image's sample photos (one picked at once), or an upload checked
like a start photo (`uploads`). Either stays in memory: nothing is written to disk."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from dashboard.controls import model_upload, urlstate
from dashboard.photos import examples_panel, uploads
from featviz_core.examples.image_sets import SAMPLE_PHOTOS

SAMPLE = "Sample photo"
UPLOAD = "Your photo"
DEFAULT_SAMPLE = "chelsea"  # the cat: fur, eyes and whiskers that deep layers pick out


@dataclass(frozen=True)
class Photo:
    """A photo to dissect: its name, a key that names its content (for caches), its pixels (uint8 RGB)."""

    name: str
    key: str
    pixels: np.ndarray = field(repr=False, compare=False)


def sample_photo(name: str) -> Photo:
    """A sample photo by its skimage name (the set is decoded once per server, for the dataset examples too)."""
    file_name = f"{name}.png"
    image_set = examples_panel.SAMPLE_SOURCE.image_set()
    pixels = image_set.images[image_set.names.index(file_name)].pixels
    return Photo(file_name, f"sample:{name}", pixels)


def photo_control(key: str) -> Photo | None:
    """A sample photo picker or an uploader (keys `key`_source, `key`_sample, `key`_upload): the photo, or None
    (with the reason shown) while there is no usable upload."""
    source, choice = st.columns([1, 2], vertical_alignment="bottom")
    kind = source.segmented_control("Photo", (SAMPLE, UPLOAD), default=SAMPLE, key=f"{key}_source", required=True,
                                    persist_state="session",
                                    help="A photo that ships with scikit-image, or your own (kept in memory only).")
    with choice:
        if kind == SAMPLE:
            names = [name for name in SAMPLE_PHOTOS if f"{name}.png" in examples_panel.SAMPLE_SOURCE.image_set().names]
            urlstate.linked(f"{key}_sample", lambda name: name if name in names else None)  # a shared link's photo
            st.session_state.setdefault(f"{key}_sample", DEFAULT_SAMPLE if DEFAULT_SAMPLE in names else names[0])
            name = st.selectbox("Sample photo", names, key=f"{key}_sample", persist_state="session")
            urlstate.link({f"{key}_sample": name})
            return sample_photo(name)
        urlstate.link({f"{key}_sample": None})  # an upload is not in the link
        data = uploads.photo_input(f"{key}_upload", prompt="Upload a photo to see what the layer finds in it.")
    if data is None:
        return None
    return Photo(st.session_state[f"{key}_upload"].name, f"upload:{model_upload.content_hash(data)}",
                 uploads.photo_pixels(data))
