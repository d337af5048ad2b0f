#!/usr/bin/env python
"""Training throughput and model-FLOP utilization (MFU) on this machine: the pipeline against a naive baseline.

Needs no dataset: utterances are random noise whose durations follow a lognormal
distribution like read speech (median 9 s, clipped to 1-30 s), or the durations of
``--manifest``, with random transcripts of 15 characters per second. It measures

- the matmul peak: the best FLOP/s of ``torch.matmul`` on 4096 x 4096 matrices, float32
  and bfloat16, with the threads training uses (all cores unless ``--threads``);
- for each model size, training throughput (seconds of audio per second) and MFU of:
  ``naive``: batches of a fixed number of randomly drawn utterances, the LSTM run as one
  ``nn.LSTM`` call over the padded batch; ``packed``: duration-bucketed batches
  (``DurationBatchSampler``) and the LSTM on packed sequences, the pipeline before
  ``asr.model.BiLSTM``; ``pipeline``: bucketed batches and ``BiLSTM``, as ``asr train``
  runs; ``pipeline+bf16``: the same under bfloat16 autocast (``trainer.precision=bf16-mixed``;
  the BiLSTM runs ``asr.lstm_bf16`` where ``asr.lstm_bf16.chosen_for`` its size); ``pipeline+compile``: the same
  with ``compile=true`` (``torch.compile``).

The variants of one size are timed in turns, one step of each and then the next, so a
change of load on a shared machine falls on all of them alike; compare them by their
ratios, which the output lists. Bucketed variants take the first batches of a
``DurationBatchSampler`` epoch; the naive one as many batches of shuffled utterances, each
of the bucketed epoch's mean batch size, so both carry as much audio per step on average.
Each batch is an optimizer step (forward, CTC loss, backward, gradient clipping, AdamW; the
default augmentation, SpecAugment) in one process, timed after warm-up steps; data loading
is excluded.

Model FLOPs (``ASRModule.training_flops``) are counted on valid (unpadded) frames only, so padding shows up as lost
utilization. An utterance of T log-mel frames gives T_1 = (T-3)//s_1 + 1 frames after the
first 3x3 convolution and T' = (T_1-3)//s_2 + 1 after the second. Convolution k (C_in -> C_out
channels, F_k output mel bins) costs 2·9·C_in·C_out·F_k FLOPs per frame it outputs. Per output
frame, each LSTM layer l costs 2·4h·(in_l + h) FLOPs in each of its two directions (four gates,
input and recurrent products; in_0 = C·F_2, in_l = 2h above) and the output layer 2·2h·V.
Training = 3 × forward: the backward pass computes gradients of inputs and of weights, twice
the forward's products. The frontend (STFT, mel), gate nonlinearities, CTC and the optimizer
are not counted. MFU = training FLOPs per second / matmul peak, given against the float32 peak
and against the fastest peak the machine offers (bfloat16 where the CPU has bf16 units, many
times float32's with AMX), whatever precision a variant runs in, so that records from
different machines compare: the CPU model and its matmul-relevant flags head each record.

Other processes on the same cores lower every number, and multi-threaded training most:
OpenMP threads spin while they wait for each other at every LSTM time step, so one of them
losing its core stalls the others. The load average at the start and end and the OpenMP
wait policy are recorded with the numbers; on a busy machine run with
``OMP_WAIT_POLICY=PASSIVE`` or ``--threads 1``.

    python tools/benchmark_training.py                      # print the results
    python tools/benchmark_training.py --record             # and write them into BENCHMARKS.md
    python tools/benchmark_training.py --sizes 5x512 --variants naive pipeline --steps 4 --profile
    python tools/benchmark_training.py --quick              # a smoke test of this script, not a benchmark
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import torch
from benchmark import (
    REPO,
    Row,
    gradient_clip,
    load_row,
    machine_name,
    publish,
    recipe_config,
    render_section,
    train_step,
)
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from asr.config import CONF_DIR
from asr.data.dataset import collate
from asr.data.manifest import read_manifest
from asr.data.sampler import DurationBatchSampler
from asr.model import AcousticModel
from asr.module import ASRModule
from asr.text import CharTokenizer

MEDIAN_SECONDS, SIGMA, MIN_SECONDS, MAX_SECONDS = 9.0, 0.45, 1.0, 30.0
SYNTHETIC_UTTERANCES = 4000
CHARS_PER_SECOND = 15.0
ALPHABET = "abcdefghijklmnopqrstuvwxyz' "


@dataclass(frozen=True)
class Variant:
    """One way of training: how batches are formed and how the LSTM runs."""

    name: str
    bucketed: bool
    lstm: Literal["bilstm", "packed", "padded"]  # asr.model.BiLSTM, or one nn.LSTM call on packed or padded input
    description: str
    autocast: torch.dtype | None = None
    compile: bool = False


VARIANTS = {
    v.name: v
    for v in (
        Variant("naive", False, "padded", "fixed-size random batches, one nn.LSTM call over the padded batch"),
        Variant("packed", True, "packed", "bucketed batches, nn.LSTM on packed sequences (the pipeline before BiLSTM)"),
        Variant("pipeline", True, "bilstm", "bucketed batches, BiLSTM (oneDNN on padded input)"),
        Variant("pipeline+bf16", True, "bilstm", "bucketed batches, BiLSTM, bf16 autocast", autocast=torch.bfloat16),
        Variant("pipeline+compile", True, "bilstm", "bucketed batches, BiLSTM, torch.compile", compile=True),
    )
}


@dataclass(frozen=True)
class Settings:
    """How much work a run does."""

    sizes: list[str]
    steps: int
    warmup: int
    batch_seconds: float | None  # None: conf/data's max_batch_seconds
    peak_size: int


QUICK = Settings(sizes=["2x32"], steps=2, warmup=1, batch_seconds=20.0, peak_size=512)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", nargs="+", default=["5x512", "3x256"], help="BiLSTM sizes, LAYERSxHIDDEN")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--steps", type=int, default=8, help="timed optimizer steps per variant")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (torch.compile compiles in them)")
    p.add_argument("--batch-seconds", type=float, help="padded audio per bucketed batch (default: conf/data's)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    p.add_argument("--manifest", help="take utterance durations from this JSON-lines manifest (audio is not read)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="tiny settings: a smoke test of this script, not a benchmark")
    p.add_argument("--profile", action="store_true", help="print the operators one more step of each variant spends on")
    p.add_argument("--record", action="store_true", help="write the results into --out as well as printing them")
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"), help="Markdown file --record writes into")
    return p.parse_args(argv)


def matmul_peak(dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    """Best FLOP/s of one ``torch.matmul`` of two size x size matrices over ``repeats`` tries."""
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    torch.matmul(a, b)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def durations_from(args: argparse.Namespace) -> list[float]:
    """Utterance durations in seconds: the manifest's (those of 1-30 s), or lognormal draws."""
    if args.manifest:
        found = [
            u.duration for u in read_manifest(args.manifest).utterances if MIN_SECONDS <= u.duration <= MAX_SECONDS
        ]
        if not found:
            raise SystemExit(f"error: {args.manifest}: no utterance of {MIN_SECONDS:g}-{MAX_SECONDS:g} s")
        return found
    rng = random.Random(args.seed)
    draws = (rng.lognormvariate(math.log(MEDIAN_SECONDS), SIGMA) for _ in range(SYNTHETIC_UTTERANCES))
    return [min(MAX_SECONDS, max(MIN_SECONDS, d)) for d in draws]


