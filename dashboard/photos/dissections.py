"""A photo dissected by one layer, for the photo page: computed in the server's line (model load and one
forward pass, with place and estimate shown) and kept for every session in the server's shelf, by (model,
preprocessing, photo, layer), with a picture for every filter it ranks. Its neuron groups are a second job
(a factorization, after the grid is on screen), kept apart by their count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, TypeVar

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.line import renders, server
from dashboard.line.render_queue import Job
from dashboard.photos import examples_panel
from dashboard.photos.photo_choice import Photo
from featviz_core import catalog
from featviz_core.atlas import ModelAtlases
from featviz_core.bounded import Bounded
from featviz_core.catalog import ModelLoadError
from featviz_core.settings import RenderSettings

if TYPE_CHECKING:
    from featviz_core.dissect import Dissection, Factorization, FilterPicture
    from featviz_core.models import LoadedModel

T = TypeVar("T")
TOP = 5  # filters per cell, and the photo's top filters
GROUPS = 6  # neuron groups at first
TOP_CHANNELS = 5  # a group's channels shown
PICTURE_SIZE = 96  # px: a filter's picture on the page
GROUPS_COST_PER_VALUE = 0.05  # a factorization, in the line's units per activation value: about 1 s for block4_conv3


@dataclass(frozen=True)
class Reading:
    """What one layer sees in a photo: the dissection (without groups) and the pictures of the filters it ranks
    (any cell's top filters, the photo's top filters)."""

    dissection: "Dissection"
    pictures: Mapping[int, "FilterPicture"] = field(repr=False)
    seconds: float = 0.0


@dataclass(frozen=True)
class Groups:
    """Neuron groups of one count, and the pictures of their top channels."""

    factorization: "Factorization"
    pictures: Mapping[int, "FilterPicture"] = field(repr=False)


def reading_bytes(reading: Reading) -> int:
    """Memory a reading holds: the layer's output at every position (most of it), the photo, the pictures."""
    found = reading.dissection
    return (found.activations.values.nbytes + found.activations.fed.nbytes + found.grid.means.nbytes
            + sum(picture.image.nbytes for picture in reading.pictures.values()))


DISSECTION_BYTES = 160 * 2**20  # a deep layer's reading of a photo holds 2-10 MB, an early layer's up to 70 MB
MAX_GROUP_COUNTS = 16  # neuron groups of a reading by count: small (weights, maps, 40 pictures at most)


@st.cache_resource(show_spinner=False)
def reading_shelf() -> Bounded:
    """Photos read by a layer (`Reading`), by (model, preprocessing, photo, layer): shared by every session."""
    return Bounded(DISSECTION_BYTES, getsizeof=reading_bytes)


@st.cache_resource(show_spinner=False)
def group_shelf() -> Bounded:
    """Neuron groups of those readings (`Groups`), by the reading's key and the count: shared by every session."""
    return Bounded(MAX_GROUP_COUNTS)


def reading_key(settings: RenderSettings, photo: Photo, layer: str) -> tuple[str, str, str, str]:
    return settings.model, settings.preprocessing, photo.key, layer


def top_channels(weights: np.ndarray, count: int = TOP_CHANNELS) -> list[int]:
    """A group's strongest channels, best first."""
    return [int(index) for index in np.argsort(-weights, kind="stable")[:count]]


def _model_atlases(model: str) -> ModelAtlases:
    """The server's atlases of `model` (the set every page browses), empty when it has none."""
    return server.atlas_of(model) or ModelAtlases(())


def _pictures(loaded: "LoadedModel", atlases: ModelAtlases, layer: str, filters: Iterable[int], job: Job,
              known: Mapping[int, "FilterPicture"] | None = None) -> dict[int, "FilterPicture"]:
    """A picture for each filter not `known` yet: its atlas picture, else its best sample-photo patch."""
    from featviz_core.dissect import filter_picture

    wanted = sorted(set(filters) - set(known or {}))
    found = {}
    for done, index in enumerate(wanted):
        found[index] = filter_picture(loaded, atlases, layer, index, PICTURE_SIZE)
        job.report(0.5 + 0.5 * (done + 1) / len(wanted), note=f"pictures: {done + 1} of {len(wanted)} filters")
    return found


