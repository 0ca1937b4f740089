"""The benchmarks' /proc readers: a process' memory now and at its peak, and the peak's reset."""

from __future__ import annotations

import os

from benchmarks.harness import procfs


def test_memory_figures_come_from_proc(monkeypatch, tmp_path):
    assert procfs.peak_rss_mb() >= procfs.rss_mb() > 10
    assert procfs.reset_peak() and procfs.peak_rss_mb() <= procfs.rss_mb() + 50  # the peak restarts from now
    assert procfs.peak_rss_mb(os.getpid()) is not None  # another process's figures, by its id
    monkeypatch.setattr(procfs, "PROC", tmp_path / "missing")
    assert procfs.rss_mb() is None and procfs.peak_rss_mb(os.getpid()) is None and not procfs.reset_peak()