def batch_plans(
    durations: list[float], batch_seconds: float, max_batch_size: int, count: int, seed: int
) -> tuple[list[list[int]], list[list[int]]]:
    """The first ``count`` batches of a bucketed epoch, and of a naive one: the utterances shuffled and cut into
    batches of one fixed size, the bucketed epoch's mean, so both carry as much audio per step on average."""
    epoch = list(DurationBatchSampler(durations, batch_seconds, max_batch_size, seed=seed))
    if len(epoch) < count:
        raise SystemExit(f"error: {len(durations)} utterances make {len(epoch)} batches, fewer than the {count} needed")
    size = round(len(durations) / len(epoch))
    order = list(range(len(durations)))
    random.Random(seed).shuffle(order)
    return epoch[:count], [order[i * size : (i + 1) * size] for i in range(count)]


def synthetic_utterances(
    indices: list[int], durations: list[float], sample_rate: int, vocab_size: int, seed: int
) -> dict[int, dict]:
    """Noise waveforms and random transcripts, as ``UtteranceDataset`` items."""
    gen = torch.Generator().manual_seed(seed)
    items = {}
    for i in indices:
        seconds = durations[i]
        tokens = torch.randint(1, vocab_size, (max(1, round(seconds * CHARS_PER_SECOND)),), generator=gen)
        wav = 0.1 * torch.randn(int(seconds * sample_rate), generator=gen)
        items[i] = {"index": i, "wav": wav, "tokens": tokens, "text": ""}  # training only: no reference text
    return items


