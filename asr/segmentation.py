"""Finding where audio is quiet: pauses that cut long audio into stretches transcribed on their own,
and the quiet that word boundaries are moved out of.

A recording much longer than a training utterance (a lecture, a meeting) is cut at
every pause of at least ``min_pause`` seconds: a pause is a run of 10 ms frames
whose energy lies ``top_db`` or more below the recording's loud level (the 99th
percentile of frame energies). Energies come from ``AudioSource.energies_db``, which
reads the audio in blocks, so memory stays bounded whatever the file's length.
"""

from __future__ import annotations

import math

import torch

HOP_SECONDS = 0.01


def waveform_energies_db(wav: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """Energy in dB of each 10 ms frame of a 1-D waveform (the last frame zero-padded)."""
    hop = round(HOP_SECONDS * sample_rate)
    frames = torch.nn.functional.pad(wav, (0, -wav.numel() % hop)).view(-1, hop)
    return 10 * torch.log10(frames.pow(2).mean(dim=1) + 1e-10)


def quiet_frames(energies_db: torch.Tensor, top_db: float = 40.0) -> torch.Tensor:
    """Which frames lie ``top_db`` or more below the audio's loud level (its 99th-percentile frame)."""
    if energies_db.numel() == 0:
        return torch.zeros(0, dtype=torch.bool)
    return energies_db < torch.quantile(energies_db, 0.99) - top_db


def find_pauses(energies_db: torch.Tensor, min_pause: float, top_db: float = 40.0) -> list[tuple[float, float]]:
    """(start, end) seconds of every pause of at least ``min_pause`` seconds, leading and trailing silence
    excepted."""
    quiet = quiet_frames(energies_db, top_db)
    edges = torch.diff(quiet.int(), prepend=torch.tensor([0]), append=torch.tensor([0]))
    starts = torch.nonzero(edges == 1).flatten().tolist()
    ends = torch.nonzero(edges == -1).flatten().tolist()
    shortest = math.ceil(min_pause / HOP_SECONDS - 1e-9)
    return [
        (start * HOP_SECONDS, end * HOP_SECONDS)
        for start, end in zip(starts, ends)
        if end - start >= shortest and start > 0 and end < quiet.numel()
    ]
