#!/usr/bin/env python
"""How close word times and how telling word confidences are, against a manifest with reference word times.

Transcribes every row as ``asr transcribe`` does (greedy decoding), aligns the decoded words to the
log-probabilities (asr.decoding.words) and compares them with the reference
``words`` ({word, start, end}) of each row, pairing words that jiwer aligns as
equal (asr.word_timing). Prints a Markdown table: median and 90th-percentile
absolute start and end errors in ms (and the mean signed error, to show a
bias), the mean confidence of correct and of wrong (substituted or inserted)
words, and the ``--frame-offset`` that would centre the errors. The offset
defaults to the one stored in the model file (measured on the dev set at the
end of training).

    python tools/word_timing_report.py exp/digits/model.pt data/digits/test.jsonl
    python tools/word_timing_report.py exp/digits/model.pt data/digits/dev.jsonl --frame-offset 0.03
"""

from __future__ import annotations

import argparse
import shlex
import sys

import torch

from asr.data.manifest import read_manifest
from asr.inference import resolve_device
from asr.model_file import load_model
from asr.word_timing import Tally, measure


def _ms_stats(errors: list[float]) -> str:
    err = torch.tensor(errors, dtype=torch.float64) * 1000
    if not len(err):
        return "– | – | –"
    absolute = err.abs()
    return f"{absolute.median():.0f} | {absolute.quantile(0.9):.0f} | {err.mean():+.0f}"


def _mean(values: list[float]) -> str:
    return f"{sum(values) / len(values):.3f}" if values else "–"


def report(tally: Tally, frame_offset: float) -> str:
    """The Markdown tables, and the frame offset that would centre these boundary errors."""
    centring = tally.centring_offset(frame_offset)
    return "\n".join(
        [
            f"Matched words: {len(tally.right)} of {tally.reference_words} reference words "
            f"(frame offset {frame_offset:.3f} s)",
            "",
            "| boundary | median abs error (ms) | p90 abs error (ms) | mean signed error (ms) |",
            "| --- | --- | --- | --- |",
            f"| start | {_ms_stats(tally.start_errors)} |",
            f"| end | {_ms_stats(tally.end_errors)} |",
            "",
            "| decoded words | count | mean confidence |",
            "| --- | --- | --- |",
            f"| correct | {len(tally.right)} | {_mean(tally.right)} |",
            f"| wrong (substituted or inserted) | {len(tally.wrong)} | {_mean(tally.wrong)} |",
            "",
            "Frame offset centring these boundaries (median signed error removed): "
            + (f"--frame-offset {centring:.3f}" if centring is not None else "– (no matched words)"),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="model file (model.pt)")
    parser.add_argument("manifest", help="manifest whose rows have reference 'words' with start/end")
    parser.add_argument("--frame-offset", type=float, help="seconds (default: the model file's)")
    parser.add_argument("--no-snap", action="store_true", help="keep the alignment's times as they are")
    parser.add_argument("--device", default="auto")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)

    model = load_model(args.model)
    model.recognizer.to(resolve_device(args.device))
    utts = [u for u in read_manifest(args.manifest).utterances if u.words]
    if not utts:
        print(f"{args.manifest}: no rows with reference 'words'", file=sys.stderr)
        return 1
    offset = model.frame_offset if args.frame_offset is None else args.frame_offset
    tally = measure(model, utts, offset, not args.no_snap)
    print(f"`{shlex.join(['python', 'tools/word_timing_report.py', *argv])}`\n")
    print(report(tally, offset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