def run_lstm_as_one_call(acoustic: AcousticModel, packed: bool) -> None:
    """Make ``acoustic`` run its BiLSTM's weights as a single ``nn.LSTM`` call, on packed sequences or on the padded
    batch (where the backward direction starts in the padding), as the baselines do."""

    def forward(feats: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out_lengths = acoustic.output_lengths(lengths)
        x = acoustic.subsampling(feats)
        if packed:
            packed_x = pack_padded_sequence(x, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
            y = pad_packed_sequence(nn.LSTM.forward(acoustic.lstm, packed_x)[0], batch_first=True)[0]
        else:
            y = nn.LSTM.forward(acoustic.lstm, x)[0]
        return acoustic.output(acoustic.dropout(y)).float().log_softmax(-1), out_lengths

    acoustic.forward = forward


@dataclass
class Run:
    """One variant's model, optimizer step and batches, and the wall-clock seconds its timed steps took."""

    variant: Variant
    module: ASRModule
    step: Callable[[dict], None]
    batches: list[dict]
    seconds: float = 0.0


def measure_interleaved(runs: list[Run], warmup: int, profile: bool) -> None:
    """Warm every run up, then time their steps in turns (one step of each, then the next), so a change of load
    on a shared machine falls on every variant alike and their ratios stay fair; with ``profile``, print where
    the time of one more step of each goes, by operator."""
    for run in runs:
        for batch in run.batches[:warmup]:
            run.step(batch)
    for i in range(warmup, len(runs[0].batches)):
        for run in runs:
            start = time.perf_counter()
            run.step(run.batches[i])
            run.seconds += time.perf_counter() - start
    if profile:
        for run in runs:
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
                run.step(run.batches[warmup])
            print(f"{run.variant.name}:", file=sys.stderr)
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15), file=sys.stderr)


def variant_row(label: str, run: Run, config: dict, warmup: int, peaks: dict[str, float]) -> tuple[Row, float]:
    """The row of one measured variant, and its speed in seconds of audio per second."""
    timed = run.batches[warmup:]
    sr = config["features"]["sample_rate"]
    frames = [run.module.recognizer.frontend.logmel.num_frames(b["wav_lengths"]) for b in timed]
    flops = sum(run.module.training_flops(f) for f in frames)
    audio = sum(b["wav_lengths"].sum().item() for b in timed) / sr
    padded = sum(b["wav"].numel() for b in timed) / sr
    utterances = sum(b["wav_lengths"].numel() for b in timed)
    speed, flops_per_second = audio / run.seconds, flops / run.seconds
    best = max(peaks, key=peaks.get)
    mfu = f"MFU {flops_per_second / peaks['float32']:.0%} of the float32 peak"
    if best != "float32":
        mfu += f", {flops_per_second / peaks[best]:.0%} of the {best} peak"
    steps = len(timed)
    return (
        Row(
            f"{label} {run.variant.name}",
            f"{speed:,.1f} s of audio/s; {mfu}",
            f"{run.variant.description}; {steps} steps after {warmup} warm-up: "
            f"{flops_per_second / 1e9:.1f} GFLOP/s, mean batch {audio / steps:.0f} s of audio "
            f"({padded / steps:.0f} s padded, {utterances / steps:.1f} utterances)",
        ),
        speed,
    )


RATIOS = (
    ("pipeline", "naive"),
    ("pipeline", "packed"),
    ("pipeline+bf16", "pipeline"),
    ("pipeline+bf16", "naive"),
    ("pipeline+compile", "pipeline"),
)


