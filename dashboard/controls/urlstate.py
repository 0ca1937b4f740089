"""The view in the URL: model, layer, filter, preset and any advanced field changed from the preset, and a
page's own parameters (named after the page: photo_layer, ...).

The page itself is the URL path (st.navigation), so a copied link reproduces the view.
"""

from __future__ import annotations

from typing import Callable, Mapping

import streamlit as st

from dashboard.controls.fields import BY_NAME
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


def page_keys(page: str) -> dict[str, str]:
    """The URL's parameters that belong to `page` (its url_path): those named `page`_..., which the page
    itself reads and writes (`linked`, `link`)."""
    prefix = f"{page}_"
    return {key: value for key, value in st.query_params.to_dict().items() if page and key.startswith(prefix)}


def linked(key: str, parse: Callable[[str], object | None]) -> None:
    """Give widget `key` the value of the URL's parameter of the same name, read by `parse` (None: not a
    usable value), when the widget has none yet in this session (a page's own parameters: `page_keys`)."""
    text = st.query_params.get(key)
    if key not in st.session_state and text is not None:
        value = parse(text)
        if value is not None:
            st.session_state[key] = value


def whole_number(text: str) -> int | None:
    """A URL parameter read as a whole number, or None."""
    try:
        return int(text)
    except ValueError:
        return None


def link(values: Mapping[str, object | None]) -> None:
    """Put a page's own parameters in the URL (only those that changed; None takes one out)."""
    for key, value in values.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != _text(value):
            st.query_params[key] = _text(value)


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
