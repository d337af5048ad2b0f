"""Shared fixtures: where the FSDD recordings live, and small generated audio."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def fsdd_dir() -> Path:
    """The FSDD recordings folder: $ASR_FSDD_DIR, else ../shared/data/fsdd/recordings beside the repo."""
    path = Path(os.environ.get("ASR_FSDD_DIR", REPO.parent / "shared" / "data" / "fsdd" / "recordings"))
    if not path.is_dir():
        pytest.skip(f"FSDD recordings not found at {path} (set ASR_FSDD_DIR)")
    return path


@pytest.fixture
def flite_program() -> None:
    """Skip (say why) where the flite program is missing; CI installs it, so there it must be present."""
    if shutil.which("flite") is None:
        if os.environ.get("CI"):
            pytest.fail("flite is missing: CI installs it with tools/install.sh, as root")
        pytest.skip("needs the flite program (sudo apt-get install flite; tools/install.sh does it as root)")


@pytest.fixture
def flashlight() -> None:
    """Skip (say why) where flashlight-text, the beam search, is missing: it has no wheels past Python 3.12."""
    if importlib.util.find_spec("flashlight") is None:
        if os.environ.get("CI"):
            pytest.fail("flashlight-text is missing: CI's Python must have it (tools/install.sh)")
        pytest.skip("needs flashlight-text for beam search (wheels for Python 3.10-3.12)")