def bench_size(
    size: str, args: argparse.Namespace, settings: Settings, durations: list[float], peaks: dict
) -> list[Row]:
    """Rows for every variant of one model size, measured in turns, and the throughput ratios between them."""
    layers, hidden = (int(n) for n in size.lower().split("x"))
    overrides = [f"model.num_layers={layers}", f"model.hidden_size={hidden}"]
    if settings.batch_seconds:
        overrides.append(f"data.max_batch_seconds={settings.batch_seconds}")
    config = recipe_config(CONF_DIR, "train", overrides)
    tokenizer = CharTokenizer.build([ALPHABET])
    data = config["data"]
    bucketed, naive = batch_plans(
        durations, data["max_batch_seconds"], data["max_batch_size"], settings.warmup + settings.steps, args.seed
    )
    used = sorted({i for b in bucketed + naive for i in b})
    items = synthetic_utterances(used, durations, config["features"]["sample_rate"], tokenizer.vocab_size, args.seed)
    label = f"{layers}×{hidden}"
    runs = []
    for name in args.variants:
        variant = VARIANTS[name]
        torch.manual_seed(args.seed)
        module = ASRModule.from_config({**config, "compile": variant.compile}, tokenizer).train()
        if variant.lstm != "bilstm":
            run_lstm_as_one_call(module.recognizer.acoustic, packed=variant.lstm == "packed")
        batches = [collate([items[i] for i in b]) for b in (bucketed if variant.bucketed else naive)]
        runs.append(Run(variant, module, train_step(module, gradient_clip(config), variant.autocast), batches))
    print(f"{label}: {', '.join(args.variants)} in turns ...", file=sys.stderr)
    measure_interleaved(runs, settings.warmup, args.profile)
    rows, speeds = [], {}
    for run in runs:
        row, speeds[run.variant.name] = variant_row(label, run, config, settings.warmup, peaks)
        rows.append(row)
    for faster, slower in RATIOS:
        if faster in speeds and slower in speeds:
            rows.append(Row(f"{label} {faster} / {slower}", f"{speeds[faster] / speeds[slower]:.2f}×", "throughput"))
    return rows


def notes(args: argparse.Namespace, settings: Settings) -> list[str]:
    """How the numbers were taken, for the section's header."""
    source = (
        f"durations of `{args.manifest}`"
        if args.manifest
        else f"lognormal durations (median {MEDIAN_SECONDS:g} s, sigma {SIGMA:g}, {MIN_SECONDS:g}-{MAX_SECONDS:g} s)"
    )
    return [
        f"data: synthetic noise waveforms, {source}, {CHARS_PER_SECOND:g} random characters per second",
        "model FLOPs, valid frames only: per output frame 2·4h·(in+h) per LSTM layer and direction and 2·2h·V for "
        "the output layer; 2·9·C_in·C_out·F_out per frame each 3×3 convolution outputs; training = 3 × forward. "
        "MFU = model FLOP/s ÷ the float32 matmul peak, and ÷ the fastest matmul peak measured (bfloat16), "
        "whatever precision a variant runs in",
        f"each variant: {settings.steps} optimizer steps (forward, CTC, backward, clipping, AdamW) timed after "
        f"{settings.warmup} warm-up steps, one process, data loading excluded; the variants of a size run in turns, "
        "one step of each at a time, so their ratios hold under a changing load",
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    settings = (
        QUICK
        if args.quick
        else Settings(
            sizes=args.sizes, steps=args.steps, warmup=args.warmup, batch_seconds=args.batch_seconds, peak_size=4096
        )
    )
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    print("matmul peak ...", file=sys.stderr)
    peaks = {
        name: matmul_peak(dtype, settings.peak_size)
        for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16))
    }
    rows = [
        Row(
            f"matmul peak ({name})",
            f"{peak / 1e9:,.1f} GFLOP/s",
            f"torch.matmul {settings.peak_size}² {name}, best of 5",
        )
        for name, peak in peaks.items()
    ]
    durations = durations_from(args)
    for size in settings.sizes:
        rows += bench_size(size, args, settings, durations, peaks)
    rows.append(load_row(load_start))
    heading = f"{machine_name()} / training MFU, {args.threads} thread{'s' if args.threads > 1 else ''}"
    section = render_section(heading, rows, torch.device("cpu"), notes(args, settings))
    publish(Path(args.out) if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
