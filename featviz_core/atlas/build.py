"""Render an atlas: many filters, in batches, resumable, optionally sharded and spread over Ray.

TensorFlow is imported only when something is left to render: rerunning a finished atlas, or
checking a request against an existing one, reads index.json and nothing else.

Work is planned breadth-first: chunks of filters cycle through the layers (filters 0-15 of every
layer, then 16-31 of every layer, ...), so an interrupted run has covered every layer evenly. After
each batch its pictures and then the index are rewritten atomically: a killed run loses at most the
batch in flight, and the same command resumes it.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from featviz_core import __version__
from featviz_core.atlas.format import (FORMAT, IMAGE_FORMAT, INDEX, AtlasEntry, AtlasError, entry_to_json,
                                       identity_difference, image_name, iter_entries_json, open_atlas, read_index,
                                       settings_to_json, write_bytes_atomic, write_image_atomic, write_index_atomic)
from featviz_core.atlas.merging import merge
from featviz_core.layers import LayerInfo
from featviz_core.settings import DEFAULT_PRESET, RenderSettings, matching_preset, preset

if TYPE_CHECKING:
    from featviz_core.models import LoadedModel

PLAN_CHUNK = 16  # filters per work unit when no batch is given (ascent's largest batch)
DEFAULT_IMAGE_SIZE = 256
MIN_IMAGE_SIZE = 64
SHARDS_FOLDER = ".shards"
ANY_LAYER = "-"  # a placeholder layer name: the atlas-wide settings are checked without a layer


@dataclass(frozen=True)
class BuildProgress:
    """Sent while an atlas renders: after every ascent step and after every finished batch."""

    done: int  # filters finished in this run
    total: int  # filters this run renders
    elapsed: float  # seconds since rendering began (model loading excluded)
    layer: str
    filters: tuple[int, ...]  # the batch in flight
    step: int
    total_steps: int

    @property
    def per_minute(self) -> float:
        return 60.0 * self.done / self.elapsed if self.done and self.elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the throughput measured so far (None before the first batch finishes)."""
        return (self.total - self.done) * self.elapsed / self.done if self.done else None


@dataclass(frozen=True)
class BuildSummary:
    rendered: int  # filters rendered now
    skipped: int  # requested filters that were already in the atlas
    seconds: float  # rendering time of this run
    count: int  # filters in the atlas afterwards

    @property
    def per_minute(self) -> float:
        return 60.0 * self.rendered / self.seconds if self.rendered and self.seconds > 0 else 0.0


ProgressCallback = Callable[[BuildProgress], None]


# --- the request, checked without TensorFlow -------------------------------------------------

def atlas_settings(model_name: str, preset_name: str = DEFAULT_PRESET,
                   overrides: Mapping[str, Any] | None = None) -> RenderSettings:
    """The settings every filter of the atlas is rendered with (layer and filter still open)."""
    overrides = dict(overrides or {})
    if overrides.get("start") == "photo" or overrides.get("start_photo"):
        raise AtlasError("start photos are not allowed in an atlas: use a noise, gray or gradient start")
    return preset(preset_name, **{**overrides, "model": model_name, "layer": ANY_LAYER, "filter": 0})


def checked_image_size(image_size: int | None, settings: RenderSettings) -> int:
    """The stored picture size: 256 px by default, between 64 px and the rendered size."""
    largest = settings.final_size
    if image_size is None:
        return min(DEFAULT_IMAGE_SIZE, largest)
    smallest = min(MIN_IMAGE_SIZE, largest)
    if not smallest <= image_size <= largest:
        raise AtlasError(f"the image size must be between {smallest} and {largest} px (the rendered size); "
                         f"got {image_size}")
    return image_size


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    part, parts = shard
    if not 1 <= part <= parts:
        raise AtlasError("--shard must look like K/N with 1 <= K <= N")
    return part, parts


