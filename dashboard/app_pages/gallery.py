"""Layer gallery: many filters of one layer, rendered in batches; sort, spot dead ones, open one in Explore."""

import streamlit as st

from dashboard.controls import sidebar
from dashboard.display import tiles, views
from dashboard.line import renders
from dashboard.photos import examples_panel
from featviz_core import catalog

COLUMNS = 8
SIZES = (8, 16, 32, 64, 128)

st.title("Layer gallery")
selection = sidebar.valid_selection()
settings, layer = selection.settings, selection.layer
st.caption(f"Filters of **{layer.name}** ({layer.filters} in all), each grown from the same start with the "
           "sidebar's settings. A dead filter (output zero everywhere) is a plain tile that says whether it fires on "
           "the sample photos.")

counts = [size for size in SIZES if size < layer.filters] + [layer.filters]
if st.session_state.get("gallery_count") not in counts:
    st.session_state["gallery_count"] = counts[min(1, len(counts) - 1)]
if st.session_state.get("gallery_first", 0) >= layer.filters:
    st.session_state["gallery_first"] = 0
how_many, first_box, order_box = st.columns([1, 1, 2], vertical_alignment="bottom")
count = how_many.selectbox("Filters", counts, key="gallery_count", persist_state="session")
first = first_box.number_input("From filter", min_value=0, max_value=layer.filters - 1, step=count,
                               key="gallery_first", persist_state="session")
order = order_box.segmented_control("Sort by", tiles.ORDERS, default=tiles.ORDERS[0], key="gallery_order",
                                    required=True, persist_state="session")
filters = list(range(first, min(first + count, layer.filters)))
examples = None
if layer.kind != "Dense" and st.toggle("Dataset examples under each tile", key="gallery_examples",
                                       help="The real image patches that excite each filter most."):
    source = examples_panel.image_set_control()
    if source is not None:
        found = examples_panel.cached_layer(settings, source)
        if found is None and st.button("Find examples", icon=":material/image_search:", key="gallery_find_examples",
                                       help="One pass of the image set through the model scores every filter."):
            found = examples_panel.find_layer(settings, source)
        if found is not None:
            examples = (found, source.image_set())
            st.caption(examples_panel.timing_caption(found, examples[1]))
runs = {str(index): settings.with_changes(filter=index) for index in filters}


def tile(item: renders.Shown) -> object:
    """A tile's picture: an atlas file is sent as it is (not decoded, not re-encoded), else the array."""
    entry = item.entry
    if entry is None:
        return tiles.tile_image(item.result)
    if entry.dead:
        return tiles.dead_tile(entry.image_size, entry.photo_peak)
    return views.data_url(entry.image_bytes(), entry.mime_type)


def grid(items: list[renders.Shown], interactive: bool) -> None:
    """Tiles in rows; with `interactive`, each has a button that opens it in Explore."""
    for row in range(0, len(items), COLUMNS):
        for column, item in zip(st.columns(COLUMNS), items[row:row + COLUMNS]):
            column.image(tile(item), width="stretch", caption=tiles.caption(item.result))
            index = item.result.settings.filter
            if examples is not None:
                column.image(examples_panel.strip(*examples, index), width="stretch",
                             caption=examples_panel.strip_caption(examples[0], index))
            if interactive and column.button("Open", key=f"open_{index}", type="tertiary",
                                             icon=":material/open_in_new:", width="stretch"):
                sidebar.request(filter=index)
                st.switch_page("app_pages/explore.py")


shown_grid = st.empty()


def show(found: dict[str, renders.Shown]) -> None:
    """Draw the tiles rendered so far while the rest renders (no buttons until it is done)."""
    with shown_grid.container():
        grid(tiles.ordered(found.values(), order), interactive=False)


progress = st.container()  # above the Render button: where each batch waits and renders
found = renders.pictures("gallery", runs, renders.Ask(noun="filter", batched=True, where=progress, on_batch=show))
if found:
    shown = tiles.ordered(found.values(), order)
    dead = sum(item.result.dead for item in shown)
    precomputed = sum(item.precomputed for item in shown)
    summary, download = st.columns([3, 1], vertical_alignment="center")
    summary.markdown(f"**{len(shown)}** of {len(filters)} filters shown · **{dead}** dead ({dead / len(shown):.0%})"
                     + (f" · {precomputed} precomputed in the atlas" if precomputed else ""))
    download.download_button("Collage PNG", lambda: tiles.collage_png([item.result for item in shown]),
                             icon=":material/download:", file_name=f"featviz_{catalog.short_name(settings.model)}_{layer.name}_collage.png",
                             mime="image/png", on_click="ignore", key="gallery_collage", width="stretch")
    grid(shown, interactive=True)
elif not filters:
    st.info("No filters in this range.")
