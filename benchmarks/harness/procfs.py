"""Whether TensorFlow is loaded into a process, as the kernel reports it in /proc (Linux); its memory figures
come from `featviz_core.memory`."""

from __future__ import annotations

from pathlib import Path


def tensorflow_loaded(pid: int) -> bool:
    """True when TensorFlow's shared libraries are mapped into the process (the cross-process truth)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "libtensorflow" in maps or "_pywrap_tensorflow" in maps
