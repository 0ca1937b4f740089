"""`streamlit run dashboard/app.py` on a free local port: started, logged, waited for and stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from .procfs import peak_rss_mb, rss_mb, tensorflow_loaded


ROOT = Path(__file__).resolve().parents[2]  # the repository (benchmarks/harness/server.py)
OUTPUT = ROOT / "test-output"  # logs and screenshots (git ignores it)
APP = "dashboard/app.py"


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_env() -> dict[str, str]:
    """This environment for the real app: FEATVIZ_MODEL unset (the tests' tiny model is not forced), and
    TensorFlow's C++ start-up lines muted."""
    env = {key: value for key, value in os.environ.items() if key != "FEATVIZ_MODEL"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return env


def wait_healthy(url: str, process: subprocess.Popen, seconds: float = 120, log: Path | None = None) -> None:
    """Return once Streamlit's health check at `url` answers 200; raise if the process exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}" + (f"; see {log}" if log else ""))
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not become healthy in {seconds:.0f} s")


class StreamlitServer:
    """`streamlit run dashboard/app.py` from the repository root on a free port of 127.0.0.1 (headless, no
    file watcher, no usage stats, environment from `app_env`), its output in `log_path`.

    `python` runs it on another interpreter, `cpus` on the first `cpus` CPUs (taskset, which execs it). It
    leads its own process group, so `pid` is the server's and `stop` reaches whatever it started. Use it as
    a context manager, or `spawn` then `wait_healthy` to do something in between (start a watchdog).
    """

    def __init__(self, log_path: Path, *, python: str | None = None, cpus: int | None = None,
                 root: Path = ROOT) -> None:
        self.log_path, self.root, self.cpus = log_path, root, cpus
        self.python = python or sys.executable
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.began = 0.0  # time.perf_counter() at spawn
        self._log: IO[str] | None = None

    def command(self) -> list[str]:
        """The command line it runs."""
        pin = ["taskset", "-c", f"0-{self.cpus - 1}"] if self.cpus else []
        return [*pin, self.python, "-m", "streamlit", "run", APP, "--server.headless", "true",
                "--server.port", str(self.port), "--server.address", "127.0.0.1",
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]

    @property
    def pid(self) -> int:
        assert self.process is not None, "spawn() the server first"
        return self.process.pid

    def spawn(self) -> None:
        """Start the process; it answers some seconds later (`wait_healthy`)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")
        self.began = time.perf_counter()
        self.process = subprocess.Popen(self.command(), cwd=self.root, env=app_env(), stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, seconds: float = 120) -> None:
        """Return once the server answers; raise (naming the log) if it exits or time runs out."""
        assert self.process is not None, "spawn() the server first"
        wait_healthy(self.url, self.process, seconds, log=self.log_path)

    def start(self) -> "StreamlitServer":
        """Spawn and wait until it answers; stopped again if it never does."""
        self.spawn()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = 20) -> None:
        """SIGTERM to its process group, SIGKILL after `timeout_s`; closes the log. Safe to call twice."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.process.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss(self) -> float:
        """Resident memory now, MB (nan once stopped)."""
        return rss_mb(self.pid) or float("nan")

    def hwm(self) -> float:
        """Peak resident memory (VmHWM), MB (nan once stopped)."""
        return peak_rss_mb(self.pid) or float("nan")

    def tensorflow(self) -> bool:
        """Whether TensorFlow got into the server."""
        return tensorflow_loaded(self.pid)
