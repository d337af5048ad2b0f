"""Run by tests/test_ddp.py: a two-rank DDP training on CPU that records each rank's weights and samples.

Lightning's launcher starts rank 1 by running this script again, so it must be a script.
"""

import sys
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

from asr.train import train


class RecordRanks(Callback):
    """Saves, per rank, the weights after the first optimizer step and every dataset index seen."""

    def __init__(self, out: Path):
        self.out = out
        self.indices: list[int] = []
        self.initial: dict | None = None
        self.first_step: dict | None = None

    def on_train_start(self, trainer, module):
        self.initial = {k: v.detach().clone() for k, v in module.recognizer.state_dict().items()}

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.indices += batch["indices"].tolist()
        if self.first_step is None:
            self.first_step = {k: v.detach().clone() for k, v in module.recognizer.state_dict().items()}

    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == 0:
            torch.save(
                {"indices": self.indices, "initial": self.initial, "weights": self.first_step},
                self.out / f"rank{trainer.global_rank}.pt",
            )


if __name__ == "__main__":
    manifest, out = sys.argv[1], Path(sys.argv[2])
    config = {
        "seed": 0,
        "features": {
            "sample_rate": 16000,
            "n_mels": 80,
            "win_ms": 25.0,
            "hop_ms": 10.0,
            "stats_max_utterances": 20,
        },
        "augment": {"spec_augment": None},
        "model": {"subsampling": 4, "conv_channels": 4, "hidden_size": 16, "num_layers": 1, "dropout": 0.0},
        "data": {
            "train_manifest": manifest,
            "val_manifest": manifest,
            "max_batch_seconds": 8.0,
            "max_batch_size": 4,
            "max_duration": 30.0,
            "num_workers": 0,
        },
        "optim": {"lr": 1e-2, "betas": [0.9, 0.98], "weight_decay": 0.0, "warmup_steps": 1, "min_lr_ratio": 0.1},
        "trainer": {
            "accelerator": "cpu",
            "devices": 2,
            "strategy": "ddp",
            "max_epochs": 1,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "log_every_n_steps": 1,
        },
        "decoder": {"type": "greedy"},
    }
    train(config, out, callbacks=[RecordRanks(out)])
