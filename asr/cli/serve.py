"""``asr serve MODEL [--host 127.0.0.1 --port 8000]``: the OpenAI-compatible transcription server."""

from __future__ import annotations

import argparse
import sys

from asr.cli.common import add_runtime_arguments, load_transcriber


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `serve`."""
    p.add_argument("model", help="model file (model.pt) or exported ONNX file (.onnx)")
    p.add_argument(
        "overrides", nargs="*", metavar="OVERRIDE", help="decoder settings: decoder=beam decoder.lm=lm.arpa ..."
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000)
    add_runtime_arguments(p)
    p.add_argument("--max-bytes", type=int, default=25 * 1024 * 1024, help="largest upload accepted")
    p.add_argument("--max-seconds", type=float, default=600.0, help="longest audio accepted")
    p.add_argument("--max-queue", type=int, default=64, help="requests waiting for the model; more get 503")
    p.add_argument("--batch-seconds", type=float, default=120.0, help="most audio seconds transcribed as one batch")
    p.set_defaults(func=run, trailing="overrides")


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from asr.serve import ServeSettings, create_app
    except ImportError as e:
        print(f"error: asr serve needs the serve extra (pip install 'asr-bilstm[serve]'): {e}", file=sys.stderr)
        return 2
    from asr.model_file import ModelFileError

    settings = ServeSettings(
        max_bytes=args.max_bytes,
        max_seconds=args.max_seconds,
        max_queue=args.max_queue,
        max_batch_seconds=args.batch_seconds,
    )

    try:  # before the server starts: a bad model file is named, with exit code 2
        transcriber = load_transcriber(args, args.overrides, max_batch_seconds=args.batch_seconds)
    except (ModelFileError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(lambda: transcriber, settings), host=args.host, port=args.port, log_level="info")
    return 0
