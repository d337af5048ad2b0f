import random

import pytest

from asr.data.sampler import DurationBatchSampler


def durations(n=503, seed=0):
    rng = random.Random(seed)
    return [rng.uniform(0.3, 6.0) for _ in range(n)]


@pytest.mark.parametrize("world_size", [1, 2, 3, 4])
def test_each_utterance_once_per_epoch_across_ranks_with_equal_steps(world_size):
    d = durations()
    seen, steps = [], set()
    for rank in range(world_size):
        sampler = DurationBatchSampler(d, 30.0, rank=rank, world_size=world_size, seed=1)
        sampler.set_epoch(2)
        batches = list(sampler)
        steps.add(len(batches))
        assert len(sampler) == len(batches)
        seen += [i for b in batches for i in b]
    assert sorted(seen) == list(range(len(d)))
    assert len(steps) == 1


def test_batches_respect_the_padded_budget_and_size_cap():
    d = durations()
    for batch in DurationBatchSampler(d, 30.0, max_batch_size=8):
        assert len(batch) <= 8
        assert len(batch) == 1 or max(d[i] for i in batch) * len(batch) <= 30.0


def test_deterministic_per_epoch_and_different_across_epochs():
    d = durations()
    a, b = DurationBatchSampler(d, 30.0, seed=3), DurationBatchSampler(d, 30.0, seed=3)
    a.set_epoch(1)
    b.set_epoch(1)
    assert list(a) == list(b)
    b.set_epoch(2)
    assert list(a) != list(b)


def test_unshuffled_batches_are_sorted_by_duration():
    d = durations()
    order = [i for batch in DurationBatchSampler(d, 30.0, shuffle=False) for i in batch]
    assert [d[i] for i in order] == sorted(d)


def test_too_few_utterances_for_the_ranks():
    with pytest.raises(ValueError, match="cannot be shared"):
        DurationBatchSampler([1.0], 10.0, rank=0, world_size=2)


@pytest.mark.parametrize("world_size", [1, 2])
def test_resume_skips_the_batches_each_rank_trained_in_that_epoch_only(world_size):
    d = durations()
    for rank in range(world_size):
        full, resumed = (DurationBatchSampler(d, 30.0, rank=rank, world_size=world_size, seed=1) for _ in range(2))
        full.set_epoch(3)
        resumed.resume(3, 5)
        assert list(resumed) == list(full)[5:]
        assert len(resumed) == len(full)
        resumed.set_epoch(4)
        full.set_epoch(4)
        assert list(resumed) == list(full)


@pytest.mark.parametrize("world_size", [1, 3])
def test_every_epoch_has_the_same_batch_count(world_size):
    """Lightning counts an epoch's batches once: a different count would cut epochs short or skip validation."""
    d = durations()
    samplers = [DurationBatchSampler(d, 30.0, rank=r, world_size=world_size, seed=1) for r in range(world_size)]
    assert len({len(samplers[0]._packed(epoch)) for epoch in range(20)}) > 1  # packing alone varies
    count = len(samplers[0])
    for epoch in range(20):
        seen = []
        for sampler in samplers:
            sampler.set_epoch(epoch)
            batches = list(sampler)
            assert len(batches) == len(sampler) == count
            assert all(max(d[i] for i in b) * len(b) <= 60.0 for b in batches)  # a join stays under twice the budget
            seen += [i for b in batches for i in b]
        assert sorted(seen) == list(range(len(d)))


@pytest.mark.parametrize("world_size", [1, 2])
def test_sorted_epochs_go_shortest_first_then_shuffle_with_the_same_batch_count(world_size):
    """SortaGrad: the first epochs in order of duration, on every rank; later epochs as without it."""
    d = durations()
    seen = []
    for rank in range(world_size):
        sampler = DurationBatchSampler(d, 30.0, rank=rank, world_size=world_size, seed=1, sorted_epochs=2)
        plain = DurationBatchSampler(d, 30.0, rank=rank, world_size=world_size, seed=1)
        for epoch in (0, 1):
            sampler.set_epoch(epoch)
            batches = list(sampler)
            assert len(batches) == len(plain)
            longest = [max(d[i] for i in b) for b in batches]
            assert longest == sorted(longest)
            assert all(len(b) == 1 or max(d[i] for i in b) * len(b) <= 30.0 for b in batches)
        seen += [i for b in batches for i in b]
        sampler.set_epoch(2)
        plain.set_epoch(2)
        assert list(sampler) == list(plain)
    assert sorted(seen) == list(range(len(d)))
