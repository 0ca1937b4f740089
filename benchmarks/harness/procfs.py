"""What the kernel reports of a process in /proc (Linux): its memory (RSS now and at its peak, the peak's reset)
and whether TensorFlow is loaded into it. Benchmarks and tests measure with it; the app itself does not."""

from __future__ import annotations

from pathlib import Path


def tensorflow_loaded(pid: int) -> bool:
    """True when TensorFlow's shared libraries are mapped into the process (the cross-process truth)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "libtensorflow" in maps or "_pywrap_tensorflow" in maps


PROC = Path("/proc")


def _status_mb(field: str, pid: int | str) -> float | None:
    """A `kB` field of /proc/PID/status in MB, or None where /proc is missing or the process is gone."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def rss_mb(pid: int | str = "self") -> float | None:
    """Resident set size now (VmRSS) of this process or of `pid`, in MB."""
    return _status_mb("VmRSS", pid)


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """Highest resident set size so far (VmHWM) of this process or of `pid`, in MB."""
    return _status_mb("VmHWM", pid)


def reset_peak(pid: int | str = "self") -> bool:
    """Restart the peak (VmHWM) from the current RSS (/proc/PID/clear_refs); False where that is not allowed."""
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True
