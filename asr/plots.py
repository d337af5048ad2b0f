"""PNG charts for the reports people read (``asr evaluate --report``, ``asr plot``).

matplotlib is an optional extra (``report``) and is imported only inside the functions that draw. Each figure
is drawn on its own Agg canvas, never through pyplot, so no window opens, no global state changes and a
program that uses matplotlib itself keeps its backend. PNGs are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asr.outputs import atomic_write

EXTRA = "report"
MISSING = f"matplotlib is not installed, so no plots were drawn (pip install 'asr-bilstm[{EXTRA}]')"


def missing() -> str | None:
    """Why nothing can be drawn here (a line naming the extra to install), or None when matplotlib is present."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return MISSING
    return None


@dataclass(frozen=True)
class Series:
    """One line of a line chart: its label and points."""

    label: str
    x: Sequence[float]
    y: Sequence[float]


def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure on an Agg canvas (no pyplot, no window)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike) -> None:
    with atomic_write(path, "wb") as f:
        figure.savefig(f, format="png")


def bar_chart(
    path: str | os.PathLike, labels: Sequence[str], values: Sequence[float], *, title: str, xlabel: str, ylabel: str
) -> None:
    """Bars of ``values`` (one per label, each bar's value written above it) as a PNG at ``path``."""
    figure = _figure(max(4.0, 0.5 * len(labels) + 2.0), 3.5)
    axes = figure.subplots()
    bars = axes.bar(range(len(labels)), values, color="tab:blue")
    axes.bar_label(bars, fmt="%.1f", fontsize=8)
    crowded = len(labels) > 8
    axes.set_xticks(range(len(labels)), labels, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.margins(y=0.15)
    _save(figure, path)


def line_chart(
    path: str | os.PathLike, series: Sequence[Series], *, title: str, xlabel: str, ylabel: str, log_y: bool = False
) -> None:
    """The ``series`` as lines on one set of axes (a marker per point where a series has few) as a PNG at
    ``path``; ``log_y``: a logarithmic y axis, where every value is positive."""
    figure = _figure(6.4, 3.8)
    axes = figure.subplots()
    for line in series:
        axes.plot(line.x, line.y, label=line.label, marker="o" if len(line.x) <= 30 else None, markersize=3)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    if log_y and all(v > 0 for line in series for v in line.y):
        axes.set_yscale("log")
    if len(series) > 1:
        axes.legend()
    _save(figure, path)
