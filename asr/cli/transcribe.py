"""``asr transcribe MODEL AUDIO... [--manifest M] [decoder overrides]``: text, JSON lines or subtitles per file.

Bad files are named on stderr; the others are still transcribed. Outputs are written atomically and
never over an input; with ``--output-dir``, inputs whose names would collide get numbered outputs.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from asr.cli.common import add_runtime_arguments, load_transcriber
from asr.cli.paths import unwritable
from asr.config import is_decoder_override
from asr.outputs import OutputError, atomic_write, refuse_inputs
from asr.writers import WRITERS

if TYPE_CHECKING:
    from asr.audio import AudioSource
    from asr.inference import Transcriber

SUFFIX = {"text": "txt", "jsonl": "jsonl", "srt": "srt", "vtt": "vtt"}


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `transcribe`."""
    p.add_argument("model", help="model file written by training (model.pt), or exported by asr export (.onnx)")
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="AUDIO|OVERRIDE",
        help="audio files (any format soundfile or librosa reads, any rate, mono or stereo), "
        "and decoder overrides: decoder=beam decoder.lm=lm.arpa decoder.lm_weight=0.5 ...",
    )
    p.add_argument("--manifest", help="also transcribe every row of this JSON-lines manifest")
    p.add_argument(
        "--format", choices=sorted(WRITERS), default="text", help="text, jsonl (words, times, confidence), srt, vtt"
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--output", "-o", help="write everything to this file instead of stdout")
    out.add_argument(
        "--output-dir",
        help="write one file per input here, named after the audio file (all numbered by input position, "
        "NNNN-NAME, when two inputs share a name)",
    )
    add_runtime_arguments(p)
    p.add_argument(
        "--no-snap", action="store_true", help="keep word times as the alignment gives them, even inside pauses"
    )
    p.add_argument("--batch-seconds", type=float, default=300.0, help="most padded audio seconds per forward pass")
    p.add_argument(
        "--chunk-seconds",
        type=float,
        default=30.0,
        help="longer audio is cut at its pauses, then into windows this long",
    )
    p.add_argument(
        "--min-pause",
        type=float,
        default=0.5,
        help="seconds of quiet at which long audio is cut (0: never cut at pauses, windows only)",
    )
    p.add_argument("--context-seconds", type=float, default=3.0, help="overlap kept on each side of a window")
    p.add_argument(
        "--vtln",
        action="store_true",
        help="vocal tract length normalization: decode all the audio given, as one speaker's, under the mel-axis "
        "warp (0.85-1) with the least uncertain output frames; four forward passes, results after the last",
    )
    p.set_defaults(func=run, trailing="inputs")


def _sources(args: argparse.Namespace, audio: list[str]) -> list[AudioSource]:
    from asr.audio import AudioSource
    from asr.data.manifest import read_manifest

    sources = [AudioSource(path) for path in audio]
    if args.manifest:
        sources += [u.audio for u in read_manifest(args.manifest).utterances]
    return sources


def output_names(sources: list[AudioSource], suffix: str) -> list[str]:
    """One output file name per source: its audio file's name, or, when two sources share a name (the same
    file twice, rows of one shard or segments file), every name prefixed with its position, so none collide."""
    stems = [Path(source.path).stem for source in sources]
    if len(set(stems)) == len(stems):
        return [f"{stem}.{suffix}" for stem in stems]
    width = len(str(len(stems) - 1))
    return [f"{k:0{width}d}-{stem}.{suffix}" for k, stem in enumerate(stems)]


def _outputs(args: argparse.Namespace, sources: list[AudioSource]) -> list[Path]:
    """The files this command writes, checked against everything it reads."""
    outputs = [Path(args.output)] if args.output else []
    if args.output_dir:
        outputs = [Path(args.output_dir) / name for name in output_names(sources, SUFFIX[args.format])]
    inputs = {args.model, *(s.path for s in sources), *([args.manifest] if args.manifest else [])}
    for output in outputs:
        refuse_inputs(output, inputs)
    return outputs


def _transcriber(args: argparse.Namespace, overrides: list[str]) -> Transcriber:
    return load_transcriber(
        args,
        overrides,
        max_batch_seconds=args.batch_seconds,
        chunk_seconds=args.chunk_seconds,
        context_seconds=args.context_seconds,
        min_pause_seconds=args.min_pause,
        snap_words=not args.no_snap,
    )


def run(args: argparse.Namespace) -> int:
    from asr.data.manifest import ManifestError
    from asr.model_file import ModelFileError

    overrides = [a for a in args.inputs if is_decoder_override(a)]
    audio = [a for a in args.inputs if not is_decoder_override(a)]
    problem = (args.output and unwritable(args.output)) or (args.output_dir and unwritable(args.output_dir, True))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        sources = _sources(args, audio)
        outputs = _outputs(args, sources)
        transcriber = _transcriber(args, overrides)
    except (ManifestError, ModelFileError, OutputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not sources:
        print("error: no audio given (pass files or --manifest)", file=sys.stderr)
        return 2

    if args.format in ("srt", "vtt") and len(sources) > 1 and not args.output_dir:
        print(f"error: {args.format} holds one file's subtitles; use --output-dir for several files", file=sys.stderr)
        return 2
    write = WRITERS[args.format]
    many = len(sources) > 1
    failed = 0
    if args.vtln:
        from asr.vtln import transcribe_warped

        try:
            choice, results = transcribe_warped(transcriber, sources)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if choice.measured:
            print(f"vocal tract warp: {choice.factor:g}", file=sys.stderr)
    else:
        results = transcriber.transcribe(sources, progress=many and sys.stderr.isatty())
    with ExitStack() as stack:
        stream = stack.enter_context(atomic_write(args.output)) if args.output else sys.stdout
        for index, result in enumerate(results):
            if result.error:
                failed += 1
                print(f"error: {result.error}", file=sys.stderr)
            elif args.output_dir:
                with atomic_write(outputs[index]) as out:
                    write(result, out)
            elif args.format == "text" and many:
                print(f"{result.source.path}\t{result.text}", file=stream, flush=True)
            else:
                write(result, stream)
                stream.flush()
    if failed:
        print(f"{failed} of {len(sources)} file(s) failed", file=sys.stderr)
    return 1 if failed else 0
