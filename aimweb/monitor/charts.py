"""Chart geometry for the monitor's server-rendered SVG (the templates draw it; no script)."""
from __future__ import annotations

from decimal import Decimal

PALETTE = ["#005ea2", "#d83933", "#00a398", "#936f38", "#8168b3", "#4d8055"]
WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 30, 46


def _nice_max(value: Decimal) -> Decimal:
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = magnitude * Decimal(str(step))
        if top >= value:
            return top
    return magnitude * 10


def short(value: Decimal | None) -> str:
    if value is None:
        return "(D)"
    v = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"{v:,.0f}"


def line_chart(months: list[str], series: list[tuple[str, list[Decimal | None]]]) -> dict:
    """Lines over the months ("Mar 2026", oldest first); a suppressed or missing month breaks the
    line (no guessing). The axis names every month (every other one past 13), with its year under
    the first month and under each January."""
    values = [v for _, points in series for v in points if v is not None]
    top = _nice_max(max(values) if values else Decimal(0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def xy(i: int, v: Decimal) -> tuple[float, float]:
        return LEFT + i * step, TOP + plot_h - float(v / top) * plot_h

    lines = []
    for index, (name, points) in enumerate(series):
        segments, current = [], []
        for i, v in enumerate(points):
            if v is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(xy(i, v))
        if current:
            segments.append(current)
        lines.append({"name": name, "color": PALETTE[index % len(PALETTE)],
                      "segments": [" ".join(f"{x:.1f},{y:.1f}" for x, y in seg) for seg in segments],
                      "dots": [p for seg in segments for p in seg]})
    ticks = [{"y": TOP + plot_h - plot_h * k / 4, "label": short(top * k / 4)} for k in range(5)]
    every = 2 if len(months) > 13 else 1
    labels = []
    for i, m in enumerate(months):
        name, year = m.split()
        if i % every == 0 or name == "Jan":
            labels.append({"x": LEFT + i * step, "label": name,
                           "year": year if i == 0 or name == "Jan" else ""})
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "top": TOP,
            "bottom": TOP + plot_h, "lines": lines, "ticks": ticks, "labels": labels}


def bar_chart(items: list[tuple[str, Decimal | None]]) -> dict:
    """Horizontal bars, largest first; a suppressed value gets "(D)" and no bar."""
    values = [v for _, v in items if v is not None]
    top = _nice_max(max(values) if values else Decimal(0))
    row, label_w, plot_w = 26, 190, WIDTH - 190 - 90
    bars = [{"y": 8 + i * row, "label": name, "width": 0 if v is None else float(v / top) * plot_w,
             "text": short(v), "hidden": v is None} for i, (name, v) in enumerate(items)]
    return {"width": WIDTH, "height": 16 + len(items) * row, "label_w": label_w, "bars": bars,
            "row": row}
