"""Canary success over the window as an inline SVG (no script, no network), with the
threshold drawn, for the HTML report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH = 560
HEIGHT = 180
PAD_LEFT = 44
PAD_RIGHT = 12
PAD_TOP = 22
PAD_BOTTOM = 26


def _when(value: Any) -> dt.datetime:
    when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def success_chart(
    name: str,
    points: Sequence[Mapping[str, Any]],
    threshold: float,
    window_hours: int,
) -> str:
    """An SVG line of `Average` per datapoint (oldest first), y from a floor to 100 %."""
    series = [(_when(p["Timestamp"]), float(p["Average"])) for p in points if "Average" in p]
    series.sort()
    lowest = min([threshold, *(v for _, v in series)]) if series else threshold
    floor = max(0.0, min(90.0, (int(lowest) // 5) * 5 - 5))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def y(value: float) -> float:
        return PAD_TOP + plot_h * (100.0 - value) / (100.0 - floor)

    title = f"{name}: SuccessPercent over the last {window_hours} h (threshold {threshold:g} %)"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="canary-chart" style="font:11px sans-serif;background:#fff">',
        f"<title>{escape(title)}</title>",
        f'<text x="{PAD_LEFT}" y="14">{escape(title)}</text>',
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#bbb"/>',
    ]
    for tick in (floor, (floor + 100.0) / 2, 100.0):
        parts.append(
            f'<text x="{PAD_LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
    ty = y(threshold)
    parts.append(
        f'<line class="threshold" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{ty:.1f}" '
        f'y2="{ty:.1f}" stroke="#c00" stroke-dasharray="5,3"/>'
    )
    if not series:
        parts.append(
            f'<text x="{PAD_LEFT + 8}" y="{PAD_TOP + plot_h / 2:.0f}">no datapoints</text></svg>'
        )
        return "".join(parts)
    end = max(t for t, _ in series)
    start = end - dt.timedelta(hours=window_hours)
    span = (end - start).total_seconds() or 1.0

    def x(when: dt.datetime) -> float:
        return PAD_LEFT + plot_w * max(0.0, (when - start).total_seconds()) / span

    coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in series)
    parts.append(f'<polyline class="success" points="{coords}" fill="none" stroke="#06c"/>')
    for t, v in series:
        if v < threshold:
            parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="#c00"/>')
    parts.append(
        f'<text x="{PAD_LEFT}" y="{HEIGHT - 8}">{escape(start.strftime("%H:%M"))}</text>'
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{escape(end.strftime('%H:%M'))} UTC</text></svg>"
    )
    return "".join(parts)
