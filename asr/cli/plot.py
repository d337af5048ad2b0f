"""``asr plot RUN_DIR``: a training run's curves (loss, validation WER/CER, learning rate, ...) as PNGs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `plot`."""
    p.add_argument(
        "run_dir", metavar="RUN_DIR", help="a training run's output_dir (its csv/version_N/metrics.csv logs are drawn)"
    )
    p.add_argument("--out-dir", "-o", metavar="DIR", help="where the PNGs and index.md go; default: RUN_DIR/plots")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr import plots
    from asr.cli.paths import unwritable
    from asr.curves import CurvesError, draw_curves, read_run_metrics

    out_dir = Path(args.out_dir or Path(args.run_dir) / "plots")
    try:
        metrics = read_run_metrics(args.run_dir)
    except CurvesError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problem = plots.missing() or unwritable(out_dir, folder=True)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    written = draw_curves(metrics, out_dir, str(args.run_dir))
    print(f"wrote {written[0]} and {len(written) - 1} chart(s): {', '.join(p.name for p in written[1:])}")
    for problem in metrics.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if metrics.problems else 0
