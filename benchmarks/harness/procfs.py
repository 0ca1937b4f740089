"""A process's memory and libraries, as the kernel reports them in /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def status_field(pid: int, key: str) -> str | None:
    """The raw value of a /proc/PID/status line (e.g. "812345 kB" for VmHWM); None once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key + ":")), None)


def proc_mb(pid: int, key: str) -> float:
    """VmRSS or VmHWM (peak RSS) of a process in MB; nan once it is gone."""
    value = status_field(pid, key)
    return int(value.split()[0]) / 1024 if value else float("nan")


def reset_peak(pid: int) -> bool:
    """Restart the process's VmHWM from its current RSS (/proc/PID/clear_refs); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def tensorflow_loaded(pid: int) -> bool:
    """True when TensorFlow's shared libraries are mapped into the process (the cross-process truth)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "libtensorflow" in maps or "_pywrap_tensorflow" in maps
