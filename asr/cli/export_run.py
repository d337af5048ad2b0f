"""``asr export-run RUN_DIR [--average N] [--dev MANIFEST]``: a run's model file written again from its checkpoints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `export-run`."""
    p.add_argument("run_dir", help="a training run's output_dir (it holds checkpoints/)")
    p.add_argument(
        "--average",
        type=int,
        metavar="N",
        help="average the weights of this many best checkpoints (by dev WER); default: every one the run kept",
    )
    p.add_argument(
        "--dev",
        metavar="MANIFEST",
        help="manifest whose reference word times calibrate the word-time frame offset (training uses its "
        "data.val_manifest); without it the model file keeps the default offset",
    )
    p.add_argument("--output", "-o", metavar="OUT", help="the model file to write; default: RUN_DIR/model.pt")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr.data.manifest import ManifestError, read_manifest
    from asr.export import ExportError, best_checkpoints, export_model, saved_scores
    from asr.outputs import OutputError, refuse_inputs
    from asr.run_folder import CHECKPOINTS, MODEL_FILE

    folder = Path(args.run_dir) / CHECKPOINTS
    output = args.output or Path(args.run_dir) / MODEL_FILE
    try:
        if args.average is not None and args.average < 1:
            raise ExportError(f"--average {args.average}: expected how many best checkpoints to average (1 or more)")
        if not folder.is_dir():
            raise ExportError(f"{args.run_dir}: not a training run (no {CHECKPOINTS}/ folder)")
        scores = saved_scores(folder)
        best = best_checkpoints(folder, scores, args.average or len(scores))
        if not best:
            raise ExportError(f"{folder}: no best checkpoint with a dev score to export")
        refuse_inputs(output, [*best, *([args.dev] if args.dev else [])], "--output")
        dev = read_manifest(args.dev).utterances if args.dev else []
        path = export_model(output, best, dev)
    except (ExportError, ManifestError, OutputError, OSError, RuntimeError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path} (the mean of {len(best)} checkpoints)")
    return 0
