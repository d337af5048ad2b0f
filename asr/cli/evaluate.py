"""``asr evaluate MODEL MANIFEST``: WER/CER with S/D/I on stdout, one JSON line per utterance in a file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from asr.cli.paths import unwritable


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `evaluate`."""
    p.add_argument("model", help="model file written by training (model.pt)")
    p.add_argument("manifest", help="JSON-lines manifest with reference text")
    p.add_argument(
        "overrides", nargs="*", metavar="OVERRIDE", help="decoder settings: decoder=beam decoder.lm=lm.arpa ..."
    )
    p.add_argument(
        "--per-utterance", help="per-utterance results (JSON lines); default: <model dir>/eval-<manifest name>.jsonl"
    )
    p.add_argument("--summary", help="also write the totals here as JSON")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--batch-seconds", type=float, default=300.0, help="most padded audio seconds per forward pass")
    p.set_defaults(func=run, trailing="overrides")


def run(args: argparse.Namespace) -> int:
    from asr.data.manifest import ManifestError, read_manifest
    from asr.evaluation import evaluate
    from asr.inference import Transcriber
    from asr.model_file import ModelFileError

    try:
        manifest = read_manifest(args.manifest)
        transcriber = Transcriber.from_file(
            args.model, args.overrides, device=args.device, max_batch_seconds=args.batch_seconds
        )
    except (ManifestError, ModelFileError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    per_utterance = args.per_utterance or Path(args.model).parent / f"eval-{Path(args.manifest).stem}.jsonl"
    problem = next(filter(None, (unwritable(p) for p in (per_utterance, args.summary) if p)), None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for path in (per_utterance, args.summary):
        if path:
            Path(path).absolute().parent.mkdir(parents=True, exist_ok=True)
    report = evaluate(transcriber, manifest, per_utterance, progress=sys.stderr.isatty())
    print(report.summary())
    print(f"per-utterance results: {per_utterance}")
    if args.summary:
        Path(args.summary).write_text(json.dumps(report.as_dict(), indent=2) + "\n")
    for error in report.failed:
        print(f"error: {error}", file=sys.stderr)
    return 1 if report.failed or report.skipped_rows else 0
