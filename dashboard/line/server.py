"""Server-wide resources, shared by every session: the result store, the render line, the model shelf,
the dataset examples and the atlases (the photo page's readings keep their own shelves in `dissections`).
None of them imports TensorFlow; the shelf loads it on the first live render.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from dashboard.line.examples_shelf import ExamplesShelf
from dashboard.line.model_shelf import ModelShelf
from dashboard.line.render_queue import RenderQueue
from dashboard.line.store import ResultStore
from featviz_core.bounded import Bounded
from featviz_core.atlas import AtlasEntry, ModelAtlases, atlases_by_model, default_atlas_folders, find_atlases
from featviz_core.settings import RenderSettings

STORE_BYTES = 48 * 2**20  # finished results with every snapshot: about 12 robust renders at 412 px
ATLAS_RECHECK_S = 60
MAX_FIGURES = 512


@st.cache_resource(show_spinner=False)
def store() -> ResultStore:
    return ResultStore(STORE_BYTES)


@st.cache_resource(show_spinner=False)
def figures() -> Bounded:
    """Measured quality figures by (settings, steps run): small, so bounded by count."""
    return Bounded(MAX_FIGURES)


@st.cache_resource(show_spinner=False)
def line() -> RenderQueue:
    return RenderQueue()


@st.cache_resource(show_spinner=False)
def shelf() -> ModelShelf:
    return ModelShelf()


@st.cache_resource(show_spinner=False)
def examples() -> ExamplesShelf:
    return ExamplesShelf()


@st.cache_resource(show_spinner=False, ttl=ATLAS_RECHECK_S)
def atlases() -> tuple[dict[str, ModelAtlases], tuple[str, ...]]:
    """The atlases found, by model (each searched as one, the largest pictures first), and a line per problem."""
    found, problems = find_atlases(default_atlas_folders())
    return atlases_by_model(found), tuple(problems)


def atlas_of(model: str) -> ModelAtlases | None:
    return atlases()[0].get(model)


def atlas_entry(settings: RenderSettings) -> AtlasEntry | None:
    """The precomputed picture for exactly these settings, if an atlas has it."""
    atlas = atlas_of(settings.model)
    return atlas.match(settings) if atlas is not None else None


def session_id() -> str:
    """The browser session this script run belongs to."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"
