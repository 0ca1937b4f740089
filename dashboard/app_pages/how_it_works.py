"""How it works: the method in short, with the current settings' numbers filled in."""

import streamlit as st

from dashboard.controls import sidebar
from dashboard.display import charts, formulas, views
from dashboard.line import renders
from featviz_core import imaging
from featviz_core.ascent.start_images import make_start_image

st.title("How it works")
selection = sidebar.valid_selection()
s, layer = selection.settings, selection.layer
names = [info.name for info in selection.model.layers]
depth = names.index(layer.name) + 1
sizes = " → ".join(f"{size}" for size in s.octave_sizes)

st.markdown(f"""
A convolutional network turns an image into stacks of **feature maps**: each **filter** of a layer slides
over the image and answers "how much of *my* pattern is here?". To see what a filter looks for, we turn the
question around and **grow an image that makes it fire as strongly as possible**, keeping the network's
weights frozen. With your settings that is filter **{s.filter}** of **{layer.name}**
({layer.filters} filters) in **{s.model}**.
""")

st.subheader("1 · The loss: how strongly the filter fires")
st.markdown(f"Your objective is `{s.objective}`. Its terms: {formulas.objective_words(s.objective)}.")
st.latex(formulas.objective_latex(s.objective, layer.name, s.filter))
st.markdown(f"Only the network up to **{layer.name}** is run: it is layer {depth} of the {len(names)} "
            "listed, and the layers after it cannot change its output, so they are **skipped**, which saves "
            "time and memory.")

st.subheader("2 · Gradient ascent: nudge the pixels uphill")
st.markdown("Back-propagation gives the gradient of the loss with respect to every pixel. Each step divides it "
            "by its root mean square (so the step length doesn't depend on the layer's scale) and adds it:")
st.latex(r"x \leftarrow x + \eta\,\frac{g}{\sqrt{\overline{g^2}} + \varepsilon},\qquad g = \nabla_x L(x),"
         r"\qquad \eta = %g" % s.step_size)
modern = s.optimizer != "rms" or s.parameterization != "pixels"
st.markdown(f"Your settings take **{s.steps_per_octave} steps per octave** with step size **{s.step_size:g}**"
            + (f" (with **{s.optimizer}** steps on a **{s.parameterization}** image, as Lucid does)" if modern else "")
            + ". The ascent starts from noise (the classic), uniform gray or a gradient:")
for column, kind in zip(st.columns(6), ("noise", "gray", "gradient")):
    start = make_start_image(kind, s.octave_sizes[0], s.seed)
    column.image(imaging.deprocess(start), width="stretch", caption=f"{kind} start")

st.subheader("3 · Octaves: start small, grow the image")
st.markdown(f"Large patterns are found more easily in a small image, so the ascent runs **{len(s.octave_sizes)} octaves** "
            f"at **{sizes} px** (each {s.upscale_factor:g}× the one before): **{s.total_steps} steps** in all. "
            "Between octaves the image is enlarged; "
            + (f"the last **{s.final_steps} steps** are taken at the shown size, **{s.final_size} px**"
               if s.final_steps else f"at the end it is resized to **{s.final_size} px** with no more steps")
            + (", and the step size grows with the image, so that a step changes a large image as much as a "
               "small one." if s.size_scaled_steps else "."))
st.plotly_chart(charts.schedule_figure(s.octave_sizes, s.octave_steps, s.final_size),
                key="schedule", config={"displayModeBar": False})

runs, labels = {"filter": s}, {"filter": "Rendering"}
found = renders.pictures("how", runs, renders.Ask(button="Render this filter to see it grow", noun="filter",
                                                 labels=labels, live_only=True))
shown = found.get("filter")
if shown is not None:
    result = shown.result
    moments = [*result.octave_starts, views.last_step(result)]
    for column, step in zip(st.columns(len(moments)), moments):
        column.image(views.snapshot_at(result, step), width="stretch", caption=views.step_caption(result, step))

st.subheader("4 · Dead filters")
st.markdown("Many filters of deep layers output zero (their ReLU is off) for the start image. Then the gradient "
            "is zero too and the ascent cannot start: the filter is **dead** for this picture, and the classic "
            "script dropped it."
            + (f" Your settings' **{s.warmup_steps} warm-up steps** climb the pre-activation first; ReLUs that would "
               "block the whole gradient let it through where it lifts a unit towards firing; and a picture that "
               "still does not fire climbs the filter's strongest position until it does, so most get going"
               if s.rescues_dead_filters else "")
            + ". A filter that stays dead is shown as a plain tile that says so, with whether it fires on the "
              "sample photos (then the ascent failed, not the filter).")
