"""The Lightning data module: duration-bucketed, rank-aware loaders over labeled utterance sets."""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
from torch.utils.data import DataLoader, Dataset

from asr.data.dataset import LabeledSet, UtteranceDataset, collate
from asr.data.sampler import DurationBatchSampler


class _Batches(Dataset):
    """The items of a dataset a batch of indices at a time.

    The loader takes ``DurationBatchSampler`` as its ``sampler`` (with ``batch_size=None``),
    not as its ``batch_sampler``: Lightning calls ``set_epoch`` on the former only, and
    without it every epoch would repeat the first one's order.
    """

    def __init__(self, dataset: UtteranceDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices: list[int]) -> list[dict | None]:
        return [self.dataset[i] for i in indices]


class ASRDataModule(L.LightningDataModule):
    """Training and validation loaders; each rank gets its own share of every epoch's batches.

    Its state in a checkpoint is the position in the training epoch, so a run resumed
    from a mid-epoch checkpoint finishes that epoch from where the checkpoint left it.
    """

    def __init__(
        self,
        train: LabeledSet,
        val: LabeledSet,
        sample_rate: int,
        max_batch_seconds: float,
        max_batch_size: int = 10_000,
        num_workers: int = 0,
        speed_perturb: Sequence[float] = (),
        gain_db: Sequence[float] | None = None,
        edge_silence: Sequence[float] | None = None,
        seed: int = 0,
        sorted_epochs: int = 0,
    ):
        super().__init__()
        self.train, self.val = train, val
        self.sample_rate = sample_rate
        self.max_batch_seconds = max_batch_seconds
        self.max_batch_size = max_batch_size
        self.num_workers = num_workers
        self.speed_perturb = speed_perturb
        self.gain_db = gain_db
        self.edge_silence = edge_silence
        self.seed = seed
        self.sorted_epochs = sorted_epochs
        self.resume_at = (0, 0)  # (epoch, batches of it already trained) of the checkpoint resumed from

    def state_dict(self) -> dict[str, int]:
        """The epoch training is in and how many of its batches each rank has trained (Lightning's own count)."""
        if self.trainer is None:
            return {}
        done = self.trainer.fit_loop.epoch_loop.batch_progress.current.processed
        if done >= self.trainer.num_training_batches:  # a finished epoch: resume at the next one's start
            return {"epoch": self.trainer.current_epoch + 1, "batches": 0}
        return {"epoch": self.trainer.current_epoch, "batches": done}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Called by Lightning on resuming, before the training loader is made."""
        self.resume_at = (state["epoch"], state["batches"])

    def _loader(self, data: LabeledSet, train: bool) -> DataLoader:
        """Training: shuffled, augmented, from the resumed position; validation: sorted by duration, as it is."""
        trainer = self.trainer
        sampler = DurationBatchSampler(
            data.durations,
            self.max_batch_seconds,
            self.max_batch_size,
            shuffle=train,
            seed=self.seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
            sorted_epochs=self.sorted_epochs,
        )
        if train:
            sampler.resume(*self.resume_at)
        dataset = (
            UtteranceDataset(data, self.sample_rate, self.speed_perturb, self.gain_db, self.edge_silence)
            if train
            else UtteranceDataset(data, self.sample_rate)
        )
        return DataLoader(
            _Batches(dataset),
            sampler=sampler,
            batch_size=None,
            collate_fn=collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val, train=False)
