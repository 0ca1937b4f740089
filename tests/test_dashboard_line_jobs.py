"""What the pages put through the server's line (one job at a time): model loads, dataset-example passes,
and Stop in the middle of a batched gallery render (AppTest on the tiny model)."""

from __future__ import annotations

import threading
from dataclasses import replace

from dashboard_helpers import app, fresh_seed, no_exceptions, page_at


def line_jobs(monkeypatch) -> list[str]:
    """The kinds of job ("render", "examples", "load", ...) submitted to the server's line from now on."""
    from dashboard.line.render_queue import RenderQueue

    kinds: list[str] = []
    real = RenderQueue.submit

    def submit(self, session, key, *args, **kwargs):
        kinds.append(key[0])
        return real(self, session, key, *args, **kwargs)

    monkeypatch.setattr(RenderQueue, "submit", submit)
    return kinds


def test_stop_in_the_middle_of_a_batched_gallery_keeps_finished_tiles_and_says_what_is_missing(monkeypatch):
    """Filters 0-3 finished, 4-7 rendering as one batch when Stop was clicked, 8-15 not started."""
    from dashboard.line import renders, server
    from featviz_core.rendering import render_batch

    asked = []
    real_existing = renders.existing
    monkeypatch.setattr(renders, "existing", lambda runs, *args, **kwargs: (
        asked.append(runs) or real_existing(runs, *args, **kwargs)))
    at = page_at(monkeypatch, "gallery", preset="quick", final_size=32, octaves=2, steps_per_octave=3)  # the page waits for its Render button
    runs = asked[-1]  # the gallery's
    assert len(runs) == 16
    settings = [runs[str(index)] for index in range(16)]
    loaded = server.shelf().get("tiny")
    for result in render_batch(settings[0], range(4), loaded):
        server.store().keep(result)
    partial = [replace(result, cancelled=True) for result in render_batch(settings[4], range(4, 8), loaded)]
    monkeypatch.setattr(server, "session_id", lambda: "visitor")
    running, stopping = threading.Event(), threading.Event()

    def batch(job):  # the batch that was rendering: it ends a moment after it is told to stop
        running.set()
        assert job.cancel.wait(30)
        stopping.set()
        threading.Event().wait(0.5)
        for result in partial:
            server.store().keep(result, stopped_by=job.left_by)
        return partial

    server.line().submit("visitor", renders.render_key(settings[4], range(4, 8)), batch, 1.0)
    assert running.wait(60)  # (the server's one worker may first finish what an earlier test left in the line)
    monkeypatch.setattr(renders, "stopped", lambda scope, token: scope == "gallery")  # the click on Stop
    at.run()
    no_exceptions(at)
    assert stopping.is_set()
    assert sorted(image.captions[0].split(" ·")[0] for image in at.main.image) == sorted(f"#{i}" for i in range(8))
    note = " ".join(warning.value for warning in at.main.warning)
    assert "Not started: " + ", ".join(str(index) for index in range(8, 16)) in note
    assert all(f"{index} at step" in note for index in range(4, 8))


def test_a_model_that_is_not_loaded_yet_loads_in_the_line(monkeypatch, tmp_path):
    from featviz_core.models import build_tiny_cnn

    path = tmp_path / "mine.keras"
    build_tiny_cnn().save(path)
    jobs = line_jobs(monkeypatch)
    at = app(monkeypatch, model=str(path), preset="quick", final_size=32, octaves=2, steps_per_octave=3,
             seed=fresh_seed()).run()
    no_exceptions(at)
    assert jobs[0] == "load" and jobs.count("load") == 1
    assert at.main.image or at.main.markdown  # the page went on to its picture
