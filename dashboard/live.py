"""Rendering with live progress, from plain (uncached) code; finished results go to the cache.

Any click in the browser stops the running script at its next Streamlit call (a new run starts at
once). Here that call is the progress update inside the core's callback: the callback catches
Streamlit's stop/rerun signal and returns False, so the core ends the ascent cleanly; the partial
result goes to a server-side store (a stopped run may not touch st.session_state) and the signal
is raised again. The Stop button's callback tells the new run that the user asked to stop.
One render at a time runs per server (a lock), so two sessions on a 2-core host do not fight.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner import RerunException, StopException

import cache
from featviz_core import ascent
from featviz_core.ascent import Progress, Result
from featviz_core.models import LoadedModel
from featviz_core.settings import RenderSettings

INTERRUPTS = (RerunException, StopException)
PREVIEW_EVERY_S = 0.25
PREVIEW_WIDTH = 320
_STOPPED = "_live_stopped"


class LiveProgress:
    """A progress bar and a live preview that follow the ascent; any click interrupts it."""

    def __init__(self, where: DeltaGenerator, label: str, preview: bool = True,
                 done_before: int = 0, total: int | None = None, weight: int = 1) -> None:
        self.label = label
        self.done_before = done_before
        self.total = total
        self.weight = weight
        self.bar = where.progress(0.0, text=f"{label}: starting...")
        self.preview = where.empty() if preview else None
        self.interrupt: BaseException | None = None
        self._last_preview = 0.0

    def __call__(self, progress: Progress) -> bool | None:
        total = self.total or progress.total_steps
        fraction = min(1.0, (self.done_before + progress.step * self.weight) / total)
        try:
            self.bar.progress(fraction, text=f"{self.label}: step {progress.step} of {progress.total_steps}, "
                                             f"octave {progress.octave + 1} at {progress.size} px")
            now = time.monotonic()
            if self.preview is not None and (now - self._last_preview >= PREVIEW_EVERY_S
                                             or progress.step == progress.total_steps):
                self._last_preview = now
                self.preview.image(progress.preview, width=PREVIEW_WIDTH,
                                   caption=f"step {progress.step}, loss {float(progress.losses[0]):.3g}")
        except INTERRUPTS as signal:
            self.interrupt = signal
            return False
        return None

    def clear(self) -> None:
        self.bar.empty()
        if self.preview is not None:
            self.preview.empty()


@contextmanager
def render_turn(where: DeltaGenerator) -> Iterator[None]:
    """Hold the server's render lock, saying so while another session's render finishes."""
    lock = cache.render_lock()
    note = where.empty()
    began = time.monotonic()
    while not lock.acquire(timeout=0.2):  # a Streamlit call each turn keeps the wait interruptible
        note.info(f"Waiting for another render on this server to finish ({time.monotonic() - began:.0f} s)...",
                  icon=":material/hourglass_top:")
    try:
        note.empty()
        yield
    finally:
        lock.release()


def stop_button(scope: str, token: object, where: DeltaGenerator) -> None:
    """A Stop button for the render of `token` (the click itself interrupts; this records the wish)."""
    where.button("Stop", key=f"stop_{scope}", icon=":material/stop_circle:", on_click=_record_stop,
                 args=(scope, token), help="Stop the ascent and keep what was done so far.")


def _record_stop(scope: str, token: object) -> None:
    st.session_state.setdefault(_STOPPED, {})[scope] = token


def stopped(scope: str, token: object) -> bool:
    """True when the user stopped the render of `token` on this page."""
    return st.session_state.get(_STOPPED, {}).get(scope) == token


def forget_stop(scope: str) -> None:
    st.session_state.get(_STOPPED, {}).pop(scope, None)


def stopped_notice(scope: str, message: str, button: str, hint: str | None = None) -> None:
    """What a Stop left behind, with a button that forgets the stop so the render can go on."""
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.warning(message, icon=":material/stop_circle:")
    right.button(button, icon=":material/replay:", key=f"{scope}_resume", on_click=forget_stop, args=(scope,),
                 help=hint)


def partial_result(settings: RenderSettings) -> Result | None:
    """The interrupted render of these settings in this session, waiting for it to finish if needed."""
    with render_turn(st.empty()):
        return cache.partial_store().get(cache.session_id(), settings)


def render_one(settings: RenderSettings, model: LoadedModel, where: DeltaGenerator,
               label: str = "Rendering", preview: bool = True) -> Result:
    """The result for these settings: from the cache, or rendered now with live progress and cached."""
    result = cache.cached_result(settings)
    if result is not None:
        return result
    partials, session = cache.partial_store(), cache.session_id()
    with render_turn(where):
        result = cache.cached_result(settings)  # rendered by someone else while we waited
        if result is not None:
            return result
        view = LiveProgress(where, label, preview)
        result = ascent.render(settings, model, on_progress=view)
        if view.interrupt is not None:  # no Streamlit call may follow: hand the result over, stop
            partials.put(session, result)
            raise view.interrupt
        cache.store_result(result)
    view.clear()
    return result


def render_side_by_side(scope: str, runs: Mapping[str, RenderSettings], model: LoadedModel, noun: str,
                        labels: Mapping[str, str] | None = None) -> dict[str, Result]:
    """The results of these runs. While some are not cached, a button renders them in columns, then reruns;
    until it is clicked the page stops here. After Stop: the finished runs and the stopped one's picture
    so far (runs never started are left out), with a button to render the rest."""
    results = {name: cache.cached_result(run) for name, run in runs.items()}
    missing = [name for name, result in results.items() if result is None]
    if not missing:
        return results  # type: ignore[return-value]
    token = tuple(runs.values())
    if stopped(scope, token):
        kept = _kept_after_stop(scope, runs, results, noun, labels or {})
        if kept:
            return kept
    stop = st.empty()
    if not st.button(f"Render {len(missing)} {noun}{'s' if len(missing) > 1 else ''}", type="primary",
                     icon=":material/play_arrow:", key=f"{scope}_render"):
        st.stop()
    forget_stop(scope)
    stop_button(scope, token, stop)
    for column, name in zip(st.columns(len(runs)), runs):
        if results[name] is None:
            render_one(runs[name], model, column.container(), label=(labels or {}).get(name, name))
    st.rerun()


def _kept_after_stop(scope: str, runs: Mapping[str, RenderSettings], results: Mapping[str, Result | None],
                     noun: str, labels: Mapping[str, str]) -> dict[str, Result]:
    """The finished and stopped results after Stop, with a note of what is missing and a button to go on."""
    kept = {name: result if result is not None else partial_result(runs[name]) for name, result in results.items()}
    shown = {name: result for name, result in kept.items() if result is not None}
    if not shown:
        return {}
    stopped_at = [f"{labels.get(name, name)} at step {result.steps_run} of {result.settings.total_steps}"
                  for name, result in shown.items() if result.cancelled]
    not_started = [labels.get(name, name) for name, result in kept.items() if result is None]
    note = "Stopped" + (f": {', '.join(stopped_at)}" if stopped_at else "") + "."
    if not_started:
        note += f" Not started: {', '.join(not_started)}."
    stopped_notice(scope, note, "Render the rest", hint=f"Render every {noun} that is not finished yet.")
    return shown


def render_filters(settings: RenderSettings, filters: Sequence[int], model: LoadedModel,
                   where: DeltaGenerator,
                   on_batch: Callable[[list[Result]], None] | None = None) -> list[Result]:
    """Render the filters not cached yet, in batches with progress; `on_batch` shows each batch as it ends."""
    missing = [index for index in filters if cache.cached_result(settings.with_changes(filter=index)) is None]
    results: list[Result] = []
    total_steps = max(1, len(missing) * settings.total_steps)
    batch_size = ascent.batch_limit(settings)
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        with render_turn(where):
            view = LiveProgress(where, f"Filters {start + 1}-{start + len(chunk)} of {len(missing)}", preview=False,
                                done_before=start * settings.total_steps, total=total_steps, weight=len(chunk))
            finished = ascent.render_batch(settings, chunk, model, on_progress=view)
            if view.interrupt is not None:
                raise view.interrupt
            for result in finished:
                cache.store_result(result)
        view.clear()
        results.extend(finished)
        if on_batch is not None:
            on_batch(finished)
    return results

