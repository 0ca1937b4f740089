"""What the scenarios of bench_app share: the watched server, the model and the figures for the summary."""

from __future__ import annotations

import argparse
import os
import time

from harness import OUTPUT, ROOT, MemoryWatchdog, StreamlitServer

MODEL = "vgg16-offline"
DEFAULT_LAYER = "block5_conv3"
PAGE_TIMEOUT_MS = 120_000  # a page's default timeout for Playwright's own waits

# The figures of the summary table, by row name (bench_app.BEFORE), filled in by the scenarios.
NOW: dict[str, str] = {}


class Server(StreamlitServer):
    """The app's server for a scenario (`--python`, `--cpus`), logged to test-output/bench-app-NAME.log and
    watched by a MemoryWatchdog at `--limit-mb` from its first moment; says how it started."""

    def __init__(self, name: str, args: argparse.Namespace) -> None:
        super().__init__(OUTPUT / f"bench-app-{name}.log", python=args.python, cpus=args.cpus)
        self.name, self.limit_mb = name, args.limit_mb
        self.watchdog: MemoryWatchdog | None = None

    def __enter__(self) -> "Server":
        self.spawn()
        self.watchdog = MemoryWatchdog(self.pid, self.limit_mb, name=f"watchdog-{self.name}",
                                       on_trip=lambda note: print(f"\nFAILED: {note}; stopping the server as "
                                                                  "Community Cloud would.", flush=True)).start()
        try:
            self.wait_healthy()
            self.check()
        except BaseException:
            self.__exit__()
            raise
        print(f"  [{self.name} server: pid {self.pid}, {self.python}"
              + (f", taskset -c 0-{self.cpus - 1}" if self.cpus else "")
              + f"; answers after {time.perf_counter() - self.began:.1f} s at {self.rss():.0f} MB; "
              f"machine load average {os.getloadavg()[0]:.1f}; log {self.log_path.relative_to(ROOT)}]", flush=True)
        return self

    def __exit__(self, *_: object) -> None:
        if self.watchdog is not None:
            self.watchdog.stop()
        self.stop()

    @property
    def tripped(self) -> str | None:
        """Why the watchdog stopped the server, if it did."""
        return self.watchdog.tripped if self.watchdog else None

    @property
    def peak_mb(self) -> float:
        """The peak RSS since the server started."""
        return self.watchdog.peak_mb if self.watchdog else 0.0

    @property
    def doing(self) -> str:
        return self.watchdog.doing if self.watchdog else "starting"

    @doing.setter
    def doing(self, doing: str) -> None:
        """Say what the server is doing now (for the watchdog's note), without restarting the step's peak."""
        assert self.watchdog is not None
        self.watchdog.doing = doing

    def step(self, doing: str) -> None:
        """A new step begins: its name and its own peak from now (MemoryWatchdog.step)."""
        assert self.watchdog is not None
        self.watchdog.step(doing)

    def step_peak(self) -> str:
        """The peak RSS since the step began, as the tables show it."""
        assert self.watchdog is not None
        peak = self.watchdog.step_peak_mb()
        return f"{peak:.0f} MB" if self.watchdog.step_peaks else f"(since start) {peak:.0f} MB"

    def check(self) -> None:
        """Raise WatchdogTripped once the watchdog stopped the server."""
        if self.watchdog is not None:
            self.watchdog.check()

    def memory(self) -> str:
        """The server's memory now, in one line."""
        if self.process is not None and self.process.poll() is not None:
            return f"server stopped (exit {self.process.returncode}); peak {self.peak_mb:.0f} MB"
        if self.watchdog is not None:
            self.watchdog.peak_mb = max(self.watchdog.peak_mb, self.hwm())
        return (f"RSS {self.rss():.0f} MB, peak since start {self.peak_mb:.0f} MB, "
                f"TensorFlow {'loaded' if self.tensorflow() else 'not loaded'}")
