"""The sidebar's values in st.session_state: from the URL on a session's first run, from pages'
requests, from presets; and back into the URL.

Every value lives under its widget's key (model, layer, filter, preset, adv_<field>), so widgets
and pages read the same state. The preset shown is derived from the field values: a preset's
numbers, or "custom" once any differs.
"""

from __future__ import annotations

from types import SimpleNamespace

import streamlit as st

from dashboard.controls import fields, urlstate
from dashboard.line import model_choice
from featviz_core import settings as core_settings
from featviz_core.settings import PRESETS, RenderSettings, matching_preset

CUSTOM = "custom"
DEFAULT_PRESET: str = getattr(core_settings, "DEFAULT_PRESET", "quick")

_PENDING = "_sidebar_pending"
_BASE_PRESET = "_sidebar_base_preset"
_URL_PROBLEMS = "_sidebar_url_problems"


def field_key(name: str) -> str:
    """The session-state key of an advanced field's widget."""
    return f"adv_{name}"


def request(**values: object) -> None:
    """Show these values (model, layer, filter, preset or an advanced field) from the next run on."""
    st.session_state.setdefault(_PENDING, {}).update(values)


def apply_pending() -> None:
    """Bring in the URL (first run), pages' requests and defaults, before any widget is drawn."""
    if _URL_PROBLEMS not in st.session_state:
        from_url, problems = urlstate.read(st.query_params)
        st.session_state[_URL_PROBLEMS] = problems
        st.session_state[_PENDING] = {**from_url, **st.session_state.get(_PENDING, {})}
    pending = st.session_state.pop(_PENDING, {})
    chosen_preset = pending.pop("preset", None)
    if chosen_preset in PRESETS:
        use_preset(chosen_preset)
    for name, value in pending.items():
        st.session_state[field_key(name) if name in fields.BY_NAME else name] = value
    st.session_state.setdefault("model", model_choice.default_model())
    st.session_state.setdefault(_BASE_PRESET, DEFAULT_PRESET if DEFAULT_PRESET in PRESETS else next(iter(PRESETS)))
    base = PRESETS[st.session_state[_BASE_PRESET]]
    for field in fields.FIELDS:
        st.session_state.setdefault(field_key(field.name), base.get(field.name, field.default()))
    st.session_state["preset"] = matching_preset_name()


def use_preset(name: str) -> None:
    """Set every field to the named preset's value."""
    st.session_state[_BASE_PRESET] = name
    for key, value in PRESETS[name].items():
        if key in fields.BY_NAME:
            st.session_state[field_key(key)] = value


def on_preset_change() -> None:
    """Widget callback: a preset was picked ("custom" keeps the values as they are)."""
    if st.session_state["preset"] in PRESETS:
        use_preset(st.session_state["preset"])


def field_values() -> dict[str, object]:
    """The advanced fields' current values, by RenderSettings field name."""
    return {field.name: _tidy(st.session_state[field_key(field.name)]) for field in fields.FIELDS}


def _tidy(value: object) -> object:
    return round(value, 6) if isinstance(value, float) else value


def hidden_preset_values() -> dict[str, object]:
    """Fields the base preset sets that have no widget here (the core may add some)."""
    base = PRESETS[st.session_state[_BASE_PRESET]]
    return {key: value for key, value in base.items() if key not in fields.BY_NAME}


def matching_preset_name() -> str:
    """The preset whose values these are, or "custom"."""
    defaults = {name: spec.default for name, spec in RenderSettings.__dataclass_fields__.items()}
    candidate = SimpleNamespace(**{**defaults, **hidden_preset_values(), **field_values()})
    return matching_preset(candidate) or CUSTOM  # type: ignore[arg-type]


def on_field_change() -> None:
    """Widget callback: an advanced field changed, so the preset may now be custom."""
    st.session_state["preset"] = matching_preset_name()


def take_url_problems() -> list[str]:
    """Lines about URL values that could not be used, once (shown on the session's first run)."""
    problems = st.session_state.get(_URL_PROBLEMS, [])
    st.session_state[_URL_PROBLEMS] = []
    return problems


def write_url(model: str, layer: str, page: str = "") -> None:
    """Model, layer, filter, the preset the values started from, and each field changed from it; the URL's
    parameters of `page` (named `page`_...: `urlstate.page_keys`) stay."""
    base_name = st.session_state[_BASE_PRESET]
    base = PRESETS[base_name]
    changed = {name: value for name, value in field_values().items()
               if value != base.get(name, fields.BY_NAME[name].default())}
    urlstate.write({"model": model, "layer": layer, "filter": st.session_state["filter"],
                    "preset": base_name, **changed, **urlstate.page_keys(page)})
