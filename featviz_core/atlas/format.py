"""Atlases: precomputed pictures of many filters, readable without TensorFlow.

An atlas is a folder: one WebP picture per filter (`<layer>/<filter:04d>.webp`) and one
`index.json` that says which model, weights and settings made them and what each render measured.
Any JSON reader and image viewer can read it; the dashboard shows its pictures instantly.
Rendering lives in `atlas_render` (TensorFlow); this module only reads, writes and merges.

Writing is crash-safe: a picture is written to a temporary file and renamed into place before the
index lists it, and the index itself is rewritten the same way, so a killed run leaves a valid atlas.
"""

from __future__ import annotations

import functools
import io
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
from PIL import Image

from featviz_core import __version__
from featviz_core.layers import LayerInfo
from featviz_core.results import RenderRecord, Result, Snapshot
from featviz_core.settings import RenderSettings, upgrade_legacy_settings

FORMAT = "featviz-atlas/1"
INDEX = "index.json"
IMAGE_FORMAT = "webp"
WEBP_QUALITY = 88
ATLAS_ENV = "FEATVIZ_ATLAS"
PER_FILTER_FIELDS = ("model", "layer", "filter")  # RenderSettings fields that vary per entry, not per atlas
IDENTITY_KEYS = ("format", "model", "weights_sha256", "settings", "image_size", "image_format")
INDEX_KEYS = ("format", "model", "model_description", "weights_sha256", "featviz_version", "preset", "settings",
              "image_size", "image_format", "layers", "entries")


class AtlasError(ValueError):
    """An atlas folder is missing, damaged, foreign or does not fit the request; the message says what to do."""


@dataclass(frozen=True, kw_only=True)
class AtlasEntry(RenderRecord):
    """One rendered filter: its render's record, where its picture is and how the picture measured."""

    layer: str
    filter: int
    image_path: Path
    image_size: int  # the picture's side in pixels (the atlas' image size), known without reading the file
    act: float
    robust: float
    hf: float
    rendered_at: str
    featviz_version: str

    def image_bytes(self) -> bytes:
        """The picture file's bytes (WebP), e.g. for a browser."""
        return self.image_path.read_bytes()

    @property
    def mime_type(self) -> str:
        """The picture file's type, e.g. image/webp."""
        return f"image/{self.image_path.suffix.lstrip('.')}"

    def image(self) -> np.ndarray:
        """The picture as a uint8 RGB array (decoded from its file on every call)."""
        with Image.open(self.image_path) as picture:
            return np.asarray(picture.convert("RGB"))

    def result(self, settings: RenderSettings) -> Result:
        """This entry as a Result of `settings` (the atlas' own for its filter): its loss curve and one snapshot
        (no scrubber), and its picture decoded from the file only when something asks for its pixels, once."""
        picture = functools.cache(self.image)  # the result's picture and its snapshot's: one decode
        return Result(**{**self.record(), "losses": np.asarray(self.losses, dtype=np.float32)}, settings=settings,
                      image=picture, snapshots=(Snapshot(self.steps_run, picture),), cancelled=False)


@dataclass(frozen=True)
class Atlas:
    """An opened atlas. Immutable; `open_atlas` returns the same object until index.json changes."""

    root: Path
    model: str
    model_description: str
    weights_sha256: str
    featviz_version: str
    preset: str
    settings: dict[str, Any] = field(hash=False)  # RenderSettings fields shared by every entry
    image_size: int
    layers: tuple[LayerInfo, ...]  # the model's conv layers (rendered or not)
    items: tuple[tuple[tuple[str, int], AtlasEntry], ...] = field(repr=False)  # ((layer, filter), entry), sorted
    image_format: str = IMAGE_FORMAT

    @functools.cached_property
    def _by_key(self) -> dict[tuple[str, int], AtlasEntry]:
        return dict(self.items)

    @property
    def count(self) -> int:
        """How many filters have a picture."""
        return len(self.items)

    @property
    def entries(self) -> Mapping[tuple[str, int], AtlasEntry]:
        """(layer, filter) -> entry, in network order."""
        return self._by_key

    def entry(self, layer: str, filter: int) -> AtlasEntry | None:
        return self._by_key.get((layer, int(filter)))

    def filters_of(self, layer: str) -> list[int]:
        """The rendered filters of a layer, sorted."""
        return sorted(index for (name, index) in self._by_key if name == layer)

    def layer(self, name: str) -> LayerInfo | None:
        return next((info for info in self.layers if info.name == name), None)

    def settings_for(self, layer: str, filter: int) -> RenderSettings:
        """The settings a live render uses to give this atlas' picture of (layer, filter)."""
        return RenderSettings(**self.settings, model=self.model, layer=layer, filter=int(filter))

    def match(self, settings: RenderSettings) -> AtlasEntry | None:
        """The entry rendered with exactly these settings, else None (start photos never match)."""
        entry = self.entry(settings.layer, settings.filter)
        if entry is None or settings.start_photo is not None or settings.model != self.model:
            return None
        return entry if self.settings_for(settings.layer, settings.filter) == settings else None


