"""Joining atlases of the same model, weights and settings (e.g. shards) into one."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from featviz_core import __version__
from featviz_core.atlas.format import (INDEX, Atlas, AtlasError, identity_difference, identity_of, open_atlas,
                                       read_index, write_bytes_atomic, write_index_atomic)


def merge(out: Path | str, sources: Sequence[Path | str]) -> Atlas:
    """Join atlases of the same model, weights and settings (e.g. shards) into `out`.

    `out` may be one of the sources, or an existing atlas with the same identity (it is extended; its
    entries win). For a filter in several sources the first source's entry is kept. Pictures are
    copied before the index that lists them is written."""
    out = Path(out).expanduser().resolve()
    if not sources:
        raise AtlasError("merge needs at least one source atlas")
    roots = [Path(source).expanduser().resolve() for source in sources]
    if (out / INDEX).exists() and out not in roots:
        roots.insert(0, out)
    indexes = [(root, read_index(root)) for root in roots]
    for root in roots:
        open_atlas(root)  # every listed picture exists
    first_root, merged = indexes[0]
    for root, index in indexes[1:]:
        difference = identity_difference(identity_of(merged), identity_of(index))
        if difference is None and index["layers"] != merged["layers"]:
            difference = "layers differ"
        if difference:
            raise AtlasError(f"cannot merge {root} into {first_root}: {difference}")

    entries: dict[str, dict[str, Any]] = {}
    for root, index in indexes:
        for layer, filters in index["entries"].items():
            for key, data in filters.items():
                if key in entries.setdefault(layer, {}):
                    continue
                if root != out:
                    _copy(root / data["image"], out / data["image"])
                entries[layer][key] = data
    write_index_atomic(out, {**merged, "featviz_version": __version__, "entries": entries})
    return open_atlas(out)


def _copy(source: Path, target: Path) -> None:
    try:
        data = source.read_bytes()
    except OSError as error:
        raise AtlasError(f"cannot read {source}: {error.strerror}") from None
    write_bytes_atomic(target, data)
