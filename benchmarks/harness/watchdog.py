"""A memory watchdog: stops a process past a limit, as Community Cloud stops an app over its budget."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Callable

from .procfs import peak_rss_mb, reset_peak


class WatchdogTripped(RuntimeError):
    """The process passed the memory limit (and was stopped, as Community Cloud would)."""


class MemoryWatchdog:
    """A thread that reads a process's peak RSS (VmHWM, which no spike escapes) every `interval_s`.

    Past `limit_mb` it notes why in `tripped`, calls `on_trip` with that note and kills the process's group
    (the process must lead one: `StreamlitServer` does). `step` names what the process is doing now and
    restarts VmHWM, so that `step_peak_mb` is the step's own peak; `peak_mb` keeps the peak since the start.
    """

    def __init__(self, pid: int, limit_mb: float, *, interval_s: float = 0.2,
                 on_trip: Callable[[str], None] | None = None, name: str = "watchdog") -> None:
        self.pid, self.limit_mb, self.interval_s, self.on_trip = pid, limit_mb, interval_s, on_trip
        self.doing = "starting"
        self.peak_mb = 0.0  # since the process started
        self.step_peaks = True  # whether VmHWM could be reset at each step (/proc/PID/clear_refs)
        self.tripped: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=name, daemon=True)

    def start(self) -> "MemoryWatchdog":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            peak = peak_rss_mb(self.pid)
            if peak is None:  # gone
                return
            self.peak_mb = max(self.peak_mb, peak)
            if peak > self.limit_mb:
                self.tripped = (f"server RSS {peak:.1f} MB (VmHWM) passed --limit-mb {self.limit_mb:.0f} while "
                                f"{self.doing}")
                if self.on_trip is not None:
                    self.on_trip(self.tripped)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                return

    def step(self, doing: str) -> None:
        """A new step begins: say what it is (for the note) and restart the kernel's peak (VmHWM) from now."""
        self.doing = doing
        self.peak_mb = max(self.peak_mb, peak_rss_mb(self.pid) or 0.0)
        if not reset_peak(self.pid):
            self.step_peaks = False

    def step_peak_mb(self) -> float:
        """The peak RSS since the step began (since the start where VmHWM cannot be reset: `step_peaks`)."""
        peak = peak_rss_mb(self.pid) or float("nan")
        self.peak_mb = max(self.peak_mb, peak)
        return peak

    def check(self) -> None:
        """Raise WatchdogTripped once the limit was passed."""
        if self.tripped:
            raise WatchdogTripped(self.tripped)
