"""Server-rendered SVG charts: geometry computed here, drawn by templates/indicators/_charts.html.

No script and no inline style (the CSP forbids both): colours come from CSS classes in ruta.css. Every chart is
drawn with a <title> and <desc> and is always followed by its data table, so nothing is only in the picture.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from flask_babel import format_decimal

WIDTH = 640
LABEL_W = 210
BAR_AREA = WIDTH - LABEL_W - 80
BAR_H = 16
GAP = 6


def number(value) -> str:
    """Colombian formatting: 1.000 and 24,5."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    value = float(value)
    if value.is_integer():
        return format_decimal(int(value), format="#,##0")
    return format_decimal(round(value, 1), format="#,##0.0")


def percent(value) -> str:
    if value is None:
        return "—"
    return format_decimal(round(float(value) * 100, 1), format="#,##0.0") + " %"


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    text: str
    text_x: float


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    height: int
    rows: list[dict] = field(default_factory=list)  # {label, y, bars: [Bar]}
    legend: list[dict] = field(default_factory=list)  # {cls, label}
    markers: list[dict] = field(default_factory=list)  # {x, y1, y2, cls, label}
    width: int = WIDTH
    label_w: int = LABEL_W


def hbars(chart_id: str, title: str, desc: str, rows: list[tuple[str, list[tuple]]], *, max_value=None,
          legend: list[tuple[str, str]] = (), text=number) -> Chart:
    """Horizontal grouped bars. rows: [(label, [(value or None, css class, shown text), ...])]."""
    values = [float(v) for _label, bars in rows for v, _c, _t in bars if v is not None]
    top = float(max_value) if max_value else (max(values) if values else 1.0)
    top = top or 1.0
    chart = Chart(chart_id, title, desc, 0, legend=[{"cls": c, "label": lbl} for c, lbl in legend])
    y = 8
    for label, bars in rows:
        row = {"label": label[:38] + ("…" if len(label) > 38 else ""), "full": label, "y": y, "bars": []}
        for value, cls, shown in bars:
            w = 0.0 if value is None else max(0.0, min(float(value), top)) / top * BAR_AREA
            if value is not None and float(value) > 0 and w < 2:
                w = 2.0
            row["bars"].append(Bar(LABEL_W, y, round(w, 2), BAR_H, cls if value is not None else cls + " bar-hidden",
                                   shown if shown is not None else text(value), round(LABEL_W + w + 6, 2)))
            y += BAR_H + 2
        row["text_y"] = row["bars"][0].y + BAR_H - 4 if row["bars"] else y
        chart.rows.append(row)
        y += GAP
    chart.height = y + 6
    return chart


def marker(chart: Chart, value, top, cls: str, label: str) -> None:
    """A vertical line at `value` (e.g. the ideal trajectory) across the whole chart."""
    top = float(top) or 1.0
    x = LABEL_W + max(0.0, min(float(value), top)) / top * BAR_AREA
    chart.markers.append({"x": round(x, 2), "y1": 2, "y2": chart.height - 4, "cls": cls, "label": label})


def frac(value) -> float | None:
    return None if value is None else float(Fraction(value))
