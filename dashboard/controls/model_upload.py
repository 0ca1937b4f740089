"""Upload your own `.keras` model: kept on the server under its content hash, loaded in safe mode.

Two sessions that upload the same file get the same path, so the model shelf loads it once. Nothing
from the file is executed: Keras' safe mode refuses Lambda layers and the core refuses custom ones.
Each upload is hashed once (not on every rerun while it sits in the uploader), and the folder keeps at
most UPLOAD_DIR_BYTES: the least recently used files go first, never the one a session is showing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Collection
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from dashboard.line import renders
from featviz_core.catalog import MAX_MODEL_MB, ModelLoadError, short_name

UPLOAD_DIR = Path(tempfile.gettempdir()) / "featviz-models"
UPLOAD_DIR_BYTES = 4 * MAX_MODEL_MB * 2**20  # uploads kept on disk: four of the largest the uploader takes
_UPLOADED = "_uploaded_models"  # this session's uploaded model paths, newest last
_STORED = "_stored_uploads"  # the uploader's file_id -> where that upload is stored (hashed once)
_REFUSED = "_refused_models"  # path -> why it could not be loaded (not tried again on every rerun)


def content_hash(data: bytes) -> str:
    """The start of the bytes' sha256: their folder's name."""
    return hashlib.sha256(data).hexdigest()[:16]


def stored_path(name: str, data: bytes) -> Path:
    """Where these bytes live on the server: a folder named by their sha256, holding the file under the
    name it was first uploaded with (the same bytes under another name are the same model)."""
    folder = UPLOAD_DIR / content_hash(data)
    earlier = sorted(folder.glob("*.keras"))
    if earlier:
        return earlier[0]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).stem)[:60] or "model"
    return folder / f"{stem}.keras"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(path)  # atomic: another session never reads half a file


def _touch(path: Path) -> bool:
    """Mark a stored upload as just used (its modification time); False when it is not there."""
    try:
        os.utime(path)
    except OSError:  # never written, or evicted since
        return False
    return True


def evict_least_recent(folder: Path, limit: int, keep: Collection[Path] = ()) -> list[Path]:
    """Delete the least recently used uploads in `folder` (by modification time) until the rest hold at most
    `limit` bytes, never one in `keep`; the files deleted."""
    found = []
    for path in folder.glob("*/*.keras"):
        with contextlib.suppress(OSError):  # another session may delete it meanwhile
            info = path.stat()
            found.append((info.st_mtime, info.st_size, path))
    total = sum(size for _, size, _ in found)
    deleted = []
    for _, size, path in sorted(found):
        if total <= limit:
            break
        if path in keep:
            continue
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # its hash folder, once empty
        total -= size
        deleted.append(path)
    return deleted


def _stored_upload(uploaded: UploadedFile, in_use: str) -> Path:
    """Where this upload is stored: hashed on its first run only (by the uploader's file_id), written again
    if evicted since, marked as used; storing it evicts older uploads, never this one nor `in_use`."""
    stored: dict[str, Path] = st.session_state.setdefault(_STORED, {})
    if uploaded.file_id not in stored:
        stored[uploaded.file_id] = stored_path(uploaded.name, uploaded.getvalue())
    path = stored[uploaded.file_id]
    if not _touch(path):
        _write(path, uploaded.getvalue())
        evict_least_recent(UPLOAD_DIR, UPLOAD_DIR_BYTES, keep={path, Path(in_use)})
    return path


def uploaded_models() -> list[str]:
    """The model paths this session uploaded and the server still keeps (they join the model list)."""
    return [path for path in st.session_state.get(_UPLOADED, []) if Path(path).is_file()]


def is_upload(name: str) -> bool:
    return Path(name).parent.parent == UPLOAD_DIR


def label(name: str) -> str:
    """How the model list names an uploaded model: its file name."""
    return f"{short_name(name)} (yours)" if is_upload(name) else name


def upload_control(in_use: str) -> str | None:
    """An uploader for a .keras model: the path of a model that loaded, to switch to, else None (the
    reason shown in one line). `in_use` is the model the session shows: an upload stays on disk."""
    if is_upload(in_use):
        _touch(Path(in_use))
    with st.expander("Your own model (.keras)", icon=":material/upload_file:"):
        uploaded = st.file_uploader(
            "Upload a .keras model", type=["keras"], key="model_upload", max_upload_size=MAX_MODEL_MB,
            help=f"A model saved with `model.save('name.keras')`, up to {MAX_MODEL_MB} MB. It is loaded in Keras' "
                 "safe mode: nothing in the file runs, so Lambda and custom layers are refused. Inputs: any image "
                 "shape (1, 3 or more channels; fixed or any size); pixels are fed 0..255 unless you pick an "
                 "input preprocessing in the advanced settings.")
        if uploaded is None:
            return None
        path = str(_stored_upload(uploaded, in_use))
        if path in uploaded_models():
            return None  # already in the model list; the user may have switched away since
        refused = st.session_state.setdefault(_REFUSED, {})
        if path not in refused:
            try:
                renders.load_in_line(path, st.container())
            except ModelLoadError as error:
                refused[path] = str(error)
        if path in refused:
            st.error(refused[path], icon=":material/error:")
            return None
        st.session_state[_UPLOADED] = [*uploaded_models(), path]
        return path
