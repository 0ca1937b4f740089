"""The record of one rendered filter: declared once, shared by a Result and an atlas entry, and kept by index.json."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from featviz_core.atlas.format import AtlasEntry, entry_from_json, entry_to_json, image_name
from featviz_core.results import RenderRecord, Result, Snapshot
from featviz_core.settings import RenderSettings

SHA = "ab" * 32
ON_DISK_KEYS = ["image", "losses", "octave_starts", "octave_sizes", "final_activation", "act", "robust", "hf", "dead",
                "steps_run", "seconds", "device", "settings", "weights_sha256", "featviz_version", "rendered_at",
                "rescue_steps", "photo_peak"]  # index.json's entries, in this order: the format of featviz 0.5


def made_up_result(photo_peak: float | None = 3.14159265e-3) -> Result:
    image = np.zeros((8, 8, 3), np.uint8)
    return Result(settings=RenderSettings(model="tiny", layer="block1_conv1", filter=3), image=image,
                  losses=np.array([0.123456789, 1.98765432, 2.5e-7], np.float32), octave_sizes=(16, 22),
                  octave_starts=(0, 2), snapshots=(Snapshot(0, image),), final_activation=0.0123456789, dead=True,
                  cancelled=False, seconds=1.234567, device="CPU (2 cores), float32", rescue_steps=7,
                  photo_peak=photo_peak)


def written_entry(root: Path, result: Result) -> dict:
    """`result` as the atlas build writes it (its picture file stands in: only its existence is read)."""
    entry = AtlasEntry(**result.record(), layer=result.settings.layer, filter=result.settings.filter,
                       image_path=root / image_name(result.settings.layer, result.settings.filter), image_size=8,
                       act=0.0123456789, robust=0.87654321, hf=0.0555555555, rendered_at="2025-01-02T03:04:05+00:00",
                       featviz_version="0.5.0")
    entry.image_path.parent.mkdir(parents=True, exist_ok=True)
    entry.image_path.write_bytes(b"")
    return json.loads(json.dumps(entry_to_json(entry, result.settings, SHA)))  # through JSON text, as on disk


def read_back(root: Path, data: dict) -> AtlasEntry:
    return entry_from_json(root, "block1_conv1", 3, 8, data)


def test_the_record_is_declared_once():
    shared = {item.name for item in fields(RenderRecord)}
    for kind in (Result, AtlasEntry):
        assert issubclass(kind, RenderRecord)
        assert not shared & set(vars(kind).get("__annotations__", {}))  # no record field declared again


def test_a_result_written_to_an_atlas_entry_reads_back_as_the_same_record(tmp_path):
    result = made_up_result()
    data = written_entry(tmp_path, result)
    assert list(data) == ON_DISK_KEYS
    assert RenderSettings(**data["settings"]) == result.settings
    assert (data["image"], data["weights_sha256"], data["steps_run"]) == ("block1_conv1/0003.webp", SHA, 3)
    entry = read_back(tmp_path, data)
    assert entry.record() == {**result.record(), "losses": (0.12346, 1.9877, 2.5e-7), "final_activation": 0.01234568,
                              "seconds": 1.2346, "photo_peak": 0.0031416}
    assert (entry.act, entry.robust, entry.hf) == (0.01234568, 0.8765432, 0.05555556)
    assert (entry.steps_run, entry.final_loss, entry.dead_note) == (3, 2.5e-7, result.dead_note)

    again = entry.result(result.settings)
    assert again.record() == {**entry.record(), "losses": again.losses}  # every record field carried over
    assert again.losses.dtype == np.float32 and again.losses.tolist() == pytest.approx(entry.losses)
    assert (again.settings, again.cancelled, again.snapshots[0].step) == (result.settings, False, 3)


def test_an_entry_without_a_photo_peak_or_older_than_rescue_steps_reads(tmp_path):
    data = written_entry(tmp_path, made_up_result(photo_peak=None))
    assert data["photo_peak"] is None and read_back(tmp_path, data).photo_peak is None
    old = {key: value for key, value in data.items() if key not in ("rescue_steps", "photo_peak")}
    assert (read_back(tmp_path, old).rescue_steps, read_back(tmp_path, old).photo_peak) == (0, None)
