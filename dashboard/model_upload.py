"""Upload your own `.keras` model: kept on the server under its content hash, loaded in safe mode.

Two sessions that upload the same file get the same path, so the model shelf loads it once. Nothing
from the file is executed: Keras' safe mode refuses Lambda layers and the core refuses custom ones.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import streamlit as st

import server
from featviz_core.catalog import MAX_MODEL_MB, ModelLoadError

UPLOAD_DIR = Path(tempfile.gettempdir()) / "featviz-models"
_UPLOADED = "_uploaded_models"  # this session's uploaded model paths, newest last
_REFUSED = "_refused_models"  # path -> why it could not be loaded (not tried again on every rerun)


def stored_path(name: str, data: bytes) -> Path:
    """Where these bytes live on the server: a folder named by their sha256, holding the file under the
    name it was first uploaded with (the same bytes under another name are the same model)."""
    folder = UPLOAD_DIR / hashlib.sha256(data).hexdigest()[:16]
    earlier = sorted(folder.glob("*.keras"))
    if earlier:
        return earlier[0]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem)[:60] or "model"
    return folder / f"{stem}.keras"


def _store(name: str, data: bytes) -> Path:
    path = stored_path(name, data)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: another session never reads half a file
    return path


def uploaded_models() -> list[str]:
    """The model paths this session uploaded (they join the model list)."""
    return list(st.session_state.get(_UPLOADED, []))


def is_upload(name: str) -> bool:
    return Path(name).parent.parent == UPLOAD_DIR


def short_name(name: str) -> str:
    """A model's name for captions and file names: a .keras file's own name, without its folder."""
    return Path(name).name if name.endswith(".keras") else name


def label(name: str) -> str:
    """How the model list names an uploaded model: its file name."""
    return f"{short_name(name)} (yours)" if is_upload(name) else name


def upload_control() -> str | None:
    """An uploader for a .keras model: the path of a model that loaded, to switch to, else None (the
    reason shown in one line)."""
    with st.expander("Your own model (.keras)", icon=":material/upload_file:"):
        uploaded = st.file_uploader(
            "Upload a .keras model", type=["keras"], key="model_upload", max_upload_size=MAX_MODEL_MB,
            help=f"A model saved with `model.save('name.keras')`, up to {MAX_MODEL_MB} MB. It is loaded in Keras' "
                 "safe mode: nothing in the file runs, so Lambda and custom layers are refused. Inputs: any image "
                 "shape (1, 3 or more channels; fixed or any size); pixels are fed 0..255 unless you pick an "
                 "input preprocessing in the advanced settings.")
        if uploaded is None:
            return None
        path = str(_store(uploaded.name, uploaded.getvalue()))
        if path in uploaded_models():
            return None  # already in the model list; the user may have switched away since
        refused = st.session_state.setdefault(_REFUSED, {})
        if path not in refused:
            try:
                with st.spinner(f"Loading {uploaded.name} (TensorFlow starts on the first model)..."):
                    server.shelf().get(path)
            except ModelLoadError as error:
                refused[path] = str(error)
        if path in refused:
            st.error(refused[path], icon=":material/error:")
            return None
        st.session_state[_UPLOADED] = [*uploaded_models(), path]
        return path
