"""Process-wide defaults that must be set before torch is imported: the OpenMP wait policy.

PyTorch's OpenMP threads spin while they wait for work. On a machine that runs
anything else, spinning threads take the cores the others need, and training
collapses (BENCHMARKS.md, "shared machine"). A passive wait policy lets them sleep.
A value the user set in the environment is always kept.
"""

from __future__ import annotations

import os
import sys


def configure_threads(command: str | None = None) -> None:
    """Default ``OMP_WAIT_POLICY`` to passive for ``command`` unless the user chose one.

    Has no effect once torch (and with it the OpenMP runtime) is loaded.
    """
    if "torch" in sys.modules:
        return
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
