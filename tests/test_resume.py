"""A run killed mid-epoch and resumed from its last step checkpoint finishes the epoch: every utterance is
trained, and only the batches since that checkpoint are trained twice."""

from collections import defaultdict

import pytest
import torch
from audio_utils import write_corpus
from lightning.pytorch.callbacks import Callback
from training_utils import tiny_config, utterance_ids

from asr.data.manifest import read_manifest
from asr.train import train

EVERY = 2  # checkpoint interval in optimizer steps


class Killed(Exception):
    """Stands for the process being killed."""


class RecordBatches(Callback):
    """The utterance ids of every batch trained, by epoch."""

    def __init__(self):
        self.epochs: dict[int, list[list[str]]] = defaultdict(list)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.epochs[trainer.current_epoch].append(utterance_ids(trainer, batch))


class KillAfter(Callback):
    """Raises after the optimizer step of one batch, before that step's checkpoint is written."""

    def __init__(self, epoch: int, batch: int):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if (trainer.current_epoch, batch_idx) == (self.epoch, self.batch):
            raise Killed


def test_resuming_mid_epoch_trains_the_rest_of_the_epoch(tmp_path):
    manifest = write_corpus(tmp_path / "data", 16)
    config = tiny_config(manifest, max_epochs=2)
    config["checkpoint_every_n_steps"] = EVERY
    config["data"]["num_workers"] = 1  # a worker draws batches before Lightning sets the epoch
    out = tmp_path / "exp"

    killed = RecordBatches()
    with pytest.raises(Killed):
        train(config, out, callbacks=[killed, KillAfter(epoch=1, batch=2)])
    last = out / "checkpoints" / "last.ckpt"
    done = torch.load(last, weights_only=False)["global_step"] - len(killed.epochs[0])  # epoch 1 batches in it
    resumed = RecordBatches()
    train({**config, "resume": str(last)}, out, callbacks=[resumed])

    assert list(resumed.epochs) == [1]
    before, after = killed.epochs[1], resumed.epochs[1]
    assert before != killed.epochs[0][: len(before)]  # each epoch has an order of its own
    repeated = len(before) - done
    assert 0 <= repeated <= EVERY
    assert after[:repeated] == before[done:]
    epoch = [i for batch in before[:done] + after for i in batch]
    assert sorted(epoch) == sorted(u.id for u in read_manifest(manifest).utterances)
