"""Layer gallery: many filters of one layer, rendered in batches; sort, spot dead ones, open one in Explore."""

import streamlit as st

import cache
import live
import sidebar
import tiles
from featviz_core.ascent import Result

COLUMNS = 8
SIZES = (8, 16, 32, 64, 128)

st.title("Layer gallery")
selection = sidebar.valid_selection()
settings, layer = selection.settings, selection.layer
st.caption(f"Filters of **{layer.name}** ({layer.filters} in all), each grown from the same start with the "
           "sidebar's settings. Dead filters (output zero everywhere) are dimmed in a red frame.")

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
found = {index: cache.cached_result(settings.with_changes(filter=index)) for index in filters}
done = [result for result in found.values() if result is not None]


def grid(results: list[Result], interactive: bool) -> None:
    """Tiles in rows; with `interactive`, each has a button that opens it in Explore."""
    for row in range(0, len(results), COLUMNS):
        for column, result in zip(st.columns(COLUMNS), results[row:row + COLUMNS]):
            column.image(tiles.tile_image(result), width="stretch", caption=tiles.caption(result))
            if interactive and column.button("Open", key=f"open_{result.settings.filter}", type="tertiary",
                                             icon=":material/open_in_new:", width="stretch"):
                sidebar.request(filter=result.settings.filter)
                st.switch_page("app_pages/explore.py")


missing = [index for index, result in found.items() if result is None]
if missing:
    stop = st.empty()
    if st.button(f"Render {len(missing)} filter{'s' if len(missing) > 1 else ''} in batches",
                 type="primary", icon=":material/play_arrow:", key="gallery_render"):
        live.stop_button("gallery", settings, stop)
        progress, shown = st.container(), st.empty()

        def show(batch: list[Result]) -> None:
            done.extend(batch)
            with shown.container():
                grid(tiles.ordered(done, order), interactive=False)

        show([])
        live.render_filters(settings, missing, selection.model, progress, on_batch=show)
        st.rerun()

if done:
    shown_results = tiles.ordered(done, order)
    dead = sum(result.dead for result in shown_results)
    summary, download = st.columns([3, 1], vertical_alignment="center")
    summary.markdown(f"**{len(shown_results)}** of {len(filters)} filters rendered · **{dead}** dead "
                     f"({dead / len(shown_results):.0%})")
    download.download_button("Collage PNG", tiles.collage_png(shown_results), icon=":material/download:",
                             file_name=f"featviz_{settings.model}_{layer.name}_collage.png", mime="image/png",
                             on_click="ignore", key="gallery_collage", width="stretch")
    grid(shown_results, interactive=True)
elif not missing:
    st.info("No filters in this range.")
