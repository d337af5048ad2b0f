"""What a training run records beside its checkpoints: the resolved config, and what produced it
(the git revision of the asr source, and the versions of Python and the packages that shape results)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from asr.outputs import atomic_write

PACKAGES = (
    "asr-bilstm",
    "torch",
    "torchaudio",
    "lightning",
    "hydra-core",
    "omegaconf",
    "numpy",
    "sentencepiece",
    "num2words",
    "flashlight-text",
    "soundfile",
    "librosa",
)
CONFIG_FILE = "config.yaml"
VERSIONS_FILE = "versions.yaml"


def git_revision(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The commit checked out at ``folder`` and whether its files differ from it; None outside a git checkout."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, Any]:
    """Python's version, the asr source's git revision, and each installed package's version."""
    installed = {}
    for name in PACKAGES:
        try:
            installed[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed[name] = None
    return {
        "python": platform.python_version(),
        "git": git_revision(Path(__file__).resolve().parent),
        "packages": installed,
    }


def write_run_record(output_dir: str | os.PathLike, config: dict[str, Any]) -> None:
    """Write ``config.yaml`` (the resolved config) and ``versions.yaml`` into ``output_dir``."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, values in ((CONFIG_FILE, config), (VERSIONS_FILE, versions())):
        with atomic_write(output_dir / name) as f:
            f.write(OmegaConf.to_yaml(OmegaConf.create(values)))
