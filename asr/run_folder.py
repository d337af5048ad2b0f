"""A training run's output folder: one run's files only, unless the user resumes that run or overwrites it.

A rerun into a folder that holds another run would otherwise resume or average
that run's checkpoints and overwrite its model file. ``asr train`` checks the
folder before Hydra writes its own files there (``asr.cli.train.check``). Only a run's
own outputs count (``RUN_OUTPUTS``): a recipe may keep other files there, such as its
language model, and Hydra's ``.hydra/`` and ``train.log`` are rewritten by every run.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from asr.run_record import CONFIG_FILE, VERSIONS_FILE

log = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
CHECKPOINTS = "checkpoints"
LAST_CHECKPOINT = "last.ckpt"
CSV_LOGS = "csv"  # Lightning's CSV logger: csv/version_N/metrics.csv, one version per start of the run
# What a run writes to its output_dir: another run's are refused, and removed by overwrite=true.
RUN_OUTPUTS = (CHECKPOINTS, CSV_LOGS, "tensorboard", MODEL_FILE, CONFIG_FILE, VERSIONS_FILE)


def is_first_process() -> bool:
    """Whether this is a job's first process (global rank 0), from what torchrun, SLURM, LSF or Lightning's
    launcher set: the other ranks start once it has begun writing to the folder, and must not check it."""
    for name in ("RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        if name in os.environ:
            return os.environ[name] == "0"
    return os.environ.get("NODE_RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") == "0"


class RunFolderError(ValueError):
    """The output folder holds another run, and the user neither resumes nor overwrites it."""


def check_output_dir(output_dir: str | os.PathLike, resume: str | None, overwrite: bool) -> None:
    """Raise ``RunFolderError`` for an ``output_dir`` that holds another run's files when neither resuming
    nor overwriting; the message says which to choose. (``TrainConfig`` checks that ``resume`` exists.)"""
    output_dir = Path(output_dir)
    if resume or overwrite or not output_dir.is_dir():
        return
    used = sorted(name for name in RUN_OUTPUTS if (output_dir / name).exists())
    if used:
        last = output_dir / CHECKPOINTS / LAST_CHECKPOINT
        raise RunFolderError(
            f"output_dir {output_dir} holds another run ({', '.join(used[:4])}); continue it with resume={last}, "
            "replace it with overwrite=true, or choose another output_dir"
        )


def claim_output_dir(output_dir: str | os.PathLike, resume: str | None, overwrite: bool) -> None:
    """``check_output_dir``, then, for ``overwrite`` without ``resume``, remove what an earlier run wrote
    there (checkpoints, logs, model file), so nothing of it mixes with this run."""
    check_output_dir(output_dir, resume, overwrite)
    if resume or not overwrite:
        return
    for name in RUN_OUTPUTS:
        path = Path(output_dir) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    log.info("overwrite=true: removed any earlier run's %s from %s", ", ".join(RUN_OUTPUTS), output_dir)
