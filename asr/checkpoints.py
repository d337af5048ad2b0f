"""A training run's checkpoints: written whole, read without running code, ``last.ckpt`` always the newest state.

Lightning's own ``save_last`` rewrites ``last.ckpt`` only when its callback saves
a checkpoint of its own (a new best, or every N steps), and two such callbacks
name one of their files ``last-v1.ckpt``; ``LastCheckpoint`` instead writes
``last.ckpt`` after every validation and epoch, every N optimizer steps and at the end of
training. Checkpoints are written to a temporary file beside the target and
renamed over it (``AtomicCheckpointIO``), and every checkpoint is read with
``torch.load(weights_only=True)``: a checkpoint, like a model file, never runs code.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from asr.outputs import atomic_write
from asr.run_folder import LAST_CHECKPOINT

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint I/O, writing through ``atomic_write`` and always loading with ``weights_only=True``."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None) -> None:
        with atomic_write(path, "wb") as f:
            torch.save(checkpoint, f)

    def load_checkpoint(
        self, path: str | os.PathLike, map_location: Any = "cpu", weights_only: bool | None = None
    ) -> dict[str, Any]:
        return load_checkpoint(path, map_location)


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """A Lightning checkpoint's dictionary, read without unpickling anything but tensors and plain values."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such checkpoint")
    return torch.load(path, map_location=map_location, weights_only=True)


class LastCheckpoint(Checkpoint):
    """Writes ``folder/last.ckpt`` after every validation and every epoch, every ``every_n_steps`` optimizer
    steps (when set) and when training ends, so it is always the newest state a run can resume from.

    A ``Checkpoint`` subclass: Lightning runs it after the other callbacks, so the
    state it saves holds their updates (the best checkpoints) for the same step.
    """

    def __init__(self, folder: str | os.PathLike, every_n_steps: int | None = None):
        super().__init__()
        if every_n_steps is not None and (not isinstance(every_n_steps, int) or every_n_steps < 1):
            raise ValueError(f"checkpoint_every_n_steps={every_n_steps!r}: expected a positive number of steps")
        self.path = Path(folder) / LAST_CHECKPOINT
        self.every_n_steps = every_n_steps
        self._saved_step: int | None = None

    def _save(self, trainer: L.Trainer) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)  # the whole state, optimizer included
        self._saved_step = trainer.global_step

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        step = trainer.global_step
        if self.every_n_steps and step % self.every_n_steps == 0 and step != self._saved_step:
            self._save(trainer)

    def on_validation_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        # A validation at the epoch's end is followed by on_train_epoch_end, where the best-checkpoint
        # callback records this epoch's score: the state to save is the one after it.
        if not trainer.sanity_checking and not trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        self._save(trainer)

    def on_train_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.global_step != self._saved_step:
            self._save(trainer)


def inside(folder: str | os.PathLike, paths: Sequence[str | os.PathLike]) -> list[str]:
    """The ``paths`` that are files directly in ``folder`` (after links); the others are logged and dropped.

    A resumed checkpoint restores the best-checkpoint list it was saved with, so its
    paths are data from a file, not this run's own: only this run's folder is read.
    """
    folder = Path(folder).resolve()
    kept = []
    for path in paths:
        real = Path(path).resolve()
        if real.parent == folder and real.is_file():
            kept.append(str(path))
        else:
            log.warning("ignoring checkpoint %s: not a file in this run's checkpoint folder %s", path, folder)
    return kept


def average_weights(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of several state dicts' floating-point tensors; other tensors (counters) from the first."""
    first = states[0]
    return {
        name: torch.stack([state[name] for state in states]).mean(0) if value.is_floating_point() else value
        for name, value in first.items()
    }
