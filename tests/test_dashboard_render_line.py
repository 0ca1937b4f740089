"""The server's render line and result store, with plain threads (no Streamlit, no TensorFlow)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import dashboard_helpers  # noqa: F401  (first: puts the repository root, home of the package dashboard, on sys.path)
from featviz_core.results import Result, Snapshot
from featviz_core.settings import RenderSettings
from dashboard.line.render_queue import RenderQueue
from dashboard.line.store import ResultStore, result_bytes
from featviz_core.bounded import Bounded


def result(filter: int = 0, side: int = 32, snapshots: int = 3, cancelled: bool = False) -> Result:
    image = np.zeros((side, side, 3), np.uint8)
    return Result(settings=RenderSettings(model="tiny", layer="block1_conv1", filter=filter), image=image,
                  losses=np.zeros(snapshots, np.float32), octave_sizes=(side,), octave_starts=(0,),
                  snapshots=tuple(Snapshot(step, image.copy()) for step in range(snapshots)),
                  final_activation=1.0, dead=False, cancelled=cancelled, seconds=1.0, device="CPU")


class Gate:
    """A job's work that runs until released, reporting progress, and stops when cancelled."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.stopped_early = False

    def __call__(self, job) -> str:
        self.started.set()
        while not self.release.wait(0.01):
            if not job.report(0.5):
                self.stopped_early = True
                return "partial"
        return "done"


def wait_until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- the store -----------------------------------------------------------------------------------------

def test_the_store_counts_every_snapshot_and_stays_within_its_bytes():
    one = result(0)
    assert result_bytes(one) == 4 * one.image.nbytes + one.losses.nbytes  # picture + 3 snapshots
    store = ResultStore(max_bytes=3 * result_bytes(one))
    for index in range(10):
        store.keep(result(index))
        assert store.nbytes <= store.max_bytes
    assert len(store) == 3 and store.nbytes == 3 * result_bytes(one)
    assert store.finished(result(9).settings) is not None and store.finished(result(0).settings) is None


def test_the_store_drops_the_least_recently_used_and_never_keeps_an_oversized_result():
    store = ResultStore(max_bytes=2 * result_bytes(result()))
    store.keep(result(0))
    store.keep(result(1))
    assert store.finished(result(0).settings) is not None  # 0 is now the most recently used
    store.keep(result(2))
    assert store.finished(result(1).settings) is None and store.finished(result(0).settings) is not None
    store.keep(result(3, side=256))  # larger than the whole store
    assert store.finished(result(3, side=256).settings) is None and store.nbytes <= store.max_bytes


def test_a_stopped_result_is_kept_only_for_the_session_that_stopped_it():
    store = ResultStore()
    partial = result(cancelled=True)
    store.keep(partial)  # nobody to give it to
    store.keep(partial, stopped_by="alice")
    assert store.stopped("alice", partial.settings) is partial
    assert store.stopped("bob", partial.settings) is None and store.finished(partial.settings) is None


def test_a_newer_result_of_the_same_settings_replaces_the_kept_one():
    store = ResultStore(max_bytes=2 * result_bytes(result()))
    store.keep(result(0))
    newer = result(0, snapshots=1)
    store.keep(newer)
    assert store.finished(newer.settings) is newer and len(store) == 1 and store.nbytes == result_bytes(newer)
    store.keep(result(0, side=256))  # too large to keep: the older one goes all the same
    assert store.finished(newer.settings) is None and len(store) == 0 and store.nbytes == 0


def test_the_shared_lru_keeps_the_most_recently_used_values():
    figures = Bounded(2)
    figures.put("a", 1)
    figures.put("b", 2)
    assert figures.find("a") == 1  # a is now the most recently used
    figures.put("c", 3)
    assert (figures.find("a"), figures.find("b"), figures.find("c")) == (1, None, 3)


