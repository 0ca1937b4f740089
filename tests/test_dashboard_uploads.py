"""Uploaded models: hashed once while they sit in the uploader; the upload folder bounded in bytes, least
recently used out first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dashboard_helpers import app, no_exceptions


@pytest.fixture
def upload_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    from dashboard.controls import model_upload

    folder = tmp_path / "uploads"
    monkeypatch.setattr(model_upload, "UPLOAD_DIR", folder)
    return folder


def _stored(folder: Path, digest: str, size: int, used: int) -> Path:
    """A stored upload of `size` bytes, last used at time `used` (seconds)."""
    path = folder / digest / "model.keras"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (used, used))
    return path


@pytest.mark.slow
def test_an_upload_is_hashed_once_however_often_the_page_reruns(monkeypatch, upload_dir, tmp_path):
    from dashboard.controls import model_upload
    from user_models import gray28

    hashed: list[int] = []
    content_hash = model_upload.content_hash

    def counted(data: bytes) -> str:
        hashed.append(len(data))
        return content_hash(data)

    monkeypatch.setattr(model_upload, "content_hash", counted)
    source = tmp_path / "digits.keras"
    gray28().save(source)
    data = source.read_bytes()
    at = app(monkeypatch, preset="quick", steps_per_octave=2, octaves=2).run()
    at.file_uploader(key="model_upload").set_value(("digits.keras", data, "application/octet-stream")).run()
    no_exceptions(at)
    stored = upload_dir / content_hash(data) / "digits.keras"
    assert at.selectbox(key="model").value == str(stored) and stored.read_bytes() == data
    for _ in range(3):
        at.run()
    at.number_input(key="filter").set_value(1).run()
    no_exceptions(at)
    assert hashed == [len(data)]  # once, not once per rerun


def test_the_upload_folder_stays_under_its_bound_least_recently_used_out_first(upload_dir):
    from dashboard.controls import model_upload

    oldest, middle, newest = (_stored(upload_dir, digest, 400, used) for digest, used in
                              (("aaaa", 1_000), ("bbbb", 2_000), ("cccc", 3_000)))
    assert model_upload.evict_least_recent(upload_dir, 1_000) == [oldest]
    assert not oldest.parent.exists() and middle.is_file() and newest.is_file()
    os.utime(middle, (4_000, 4_000))  # used again: now the most recent
    added = _stored(upload_dir, "dddd", 400, 5_000)
    assert model_upload.evict_least_recent(upload_dir, 1_000) == [newest]
    assert sum(path.stat().st_size for path in upload_dir.glob("*/*.keras")) <= 1_000
    assert model_upload.evict_least_recent(upload_dir, 400, keep={middle}) == [added]  # the one in use stays
    assert [path for path in upload_dir.glob("*/*.keras")] == [middle]


def test_the_bound_holds_a_few_of_the_largest_uploads():
    from dashboard.controls import model_upload
    from featviz_core.catalog import MAX_MODEL_MB

    assert 2 * MAX_MODEL_MB * 2**20 <= model_upload.UPLOAD_DIR_BYTES <= 8 * MAX_MODEL_MB * 2**20
