#!/usr/bin/env python
"""Training time of one BiLSTM layer, forward and backward, in each way the model can run it.

The three ways: oneDNN's fused LSTM in float32 (``trainer.precision=32-true``), the same
under bf16 autocast (``bf16-mixed`` on a CPU without AMX), and ``asr.lstm_bf16`` (bf16
products, float32 gates; what ``bf16-mixed`` runs on a CPU with AMX). ``asr.model.BiLSTM``
and ``trainer.precision=auto`` choose between them by the CPU's features; this script
measures that choice on the machine it runs on, for the layer shapes given, without the
convolutions, CTC and optimizer of a whole training step (``tools/benchmark_training.py``
times those).

Each shape is INPUT,HIDDEN,BATCH,FRAMES (input features per frame, hidden size per
direction, utterances, output frames of the longest); the utterances' lengths are spread
evenly from half the longest to the longest, as in a bucketed batch. The ways of one shape
run in turns, one pass of each and then the next, so a changing load falls on all alike;
each way's time is its best pass.

    python tools/benchmark_lstm_layer.py                      # the default shapes, printed
    python tools/benchmark_lstm_layer.py --threads 1 --record # and written into BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Inner layers of BiLSTMs of hidden size 512, 384 and 256 on 9 s utterances (benchmark_training.py's 5x512 and 3x256),
# and of the digits recipe's 3x192 on its short utterances and on long ones.
DEFAULT_SHAPES = ["1024,512,12,232", "768,384,12,232", "512,256,12,232", "384,192,16,75", "384,192,6,232"]
WAYS = ("oneDNN float32", "oneDNN bf16 autocast", "asr.lstm_bf16")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, help="INPUT,HIDDEN,BATCH,FRAMES each")
    p.add_argument("--repeats", type=int, default=5, help="timed passes of each way (the best counts)")
    p.add_argument("--threads", type=int, help="torch threads (default: all cores)")
    p.add_argument("--record", action="store_true", help="write the section into BENCHMARKS.md")
    return p.parse_args(argv)


def parse_shape(text: str) -> tuple[int, int, int, int]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 1:
        print(f"error: --shapes {text!r}: expected four positive integers INPUT,HIDDEN,BATCH,FRAMES", file=sys.stderr)
        raise SystemExit(2)
    return values  # type: ignore[return-value]


def one_pass(lstm, x, lengths, way: str) -> float:
    """Seconds for one forward and backward pass of the layer."""
    import torch

    x = x.detach().requires_grad_()
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=way != WAYS[0]):
        out = lstm._forward_bf16(x, lengths) if way == WAYS[2] else lstm._forward_fused(x, lengths)
    out.float().sum().backward()
    return time.perf_counter() - start


def measure(shape: tuple[int, int, int, int], repeats: int) -> dict[str, float]:
    """The best pass of each way, in seconds."""
    import torch

    from asr.model import BiLSTM

    input_size, hidden, batch, frames = shape
    torch.manual_seed(0)
    lstm = BiLSTM(input_size, hidden, num_layers=1, dropout=0.0)
    x = torch.randn(batch, frames, input_size)
    lengths = torch.linspace(frames, max(1, frames // 2), batch).round().long()
    for way in WAYS:  # warm-up: oneDNN builds its kernels on the first call
        one_pass(lstm, x, lengths, way)
    best = dict.fromkeys(WAYS, float("inf"))
    for _ in range(repeats):
        for way in WAYS:
            best[way] = min(best[way], one_pass(lstm, x, lengths, way))
    return best


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    shapes = [parse_shape(s) for s in args.shapes]
    sys.path.insert(0, str(Path(__file__).parent))
    import torch
    from benchmark import Row, load_row, machine_name, publish, render_section

    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    rows = []
    for shape in shapes:
        input_size, hidden, batch, frames = shape
        label = f"input {input_size}, hidden {hidden}, {batch} × {frames} frames"
        print(f"{label} ...", file=sys.stderr)
        best = measure(shape, args.repeats)
        for way in WAYS:
            setting = f"forward + backward, best of {args.repeats}"
            rows.append(Row(f"{label}: {way}", f"{best[way] * 1000:,.1f} ms", setting))
        for way in WAYS[1:]:
            rows.append(Row(f"{label}: float32 / {way}", f"{best[WAYS[0]] / best[way]:.2f}×", "speed-up over float32"))
    rows.append(load_row(load_before))
    notes = [
        "one bidirectional layer (asr.model.BiLSTM with num_layers=1), random input and weights; lengths evenly "
        "spread from half the longest to the longest; the ways run in turns",
    ]
    threads = torch.get_num_threads()
    heading = f"{machine_name()} / one BiLSTM layer, {threads} thread{'s' if threads > 1 else ''}"
    section = render_section(heading, rows, torch.device("cpu"), notes)
    publish(REPO / "BENCHMARKS.md" if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
