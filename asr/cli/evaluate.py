"""``asr evaluate MODEL MANIFEST``: WER/CER with S/D/I on stdout, one JSON line per utterance in a file, and
with ``--report DIR`` a page of the errors (per speaker, by length, confusions, worst utterances, charts)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from asr.cli.common import add_runtime_arguments, load_transcriber
from asr.cli.paths import unwritable
from asr.outputs import OutputError, atomic_write, refuse_inputs

if TYPE_CHECKING:
    from asr.evaluation import EvaluationReport


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `evaluate`."""
    p.add_argument("model", help="model file written by training (model.pt), or exported by asr export (.onnx)")
    p.add_argument("manifest", help="JSON-lines manifest with reference text")
    p.add_argument(
        "overrides", nargs="*", metavar="OVERRIDE", help="decoder settings: decoder=beam decoder.lm=lm.arpa ..."
    )
    p.add_argument(
        "--per-utterance", help="per-utterance results (JSON lines); default: <model dir>/eval-<manifest name>.jsonl"
    )
    p.add_argument("--summary", help="also write the totals here as JSON")
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write an error report to DIR: report.md (per speaker, by length, confusion pairs, worst "
        "utterances; PNG charts with the report extra) and report.json",
    )
    p.add_argument(
        "--vtln",
        action="store_true",
        help="vocal tract length normalization: decode each speaker of the manifest (its speaker field) under "
        "the mel-axis warp, of 0.85-1, with the least uncertain output frames; four forward passes, one decoding",
    )
    add_runtime_arguments(p)
    p.add_argument("--batch-seconds", type=float, default=300.0, help="most padded audio seconds per forward pass")
    p.set_defaults(func=run, trailing="overrides")


def run(args: argparse.Namespace) -> int:
    from asr.data.manifest import ManifestError, read_manifest
    from asr.evaluation import evaluate
    from asr.model_file import ModelFileError
    from asr.report import FILES as REPORT_FILES
    from asr.vtln import FACTORS

    per_utterance = args.per_utterance or Path(args.model).parent / f"eval-{Path(args.manifest).stem}.jsonl"
    try:
        manifest = read_manifest(args.manifest)
        inputs = [args.model, args.manifest, *(u.audio_filepath for u in manifest.utterances)]
        refuse_inputs(per_utterance, inputs, "--per-utterance")
        if args.summary:
            refuse_inputs(args.summary, [*inputs, per_utterance], "--summary")
        outputs = [per_utterance, *([args.summary] if args.summary else [])]
        for name in REPORT_FILES if args.report else ():
            refuse_inputs(Path(args.report) / name, [*inputs, *outputs], "--report")
        transcriber = load_transcriber(args, args.overrides, max_batch_seconds=args.batch_seconds)
    except (ManifestError, ModelFileError, OutputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    problems = [unwritable(p) for p in (per_utterance, args.summary) if p]
    problem = next(filter(None, [*problems, args.report and unwritable(args.report, folder=True)]), None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    for path in (per_utterance, args.summary):
        if path:
            Path(path).absolute().parent.mkdir(parents=True, exist_ok=True)
    try:
        report = evaluate(
            transcriber, manifest, per_utterance, progress=sys.stderr.isatty(), vtln=FACTORS if args.vtln else None
        )
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"per-utterance results: {per_utterance}")
    if args.summary:
        with atomic_write(args.summary) as f:
            f.write(json.dumps(report.as_dict(), indent=2) + "\n")
    if args.report:
        write_error_report(args, report)
    for error in report.failed:
        print(f"error: {error}", file=sys.stderr)
    if not report.utterances:
        print(f"error: {args.manifest}: no utterance could be scored; there is no error rate", file=sys.stderr)
    return 1 if report.failed or report.skipped_rows or not report.utterances else 0


def write_error_report(args: argparse.Namespace, report: EvaluationReport) -> None:
    """``--report DIR``: the error report of this evaluation, its source named by the command's arguments."""
    from asr.report import analyse, write_report

    source = {"model": args.model, "manifest": args.manifest}
    if args.overrides:
        source["decoder"] = " ".join(args.overrides)
    written, notice = write_report(analyse(report), args.report, source)
    print(f"error report: {written[0]}")
    if notice:
        print(f"note: {notice}", file=sys.stderr)
