"""A tiny training config, the utterance ids of a batch and a code-running pickle, for the tests that train
(DDP, resuming, checkpoints)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import lightning as L
from configs import features, tiny_model


def tiny_config(manifest: Path, **trainer: Any) -> dict[str, Any]:
    """Train and validate on ``manifest`` with a model of a few hundred weights, on CPU; ``trainer`` overrides."""
    return {
        "seed": 0,
        "features": features(stats_max_utterances=20),
        "model": tiny_model(),
        "data": {
            "train_manifest": str(manifest),
            "val_manifest": str(manifest),
            "max_batch_seconds": 3.5,
            "max_batch_size": 3,
            "max_duration": 30.0,
            "num_workers": 0,
        },
        "augment": {"spec_augment": None},
        "optim": {"lr": 1e-2, "betas": [0.9, 0.98], "weight_decay": 0.0, "warmup_steps": 1, "min_lr_ratio": 0.1},
        "trainer": {
            "accelerator": "cpu",
            "devices": 1,
            "max_epochs": 1,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "log_every_n_steps": 1,
            **trainer,
        },
        "decoder": {"type": "greedy"},
    }


class _Evil:
    """Unpickling this creates ``marker``: what any code in a crafted file could do."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def code_running_pickle(marker: Path) -> bytes:
    """A pickle that creates the file ``marker`` when unpickled: a crafted checkpoint, to show it is never run."""
    return pickle.dumps(_Evil(marker))


def utterance_ids(trainer: L.Trainer, batch: dict) -> list[str]:
    """The manifest ids of a training batch's utterances."""
    utterances = trainer.datamodule.train.utterances
    return [utterances[i].id for i in batch["indices"].tolist()]