def test_the_shared_lru_builds_one_key_at_a_time_and_others_meanwhile():
    """A slow build of one key holds up callers of that key only (each key has its own build lock)."""
    import threading

    shelf, slow_started, release, built = Bounded(4), threading.Event(), threading.Event(), []

    def slow() -> str:
        slow_started.set()
        release.wait(5)
        built.append("slow")
        return "slow value"

    first = threading.Thread(target=lambda: shelf.get("slow", slow))
    first.start()
    slow_started.wait(5)
    assert shelf.get("quick", lambda: built.append("quick") or "quick value") == "quick value"  # not held up
    second = threading.Thread(target=lambda: shelf.get("slow", slow))
    second.start()
    release.set()
    first.join(5)
    second.join(5)
    assert built == ["quick", "slow"] and shelf.find("slow") == "slow value"


def test_the_examples_shelf_builds_each_key_once_and_keeps_the_most_recently_used():
    from dashboard.line.examples_shelf import MAX_LAYER_RESULTS, ExamplesShelf

    shelf, builds = ExamplesShelf(), []

    def build(key: object):
        return lambda: builds.append(key) or f"examples {key}"

    for key in range(MAX_LAYER_RESULTS):
        shelf.layer(key, build(key))
    assert shelf.layer(0, build(0)) == "examples 0" and builds == list(range(MAX_LAYER_RESULTS))  # not built again
    shelf.layer("new", build("new"))  # the shelf is full: 1, the least recently used, goes
    assert shelf.cached_layer(1) is None and shelf.cached_layer(0) == "examples 0"


# --- the line --------------------------------------------------------------------------------------------

def test_sessions_get_their_place_and_an_estimate_and_one_job_runs_at_a_time():
    line = RenderQueue(seconds_per_unit=1.0)
    first, second, third = Gate(), Gate(), Gate()
    running = line.submit("a", "job-a", first, cost=10)
    assert first.started.wait(5)
    waiting_b = line.submit("b", "job-b", second, cost=20)
    waiting_c = line.submit("c", "job-c", third, cost=30)
    assert (line.place(running), line.place(waiting_b), line.place(waiting_c)) == (0, 1, 2)
    assert line.estimate(waiting_c) > line.estimate(waiting_b) > line.estimate(running) >= 0
    assert not second.started.is_set()  # one render slot
    first.release.set()
    assert running.finished.wait(5) and running.value == "done"
    assert second.started.wait(5) and line.place(waiting_b) == 0 and line.place(waiting_c) == 1
    second.release.set()
    third.release.set()
    assert waiting_c.finished.wait(5) and waiting_c.value == "done"


def test_the_same_request_from_two_sessions_runs_once():
    line = RenderQueue()
    calls = []

    def work(job):
        calls.append(job.key)
        time.sleep(0.2)
        return "picture"

    blocker = Gate()
    line.submit("x", "blocker", blocker, cost=1)
    assert blocker.started.wait(5)
    one = line.submit("a", "same-settings", work, cost=1)
    two = line.submit("b", "same-settings", work, cost=1)
    assert one is two and set(one.waiting) == {"a", "b"}
    blocker.release.set()
    assert one.finished.wait(5) and calls == ["same-settings"]


def test_a_session_that_leaves_drops_its_queued_job_and_stops_its_running_one():
    line = RenderQueue()
    running_work, queued_work = Gate(), Gate()
    running = line.submit("a", "running", running_work, cost=1)
    assert running_work.started.wait(5)
    queued = line.submit("b", "queued", queued_work, cost=1)
    line.leave("b", queued)
    assert queued.state == "dropped" and queued.finished.is_set() and line.place(queued) == 0
    line.leave("a", running)
    assert running.finished.wait(5) and running.value == "partial" and running_work.stopped_early
    assert running.left_by == "a"  # it gets the picture so far
    assert not queued_work.started.is_set()


def test_a_running_job_goes_on_while_another_session_still_waits_for_it():
    line = RenderQueue()
    work = Gate()
    job = line.submit("a", "shared", work, cost=1)
    line.submit("b", "shared", work, cost=1)
    assert work.started.wait(5)
    line.leave("a", job)
    time.sleep(0.1)
    assert not job.cancelled and not job.finished.is_set()
    work.release.set()
    assert job.finished.wait(5) and job.value == "done"


def test_sessions_that_vanish_without_leaving_are_dropped():
    line = RenderQueue(stale_after=0.2)
    work = Gate()
    job = line.submit("gone", "orphan", work, cost=1)
    assert job.finished.wait(5) and job.value == "partial"  # nobody touched it: stopped at its next step


