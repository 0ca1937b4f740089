"""Charts, drawn with Plotly: loss curves with octave boundaries, and the octave schedule.

Loss curves answer the pointer: hovering a step shows its loss and octave size, and on a page with a
scrubber a click on a curve moves the scrubber to that step (`st.plotly_chart` selections). Plotly's browser
bundle is several times Vega-Lite's (which drew the loss curves for a while), but it loads lazily, with the
first chart, and every page draws its picture before its chart: an atlas picture is a markdown image that
needs no chart code, so a first picture does not wait for Plotly. Plotly is imported inside the functions
that draw, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go

PALETTE = ("#e4572e", "#17bebb", "#ffc914", "#76b041", "#7d5ba6", "#2e86ab", "#f28ab2", "#8c564b")  # 8 distinct
MARKER_COLOR = "#e4572e"
OCTAVE_LINE = dict(color="rgba(128,128,128,0.6)", width=1, dash="dot")


def loss_figure(curves: Mapping[str, np.ndarray], octave_starts: Sequence[int], octave_sizes: Sequence[int],
                step: int | None = None, height: int = 340) -> go.Figure:
    """Loss (the filter's mean activation) after each step, one line per run (a legend only with several).

    Dotted vertical lines mark where each octave begins, each octave is labelled with its image size on top,
    `step` (the scrubber's position) is a red line with a marker on every curve, and hovering a step shows
    its loss and octave size.
    """
    import plotly.graph_objects as go

    figure = go.Figure()
    for index, (name, losses) in enumerate(curves.items()):
        figure.add_trace(_curve(name, losses, PALETTE[index % len(PALETTE)], octave_starts, octave_sizes))
    total = max((len(losses) for losses in curves.values()), default=0)
    _mark_octaves(figure, octave_starts, octave_sizes, total)
    if step is not None and 0 < step <= total:
        _mark_step(figure, curves, step)
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=36, b=10), hovermode="x",
                         legend=dict(orientation="h", yanchor="bottom", y=1.08, x=0), showlegend=len(curves) > 1)
    figure.update_xaxes(title_text="ascent step", range=[0.5, max(total, 1) + 0.5], tickformat="d")
    figure.update_yaxes(title_text="loss (mean activation)")
    return figure


def _curve(name: str, losses: np.ndarray, colour: str, octave_starts: Sequence[int],
           octave_sizes: Sequence[int]) -> go.Scatter:
    """One run's losses by step, with each step's octave size for the hover text.

    Its markers are invisible: they are there because Plotly selects (on a click) only traces with markers.
    """
    import plotly.graph_objects as go

    steps = np.arange(1, len(losses) + 1)
    hover = "step %{x}<br>loss %{y:.4g}"
    sizes = None
    if len(octave_sizes):
        octave = np.clip(np.searchsorted(octave_starts, steps, side="left") - 1, 0, len(octave_sizes) - 1)
        sizes = np.asarray(octave_sizes)[octave].tolist()
        hover += "<br>octave %{customdata} px"
    return go.Scatter(x=steps.tolist(), y=np.asarray(losses, dtype=float).tolist(), customdata=sizes,
                      mode="lines+markers", name=name, line=dict(color=colour, width=2.5),
                      marker=dict(size=8, opacity=0), hovertemplate=hover + f"<extra>{name}</extra>")


def _mark_octaves(figure: go.Figure, starts: Sequence[int], sizes: Sequence[int], total: int) -> None:
    """A dotted line where each octave after the first begins, and every octave's size on top."""
    ends = list(starts[1:]) + [total]
    for index, (start, end, size) in enumerate(zip(starts, ends, sizes)):
        if start >= total:
            break
        if index:
            figure.add_vline(x=start + 0.5, line=OCTAVE_LINE)
        figure.add_annotation(x=(start + min(end, total)) / 2 + 0.5, y=1.0, yref="paper", yanchor="bottom",
                              text=f"{size} px", showarrow=False, font=dict(size=11, color="gray"))


def _mark_step(figure: go.Figure, curves: Mapping[str, np.ndarray], step: int) -> None:
    """The scrubber's step: a red line, and a marker on every curve that reaches it (not hovered or clicked)."""
    import plotly.graph_objects as go

    figure.add_vline(x=step, line=dict(color=MARKER_COLOR, width=2))
    reached = [(index, float(losses[step - 1])) for index, losses in enumerate(curves.values()) if step <= len(losses)]
    figure.add_trace(go.Scatter(x=[step] * len(reached), y=[loss for _, loss in reached], mode="markers",
                                showlegend=False, hoverinfo="skip", name="scrubber's step",
                                marker=dict(size=11, color=[PALETTE[index % len(PALETTE)] for index, _ in reached],
                                            line=dict(color="white", width=2))))


def schedule_figure(octave_sizes: Sequence[int], octave_steps: Sequence[int], final_size: int,
                    height: int = 260) -> go.Figure:
    """The image size at every ascent step: a staircase that ends at the final size (with steps there,
    or a final resize without steps)."""
    import plotly.graph_objects as go

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


def grid_figure(image_url: str, size: tuple[int, int], row_edges: Sequence[int], col_edges: Sequence[int],
                hover: Sequence[str], selected: int | None = None, height: int = 520) -> go.Figure:
    """A picture (`image_url`, `size` (width, height) in the units of the edges) under a grid of cells that
    answer the pointer: hovering a cell shows its `hover` text (row by row), a click selects it (one invisible
    marker at each cell's centre, the nearest always picked), and the `selected` cell is outlined."""
    import plotly.graph_objects as go

    width, image_height = size
    rows, cols = len(row_edges) - 1, len(col_edges) - 1
    centres_y = [(row_edges[row] + row_edges[row + 1]) / 2 for row in range(rows) for _ in range(cols)]
    centres_x = [(col_edges[col] + col_edges[col + 1]) / 2 for _ in range(rows) for col in range(cols)]
    figure = go.Figure(go.Scatter(x=centres_x, y=centres_y, text=list(hover), mode="markers", name="cells",
                                  marker=dict(size=14, opacity=0), hovertemplate="%{text}<extra></extra>",
                                  selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0))))
    figure.add_layout_image(source=image_url, xref="x", yref="y", x=0, y=0, sizex=width, sizey=image_height,
                            sizing="stretch", layer="below")
    if selected is not None and 0 <= selected < rows * cols:
        row, col = divmod(selected, cols)
        figure.add_shape(type="rect", x0=col_edges[col], x1=col_edges[col + 1], y0=row_edges[row],
                         y1=row_edges[row + 1], line=dict(color=MARKER_COLOR, width=3))
    figure.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), hovermode="closest", hoverdistance=-1,
                         dragmode=False, showlegend=False, plot_bgcolor="rgba(0,0,0,0)")
    figure.update_xaxes(range=[0, width], visible=False, constrain="domain", constraintoward="left", fixedrange=True)
    figure.update_yaxes(range=[image_height, 0], visible=False, scaleanchor="x", constrain="domain",
                        constraintoward="top", fixedrange=True)
    return figure
