"""Photo uploads (start photos, the photo page's photo): size-limited, decoded once, any problem shown as one
st.error; kept in memory only."""

from __future__ import annotations

import numpy as np
import streamlit as st

from featviz_core.ascent.start_images import BadImageError, decode_photo

MAX_UPLOAD_MB = 10  # this uploader's limit; the server's (.streamlit/config.toml) is the largest of all
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff"]


@st.cache_data(max_entries=8, show_spinner=False)
def photo_problem(data: bytes) -> str | None:
    """Why these bytes cannot be a start image, or None when they can."""
    if len(data) > MAX_UPLOAD_MB * 2**20:
        return f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB."
    try:
        decode_photo(data)
    except BadImageError as error:
        return str(error)
    return None


@st.cache_data(max_entries=4, show_spinner=False)
def photo_pixels(data: bytes) -> np.ndarray:
    """The pixels (uint8 RGB, as `decode_photo` gives them) of bytes that `photo_problem` accepted; kept in
    memory only."""
    return np.asarray(decode_photo(data))


def photo_input(key: str, prompt: str = "Upload a photo to start from it.") -> bytes | None:
    """An uploader for a photo: its bytes when usable, else None (with the reason shown; `prompt` while empty)."""
    uploaded = st.file_uploader("Your photo", type=IMAGE_TYPES, key=key, max_upload_size=MAX_UPLOAD_MB,
                                help=f"PNG, JPEG, WebP, GIF, BMP or TIFF, up to {MAX_UPLOAD_MB} MB.")
    if uploaded is None:
        st.caption(prompt)
        return None
    data = uploaded.getvalue()
    problem = photo_problem(data)
    if problem:
        st.error(f"**{uploaded.name}** can't be used: {problem}", icon=":material/broken_image:")
        return None
    return data
