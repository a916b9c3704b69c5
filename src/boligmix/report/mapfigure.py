"""Area maps for the HTML reports: a plotly figure of the area polygons, coloured *and* patterned by list status.

The dashboard and the printable list report draw the same maps as inline SVG (`boligmix.report.svgmap`);
the HTML reports hold figures, so this draws the polygons with plotly (`fill="toself"`, one trace per
status so the legend names each status). No tiles, no outside requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from boligmix.report.liststatus import LIST_STATUS_STYLE, LIST_STATUSES
from boligmix.report.svgmap import Shape, bounds

_PLOTLY_PATTERN = {"crosshatch": "x", "hatch": "/", "dots": ".", "vertical": "|", "horizontal": "-"}


def area_map_figure(shapes: Sequence[Shape], labels: Mapping[str, str], *, height: int = 560) -> go.Figure:
    """The areas' outer rings as filled polygons, one legend entry per status present (`labels`:
    status -> legend text); hovering an area shows its label. Equal scale on both axes."""
    fig = go.Figure()
    for status in LIST_STATUSES:
        group = [s for s in shapes if s.status == status and s.polygons]
        if not group:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        text: list[str | None] = []
        for s in group:
            for poly in s.polygons:
                ring = poly[0]
                xs += [x for x, _ in ring] + [None]
                ys += [y for _, y in ring] + [None]
                text += [s.label] * len(ring) + [None]
        fill, pattern = LIST_STATUS_STYLE[status]
        trace = dict(x=xs, y=ys, mode="lines", fill="toself", fillcolor=fill, line={"color": "#222", "width": 1},
                     name=labels.get(status, status), text=text, hoverinfo="text", connectgaps=False)
        if pattern:
            trace["fillpattern"] = {"shape": _PLOTLY_PATTERN[pattern], "fgcolor": "#000", "bgcolor": fill,
                                    "size": 6, "solidity": 0.25}
        fig.add_trace(go.Scatter(**trace))
    box = bounds([s for s in shapes if s.polygons])
    if box is not None:  # a margin of 4 % so areas at the edge are not cut
        x0, y0, x1, y1 = box
        pad = 0.04 * max(x1 - x0, y1 - y0, 1.0)
        fig.update_xaxes(range=[x0 - pad, x1 + pad])
        fig.update_yaxes(range=[y0 - pad, y1 + pad])
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="#f4f6f8",
                      legend={"orientation": "v"})
    return fig


__all__ = ["area_map_figure"]
