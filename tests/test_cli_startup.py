"""`asr --help` and the inference commands' help answer without importing torch or the corpus generators."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from asr.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "lightning", "librosa", "espeakng_loader", "num2words", "bible") if m in sys.modules)
print("heavy:" + ",".join(heavy))
"""


@pytest.mark.parametrize("argv", [["--help"], [], ["transcribe", "--help"], ["evaluate", "--help"], ["lm", "build", "-h"]])
def test_help_does_not_import_torch(argv: list[str]) -> None:
    run = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    assert "usage: asr" in run.stdout + run.stderr and run.stdout.splitlines()[-1] == "heavy:", run.stdout


def test_openmp_threads_wait_passively_unless_the_user_chose() -> None:
    probe = "import os, asr, torch; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env).stdout == "PASSIVE\n"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env).stdout == "ACTIVE\n"
