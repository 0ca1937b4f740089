"""Plotly figures: loss curves with octave boundaries, the octave schedule."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

PALETTE = ("#e4572e", "#17bebb", "#ffc914", "#76b041", "#7d5ba6", "#2e86ab")
MARKER_COLOR = "#e4572e"


def loss_figure(curves: Mapping[str, np.ndarray], octave_starts: Sequence[int], octave_sizes: Sequence[int],
                step: int | None = None, height: int = 340) -> go.Figure:
    """Loss (the filter's mean activation) after each step, one line per run.

    Dotted vertical lines mark where each octave begins, each octave is labelled with its image size,
    and `step` (the scrubber's position) is marked on every curve.
    """
    figure = go.Figure()
    for index, (name, losses) in enumerate(curves.items()):
        steps = np.arange(1, len(losses) + 1)
        figure.add_trace(go.Scatter(x=steps, y=losses, mode="lines", name=name,
                                    line=dict(color=PALETTE[index % len(PALETTE)], width=2.5),
                                    hovertemplate="step %{x}<br>loss %{y:.4g}<extra>" + name + "</extra>"))
    total = max((len(losses) for losses in curves.values()), default=0)
    _mark_octaves(figure, octave_starts, octave_sizes, total)
    if step is not None and step > 0:
        figure.add_vline(x=step, line=dict(color=MARKER_COLOR, width=2))
        for index, losses in enumerate(curves.values()):
            if step <= len(losses):
                figure.add_trace(go.Scatter(x=[step], y=[losses[step - 1]], mode="markers", showlegend=False,
                                            marker=dict(size=11, color=PALETTE[index % len(PALETTE)],
                                                        line=dict(color="white", width=2)),
                                            hoverinfo="skip"))
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=36, b=10), hovermode="x unified",
                         legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0),
                         showlegend=len(curves) > 1)
    figure.update_xaxes(title_text="ascent step", range=[0.5, max(total, 1) + 0.5])
    figure.update_yaxes(title_text="loss (mean activation)")
    return figure


def _mark_octaves(figure: go.Figure, starts: Sequence[int], sizes: Sequence[int], total: int) -> None:
    ends = list(starts[1:]) + [total]
    for index, (start, end, size) in enumerate(zip(starts, ends, sizes)):
        if start >= total:
            break
        if index:
            figure.add_vline(x=start + 0.5, line=dict(color="rgba(128,128,128,0.6)", width=1, dash="dot"))
        figure.add_annotation(x=(start + min(end, total)) / 2 + 0.5, y=1.0, yref="paper", yanchor="bottom",
                              text=f"{size} px", showarrow=False, font=dict(size=11, color="gray"))


def schedule_figure(octave_sizes: Sequence[int], steps_per_octave: int, final_size: int,
                    height: int = 260) -> go.Figure:
    """The image size at every ascent step: a staircase that ends in the final resize."""
    sizes = [size for size in octave_sizes for _ in range(steps_per_octave)]
    steps = np.arange(1, len(sizes) + 1)
    figure = go.Figure(go.Bar(x=steps, y=sizes, marker_color=PALETTE[1], name="image size",
                              hovertemplate="step %{x}: %{y} px<extra></extra>"))
    figure.add_hline(y=final_size, line=dict(color=MARKER_COLOR, dash="dash"),
                     annotation_text=f"final resize to {final_size} px (no steps)", annotation_position="top left")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=20, b=10), bargap=0.05, showlegend=False)
    figure.update_xaxes(title_text="ascent step")
    figure.update_yaxes(title_text="image side (px)", range=[0, final_size * 1.15])
    return figure
