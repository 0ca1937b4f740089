"""featviz_core.memory: resident-size figures from /proc and trimming the heap."""

from __future__ import annotations

from featviz_core import memory


def test_memory_figures_come_from_proc(monkeypatch, tmp_path):
    assert memory.peak_rss_mb() >= memory.rss_mb() > 10
    memory.release_freed_memory()
    monkeypatch.setattr(memory, "STATUS", tmp_path / "missing")
    assert memory.rss_mb() is None and memory.peak_rss_mb() is None
