#!/usr/bin/env python
"""Peak memory and time of reading audio at awkward sample rates into 16 kHz: libsoxr (what ``asr`` uses)
against torchaudio's ``resample`` (what it used before).

torchaudio builds a kernel sized by the two rates divided by their greatest common
divisor, so a rate sharing few factors with 16000 Hz costs gigabytes whatever the
file's length; libsoxr's polyphase filter is sized by its quality alone. Each
rate and resampler runs in a new process on a file of ``--seconds`` of noise; the
peak resident memory is reported over that process's peak after reading a 16 kHz file.

    python tools/benchmark_resampling.py [--seconds 60] [--rates 4001 11127 44101 191999] [--record]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
MEASURE = """
import resource, sys, time
import numpy as np, soundfile as sf, torch, torchaudio.functional as AF
from asr.audio import AudioSource
def torchaudio_load(path, rate):
    data, source = sf.read(path, dtype="float32", always_2d=True)
    return AF.resample(torch.from_numpy(np.ascontiguousarray(data.mean(axis=1))), source, rate)
load = (lambda path, rate: AudioSource(path).load(rate)) if sys.argv[1] == "soxr" else torchaudio_load
load(sys.argv[2], 16000)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
wav = load(sys.argv[3], 16000)
seconds = time.perf_counter() - start
print(wav.numel(), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024, seconds)
"""


def measure(resampler: str, warm: Path, path: Path) -> tuple[int, int, float]:
    """Peak memory over the warmed-up process (MB), samples out, and seconds of the read."""
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, resampler, str(warm), str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    samples, megabytes, seconds = run.stdout.split()
    return int(megabytes), int(samples), float(seconds)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0, help="length of each test file")
    p.add_argument("--rates", type=int, nargs="+", default=[4001, 11127, 44101, 191999], help="rates read with soxr")
    p.add_argument(
        "--torchaudio-rates",
        type=int,
        nargs="*",
        default=[4001, 11127],
        help="rates read with torchaudio too (44101 Hz took 11 GB; 191999 Hz would take more than most machines have)",
    )
    p.add_argument("--record", action="store_true", help="write the section into BENCHMARKS.md")
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import torch
    from benchmark import Row, publish, render_section

    load = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.wav"
        sf.write(warm, (0.1 * rng.standard_normal(16000)).astype(np.float32), 16000)
        for rate in sorted({*args.rates, *args.torchaudio_rates}):
            path = Path(tmp) / f"{rate}.wav"
            sf.write(path, (0.1 * rng.standard_normal(int(args.seconds * rate))).astype(np.float32), rate, "PCM_16")
            chosen = (("soxr", args.rates), ("torchaudio", args.torchaudio_rates))
            for resampler in [name for name, rates in chosen if rate in rates]:
                print(f"{rate} Hz, {resampler} ...", file=sys.stderr)
                megabytes, samples, seconds = measure(resampler, warm, path)
                setting = f"{args.seconds:g} s at {rate} Hz to 16 kHz ({samples} samples out)"
                result = f"{megabytes} MB, {seconds:.2f} s"
                rows.append(Row(f"{resampler}: peak memory over baseline, read time", result, setting))
    heading = "Resampling memory"
    notes = [
        f"load average (1 min) at the start: {load:.2f}",
        "one process per row; memory is ru_maxrss over the peak after imports and a 16 kHz read "
        "(0 MB: the read did not raise the process's peak)",
    ]
    section = render_section(heading, rows, torch.device("cpu"), notes)
    publish(REPO / "BENCHMARKS.md" if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