def test_a_failing_job_hands_its_error_to_the_waiting_session_and_the_line_goes_on():
    line = RenderQueue()

    def broken(job):
        raise ValueError("no such layer")

    failed = line.submit("a", "broken", broken, cost=1)
    after = line.submit("a", "fine", lambda job: "ok", cost=1)
    assert after.finished.wait(5) and after.value == "ok"
    assert failed.state == "failed" and isinstance(failed.error, ValueError)


def test_estimates_learn_from_finished_jobs():
    line = RenderQueue(seconds_per_unit=100.0)
    done = line.submit("a", "quick", lambda job: time.sleep(0.05), cost=1, kind="layer")
    assert done.finished.wait(5)
    blocker = Gate()
    line.submit("a", "blocker", blocker, cost=1, kind="layer")
    assert blocker.started.wait(5)
    queued = line.submit("b", "next", lambda job: None, cost=1, kind="layer")
    assert line.estimate(queued) < 5  # about 0.05 s per unit now, not the first guess of 100
    blocker.release.set()
    assert queued.finished.wait(5)


@pytest.mark.parametrize("number, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (22, "22nd")])
def test_places_read_asordinals(number, text):
    from dashboard.line import renders

    assert renders.ordinal(number) == text


def test_a_batch_job_is_found_by_any_of_its_filters():
    from dashboard.line import renders

    line = RenderQueue()
    gate = Gate()
    settings = RenderSettings(model="tiny", layer="block1_conv1", filter=4)
    job = line.submit("alice", renders.render_key(settings, [4, 5, 6]), gate, 1.0)
    for index in (4, 5, 6):
        assert line.find(lambda key: renders.covers(key, settings.with_changes(filter=index))) is job
    assert line.find(lambda key: renders.covers(key, settings.with_changes(filter=7))) is None
    assert line.find(lambda key: renders.covers(key, settings.with_changes(filter=5, seed=9))) is None
    gate.release.set()
    assert job.finished.wait(5)
    assert line.find(lambda key: renders.covers(key, settings)) is None  # a finished job is not pending


# --- the model shelf -------------------------------------------------------------------------------------

def test_a_model_being_loaded_blocks_only_those_who_want_that_model(monkeypatch):
    from featviz_core import models
    from dashboard.line.model_shelf import ModelShelf

    release, started = threading.Event(), threading.Event()
    real = models.load_model

    def load_model(name):
        if name == "slow":
            started.set()
            assert release.wait(10)
            return real("tiny")
        return real(name)

    monkeypatch.setattr(models, "load_model", load_model)
    shelf = ModelShelf()
    shelf.get("tiny")
    loads = [threading.Thread(target=shelf.get, args=("slow",)) for _ in range(2)]
    for thread in loads:
        thread.start()
    assert started.wait(10)
    began = time.monotonic()
    assert shelf.loaded("tiny") and not shelf.loaded("slow")
    assert shelf.get("tiny").name == "tiny"  # another model on the shelf: no wait for the slow load
    assert time.monotonic() - began < 1.0
    release.set()
    for thread in loads:
        thread.join(10)
    assert shelf.loaded("slow")


def test_the_model_shelf_keeps_the_most_recently_used_models_and_drops_a_gone_model_s_meters(monkeypatch):
    from featviz_core import models
    from featviz_core.ascent import quality
    from dashboard.line.model_shelf import ModelShelf

    monkeypatch.setattr(models, "load_model", lambda name: f"model {name}")
    monkeypatch.setattr(quality, "QualityMeter", lambda loaded, layer, preprocessing: (loaded, layer))
    shelf = ModelShelf(size=2)
    meter = shelf.meter("a", "conv")
    shelf.get("b")
    assert shelf.meter("a", "conv") is meter  # built once; "a" is now the most recently used
    shelf.get("c")  # the shelf is full: "b", the least recently used, goes
    assert shelf.loaded("a") and shelf.loaded("c") and not shelf.loaded("b")
    shelf.get("b")  # then "a" goes, and its meter with it
    assert not shelf.loaded("a") and shelf.meter("a", "conv") is not meter
