"""Trend charts as static SVG, rendered offline.

Charts are Vega-Lite specifications built with Altair and rendered to SVG by ``vl-convert-python``
(no browser, no network). The SVG is embedded as a ``data:`` URI image so that several charts on one
page cannot clash on element ids, and it prints like any image. When ``vl-convert-python`` is not
installed a small hand-drawn polyline sparkline is used instead, so a report never fails for want
of a chart.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from markupsafe import Markup, escape

from reports.model import TrendPoint

WIDTH = 260
HEIGHT = 70


def trend_svg(points: Sequence[TrendPoint], *, y_title: str = "", color: str = "#1f5f99") -> str:
    """Render a trend series as an SVG document.

    Args:
        points: The series, oldest first.
        y_title: Y-axis title.
        color: Line colour.

    Returns:
        The SVG markup (a complete ``<svg>`` document); an empty string for no points.
    """
    if not points:
        return ""
    try:
        import altair as alt
        import vl_convert as vlc
    except ImportError:  # pragma: no cover - exercised only without vl-convert
        return _sparkline(points, color)
    integers = all(float(p.value).is_integer() and p.value >= 0 for p in points)
    ticks = _int_ticks(points) if integers else []
    values = [{"run_date": p.run_date.isoformat(), "value": p.value} for p in points]
    chart = (
        alt.Chart(alt.Data(values=values))
        .mark_line(point=alt.OverlayMarkDef(size=18, color=color), color=color, strokeWidth=1.5)
        .encode(
            x=alt.X(
                "run_date:T",
                title=None,
                axis=alt.Axis(
                    format="%m-%d",
                    labelFontSize=9,
                    tickCount={"interval": "day", "step": max(1, len(points) // 4)},
                ),
            ),
            y=alt.Y(
                "value:Q",
                title=y_title or None,
                axis=alt.Axis(
                    tickCount=alt.Undefined if ticks else 3,
                    labelFontSize=9,
                    titleFontSize=9,
                    values=ticks or alt.Undefined,
                    format="d" if ticks else alt.Undefined,
                ),
                scale=alt.Scale(domain=[0, ticks[-1]]) if ticks else alt.Scale(zero=True),
            ),
            tooltip=["run_date:T", "value:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT, background="white")
        .configure_view(strokeWidth=0)
    )
    return vlc.vegalite_to_svg(chart.to_dict())


def _int_ticks(points: Sequence[TrendPoint]) -> list[int]:
    """Whole-number ticks from 0 to the maximum, at most four of them."""
    top = int(max(max(p.value for p in points), 1))
    step = max(1, -(-top // 3))
    return list(range(0, top + step, step))


def _sparkline(points: Sequence[TrendPoint], color: str) -> str:
    vals = [p.value for p in points]
    lo, hi = min(min(vals), 0.0), max(vals)
    span = (hi - lo) or 1.0
    n = max(len(vals) - 1, 1)
    xy = [
        (5 + i * (WIDTH - 10) / n, 5 + (HEIGHT - 10) * (1 - (v - lo) / span))
        for i, v in enumerate(vals)
    ]
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/></svg>'
    )


def trend_img(points: Sequence[TrendPoint], *, label: str, y_title: str = "") -> Markup:
    """An ``<img>`` element holding the trend chart as a ``data:`` SVG, with a text alternative.

    Args:
        points: The series, oldest first.
        label: What the series counts (used in the alt text).
        y_title: Y-axis title.

    Returns:
        Safe markup, empty when there are no points.
    """
    svg = trend_svg(points, y_title=y_title)
    if not svg:
        return Markup("")
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    first, last = points[0], points[-1]
    alt_text = (
        f"Trend of {label} over {len(points)} runs: {first.value:g} on {first.run_date} "
        f"to {last.value:g} on {last.run_date}"
    )
    return Markup('<img class="trend" src="data:image/svg+xml;base64,{}" alt="{}">').format(
        data, escape(alt_text)
    )
