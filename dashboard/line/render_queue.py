"""The server's one render slot: a fair line of jobs, run one at a time by a worker thread.

Two ascents at once on a 2-core host only slow each other down, so every live render (and every
quality measure) is a Job in this line. Sessions `submit` a job and then wait for it, touching it
while they wait; the same key asked by two sessions is one job. A session that leaves drops out:
a queued job nobody waits for is dropped, a running one is cancelled (its work sees
`job.cancelled`). Each waiting session can ask for its place and an estimate of the wait.
Streamlit-free, so it is tested with plain threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

DEFAULT_SECONDS_PER_UNIT = 1.2e-5  # a first guess for render costs in pixel-steps; learnt from finished jobs
STALE_AFTER_S = 15.0  # a waiting session that has not touched its job for this long has left


@dataclass(eq=False)
class Job:
    """One piece of work in the line, shared by every session that waits for it."""

    key: Hashable
    work: Callable[["Job"], Any]
    cost: float
    kind: Hashable = None  # jobs of one kind share a learnt speed (e.g. one model layer)
    waiting: dict[str, float] = field(default_factory=dict)  # session -> last touch (monotonic)
    state: str = "queued"  # queued -> running -> done | failed | dropped
    phase: str = ""  # what the running work is doing before its first step (e.g. loading the model)
    fraction: float = 0.0
    progress: Any = None  # the work's latest progress event (an ascent's `Progress`), if it has any
    note: str = ""  # what the work is at, in words, when it has no progress event (e.g. "image 3 of 17")
    value: Any = None
    error: BaseException | None = None
    started: float | None = None
    left_by: str | None = None  # the last session to leave a job it stopped: it gets the partial result
    finished: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    line: "RenderQueue | None" = None

    @property
    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def report(self, fraction: float, progress: Any = None, note: str = "") -> bool:
        """Called by the work after each step; False means stop now (nobody waits any more)."""
        self.fraction, self.progress, self.note, self.phase = fraction, progress, note, ""
        if self.line is not None:
            self.line.check_stale()
        return not self.cancel.is_set()


class RenderQueue:
    """Jobs in arrival order, one running at a time."""

    def __init__(self, seconds_per_unit: float = DEFAULT_SECONDS_PER_UNIT, stale_after: float = STALE_AFTER_S) -> None:
        self.default_rate = seconds_per_unit
        self.stale_after = stale_after
        self._rates: dict[Hashable, float] = {}
        self._line: deque[Job] = deque()
        self._running: Job | None = None
        self._by_key: dict[Hashable, Job] = {}
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    # --- sessions --------------------------------------------------------------------------------------

    def submit(self, session: str, key: Hashable, work: Callable[[Job], Any], cost: float,
               kind: Hashable = None) -> Job:
        """The job for `key`: the one already queued or running, else a new one at the end of the line."""
        with self._changed:
            job = self._by_key.get(key)
            if job is None or job.finished.is_set() or job.cancelled:
                job = Job(key, work, cost, kind, line=self)
                self._by_key[key] = job
                self._line.append(job)
                self._start_worker()
            job.waiting[session] = time.monotonic()
            self._changed.notify_all()
            return job

    def touch(self, session: str, job: Job) -> None:
        """This session still waits for `job`."""
        with self._changed:
            if not job.finished.is_set():
                job.waiting[session] = time.monotonic()

    def leave(self, session: str, job: Job) -> None:
        """This session no longer waits for `job`: drop or cancel it when nobody else does."""
        with self._changed:
            if job.waiting.pop(session, None) is not None and not job.waiting:
                job.left_by = session
                self._abandon(job)

    def find(self, matches: Callable[[Hashable], bool]) -> Job | None:
        """A queued or running job whose key `matches`, if any (e.g. a batch that holds one filter)."""
        with self._changed:
            return next((job for key, job in self._by_key.items() if matches(key)), None)

    def place(self, job: Job) -> int:
        """0 while the job runs (or is done), else how many jobs run or wait before it."""
        with self._changed:
            if job is self._running or job not in self._line:
                return 0
            return list(self._line).index(job) + (self._running is not None)

    def estimate(self, job: Job) -> float:
        """Seconds until `job` is finished: the running job's rest, the jobs before it, and itself."""
        with self._changed:
            if job.finished.is_set():
                return 0.0
            seconds = self._remaining(self._running) if self._running is not None else 0.0
            if job is self._running:
                return seconds
            for queued in self._line:
                seconds += self._seconds(queued)
                if queued is job:
                    break
            return seconds

    # --- estimates -------------------------------------------------------------------------------------

    def _seconds(self, job: Job) -> float:
        return job.cost * self._rates.get(job.kind, self._rates.get(None, self.default_rate))

    def _remaining(self, job: Job) -> float:
        elapsed = time.monotonic() - (job.started or time.monotonic())
        if job.fraction >= 0.05:
            return elapsed * (1 - job.fraction) / job.fraction
        return max(self._seconds(job) - elapsed, 0.0)

    def _learn(self, job: Job, seconds: float) -> None:
        if job.cost <= 0 or job.cancelled:
            return
        rate = seconds / job.cost
        for kind in (job.kind, None):
            old = self._rates.get(kind)
            self._rates[kind] = rate if old is None else 0.5 * old + 0.5 * rate

    # --- the worker --------------------------------------------------------------------------------------

    def _abandon(self, job: Job) -> None:
        """Nobody waits for `job` any more (lock held)."""
        job.cancel.set()
        if job in self._line:
            self._line.remove(job)
            job.state = "dropped"
            job.finished.set()
            if self._by_key.get(job.key) is job:
                del self._by_key[job.key]

    def _drop_stale_sessions(self) -> None:
        """Forget sessions that stopped touching their jobs without leaving (lock held)."""
        oldest = time.monotonic() - self.stale_after
        for job in list(self._line) + ([self._running] if self._running else []):
            for session, seen in list(job.waiting.items()):
                if seen < oldest:
                    del job.waiting[session]
                    if not job.waiting:
                        job.left_by = session
                        self._abandon(job)

    def _start_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._serve, name="featviz-render-slot", daemon=True)
            self._worker.start()

    def _next(self) -> Job:
        with self._changed:
            while True:
                self._drop_stale_sessions()
                if self._line:
                    job = self._line.popleft()
                    self._running, job.state, job.started = job, "running", time.monotonic()
                    return job
                self._changed.wait(timeout=1.0)

    def _serve(self) -> None:
        while True:
            job = self._next()
            try:
                job.value = job.work(job)
                job.state = "done"
            except Exception as error:  # noqa: BLE001 - handed to the waiting sessions, which say what failed
                job.error, job.state = error, "failed"
            with self._changed:
                self._learn(job, time.monotonic() - (job.started or time.monotonic()))
                self._running = None
                if self._by_key.get(job.key) is job:
                    del self._by_key[job.key]
                job.finished.set()
                self._changed.notify_all()

    def check_stale(self) -> None:
        """Drop sessions that vanished (the worker also does this between jobs)."""
        with self._changed:
            self._drop_stale_sessions()
