"""Explore: one filter, rendered live; then the picture, its loss curve and every iteration on a scrubber."""

import streamlit as st

import cache
import charts
import live
import sidebar
import uploads
import views
from featviz_core.ascent import Result
from featviz_core.start_images import make_start_image

st.title("What does this filter look for?")
selection = sidebar.valid_selection()
settings = selection.settings
st.caption(f"**{settings.model}** · **{settings.layer}** · filter **{settings.filter}**: the image below is "
           "grown by gradient ascent to make this filter fire as strongly as it can.")

with st.expander("Start from your photo (DeepDream style)", icon=":material/add_photo_alternate:"):
    photo = uploads.photo_input("explore_photo")
    dream = st.toggle("Dream the whole layer (DeepDream objective) instead of this one filter", value=True,
                      key="explore_dream", help="DeepDream climbs the mean squared activation of every filter of "
                                                "the layer, so the photo grows whatever the layer sees in it.")
if photo is not None:
    settings = settings.with_changes(start="photo", start_photo=photo,
                                     objective="deepdream" if dream else settings.objective)

result = cache.cached_result(settings)
if result is None and live.stopped("explore", settings):
    result = live.partial_result(settings)
if result is None:
    stop = st.empty()
    live.stop_button("explore", settings, stop)
    result = live.render_one(settings, selection.model, st.container())
    stop.empty()
    live.forget_stop("explore")

key = views.result_key(settings, result.steps_run)
if result.cancelled:
    live.stopped_notice("explore", f"Stopped after {result.steps_run} of {settings.total_steps} steps: this is "
                                   "the picture so far.", "Render again")
if result.dead:
    st.warning("This filter is **dead** for this picture: its output fell to zero everywhere, so the ascent "
               "stopped. Deep layers have many such filters; try another filter or the robust preset.",
               icon=":material/heart_broken:")


@st.fragment
def scrubber(result: Result, key: str) -> None:
    """Image, scrubber and loss chart: moving the slider reruns only this part and recomputes nothing."""
    picture, chart = st.columns([2, 3], gap="large")
    with picture:
        slot = st.empty()
        step = views.step_slider(views.last_step(result), key=f"step_{key}")
        if st.toggle("Play the ascent", key=f"play_{key}", help="An animated GIF of every iteration."):
            slot.image(views.animation_gif(key, result), width="stretch", caption="the ascent, looping")
        else:
            slot.image(views.snapshot_at(result, step), width="stretch", caption=views.step_caption(result, step))
    with chart:
        figure = charts.loss_figure({"loss": result.losses}, result.octave_starts, result.octave_sizes, step=step)
        st.plotly_chart(figure, key=f"loss_{key}", config={"displayModeBar": False})
        st.caption("Each dotted line starts an octave: the image is enlarged and the ascent goes on at the new "
                   "size (labelled on top). The red line is the scrubber's step.")


if settings.start == "photo":
    original, dreamed = st.columns(2)
    start = make_start_image("photo", settings.final_size, settings.seed, settings.start_photo)
    original.image(start.astype("uint8"), width="stretch", caption="your photo (centre square)")
    dreamed.image(result.image, width="stretch", caption=f"after {result.steps_run} steps of "
                                                         f"{'DeepDream' if settings.objective == 'deepdream' else 'ascent'}")

scrubber(result, key)
views.result_metrics(result, cache.result_quality(result))
views.downloads(result, key)
