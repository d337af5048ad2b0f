"""A training run's curves (``asr plot RUN_DIR``): what Lightning's CSV logger wrote, drawn as PNGs with an index.

Every start of a run (the first, and each ``resume=``) writes a new ``csv/version_N/metrics.csv``. They are
merged in version order; a resumed run continues from its checkpoint's step, so where a later version
starts at or before steps an earlier one logged (a run killed after its last checkpoint), the later
version's values replace the earlier ones from that step on: the curves show the run as it was kept.
"""

from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from asr import plots
from asr.outputs import atomic_write
from asr.run_folder import CSV_LOGS

METRICS_FILE = "metrics.csv"
INDEX = "index.md"
NOT_METRICS = ("epoch", "step")


class CurvesError(ValueError):
    """The run has no metrics to draw: no CSV log, or none with a logged value."""


@dataclass
class RunMetrics:
    """Each logged metric's (step, value) points in step order, the CSV files they came from and the files or
    rows that could not be read."""

    series: dict[str, list[tuple[int, float]]]
    sources: list[Path]
    problems: list[str] = field(default_factory=list)


def metrics_files(run_dir: str | os.PathLike) -> list[Path]:
    """The run's ``csv/version_N/metrics.csv`` files, oldest version first."""

    def version(path: Path) -> int:
        number = path.parent.name.removeprefix("version_")
        return int(number) if number.isdigit() else -1

    return sorted(Path(run_dir, CSV_LOGS).glob(f"version_*/{METRICS_FILE}"), key=version)


def _read(path: Path, problems: list[str]) -> dict[str, list[tuple[int, float]]]:
    """One CSV file's points per metric; a bad row is skipped and counted, an unreadable file adds a problem."""
    series: dict[str, list[tuple[int, float]]] = {}
    bad = 0
    try:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                try:
                    step = int(float(row["step"]))
                    values = {k: float(v) for k, v in row.items() if k not in NOT_METRICS and k and v not in ("", None)}
                except (KeyError, TypeError, ValueError):
                    bad += 1
                    continue
                for name, value in values.items():
                    if math.isfinite(value):
                        series.setdefault(name, []).append((step, value))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        problems.append(f"{path}: unreadable ({e})")
        return {}
    if bad:
        problems.append(f"{path}: {bad} row(s) without a numeric step or with a non-numeric value skipped")
    return series


def read_run_metrics(run_dir: str | os.PathLike) -> RunMetrics:
    """The metrics of every CSV log of ``run_dir``, merged (see the module's docstring); ``CurvesError`` when
    there is no log or nothing logged."""
    if not Path(run_dir).is_dir():
        raise CurvesError(f"{run_dir}: no such folder (expected a training run's output_dir)")
    files = metrics_files(run_dir)
    if not files:
        raise CurvesError(
            f"{run_dir}: no metrics CSV ({CSV_LOGS}/version_N/{METRICS_FILE}, written by the csv logger) in this folder"
        )
    merged: dict[str, list[tuple[int, float]]] = {}
    problems: list[str] = []
    for path in files:
        series = _read(path, problems)
        steps = [step for points in series.values() for step, _ in points]
        if steps:
            first = min(steps)
            merged = {name: [p for p in points if p[0] < first] for name, points in merged.items()}
        for name, points in series.items():
            merged.setdefault(name, []).extend(points)
    merged = {name: sorted(points, key=lambda p: p[0]) for name, points in merged.items() if points}
    if not merged:
        why = f" ({problems[0]})" if problems else " yet"
        raise CurvesError(f"{run_dir}: its metrics CSV files ({len(files)}) hold no logged value{why}")
    return RunMetrics(merged, files, problems)


@dataclass(frozen=True)
class Chart:
    """One PNG: its file name, title, y-axis label, the scale its metrics' values are drawn at, and whether
    the y axis is logarithmic."""

    file: str
    title: str
    ylabel: str
    scale: float = 1.0
    log_y: bool = False


def chart_for(metric: str) -> Chart:
    """The chart a metric is drawn in: losses together (on a log scale, where a CTC loss falls by orders of
    magnitude), error rates together (in %), learning rates together, any other metric alone."""
    if metric.startswith("lr-"):
        return Chart("learning_rate.png", "Learning rate", "learning rate")
    if metric.endswith("loss"):
        return Chart("loss.png", "Loss", "loss", log_y=True)
    if metric.endswith(("wer", "cer")):
        return Chart("error_rates.png", "Error rates", "%", 100.0)
    return Chart(re.sub(r"[^A-Za-z0-9_.-]+", "_", metric) + ".png", metric, metric)


def draw_curves(metrics: RunMetrics, out_dir: str | os.PathLike, title: str) -> list[Path]:
    """One PNG per chart and ``index.md`` linking them, with each metric's last and lowest value, in
    ``out_dir``; the files written, index first. Needs matplotlib (``plots.missing()`` says when it is absent)."""
    out_dir = Path(out_dir)
    charts: dict[Chart, list[plots.Series]] = {}
    for name, points in metrics.series.items():
        chart = chart_for(name)
        steps, values = [p[0] for p in points], [chart.scale * p[1] for p in points]
        charts.setdefault(chart, []).append(plots.Series(name, steps, values))
    for chart, series in charts.items():
        plots.line_chart(
            out_dir / chart.file, series, title=chart.title, xlabel="step", ylabel=chart.ylabel, log_y=chart.log_y
        )
    with atomic_write(out_dir / INDEX) as f:
        f.write(_index(metrics, title, list(charts)))
    return [out_dir / INDEX, *(out_dir / chart.file for chart in charts)]


def _at(chart: Chart, point: tuple[int, float]) -> str:
    """A logged value as its chart draws it, and its step."""
    return f"{chart.scale * point[1]:.4g} ({point[0]})"


def _index(metrics: RunMetrics, title: str, charts: list[Chart]) -> str:
    steps = [p[0] for points in metrics.series.values() for p in points]
    lines = [f"# Training curves: {title}", ""]
    lines += [f"From {len(metrics.sources)} CSV log(s), merged in step order; steps {min(steps)}-{max(steps)}.", ""]
    lines += ["| metric | points | last (step) | lowest (step) |", "|---|---|---|---|"]
    for name, points in metrics.series.items():
        chart = chart_for(name)
        unit = f" ({chart.ylabel})" if chart.scale != 1 else ""
        last, low = points[-1], min(points, key=lambda p: p[1])
        lines.append(f"| {name}{unit} | {len(points)} | {_at(chart, last)} | {_at(chart, low)} |")
    lines.append("")
    for chart in charts:
        lines += [f"![{chart.title}]({chart.file})", ""]
    return "\n".join(lines)