def _kept_or_in_line(shelf: Bounded, kind: str, key: tuple, work: Callable[[Job], T], cost: Callable[[], float],
                     where: DeltaGenerator, label: str) -> T | None:
    """The value `shelf` keeps under `key`, else `work` run in the server's line as a job of `kind` (costing
    `cost()`, with place and estimate shown in `where`) and kept; None with the reason shown when the model
    can't load."""
    kept = shelf.find(key)
    if kept is not None:
        return kept  # type: ignore[return-value]

    def keep(job: Job) -> T:
        value = work(job)
        shelf.put(key, value)
        return value

    try:
        return renders.in_line(renders.job_key(kind, *key), keep, cost(), where, label)
    except ModelLoadError as error:
        where.error(f"This server can't load {catalog.short_name(key[0])}: {error}", icon=":material/block:")
        return None


def reading(settings: RenderSettings, photo: Photo, layer: str, where: DeltaGenerator) -> Reading | None:
    """What `layer` of the sidebar's model sees in the photo: kept, or computed in the server's line (the model
    loaded if need be, one forward pass, the pictures); None with the reason shown when the model can't load."""
    shelf, atlases = server.shelf(), _model_atlases(settings.model)  # read here: `work` runs in the line's thread

    def work(job: Job) -> Reading:
        from featviz_core.dissect import dissect

        if not shelf.loaded(settings.model):
            job.phase = (f"Starting TensorFlow and loading {catalog.short_name(settings.model)} (once per "
                         "server)...")
        from featviz_core.models.preprocessing import preprocess_for

        loaded = shelf.get(settings.model)
        job.report(0.05, note=f"{layer} reads the photo")
        began = time.perf_counter()
        height, width = photo.pixels.shape[:2]
        dissection = dissect(loaded, layer, photo.pixels, given_size=(width, height), top=TOP, groups=0,
                             preprocess=preprocess_for(loaded, settings.preprocessing))
        job.report(0.5, note="finding pictures")
        ranked = {item.filter for cell in dissection.grid.cells(TOP) for item in cell.top}
        pictures = _pictures(loaded, atlases, layer, ranked | {item.filter for item in dissection.top_filters}, job)
        return Reading(dissection, pictures, time.perf_counter() - began)

    def cost() -> float:
        """One pass over the photo, and (the first time for a layer) one over the sample photos for the stand-ins."""
        samples = examples_panel.SAMPLE_SOURCE.image_set().images
        pixels = photo.pixels.size // 3 + sum(image.pixels.size // 3 for image in samples)
        return pixels * renders.EXAMPLES_COST_PER_PIXEL + (0 if shelf.loaded(settings.model) else renders.LOAD_COST)

    return _kept_or_in_line(reading_shelf(), "dissect", reading_key(settings, photo, layer), work, cost, where,
                            f"Reading {photo.name} with {layer}")


def neuron_groups(settings: RenderSettings, photo: Photo, found: Reading, count: int,
                  where: DeltaGenerator) -> Groups | None:
    """`count` neuron groups of the reading: kept, or factorized in the server's line (with the pictures of
    their top channels); None with the reason shown when the model can't load."""
    layer, values = found.dissection.layer, found.dissection.activations.values
    atlases = _model_atlases(settings.model)  # read here: `work` runs in the line's thread

    def work(job: Job) -> Groups:
        from featviz_core.dissect import neuron_groups as factorize

        job.report(0.05, note=f"{count} groups")
        factorization = factorize(values, count)
        channels = {index for group in factorization.groups for index in top_channels(group.weights)}
        return Groups(factorization, _pictures(server.shelf().get(settings.model), atlases, layer, channels, job,
                                               found.pictures))

    return _kept_or_in_line(group_shelf(), "groups", (*reading_key(settings, photo, layer), count), work,
                            lambda: values.size * GROUPS_COST_PER_VALUE, where, f"Finding {count} neuron groups")


def group_settings(settings: RenderSettings, layer: str, groups: "Factorization") -> dict[str, RenderSettings]:
    """The runs that render each group's picture with the sidebar's recipe, by group number from 1: the layer
    read as the groups' weighted sums of channels, one a row."""
    rows = groups.channel_weights
    return {str(index + 1): settings.with_changes(layer=layer, filter=index, channel_weights=rows)
            for index in range(len(rows))}


def caption(found: Reading) -> str:
    """How the layer saw the photo: positions, cells and time."""
    rows, cols = found.dissection.grid.shape
    width, height = found.dissection.activations.given_size
    positions = found.dissection.activations.values.shape[:2]
    return (f"{found.dissection.layer} sees the {width}×{height} photo at {positions[0]}×{positions[1]} positions, "
            f"pooled into {rows}×{cols} cells (read in {found.seconds:.1f} s).")
