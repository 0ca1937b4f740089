"""One layer of a model as featviz lists it: the record the model registry, the atlas index and the
dashboard all use. TensorFlow-free, so that an atlas' layers can be browsed before (or without) it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class LayerInfo:
    """One visualizable layer: its name, how many filters (or classes) it has, its block and its Keras kind."""

    name: str
    filters: int
    block: str
    kind: str

    def to_json(self) -> dict[str, Any]:
        """The layer as an atlas index lists it."""
        return {"name": self.name, "filters": self.filters, "kind": self.kind, "block": self.block}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayerInfo:
        """A layer from an atlas index's list (raises KeyError, TypeError or ValueError when it is damaged)."""
        return cls(str(data["name"]), int(data["filters"]), str(data["block"]), str(data["kind"]))
