"""`asr --help`, the inference commands' help and the list of corpora answer without importing torch or the
corpus generators."""

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
HEAVY = ("torch", "lightning", "librosa", "espeakng_loader", "num2words", "bible")
heavy = sorted(m for m in HEAVY if m in sys.modules)
print("heavy:" + ",".join(heavy))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        [],
        ["transcribe", "--help"],
        ["evaluate", "--help"],
        ["plot", "--help"],
        ["lm", "build", "-h"],
        ["prepare", "--help"],
        ["prepare", "kaldi", "--help"],
    ],
)
def test_help_does_not_import_torch(argv: list[str]) -> None:
    run = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True)
    assert "usage: asr" in run.stdout + run.stderr and run.stdout.splitlines()[-1] == "heavy:", run.stdout


@pytest.mark.parametrize(
    ("command", "user", "expected"),
    [
        ("train", {}, "3000"),
        ("train", {"OMP_WAIT_POLICY": "ACTIVE"}, None),
        ("train", {"GOMP_SPINCOUNT": "9"}, "9"),
        ("transcribe", {}, None),
        ("evaluate", {}, None),
    ],
)
def test_training_threads_spin_briefly_unless_the_user_chose(command: str, user: dict, expected: str | None) -> None:
    probe = (
        "import os, sys; from asr.runtime import configure_threads; configure_threads(sys.argv[1]); "
        "print(os.environ.get('GOMP_SPINCOUNT'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} | user
    out = subprocess.run([sys.executable, "-c", probe, command], capture_output=True, text=True, env=env).stdout
    assert out == f"{expected}\n"


def test_nothing_changes_once_torch_is_loaded() -> None:
    probe = (
        "import os, torch; from asr.runtime import configure_threads; configure_threads('train'); "
        "print(os.environ.get('GOMP_SPINCOUNT'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env).stdout == "None\n"
