"""``asr export MODEL --format onnx [--int8] -o OUT``: the whole recognizer as an ONNX graph (waveforms in)."""

from __future__ import annotations

import argparse
import sys


def register(p: argparse.ArgumentParser) -> None:
    """The arguments of `export`."""
    p.add_argument("model", help="model file written by training (model.pt)")
    p.add_argument("--format", choices=["onnx"], default="onnx", help="onnx: waveforms and lengths in, log-probs out")
    p.add_argument("--int8", action="store_true", help="int8 weights for the LSTM and output layers (ONNX Runtime)")
    p.add_argument("--output", "-o", required=True, help="the file to write (model.onnx)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr.model_file import ModelFileError

    try:
        from asr.onnx_export import export_onnx
    except ImportError as e:
        print(f"error: asr export needs the export extra (pip install 'asr-bilstm[export]'): {e}", file=sys.stderr)
        return 2

    try:
        path = export_onnx(args.model, args.output, int8=args.int8)
    except (ModelFileError, RuntimeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
