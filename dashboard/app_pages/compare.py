"""Compare start images: the same filter grown from 2-4 start images, side by side, on one scrubber."""

import streamlit as st

from dashboard.controls import sidebar
from dashboard.display import charts, similarity, views
from dashboard.line import renders
from dashboard.photos import uploads
from featviz_core import imaging
from featviz_core.results import Result
from featviz_core.settings import RenderSettings
from featviz_core.ascent.start_images import make_start_image

START_WIDTH = 160
STARTS = {"noise": "Noise (classic)", "gray": "Uniform gray", "gradient": "Colour gradient", "photo": "Your photo"}

st.title("Does the start image matter?")
selection = sidebar.valid_selection()
settings = selection.settings
st.caption(f"**{settings.layer}** · filter **{settings.filter}**, grown from different start images with the "
           "same settings. The article this project grew from found that the start image becomes irrelevant.")

kinds = st.pills("Start images (two to four)", list(STARTS), selection_mode="multi", format_func=STARTS.get,
                 default=["noise", "gray", "gradient"], key="compare_starts", persist_state="session") or []
photo = uploads.photo_input("compare_photo") if "photo" in kinds else None
if "photo" in kinds and photo is None:
    kinds = [kind for kind in kinds if kind != "photo"]
if not 2 <= len(kinds) <= 4:
    st.info("Pick two to four start images.", icon=":material/touch_app:")
    st.stop()

runs = {kind: settings.with_changes(start=kind, start_photo=photo if kind == "photo" else None) for kind in kinds}

st.subheader("Start images")
for column, (kind, run) in zip(st.columns(len(runs)), runs.items()):
    start = make_start_image(kind, settings.octave_sizes[0], settings.seed, run.start_photo)
    column.image(imaging.resize(imaging.deprocess(start), settings.final_size), width=START_WIDTH,
                 caption=f"{STARTS[kind]} · {settings.octave_sizes[0]} px, contrast-stretched")

shown = renders.pictures("compare", runs, renders.Ask(labels=STARTS, wait_for_click=True))
results = {kind: item.result for kind, item in shown.items()}


@st.fragment
def side_by_side(results: dict[str, Result], columns: int, schedule: RenderSettings) -> None:
    """One scrubber moves every column to the same step; the chart marks it on every curve, and a click on a
    curve moves the scrubber there. `columns` keeps each picture's width when some runs were stopped before
    they began; the runs' shared `schedule` places every octave mark, even when the first run was stopped early."""
    st.subheader("Results")
    last = max(views.last_step(result) for result in results.values())
    slots = [column.empty() for column in st.columns(columns)]
    slider = f"compare_step_{views.result_key(*(r.settings for r in results.values()))}"
    step = views.step_slider(last, key=slider)
    for slot, (kind, result) in zip(slots, results.items()):
        slot.image(views.snapshot_at(result, step), width="stretch",
                   caption=f"{STARTS[kind]}: {views.step_caption(result, step)}")
    figure = charts.loss_figure({STARTS[kind]: result.losses for kind, result in results.items()},
                                schedule.octave_starts, schedule.octave_sizes, step=step)
    views.plot_losses(figure, "compare_losses", scrubber=slider)


side_by_side(results, len(runs), settings)

st.subheader("How alike are they?")
if len(results) < 2:
    st.info("Only one start image has a picture: render the rest to compare them.", icon=":material/info:")
    st.stop()
pairs = similarity.pairwise({STARTS[kind]: result.image for kind, result in results.items()})
activations = {STARTS[kind]: result.final_activation for kind, result in results.items()}
left, right = st.columns(2)
left.dataframe(pairs, hide_index=True, width="stretch")
right.dataframe([{"start": STARTS[kind], "final activation": result.final_activation,
                  "dead": "yes" if result.dead else "no"} for kind, result in results.items()],
                hide_index=True, width="stretch",
                column_config={"final activation": st.column_config.NumberColumn(format="%.2f")})
st.markdown(similarity.summary(pairs, activations, {STARTS[kind]: result.image for kind, result in results.items()}))
