"""Cached wrappers around the core: models shared by all sessions, results kept in a bounded store.

Renders are never run inside a cached function (their live progress would break cache replay);
`live.py` renders in plain code and hands each finished Result to `store_result`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from featviz_core import models
from featviz_core.ascent import Result
from featviz_core.quality import Quality, QualityMeter
from featviz_core.settings import RenderSettings

RESULT_ENTRIES = 96
RESULT_BYTES = "384MB"

_handoff: dict[RenderSettings, Result] = {}
_handoff_lock = threading.Lock()


class _NotRendered(Exception):
    """Raised inside the store on a miss, so that a miss is never cached."""


@st.cache_resource(show_spinner="Loading the model (once per server)...", max_entries=4)
def load_model(name: str) -> models.LoadedModel:
    """The loaded model, shared read-only by every session. Raises ModelLoadError."""
    return models.load_model(name)


@st.cache_resource(show_spinner=False, max_entries=4)
def quality_meter(model_name: str, layer: str) -> QualityMeter:
    """The quality meter of one model layer (its feature model is built once per server)."""
    return QualityMeter(load_model(model_name), layer)


@st.cache_resource
def render_lock() -> threading.Lock:
    """One render at a time per server: two ascents on a 2-core host only slow each other down."""
    return threading.Lock()


class PartialStore:
    """Interrupted (cancelled) renders, per browser session, kept on the server.

    A run that Streamlit has stopped may no longer touch st.session_state, so its partial result
    is handed to the next run of the same session through here.
    """

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[tuple[str, RenderSettings], Result] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def put(self, session: str, result: Result) -> None:
        with self._lock:
            self._items[(session, result.settings)] = result
            self._items.move_to_end((session, result.settings))
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def get(self, session: str, settings: RenderSettings) -> Result | None:
        with self._lock:
            return self._items.get((session, settings))


@st.cache_resource
def partial_store() -> PartialStore:
    return PartialStore()


def session_id() -> str:
    """The browser session this script run belongs to."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


@st.cache_data(max_entries=RESULT_ENTRIES, max_size=RESULT_BYTES, show_spinner=False)
def _stored(settings: RenderSettings) -> Result:
    with _handoff_lock:
        result = _handoff.pop(settings, None)
    if result is None:
        raise _NotRendered
    return result


def cached_result(settings: RenderSettings) -> Result | None:
    """The finished result for these settings, if one was rendered before (by anyone)."""
    try:
        return _stored(settings)
    except _NotRendered:
        return None


def store_result(result: Result) -> None:
    """Keep a finished (not cancelled) result so asking again shows it at once."""
    if result.cancelled:
        return
    with _handoff_lock:
        _handoff[result.settings] = result
    try:
        _stored(result.settings)  # a miss: the store takes the handed-off result
    finally:
        with _handoff_lock:  # a hit (someone stored these settings a moment ago): drop ours
            _handoff.pop(result.settings, None)


def result_quality(result: Result) -> Quality:
    """The quality proxies of a result's picture, measured once per picture."""
    return _picture_quality(result.settings, result.steps_run, result.dead, result.image)


@st.cache_data(max_entries=RESULT_ENTRIES, show_spinner="Measuring the picture (16 jittered views)...")
def _picture_quality(settings: RenderSettings, steps_run: int, ascent_dead: bool, _image: np.ndarray) -> Quality:
    """The picture follows from the settings and the steps run (a stopped render is a different picture)."""
    return quality_meter(settings.model, settings.layer).measure(_image, settings.filter, ascent_dead)