def _wanted_identity(settings: RenderSettings, image_size: int) -> dict[str, Any]:
    return {"format": FORMAT, "model": settings.model, "settings": settings_to_json(settings, per_filter=False),
            "image_size": image_size, "image_format": IMAGE_FORMAT}


def _check_same_atlas(root: Path, index: Mapping[str, Any], wanted: Mapping[str, Any]) -> None:
    """An existing atlas must have been made with what is asked now (weights are checked later)."""
    difference = identity_difference(index, wanted)
    if difference:
        raise AtlasError(f"{root} holds an atlas of {index['model']} with preset {index['preset']} ({difference}, "
                         f"atlas vs request); use another -o folder or the same settings")


def _present(root: Path, index: Mapping[str, Any]) -> set[tuple[str, int]]:
    """The entries whose pictures exist (a listed but missing picture is rendered again)."""
    return {(layer, key) for layer, key, data in iter_entries_json(index) if (root / data["image"]).is_file()}


# --- the plan -------------------------------------------------------------------------------

def plan(layers: str | Sequence[str], filters: Iterable[int] | None, model_layers: Sequence[LayerInfo],
         shard: tuple[int, int] = (1, 1), batch: int = PLAN_CHUNK) -> list[tuple[str, list[int]]]:
    """Work units (layer, filters) in breadth-first order, for shard K of N (1-based).

    `layers` is "all" (every conv layer) or a list of names; `filters` the wanted indices (None: all),
    clipped to each layer's count. `model_layers` are the model's layers. Units
    are chunks of `batch` filters taken round-robin over the layers; shard K takes units K-1, K-1+N, ...
    """
    part, parts = check_shard(shard)
    if batch < 1:
        raise AtlasError("--batch must be at least 1")
    conv = [info for info in model_layers if info.kind != "Dense"]
    by_name = {info.name: info for info in conv}
    if layers == "all":
        chosen = conv
    else:
        unknown = [name for name in layers if name not in by_name]
        if unknown:
            shown = ", ".join(list(by_name)[:12]) + (" ..." if len(by_name) > 12 else "")
            raise AtlasError(f"layer {unknown[0]!r} is not a conv layer of this model; choose one of: {shown}")
        chosen = [by_name[name] for name in dict.fromkeys(layers)]
    wanted = None if filters is None else sorted(set(int(index) for index in filters))
    chunks = []
    for info in chosen:
        indices = list(range(info.filters)) if wanted is None else [i for i in wanted if i < info.filters]
        chunks.append([(info.name, indices[first:first + batch]) for first in range(0, len(indices), batch)])
    if not any(chunks):
        raise AtlasError("no filters to render: the filter range is beyond every chosen layer's filter count")
    rounds = max(len(layer_chunks) for layer_chunks in chunks)
    units = [layer_chunks[r] for r in range(rounds) for layer_chunks in chunks if r < len(layer_chunks)]
    return units[part - 1::parts]


# --- rendering ------------------------------------------------------------------------------

