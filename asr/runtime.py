"""Process-wide settings that must be made before torch is imported: how OpenMP threads wait.

PyTorch's OpenMP threads spin while they wait for each other, up to 300,000 times
(GNU OpenMP's default) at every small step of an LSTM. On a machine that runs
anything else, the spinning takes the cores the other work needs and training
collapses; sleeping at once (``OMP_WAIT_POLICY=PASSIVE``) costs a wake-up at every
step instead. ``asr train`` lets its threads spin briefly before they sleep, which
keeps nearly all the idle speed and most of the shared-machine speed; the inference
commands keep OpenMP's default, the fastest at batch 1 on an idle machine
(BENCHMARKS.md, "Shared CPU"; ``tools/benchmark_contention.py``).
"""

from __future__ import annotations

import os
import sys

TRAIN_SPIN_COUNT = "3000"  # GOMP_SPINCOUNT for asr train: spin this many times, then sleep


def configure_threads(command: str | None) -> None:
    """Set the OpenMP wait for ``command`` (``train``: a brief spin), unless the user chose one in the environment.

    Has no effect once torch, and with it the OpenMP runtime, is loaded.
    """
    if "torch" in sys.modules or command != "train":
        return
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", TRAIN_SPIN_COUNT)
