"""``asr transcribe MODEL AUDIO... [--manifest M]``: text or JSON lines per file.

Bad files are named on stderr; the others are still transcribed.
"""

from __future__ import annotations

import argparse
import json
import sys

from asr.data.manifest import ManifestError, read_manifest
from asr.inference import AudioSource, Transcriber
from asr.model_file import ModelFileError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("transcribe", help="transcribe audio files with a model file")
    p.add_argument("model", help="model file written by training (model.pt)")
    p.add_argument(
        "audio", nargs="*", help="audio files (any format soundfile or librosa reads, any rate, mono or stereo)"
    )
    p.add_argument("--manifest", help="also transcribe every row of this JSON-lines manifest")
    p.add_argument(
        "--format",
        choices=["text", "jsonl"],
        default="text",
        help="text: one line per file; jsonl: one JSON object per file",
    )
    p.add_argument("--output", "-o", help="write here instead of stdout")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument("--batch-seconds", type=float, default=300.0, help="most padded audio seconds per forward pass")
    p.set_defaults(func=run)


def _sources(args: argparse.Namespace) -> list[AudioSource]:
    sources = [AudioSource(path) for path in args.audio]
    if args.manifest:
        sources += [
            AudioSource(u.audio_filepath, u.offset, u.duration if u.offset else None)
            for u in read_manifest(args.manifest).utterances
        ]
    return sources


def _line(result, fmt: str, many: bool) -> str:
    if fmt == "jsonl":
        return json.dumps(
            {"audio_filepath": result.source.path, "duration": round(result.duration, 3), "text": result.text},
            ensure_ascii=False,
        )
    return f"{result.source.path}\t{result.text}" if many else result.text


def run(args: argparse.Namespace) -> int:
    try:
        sources = _sources(args)
        transcriber = Transcriber.from_file(args.model, device=args.device, max_batch_seconds=args.batch_seconds)
    except (ManifestError, ModelFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not sources:
        print("error: no audio given (pass files or --manifest)", file=sys.stderr)
        return 2
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failed = 0
    try:
        for result in transcriber.transcribe(sources, progress=len(sources) > 1 and sys.stderr.isatty()):
            if result.error:
                failed += 1
                print(f"error: {result.error}", file=sys.stderr)
            else:
                print(_line(result, args.format, len(sources) > 1), file=out, flush=True)
    finally:
        if out is not sys.stdout:
            out.close()
    if failed:
        print(f"{failed} of {len(sources)} file(s) failed", file=sys.stderr)
    return 1 if failed else 0