def weights_sha256(loaded: "LoadedModel") -> str:
    """Identity of a model's weights: sha256 over every weight's shape, dtype and bytes, in model.weights order."""
    import numpy as np

    digest = hashlib.sha256()
    for weight in loaded.model.weights:
        array = np.ascontiguousarray(weight.numpy())
        digest.update(f"{array.shape}|{array.dtype.str}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _new_index(loaded: "LoadedModel", settings: RenderSettings, image_size: int, sha: str) -> dict[str, Any]:
    return {
        "format": FORMAT, "model": settings.model, "model_description": loaded.description,
        "weights_sha256": sha, "featviz_version": __version__, "preset": matching_preset(settings) or "custom",
        "settings": settings_to_json(settings, per_filter=False), "image_size": image_size,
        "image_format": IMAGE_FORMAT,
        "layers": [info.to_json() for info in loaded.layers if info.kind != "Dense"],
        "entries": {},
    }


def build_atlas(out: Path | str, model_name: str, layers: str | Sequence[str] = "all",
                filters: Iterable[int] | None = None, preset_name: str = DEFAULT_PRESET,
                overrides: Mapping[str, Any] | None = None, image_size: int | None = None,
                shard: tuple[int, int] = (1, 1), batch: int | None = None,
                on_progress: ProgressCallback | None = None,
                exclude: Iterable[tuple[str, int]] = ()) -> BuildSummary:
    """Render the requested filters that `out` does not hold yet into the atlas folder `out`.

    `overrides` change preset fields (e.g. steps_per_octave); `image_size` is the stored picture size;
    `batch` caps the filters rendered together (default: what the memory budget allows); `exclude`
    lists (layer, filter) pairs to leave out (done elsewhere, e.g. by other shards)."""
    out = Path(out).expanduser()
    settings = atlas_settings(model_name, preset_name, overrides)
    image_size = checked_image_size(image_size, settings)
    check_shard(shard)
    wanted = _wanted_identity(settings, image_size)
    index = read_index(out) if (out / INDEX).exists() else None
    loaded = None
    if index is not None:
        _check_same_atlas(out, index, wanted)
        model_layers = [LayerInfo.from_json(layer) for layer in index["layers"]]
    else:
        check_new_atlas_folder(out)
        loaded = _load(model_name)
        model_layers = loaded.layers
    units = plan(layers, filters, model_layers, shard, batch or PLAN_CHUNK)
    done_already = (_present(out, index) if index is not None else set()) | set(exclude)
    todo = [(layer, [i for i in chunk if (layer, i) not in done_already]) for layer, chunk in units]
    todo = [(layer, chunk) for layer, chunk in todo if chunk]
    requested = sum(len(chunk) for _, chunk in units)
    total = sum(len(chunk) for _, chunk in todo)
    if not total:
        count = len(list(iter_entries_json(index))) if index is not None else 0
        return BuildSummary(rendered=0, skipped=requested, seconds=0.0, count=count)

    loaded = loaded or _load(model_name)
    sha = weights_sha256(loaded)
    if index is None:
        index = _new_index(loaded, settings, image_size, sha)
    elif index["weights_sha256"] != sha:
        raise AtlasError(f"{out} holds pictures of other weights of {model_name} (sha256 {index['weights_sha256'][:12]}, "
                         f"the model now has {sha[:12]}); use another -o folder")
    for leftover in out.rglob("*.tmp-*"):  # half-written files of a killed run
        leftover.unlink(missing_ok=True)
    renderer = _BatchRenderer(out, index, loaded, settings, image_size, batch, total, on_progress)
    for layer, chunk in todo:
        renderer.render_unit(layer, chunk)
    return BuildSummary(rendered=renderer.done, skipped=requested - total, seconds=renderer.elapsed,
                        count=len(list(iter_entries_json(index))))


def check_new_atlas_folder(out: Path) -> None:
    """A new atlas goes into a new or empty folder, or one that holds only what an interrupted atlas
    run leaves before its first index (pictures in layer folders, temporary files, shard folders)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise AtlasError(f"{out} is a file; -o needs a folder for the atlas")
    for path in out.iterdir():
        leftover = path.name == SHARDS_FOLDER or (path.is_file() and path.name.startswith(f"{INDEX}.tmp-")) or (
            path.is_dir() and all(child.suffix == f".{IMAGE_FORMAT}" or ".tmp-" in child.name
                                  for child in path.iterdir()))
        if not leftover:
            raise AtlasError(f"{out} is not a featviz atlas (it has no {INDEX} but holds {path.name}); "
                             f"use a new or empty folder")


def _load(model_name: str) -> "LoadedModel":
    from featviz_core.models import load_model

    return load_model(model_name)


class _BatchRenderer:
    """Renders units batch by batch; after each batch writes its pictures, then the index."""

    def __init__(self, root: Path, index: dict[str, Any], loaded: "LoadedModel", settings: RenderSettings,
                 image_size: int, batch: int | None, total: int, on_progress: ProgressCallback | None) -> None:
        self.root, self.index, self.loaded, self.settings = root, index, loaded, settings
        self.image_size, self.batch, self.total, self.on_progress = image_size, batch, total, on_progress
        self.meters: dict[str, Any] = {}
        self.done = 0
        self.began = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.began

    def render_unit(self, layer: str, filters: list[int]) -> None:
        from featviz_core.ascent import batch_limit

        settings = self.settings.with_changes(layer=layer, filter=filters[0])
        size = min(self.batch or len(filters), batch_limit(settings))
        for first in range(0, len(filters), size):
            self._render_batch(settings, filters[first:first + size])

    def _render_batch(self, settings: RenderSettings, filters: list[int]) -> None:
        from featviz_core.rendering import render_batch
        from featviz_core.ascent.quality import QualityMeter

        def report(event) -> None:
            self._report(settings.layer, filters, event.step, event.total_steps)

        results = render_batch(settings, filters, self.loaded, on_progress=report if self.on_progress else None)
        meter = self.meters.get(settings.layer) or self.meters.setdefault(
            settings.layer, QualityMeter(self.loaded, settings.layer, preprocessing=settings.preprocessing))
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        sha = self.index["weights_sha256"]
        layer_entries = self.index["entries"].setdefault(settings.layer, {})
        for result in results:
            index = result.settings.filter
            quality = meter.measure(result.measured_image, index, ascent_dead=result.dead)
            name = image_name(settings.layer, index)
            write_image_atomic(self.root / name, result.image, self.image_size)
            entry = AtlasEntry(**{**result.record(), "dead": quality.dead, "seconds": result.seconds / len(results)},
                               layer=settings.layer, filter=index, image_path=self.root / name,
                               image_size=self.image_size, act=quality.act, robust=quality.robust, hf=quality.hf,
                               rendered_at=stamp, featviz_version=__version__)
            layer_entries[str(index)] = entry_to_json(entry, result.settings, sha)
        write_index_atomic(self.root, {**self.index, "featviz_version": __version__})
        self.done += len(results)
        self._report(settings.layer, filters, settings.total_steps, settings.total_steps)

    def _report(self, layer: str, filters: list[int], step: int, total_steps: int) -> None:
        if self.on_progress is not None:
            self.on_progress(BuildProgress(self.done, self.total, self.elapsed, layer, tuple(filters), step,
                                           total_steps))


# --- Ray ------------------------------------------------------------------------------------

def build_atlas_ray(out: Path | str, model_name: str, layers: str | Sequence[str] = "all",
                    filters: Iterable[int] | None = None, preset_name: str = DEFAULT_PRESET,
                    overrides: Mapping[str, Any] | None = None, image_size: int | None = None,
                    batch: int | None = None, shards: int | None = None, address: str | None = None,
                    on_shard_done: Callable[[int, int, BuildSummary], None] | None = None) -> BuildSummary:
    """Render the atlas as `shards` Ray tasks (default: one per GPU of the cluster, else per CPU), each
    into out/.shards/K-of-N in a fresh worker process, then merge them into `out`.

    Connects to `address` (e.g. "ray://head:10001" or "auto"), or starts a local Ray when it is None
    (RAY_ADDRESS is honoured). Filters already in `out` or in a leftover shard folder are not rendered
    again. Shards on other nodes send their files back to this machine."""
    try:
        import ray
    except ModuleNotFoundError:
        raise AtlasError("--ray needs the optional extra: pip install 'featviz[ray]'") from None
    out = Path(out).expanduser().resolve()
    settings = atlas_settings(model_name, preset_name, overrides)
    image_size = checked_image_size(image_size, settings)
    if shards is not None and shards < 1:
        raise AtlasError("--shards must be at least 1")
    wanted = _wanted_identity(settings, image_size)
    exclude = _done_elsewhere(out, wanted)
    request = dict(model_name=model_name, layers=layers, filters=None if filters is None else sorted(set(filters)),
                   preset_name=preset_name, overrides=dict(overrides or {}), image_size=image_size, batch=batch)
    began = time.perf_counter()
    if (out / INDEX).exists():
        index = read_index(out)
        units = plan(layers, request["filters"], [LayerInfo.from_json(layer) for layer in index["layers"]],
                     batch=batch or PLAN_CHUNK)
        requested = {(layer, i) for layer, chunk in units for i in chunk}
        if not requested - exclude:
            return BuildSummary(rendered=0, skipped=len(requested), seconds=0.0, count=open_atlas(out).count)

    started = not ray.is_initialized()
    if started:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    try:
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
        count = shards or gpus or cpus
        threads = 0 if gpus else max(1, cpus // count)
        options = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": threads}
        task = ray.remote(max_calls=1, **options)(_ray_shard)
        node = ray.get_runtime_context().get_node_id()
        pending = {task.remote(str(_shard_folder(out, part, count)), request, (part, count), sorted(exclude), node,
                               threads): part for part in range(1, count + 1)}
        rendered = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            part = pending.pop(ready[0])
            try:
                summary, files = ray.get(ready[0])
            except ray.exceptions.RayTaskError as error:
                if isinstance(error.cause, AtlasError):
                    raise error.cause from None  # bad input found where the model is: one line, like without Ray
                raise
            _unpack(_shard_folder(out, part, count), files)
            rendered += summary.rendered
            if on_shard_done is not None:
                on_shard_done(part, count, summary)
    finally:
        if started:
            ray.shutdown()
    sources = [folder for folder in sorted((out / SHARDS_FOLDER).glob("*")) if (folder / INDEX).is_file()]
    atlas = merge(out, sources) if sources else open_atlas(out)
    shutil.rmtree(out / SHARDS_FOLDER, ignore_errors=True)
    return BuildSummary(rendered=rendered, skipped=0, seconds=time.perf_counter() - began, count=atlas.count)


def _shard_folder(out: Path, part: int, parts: int) -> Path:
    return out / SHARDS_FOLDER / f"{part}-of-{parts}"


def _done_elsewhere(out: Path, wanted: Mapping[str, Any]) -> set[tuple[str, int]]:
    """Filters already in `out` (which must fit the request) or in a fitting leftover shard folder."""
    done: set[tuple[str, int]] = set()
    if (out / INDEX).exists():
        index = read_index(out)
        _check_same_atlas(out, index, wanted)
        done |= _present(out, index)
    else:
        check_new_atlas_folder(out)
    for folder in sorted((out / SHARDS_FOLDER).glob("*")):
        try:
            index = read_index(folder)
            _check_same_atlas(folder, index, wanted)
        except AtlasError:
            continue  # not ours: merge() reports it if it is in the way
        done |= _present(folder, index)
    return done


def _ray_shard(folder: str, request: dict[str, Any], shard: tuple[int, int], exclude: list[tuple[str, int]],
               driver_node: str, threads: int) -> tuple[BuildSummary, dict[str, bytes] | None]:
    """One Ray task: build shard K/N into `folder`; return its files when the driver is on another node."""
    import ray

    from featviz_core.memory import tune_heap

    tune_heap()  # a fresh worker process, before TensorFlow starts its threads
    if threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
    from featviz_core.models import ModelLoadError

    root = Path(folder)
    try:
        summary = build_atlas(root, shard=shard, exclude=[tuple(pair) for pair in exclude], **request)
    except (ModelLoadError, ValueError) as error:
        raise AtlasError(str(error)) from None
    if ray.get_runtime_context().get_node_id() == driver_node or not (root / INDEX).is_file():
        return summary, None
    files = {str(path.relative_to(root)): path.read_bytes()
             for path in root.rglob("*") if path.is_file() and ".tmp-" not in path.name}
    return summary, files


def _unpack(folder: Path, files: dict[str, bytes] | None) -> None:
    """Write a remote shard's files here, pictures before the index."""
    if not files:
        return
    for name in sorted(files, key=lambda name: name == INDEX):
        write_bytes_atomic(folder / name, files[name])