# --- settings as JSON -----------------------------------------------------------------------

def settings_to_json(settings: RenderSettings, per_filter: bool = True) -> dict[str, Any]:
    """A RenderSettings as JSON-native values, without the start photo (and without model, layer and
    filter when `per_filter` is False: the atlas-wide part)."""
    values = {item.name: getattr(settings, item.name) for item in fields(settings) if item.name != "start_photo"}
    if not settings.channel_weights:
        values.pop("channel_weights")  # (a neuron group's weights: never part of an atlas)
    values["objective"] = str(settings.objective)
    if not per_filter:
        for name in PER_FILTER_FIELDS:
            values.pop(name)
    return values


# --- an entry as JSON -----------------------------------------------------------------------

def image_name(layer: str, filter: int) -> str:
    """Where a filter's picture lives, relative to the atlas folder."""
    return f"{layer}/{int(filter):04d}.{IMAGE_FORMAT}"


def _significant(value: float, digits: int = 5) -> float:
    return float(f"{float(value):.{digits}g}")


def entry_to_json(entry: AtlasEntry, settings: RenderSettings, weights_sha256: str) -> dict[str, Any]:
    """An index entry: `entry` with JSON-native values (floats rounded, losses to 5 significant digits),
    its picture named by image_name, and the settings and weights that rendered it (`entry_from_json`
    reads it back)."""
    peak = entry.photo_peak
    return {
        "image": image_name(entry.layer, entry.filter), "losses": [_significant(value) for value in entry.losses],
        "octave_starts": [int(value) for value in entry.octave_starts],
        "octave_sizes": [int(value) for value in entry.octave_sizes],
        "final_activation": _significant(entry.final_activation, 7), "act": _significant(entry.act, 7),
        "robust": _significant(entry.robust, 7), "hf": _significant(entry.hf, 7), "dead": bool(entry.dead),
        "steps_run": entry.steps_run, "seconds": round(float(entry.seconds), 4), "device": entry.device,
        "settings": settings_to_json(settings), "weights_sha256": weights_sha256,
        "featviz_version": entry.featviz_version, "rendered_at": entry.rendered_at,
        "rescue_steps": int(entry.rescue_steps), "photo_peak": None if peak is None else _significant(peak),
    }


def entry_from_json(root: Path, layer: str, filter: int, image_size: int, data: Mapping[str, Any]) -> AtlasEntry:
    """The entry of (layer, filter) in the atlas at `root`, from its index entry (an atlas older than rescue
    steps and photo peaks has neither); raises AtlasError when its picture is missing."""
    image_path = root / data["image"]
    if not image_path.is_file():
        raise AtlasError(f"{root} is damaged: {INDEX} lists {data['image']} but the file is missing; "
                         f"rerun the same `featviz atlas` command to render it again")
    peak = data.get("photo_peak")
    return AtlasEntry(
        layer=layer, filter=filter, image_path=image_path, image_size=image_size,
        losses=tuple(float(value) for value in data["losses"]),
        octave_starts=tuple(int(value) for value in data["octave_starts"]),
        octave_sizes=tuple(int(value) for value in data["octave_sizes"]),
        final_activation=float(data["final_activation"]), act=float(data["act"]), robust=float(data["robust"]),
        hf=float(data["hf"]), dead=bool(data["dead"]), seconds=float(data["seconds"]), device=str(data["device"]),
        rendered_at=str(data["rendered_at"]), featviz_version=str(data["featviz_version"]),
        rescue_steps=int(data.get("rescue_steps", 0)), photo_peak=None if peak is None else float(peak),
    )


