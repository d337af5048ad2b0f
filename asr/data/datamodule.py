"""The Lightning data module: duration-bucketed, rank-aware loaders over labeled utterance sets."""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
from torch.utils.data import DataLoader

from asr.data.dataset import LabeledSet, UtteranceDataset, collate
from asr.data.sampler import DurationBatchSampler


class ASRDataModule(L.LightningDataModule):
    """Training and validation loaders; each rank gets its own share of every epoch's batches."""

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
        seed: int = 0,
    ):
        super().__init__()
        self.train, self.val = train, val
        self.sample_rate = sample_rate
        self.max_batch_seconds = max_batch_seconds
        self.max_batch_size = max_batch_size
        self.num_workers = num_workers
        self.speed_perturb = speed_perturb
        self.gain_db = gain_db
        self.seed = seed

    def _loader(self, data: LabeledSet, shuffle: bool, augment: bool) -> DataLoader:
        trainer = self.trainer
        sampler = DurationBatchSampler(
            data.durations,
            self.max_batch_seconds,
            self.max_batch_size,
            shuffle=shuffle,
            seed=self.seed,
            rank=trainer.global_rank if trainer else 0,
            world_size=trainer.world_size if trainer else 1,
        )
        return DataLoader(
            UtteranceDataset(
                data, self.sample_rate, self.speed_perturb if augment else (), self.gain_db if augment else None
            ),
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train, shuffle=True, augment=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val, shuffle=False, augment=False)
