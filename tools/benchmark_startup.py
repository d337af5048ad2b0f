#!/usr/bin/env python
"""How long the ``asr`` command takes to answer ``--help``, against importing torch alone.

The command imports only the chosen subcommand's module, and the inference commands
import torch only when they run (``asr/cli/main.py``). Each command runs ``--repeats``
times in a new process; the median wall-clock time is reported.

    python tools/benchmark_startup.py [--record]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def median_seconds(command: list[str], repeats: int) -> float:
    """Median wall-clock seconds of ``command`` over ``repeats`` runs, after one unmeasured run (warm file cache)."""
    subprocess.run(command, capture_output=True, check=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--record", action="store_true", help="write the section into BENCHMARKS.md")
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import torch
    from benchmark import Row, publish, render_section

    asr = shutil.which("asr") or "asr"
    commands = {
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "python -c 'pass' (the interpreter alone)": [sys.executable, "-c", "pass"],
        "asr --help": [asr, "--help"],
        "asr transcribe --help": [asr, "transcribe", "--help"],
    }
    load = os.getloadavg()[0]
    seconds = {name: median_seconds(command, args.repeats) for name, command in commands.items()}
    torch_import = seconds["python -c 'import torch'"]
    rows = [
        Row(name, f"{s:.3f} s", f"{s / torch_import:.0%} of importing torch; median of {args.repeats}")
        for name, s in seconds.items()
    ]
    heading = "Command startup"
    notes = [f"load average (1 min) at the start: {load:.2f}"]
    section = render_section(heading, rows, torch.device("cpu"), notes)
    publish(REPO / "BENCHMARKS.md" if args.record else None, heading, section)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
