"""Duration-bucketed batching that is deterministic per epoch and splits work exactly across ranks."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from torch.utils.data import Sampler


class DurationBatchSampler(Sampler[list[int]]):
    """Batches whose padded size (longest utterance x count) stays under ``max_batch_seconds``.

    Utterances are shuffled, sorted by duration within large pools (so batches hold
    similar lengths and little padding), and the batch order is shuffled again. Every
    epoch then gets the same number of batches, a multiple of ``world_size``: epoch 0's
    count with 2 % (rounded down) to spare, reached by splitting the largest batches (or, rarely, by
    joining the two smallest). Lightning counts an epoch's batches once, so a varying
    count would end some epochs early (dropping utterances) and let others end before
    their validation. Rank r takes batches r, r+W, ...: every utterance is seen exactly
    once per epoch across ranks, and every rank runs the same number of steps.

    The first ``sorted_epochs`` epochs go in order of duration, shortest first, as
    validation does (SortaGrad, Deep Speech 2): CTC starts on the utterances it can
    align soonest.

    A run resumed mid-epoch calls ``resume``: that epoch's batches are the same, and the
    ones this rank already trained are skipped.
    """

    def __init__(
        self,
        durations: Sequence[float],
        max_batch_seconds: float,
        max_batch_size: int = 10_000,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pool_batches: int = 50,
        sorted_epochs: int = 0,
    ):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in a world of size {world_size}")
        if len(durations) < world_size:
            raise ValueError(f"{len(durations)} utterances cannot be shared by {world_size} ranks")
        self.durations = list(durations)
        self.max_batch_seconds = max_batch_seconds
        self.max_batch_size = max_batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.pool_batches = pool_batches
        self.sorted_epochs = sorted_epochs
        self.epoch = 0
        self._resume = (0, 0)
        self._cache: tuple[int, list[list[int]]] | None = None
        self._count: int | None = None

    def set_epoch(self, epoch: int) -> None:
        """Called by Lightning at each epoch start (on a data loader's ``sampler``) so shuffling differs per epoch
        and agrees across ranks."""
        self.epoch = epoch

    def resume(self, epoch: int, done: int) -> None:
        """Continue epoch ``epoch`` after this rank's first ``done`` batches of it.

        The epoch is set here too: data loader workers may draw batches before Lightning calls ``set_epoch``.
        """
        self.epoch = epoch
        self._resume = (epoch, done)

    def _pack(self, order: list[int]) -> list[list[int]]:
        batches, batch, longest = [], [], 0.0
        for i in order:
            longest_if_added = max(longest, self.durations[i])
            if batch and (
                longest_if_added * (len(batch) + 1) > self.max_batch_seconds or len(batch) >= self.max_batch_size
            ):
                batches.append(batch)
                batch, longest_if_added = [], self.durations[i]
            batch.append(i)
            longest = longest_if_added
        if batch:
            batches.append(batch)
        return batches

    def _packed(self, epoch: int) -> list[list[int]]:
        """The epoch's batches as packing makes them."""
        if self.shuffle and epoch >= self.sorted_epochs:
            return self._shuffled(epoch)
        return self._pack(sorted(range(len(self.durations)), key=self.durations.__getitem__))

    def _shuffled(self, epoch: int) -> list[list[int]]:
        """Shuffled, sorted by duration within pools of ``pool_batches`` batches, packed, and shuffled again."""
        rng = random.Random(self.seed + epoch)
        order = list(range(len(self.durations)))
        rng.shuffle(order)
        pool = max(1, int(self.pool_batches * self.max_batch_seconds / (sum(self.durations) / len(order))))
        order = [
            i
            for start in range(0, len(order), pool)
            for i in sorted(order[start : start + pool], key=self.durations.__getitem__)
        ]
        batches = self._pack(order)
        rng.shuffle(batches)
        return batches

    def _batch_count(self) -> int:
        """Batches in every epoch: epoch 0's count when shuffled and 2 % more (rounded down), a multiple of
        ``world_size``, at most one utterance a batch. A sorted epoch packs tighter and has its batches split."""
        if self._count is None:
            ranks = self.world_size
            packed = len(self._shuffled(0) if self.shuffle else self._packed(0))
            wanted = packed + packed // 50
            self._count = min(-(-wanted // ranks) * ranks, len(self.durations) // ranks * ranks)
        return self._count

    def _padded_seconds(self, batch: list[int]) -> float:
        return max(self.durations[i] for i in batch) * len(batch)

    def _all_batches(self) -> list[list[int]]:
        if self._cache and self._cache[0] == self.epoch:
            return self._cache[1]
        batches, count = self._packed(self.epoch), self._batch_count()
        while len(batches) < count:  # split the largest batch: both halves stay within the budget
            largest = max(range(len(batches)), key=lambda b: len(batches[b]))
            batch = batches.pop(largest)
            half = len(batch) // 2
            batches[largest:largest] = [batch[:half], batch[half:]]
        while len(batches) > count:  # join the two smallest
            first, second = sorted(range(len(batches)), key=lambda b: self._padded_seconds(batches[b]))[:2]
            batches[min(first, second)] = batches[first] + batches[second]
            del batches[max(first, second)]
        self._cache = (self.epoch, batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        done = self._resume[1] if self._resume[0] == self.epoch else 0
        yield from self._all_batches()[self.rank + done * self.world_size :: self.world_size]

    def __len__(self) -> int:
        """Batches in a whole epoch, also when resuming mid-epoch: Lightning counts the ones already done."""
        return len(self._all_batches()) // self.world_size
