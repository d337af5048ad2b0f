"""Run by tests/test_ddp.py: a two-rank DDP training on CPU that records each rank's weights and utterances.

Lightning's launcher starts rank 1 by running this script again, so it must be a script.
"""

import sys
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback
from training_utils import tiny_config, utterance_ids

from asr.train import train


class RecordRanks(Callback):
    """Saves, per rank, the weights after the first optimizer step and the ids of the utterances of every batch
    trained in the first epoch."""

    def __init__(self, out: Path):
        self.out = out
        self.batches: list[list[str]] = []
        self.initial: dict | None = None
        self.first_step: dict | None = None

    def on_train_start(self, trainer, module):
        self.initial = {k: v.detach().clone() for k, v in module.recognizer.state_dict().items()}

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.batches.append(utterance_ids(trainer, batch))
        if self.first_step is None:
            self.first_step = {k: v.detach().clone() for k, v in module.recognizer.state_dict().items()}

    def on_train_epoch_end(self, trainer, module):
        if trainer.current_epoch == 0:
            torch.save(
                {"batches": self.batches, "initial": self.initial, "weights": self.first_step},
                self.out / f"rank{trainer.global_rank}.pt",
            )


if __name__ == "__main__":
    manifest, out = Path(sys.argv[1]), Path(sys.argv[2])
    train(tiny_config(manifest, devices=2, strategy="ddp"), out, callbacks=[RecordRanks(out)])
