"""The view in the URL: model, layer, filter, preset and any advanced field changed from the preset.

The page itself is the URL path (st.navigation), so a copied link reproduces the view.
"""

from __future__ import annotations

from typing import Mapping

import streamlit as st

from dashboard.fields import BY_NAME
from featviz_core.settings import PRESETS

TEXT_KEYS = ("model", "layer", "preset")


def read(params: Mapping[str, str]) -> tuple[dict[str, object], list[str]]:
    """Sidebar values found in the URL, and a line for each one that could not be read."""
    values: dict[str, object] = {key: params[key] for key in TEXT_KEYS if params.get(key)}
    problems = []
    if values.get("preset", "custom") not in (*PRESETS, "custom"):
        problems.append(f"preset must be one of {', '.join(PRESETS)}; got {values.pop('preset')!r} in the link")
    if params.get("filter"):
        try:
            values["filter"] = int(params["filter"])
        except ValueError:
            problems.append(f"filter must be a whole number; got {params['filter']!r} in the link")
    for name, field in BY_NAME.items():
        if name in params:
            try:
                values[name] = field.parse(params[name])
            except ValueError as error:
                problems.append(f"{error}; got {params[name]!r} in the link")
    return values, problems


def write(values: Mapping[str, object]) -> None:
    """Put these values in the URL (only when they changed, to spare the browser history)."""
    wanted = {key: _text(value) for key, value in values.items()}
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
