"""Arguments and loading shared by the commands that run a model (transcribe, evaluate, serve)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asr.inference import Transcriber


def add_runtime_arguments(p: argparse.ArgumentParser) -> None:
    """--device, --runtime and --threads."""
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--runtime",
        choices=["auto", "torch", "onnx"],
        default="auto",
        help="torch runs model.pt; onnx runs a file from asr export; auto: onnx for a .onnx name",
    )
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: one per core)")


def load_transcriber(args: argparse.Namespace, overrides: list[str], **kwargs: Any) -> Transcriber:
    """The ``Transcriber`` for ``args.model`` as the runtime arguments say."""
    from asr.inference import Transcriber

    return Transcriber.from_file(
        args.model, overrides, runtime=args.runtime, threads=args.threads, device=args.device, **kwargs
    )
