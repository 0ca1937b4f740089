"""Explore: one filter. A precomputed picture opens at once; a live render shows every iteration on a scrubber."""

import streamlit as st

from dashboard.controls import sidebar
from dashboard.display import tiles, views
from dashboard.line import model_choice, renders
from dashboard.photos import examples_panel, uploads
from featviz_core import catalog
from featviz_core.ascent.start_images import make_start_image
from featviz_core.results import Result

_LIVE = "_explore_live"

st.title("What does this filter look for?")
selection = sidebar.valid_selection()
settings = selection.settings
st.caption(f"**{catalog.short_name(settings.model)}** · **{settings.layer}** · filter **{settings.filter}**: the image below is "
           "grown by gradient ascent to make this filter fire as strongly as it can.")

with st.expander("Start from your photo (DeepDream style)", icon=":material/add_photo_alternate:"):
    photo = uploads.photo_input("explore_photo")
    dream = st.toggle("Dream the whole layer (DeepDream objective) instead of this one filter", value=True,
                      key="explore_dream", help="DeepDream climbs the mean squared activation of every filter of "
                                                "the layer, so the photo grows whatever the layer sees in it.")
if photo is not None:
    settings = settings.with_changes(start="photo", start_photo=photo,
                                     objective="deepdream" if dream else settings.objective)


def _go_live(wanted) -> None:
    st.session_state[_LIVE] = wanted


runs, labels = {"picture": settings}, {"picture": "Rendering"}
found = renders.pictures("explore", runs, renders.Ask(button=False, labels=labels,
                                                     live_only=st.session_state.get(_LIVE) == settings))
shown = found.get("picture")
if shown is None:
    st.stop()  # stopped before the first step (the note above offers to render again), or it could not render
result = shown.result
key = views.result_key(settings, result.steps_run, shown.precomputed)
if result.dead and result.settings.drops_dead_filters:
    st.warning("This filter is **dead** for this picture: its output fell to zero everywhere, so the ascent "
               "stopped. Deep layers have many such filters; try another filter or the robust preset, which "
               "keeps climbing a dead filter's pre-activation. This filter " + result.dead_note + ".",
               icon=":material/heart_broken:")
elif result.dead:
    st.warning("This picture does **not make the filter fire**: its output on the finished picture is zero "
               "everywhere, even after climbing its strongest pre-activation. This filter " + result.dead_note
               + ".", icon=":material/heart_broken:")


@st.fragment
def scrubber(result: Result, key: str) -> None:
    """Image, scrubber and loss chart: moving the slider reruns only this part and recomputes nothing."""
    picture, chart = st.columns([2, 3], gap="large")
    with picture:
        slot = st.empty()
        slider = f"step_{key}"
        step = views.step_slider(views.last_step(result), key=slider)
        if st.toggle("Play the ascent", key=f"play_{key}", help="An animated GIF of every iteration."):
            slot.image(views.animation_gif(key, result), width="stretch", caption="the ascent, looping")
        else:
            slot.image(views.snapshot_at(result, step), width="stretch", caption=views.step_caption(result, step))
    with chart:
        views.loss_chart(result, key, step, scrubber=slider)


def precomputed(shown: renders.Shown, key: str) -> None:
    """The atlas' picture and loss curve, with live rendering one click away."""
    entry = shown.entry
    note, button = st.columns([4, 1], vertical_alignment="center")
    note.info(f"**Precomputed** in the atlas with these exact settings ({selection.model.atlas.main.preset} preset, "
              f"{entry.steps_run} steps, rendered {entry.rendered_at[:10]} on {entry.device}, featviz "
              f"{entry.featviz_version}): a live render gives the same picture, with every iteration.",
              icon=":material/photo_library:")
    button.button("Render live", icon=":material/play_arrow:", key="explore_live", type="primary", width="stretch",
                  disabled=not model_choice.can_render_live(settings.model),
                  on_click=_go_live, args=(settings,),
                  help="Render it now on this server: live preview, then the scrubber and the animation.")
    picture, chart = st.columns([2, 3], gap="large")
    size = (entry.image_size, entry.image_size)
    if shown.result.dead:  # its picture shows nothing: a plain tile that says so
        picture.image(tiles.dead_tile(entry.image_size, entry.photo_peak), width="stretch",
                      caption=f"dead: {shown.result.dead_note}")
    else:
        with picture:  # the stored file as it is, undecoded, shown with the title (no wait for st.image's code)
            views.instant_picture(entry.image_bytes(), entry.mime_type, size,
                                  alt=f"{settings.layer} filter {settings.filter}",
                                  caption=f"finished picture · stored at {size[0]} px")
    with chart:
        views.loss_chart(shown.result, key)


if settings.start == "photo":
    original, dreamed = st.columns(2)
    start = make_start_image("photo", settings.final_size, settings.seed, settings.start_photo)
    original.image(start.astype("uint8"), width="stretch", caption="your photo (centre square)")
    dreamed.image(result.image, width="stretch", caption=f"after {result.steps_run} steps of "
                                                         f"{'DeepDream' if settings.objective.single_target == 'deepdream' else 'ascent'}")

if shown.precomputed:
    precomputed(shown, key)
else:
    scrubber(result, key)
if result.variants:
    st.markdown(f"**All {len(result.variants) + 1} variants** of filter {settings.filter} (seeds {settings.seed} to "
                f"{settings.seed + len(result.variants)}), pushed apart by the objective's diversity term:")
    for column, (index, image) in zip(st.columns(len(result.variants) + 1), enumerate([result.image, *result.variants])):
        column.image(image, width="stretch", caption=f"variant {index + 1}")
views.result_metrics(shown, key)
views.downloads(shown, key)


def dataset_examples() -> None:
    """The real images that excite this filter most, found for the whole layer on demand."""
    st.subheader("Real images that excite it", divider="gray")
    if selection.layer.kind == "Dense":
        st.caption("Dataset examples are for conv layers: pick one in the sidebar.")
        return
    source = examples_panel.image_set_control()
    if source is None:
        return
    st.caption(source.summary)
    found = examples_panel.cached_layer(settings, source)
    if found is None and st.button("Find examples", icon=":material/image_search:", key="explore_examples",
                                   help="Runs every image of the set through the model once and keeps, for every "
                                        f"filter of {settings.layer}, the {examples_panel.TOP} strongest patches."):
        found = examples_panel.find_layer(settings, source)
    if found is not None:
        examples_panel.filter_examples(found, source.image_set(), settings.filter)
        st.caption(examples_panel.timing_caption(found, source.image_set()))


dataset_examples()
