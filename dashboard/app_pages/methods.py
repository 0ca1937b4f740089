"""Methods: the same filter rendered by 2-4 methods side by side, with their loss curves and quality figures."""

import numpy as np
import streamlit as st

from dashboard.controls import sidebar
from dashboard.display import charts, views
from dashboard.line import quality_figures, renders
from featviz_core.results import Quality, Result
from featviz_core.settings import PRESETS, RenderSettings, preset

CUSTOM = sidebar.CUSTOM
LABELS = {name: name for name in sorted(PRESETS)} | {CUSTOM: "custom (the sidebar's settings)"}
SHARED = ("model", "layer", "filter", "start", "start_photo", "seed", "final_size")
MEASURES = {
    "final activation": "the method's objective on the finished picture as the render reported it (for the "
                        "channel objective, act in the renderer's precision).",
    "act": "the filter's mean activation on the shown image, fed the model's own way: the same yardstick for all.",
    "robust": "activation kept under 16 small random jitters, scalings and rotations of the image, divided by act: "
              "near 1 = real structure, low = fragile high-frequency noise that only works pixel-exact.",
    "hf": "share of the image's spectral power above half the Nyquist frequency: lower = less noise.",
    "dead": "the filter's output fell to zero, so the ascent stopped (at the step shown) or the picture shows nothing.",
    "seconds": "time the render took on this server.",
}


def method_settings(name: str, chosen: RenderSettings) -> RenderSettings:
    """The sidebar's settings (custom), or a preset with the sidebar's model, layer, filter, start, seed and size."""
    if name == CUSTOM:
        return chosen
    return preset(name, **{field: getattr(chosen, field) for field in SHARED})


def method_caption(name: str, settings: RenderSettings) -> str:
    """e.g. 'robust: fourier-bounded · adam-damped · standard transforms · warm-up 6 · others quiet x4 · 26 steps'."""
    pieces = [settings.parameterization, settings.optimizer]
    if settings.objective.single_target != "channel":
        pieces.insert(0, str(settings.objective))
    if settings.preprocessing != "model":
        pieces.append("raw pixels" if settings.preprocessing == "raw" else f"{settings.preprocessing} input")
    if settings.transforms != "none":
        pieces.append(f"{settings.transforms} transforms")
    if settings.warmup_steps:
        pieces.append(f"warm-up {settings.warmup_steps}")
    if settings.rivals:
        pieces.append(f"others quiet x{settings.rivals:g}")
    pieces.append(f"{settings.total_steps} steps")
    return f"{name}: {' · '.join(pieces)}"


def dead_note(result: Result, quality: Quality) -> str:
    """'no', 'at step N' when the ascent stopped dead, or 'yes' when only the shown picture is dead."""
    if result.dead:
        return f"at step {result.steps_run}"
    return "yes" if quality.dead else "no"


def verdict(results: dict[str, Result], qualities: dict[str, Quality]) -> str:
    """Which live method scores best on each measure, and which ones died."""
    alive = [name for name in results if not (results[name].dead or qualities[name].dead)]
    dead = [name for name in results if name not in alive]
    lines = []
    if alive:
        strongest = max(alive, key=lambda name: qualities[name].act)
        steadiest = min(alive, key=lambda name: abs(np.log(max(qualities[name].robust, 1e-6))))
        cleanest = min(alive, key=lambda name: qualities[name].hf)
        lines.append(f"Strongest activation: **{strongest}** (act {qualities[strongest].act:.3g}); steadiest under "
                     f"jitter: **{steadiest}** (robust {qualities[steadiest].robust:.2f}); least high-frequency "
                     f"noise: **{cleanest}** (hf {qualities[cleanest].hf:.3f}).")
    if dead:
        lines.append(f"Dead here: **{', '.join(dead)}**: try another filter, seed or final size.")
    lines.append("A picture that keeps its activation when nudged, with little pixel noise, shows structure the "
                 "filter really responds to.")
    return " ".join(lines)


st.title("Which method draws it best?")
selection = sidebar.valid_selection()
settings = selection.settings
st.caption(f"**{settings.layer}** · filter **{settings.filter}**, rendered by different methods. Each preset keeps "
           f"its own method and schedule; model, layer, filter, start image, seed and final size "
           f"(**{settings.final_size} px**) come from the sidebar.")

chosen = st.multiselect("Methods (two to four)", list(LABELS), default=["classic", "robust"], format_func=LABELS.get,
                        max_selections=4, key="methods_chosen", persist_state="session",
                        help="classic: the original Keras script. quick: a fast pixel-space ascent. "
                             "robust: Lucid-style Fourier image, Adam and random transforms.")
runs: dict[str, RenderSettings] = {}
for name in chosen:
    try:
        runs[name] = method_settings(name, settings)
    except ValueError as error:
        st.warning(f"**{name}** cannot run at these sidebar settings: {error}", icon=":material/warning:")
if not 2 <= len(runs) <= 4:
    st.info("Pick two to four methods.", icon=":material/touch_app:")
    st.stop()
for column, (name, run) in zip(st.columns(len(runs)), runs.items()):
    sizes = " → ".join(str(size) for size in run.octave_sizes)
    column.caption(f"**{method_caption(name, run)}**  \n{sizes} px, shown at {run.final_size} px")

shown = renders.pictures("methods", runs, renders.Ask(noun="method", wait_for_click=True))
results = {name: item.result for name, item in shown.items()}

st.subheader("Results")
for column, (name, result) in zip(st.columns(len(runs)), results.items()):
    dead = f" · dead at step {result.steps_run}" if result.dead else ""
    stopped = f" · stopped at step {result.steps_run}" if result.cancelled else ""
    column.image(result.image, width="stretch", caption=method_caption(name, result.settings) + dead + stopped)

views.plot_losses(charts.loss_figure({name: result.losses for name, result in results.items()}, (), ()),
                  "methods_losses")
st.caption("Each curve is the filter's output as its own method sees the image (classic: raw pixels; robust: a "
           "randomly jittered view), so compare their shapes, not their heights: the table below measures every "
           "picture the same way.")

st.subheader("How good is each picture?")
measuring = st.container()
qualities = {name: quality_figures.measure(item, measuring, label=f"Measuring {name}") for name, item in shown.items()}
table = [{"method": name, "final activation": result.final_activation, "act": quality.act,
          "robust": quality.robust, "hf": quality.hf, "dead": dead_note(result, quality),
          "seconds": result.seconds}
         for (name, result), quality in zip(results.items(), qualities.values())]
number = {column: st.column_config.NumberColumn(column, format="%.3g", help=MEASURES[column])
          for column in ("final activation", "act", "robust", "hf")}
st.dataframe(table, hide_index=True, width="stretch",
             column_config={**number, "dead": st.column_config.TextColumn("dead", help=MEASURES["dead"]),
                            "seconds": st.column_config.NumberColumn("seconds", format="%.1f",
                                                                     help=MEASURES["seconds"])})
st.markdown("\n".join(f"- **{column}**: {line}" for column, line in MEASURES.items()))
st.markdown(verdict(results, qualities))