# --- writing --------------------------------------------------------------------------------

def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file next to `path`, then rename it into place (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise AtlasError(f"cannot write {path}: {error.strerror}") from None


def write_image_atomic(path: Path, image: np.ndarray, size: int) -> None:
    """Resize a uint8 RGB picture to size x size (Lanczos) and write it as lossy WebP, atomically."""
    picture = Image.fromarray(np.asarray(image, dtype=np.uint8))
    if picture.size != (size, size):
        picture = picture.resize((size, size), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=6)
    write_bytes_atomic(path, buffer.getvalue())


def index_text(index: Mapping[str, Any]) -> str:
    """index.json's text: one line per header key and layer, one line per entry, so a diff shows
    which filters changed. The result is plain JSON."""
    lines = ["{"]
    for key in INDEX_KEYS[:-2]:
        lines.append(f"  {json.dumps(key)}: {json.dumps(index[key], ensure_ascii=False)},")
    layers = [json.dumps(layer, ensure_ascii=False) for layer in index["layers"]]
    lines.append('  "layers": [' + ("\n    " + ",\n    ".join(layers) + "\n  " if layers else "") + "],")
    blocks = []
    for layer, entries in index["entries"].items():
        rows = [f"      {json.dumps(str(key))}: {json.dumps(value, ensure_ascii=False)}" for key, value in entries.items()]
        blocks.append(f"    {json.dumps(layer)}: {{\n" + ",\n".join(rows) + "\n    }")
    lines.append('  "entries": {' + ("\n" + ",\n".join(blocks) + "\n  " if blocks else "") + "}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_index_atomic(root: Path, index: Mapping[str, Any]) -> None:
    """Rewrite root/index.json atomically; entries are put in network order and filter order."""
    order = {layer["name"]: position for position, layer in enumerate(index["layers"])}
    entries = {
        layer: {str(key): filters[key] for key in sorted(filters, key=int)}
        for layer, filters in sorted(index["entries"].items(), key=lambda item: order.get(item[0], len(order)))
        if filters
    }
    write_bytes_atomic(Path(root) / INDEX, index_text({**index, "entries": entries}).encode("utf-8"))


# --- reading --------------------------------------------------------------------------------

def read_index(root: Path) -> dict[str, Any]:
    """root/index.json as a dict, checked to be a featviz atlas index (raises AtlasError)."""
    root = Path(root)
    if not root.is_dir():
        raise AtlasError(f"{root} is not a featviz atlas: no such folder")
    path = root / INDEX
    if not path.is_file():
        raise AtlasError(f"{root} is not a featviz atlas: it has no {INDEX}")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AtlasError(f"{path} is damaged ({_reason(error)}); rebuild it or remove the folder") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        found = index.get("format") if isinstance(index, dict) else None
        raise AtlasError(f"{root} is not a featviz atlas: its {INDEX} has format {found!r}, not {FORMAT!r}")
    missing = [key for key in INDEX_KEYS if key not in index]
    if missing:
        raise AtlasError(f"{path} is damaged: it lacks {', '.join(missing)}; rebuild it or remove the folder")
    return _upgraded(index)


def _upgraded(index: dict[str, Any]) -> dict[str, Any]:
    """An index whose settings (atlas-wide and per entry) use today's field names (an atlas of
    featviz 0.3 stores raw_input instead of preprocessing); the file itself is left as it is."""
    if isinstance(index["settings"], dict):
        index["settings"] = upgrade_legacy_settings(index["settings"])
    if isinstance(index["entries"], dict):
        for filters in index["entries"].values():
            for data in filters.values() if isinstance(filters, dict) else ():
                if isinstance(data, dict) and isinstance(data.get("settings"), dict):
                    data["settings"] = upgrade_legacy_settings(data["settings"])
    return index


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON at line {error.lineno}"
    return getattr(error, "strerror", None) or type(error).__name__


def open_atlas(path: Path | str) -> Atlas:
    """Open an atlas folder (raises AtlasError with one line when it is not a usable atlas).

    Cached per (folder, index.json's modification time and size): call it freely; a rewritten index
    is read again. Image files are checked to exist when the index is read, not on every call."""
    root = Path(path).expanduser().resolve()
    try:
        stat = (root / INDEX).stat()
    except OSError:
        read_index(root)  # raises the right message
        raise
    return _open_cached(root, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _open_cached(root: Path, mtime_ns: int, size: int) -> Atlas:
    return _atlas_from_index(root, read_index(root))


def _atlas_from_index(root: Path, index: dict[str, Any]) -> Atlas:
    path = root / INDEX
    try:
        layers = tuple(LayerInfo.from_json(item) for item in index["layers"])
        settings = dict(index["settings"])
        image_size = int(index["image_size"])
        RenderSettings(**settings, model=str(index["model"]), layer="any", filter=0)  # they must be valid
        items = []
        for layer, filters in index["entries"].items():
            for key, data in filters.items():
                items.append(((str(layer), int(key)), entry_from_json(root, str(layer), int(key), image_size, data)))
    except (KeyError, TypeError, ValueError) as error:
        detail = f"missing {error}" if isinstance(error, KeyError) else str(error).splitlines()[0]
        made_by = index.get("featviz_version")
        if made_by != __version__:
            detail += f"; it was made by featviz {made_by}, this is featviz {__version__}"
        raise AtlasError(f"{path} is damaged ({detail}); rebuild it or remove the folder") from None
    order = {info.name: position for position, info in enumerate(layers)}
    items.sort(key=lambda item: (order.get(item[0][0], len(order)), item[0][0], item[0][1]))
    return Atlas(root=root, model=str(index["model"]), model_description=str(index["model_description"]),
                 weights_sha256=str(index["weights_sha256"]), featviz_version=str(index["featviz_version"]),
                 preset=str(index["preset"]), settings=settings, image_size=image_size,
                 layers=layers, items=tuple(items), image_format=str(index["image_format"]))


# --- finding --------------------------------------------------------------------------------

def default_atlas_folders() -> list[Path]:
    """Where to look for atlases: the repository's atlas/ folder (when it exists) and the folders in
    FEATVIZ_ATLAS (os.pathsep-separated; each may be an atlas or a folder of atlases)."""
    folders = []
    repository = Path(__file__).resolve().parents[2] / "atlas"
    if repository.is_dir():
        folders.append(repository)
    folders += [Path(part).expanduser() for part in os.environ.get(ATLAS_ENV, "").split(os.pathsep) if part.strip()]
    return folders


def find_atlases(folders: Iterable[Path]) -> tuple[list[Atlas], list[str]]:
    """Every atlas in the folders (a folder that is an atlas itself, or its subfolders that hold an
    index.json), and one line per problem (a missing folder, a damaged or foreign atlas)."""
    atlases: dict[Path, Atlas] = {}
    problems: list[str] = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            problems.append(f"{folder}: no such folder")
            continue
        candidates = [folder] if (folder / INDEX).is_file() else sorted(
            child for child in folder.iterdir() if child.is_dir() and (child / INDEX).is_file())
        for candidate in candidates:
            try:
                atlas = open_atlas(candidate)
            except AtlasError as error:
                problems.append(str(error))
            else:
                atlases.setdefault(atlas.root, atlas)
    return list(atlases.values()), problems


# --- merging --------------------------------------------------------------------------------

def identity_of(index: Mapping[str, Any]) -> dict[str, Any]:
    """What must be equal for two atlases to be one: format, model, weights, settings, image size and format."""
    return {key: index[key] for key in IDENTITY_KEYS}


def identity_difference(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> str | None:
    """A short description of the first difference in the identity keys both have, or None."""
    for key in IDENTITY_KEYS:
        if key not in mine or key not in theirs or mine[key] == theirs[key]:
            continue
        if key == "settings":
            names = sorted(set(mine[key]) | set(theirs[key]))
            changed = [f"{name} {mine[key].get(name)!r} vs {theirs[key].get(name)!r}"
                       for name in names if mine[key].get(name) != theirs[key].get(name)]
            return "settings differ: " + ", ".join(changed)
        return f"{key} differs: {mine[key]!r} vs {theirs[key]!r}"
    return None


def iter_entries_json(index: Mapping[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(layer, filter, entry dict) for every entry of a raw index."""
    for layer, filters in index["entries"].items():
        for key, data in filters.items():
            yield layer, int(key), data
