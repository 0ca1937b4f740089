"""Charts: loss curves with octave boundaries (Vega-Lite), the octave schedule (Plotly).

Loss curves are Vega-Lite specs with their data inlined in each layer: Streamlit passes such a spec
to the browser as it is (no dataframe, so no pandas or Arrow on the server), and Vega-Lite's bundle
is a fraction of Plotly's, so the picture beside the chart shows sooner.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

PALETTE = ("#e4572e", "#17bebb", "#ffc914", "#76b041", "#7d5ba6", "#2e86ab")
MARKER_COLOR = "#e4572e"
STEP = {"field": "step", "type": "quantitative"}  # every layer's x: the ascent step


def loss_spec(curves: Mapping[str, np.ndarray], octave_starts: Sequence[int], octave_sizes: Sequence[int],
              step: int | None = None, height: int = 340) -> dict[str, Any]:
    """Loss (the filter's mean activation) after each step, one line per run, as a Vega-Lite spec.

    Dotted vertical rules mark where each octave begins, each octave is labelled with its image size,
    and `step` (the scrubber's position) is marked on every curve.
    """
    names = list(curves)
    total = max((len(losses) for losses in curves.values()), default=0)
    colour = {"field": "run", "type": "nominal", "sort": names,
              "scale": {"domain": names, "range": [PALETTE[i % len(PALETTE)] for i in range(len(names))]},
              "legend": {"orient": "top", "title": None} if len(names) > 1 else None}
    x = {**STEP, "title": "ascent step", "axis": {"tickMinStep": 1, "format": "d"},
         "scale": {"domain": [0.5, max(total, 1) + 0.5], "nice": False, "zero": False}}
    points = [{"run": name, "step": index + 1, "loss": float(value)}
              for name, losses in curves.items() for index, value in enumerate(losses)]
    layers: list[dict[str, Any]] = [{
        "data": {"values": points},
        "mark": {"type": "line", "strokeWidth": 2.5},
        "encoding": {"x": x, "y": {"field": "loss", "type": "quantitative", "title": "loss (mean activation)"},
                     "color": colour, "tooltip": [{"field": "run", "title": "run"}, {"field": "step", "title": "step"},
                                                  {"field": "loss", "title": "loss", "format": ".4g"}]},
    }]
    layers += _octave_layers(octave_starts, octave_sizes, total)
    if step is not None and 0 < step <= total:
        layers.append({"data": {"values": [{"step": step}]}, "mark": {"type": "rule", "color": MARKER_COLOR,
                                                                        "strokeWidth": 2},
                       "encoding": {"x": STEP}})
        layers.append({"data": {"values": [p for p in points if p["step"] == step]},
                       "mark": {"type": "point", "filled": True, "size": 130, "stroke": "white", "strokeWidth": 2,
                                "opacity": 1},
                       "encoding": {"x": STEP,
                                    "y": {"field": "loss", "type": "quantitative"}, "color": colour}})
    return {"height": height, "layer": layers, "resolve": {"scale": {"color": "shared"}}}


def _octave_layers(starts: Sequence[int], sizes: Sequence[int], total: int) -> list[dict[str, Any]]:
    """A dotted rule where each octave after the first begins, and every octave's size on top."""
    ends = list(starts[1:]) + [total]
    shown = [(start, min(end, total), size) for start, end, size in zip(starts, ends, sizes) if start < total]
    if not shown:
        return []
    rules = [{"step": start + 0.5} for start, _, _ in shown[1:]]
    labels = [{"step": (start + end) / 2 + 0.5, "label": f"{size} px"} for start, end, size in shown]
    layers: list[dict[str, Any]] = [{
        "data": {"values": labels},
        "mark": {"type": "text", "baseline": "bottom", "dy": -4, "color": "gray", "fontSize": 11},
        "encoding": {"x": STEP, "y": {"value": 0}, "text": {"field": "label"}},
    }]
    if rules:
        layers.insert(0, {"data": {"values": rules},
                          "mark": {"type": "rule", "strokeDash": [2, 3], "color": "gray", "opacity": 0.6},
                          "encoding": {"x": STEP}})
    return layers


def schedule_figure(octave_sizes: Sequence[int], octave_steps: Sequence[int], final_size: int,
                    height: int = 260) -> go.Figure:
    """The image size at every ascent step: a staircase that ends at the final size (with steps there,
    or a final resize without steps)."""
    sizes = [size for size, steps in zip(octave_sizes, octave_steps) for _ in range(steps)]
    steps = np.arange(1, len(sizes) + 1)
    figure = go.Figure(go.Bar(x=steps, y=sizes, marker_color=PALETTE[1], name="image size",
                              hovertemplate="step %{x}: %{y} px<extra></extra>"))
    resized = octave_sizes[-1] != final_size
    figure.add_hline(y=final_size, line=dict(color=MARKER_COLOR, dash="dash"),
                     annotation_text=f"final resize to {final_size} px (no steps)" if resized
                     else f"final steps at the shown size, {final_size} px", annotation_position="top left")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), bargap=0.05, showlegend=False)
    figure.update_xaxes(title_text="ascent step")
    figure.update_yaxes(title_text="image side (px)", range=[0, final_size * 1.15])
    return figure
